//! Fixtures the console's unit tests share: a fixed clock, keys in, and
//! an app with one incident open over a real SQLite file.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent};

use crate::domain::{IncidentId, Playbook};
use crate::store::{NewIncident, Store};
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::screens::declare::state::NewIncidentForm;
use crate::tui::screens::incident::state::IncidentDialog;
use crate::tui::shell::app::App;
use crate::tui::shell::keymap::Command;
use crate::tui::shell::router::update;
use crate::tui::shell::stack::ScreenState;

/// The tests' "now": 2026-11-22 18:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 0, 0).unwrap()
}

pub fn cmd(app: &mut App, c: Command) -> Vec<Effect> {
    update(app, Action::Command(c), now())
}

/// The new-incident form, when it is open (on top).
pub fn form(app: &App) -> Option<&NewIncidentForm> {
    match app.stack.top() {
        Some(ScreenState::Declare(f)) => Some(f),
        _ => None,
    }
}

/// The incident view's open dialog, if any.
pub fn dialog(app: &App) -> Option<&IncidentDialog> {
    app.stack.incident().and_then(|i| i.dialog.as_ref())
}

/// The effects with their bases taken off, after checking that every
/// edit among them was based on a version (no edit may overwrite blind).
pub fn unbased(fx: Vec<Effect>) -> Vec<Effect> {
    fx.into_iter()
        .map(|e| {
            let (e, base) = e.unbased();
            let edit = matches!(
                e,
                Effect::Update(..)
                    | Effect::SetItem { .. }
                    | Effect::Assign { .. }
                    | Effect::SetDetected { .. }
            );
            assert!(
                !edit || base.is_some(),
                "an edit sent with no version: {e:?}"
            );
            e
        })
        .collect()
}

/// Types `text` key by key; returns every effect it caused.
pub fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in text.chars() {
        fx.extend(update(
            app,
            Action::Input(KeyEvent::from(KeyCode::Char(c))),
            now(),
        ));
    }
    fx
}

/// `new` declared by alice at `at` in a fresh store, and `app` with the
/// board loaded and that incident open in the incident view.
pub fn with_incident(
    new: &NewIncident,
    at: DateTime<Utc>,
    mut app: App,
) -> (App, Store, IncidentId, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let i = store
        .create_incident(new, &Playbook::builtin(), "alice", at)
        .unwrap();
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    let fx = cmd(&mut app, Command::Open);
    assert!(matches!(&fx[..], [Effect::LoadDetail(id)] if *id == i.id));
    let detail = store.detail(&i.id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(detail)), now());
    (app, store, i.id, dir)
}

/// Drawn lines as plain text, one row per line.
pub fn lines_text(lines: &[ratatui::text::Line<'_>]) -> String {
    lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
