//! Texts of several lines (the summary, a not-applicable reason, the
//! review's texts): the editor dialog drawn at 80x24 and 120x40, and a
//! summary typed over three lines in the built binary, in a pty, read back
//! through `incident show --json`.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::Env;
use warroom::domain::playbook::ItemState;
use warroom::domain::{Playbook, Policy, Severity};
use warroom::store::{NewIncident, Store};
use warroom::tui::action::{Action, Command};
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::{Effect, update};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 10, 0, 0).unwrap()
}

fn key(app: &mut App, code: KeyCode) {
    update(app, Action::Input(KeyEvent::from(code)), now());
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// A key as the console resolves it: through the keymap where the focus is.
fn press(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    match warroom::tui::action::resolve(app.focus(), key) {
        Some(a) => update(app, a, now()),
        None => Vec::new(),
    }
}

fn ctrl_s() -> KeyEvent {
    KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)
}

/// A P1 with a summary, open in the console (the checklist has the focus).
fn incident_open() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let mut new = NewIncident::new("Ransom note on file server", Severity::P1);
    new.summary = "Encrypted shares on fs-2.".into();
    let i = store
        .create_incident(&new, &Playbook::builtin(), "alice", now())
        .unwrap();
    let mut app = App::new("alice", Policy::builtin(), true);
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    update(&mut app, Action::Command(Command::Open), now());
    let detail = store.detail(&i.id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(detail)), now());
    (app, dir)
}

/// The incident with its summary dialog showing two typed lines and a
/// pasted one under the current summary.
fn summary_dialog() -> (App, tempfile::TempDir) {
    let (mut app, dir) = incident_open();
    update(&mut app, Action::Command(Command::EditSummary), now());
    key(&mut app, KeyCode::Enter);
    typed(
        &mut app,
        "Backups on tape are intact; the restore of share A has begun.",
    );
    key(&mut app, KeyCode::Enter);
    // A paste keeps its newline; the escape in it is made inert.
    update(
        &mut app,
        Action::Paste("Note left:\n\u{1b}]52;c;eA==\u{7}".into()),
        now(),
    );
    (app, dir)
}

#[test]
fn a_not_applicable_reason_takes_several_lines_and_ctrl_s_sends_them() {
    let (mut app, _dir) = incident_open();
    update(&mut app, Action::Command(Command::Down), now());
    assert!(press(&mut app, KeyEvent::from(KeyCode::Char('x'))).is_empty());
    typed(&mut app, "no SIEM here");
    assert!(press(&mut app, KeyEvent::from(KeyCode::Enter)).is_empty());
    typed(&mut app, "alerts come from the EDR");
    let fx = press(&mut app, ctrl_s());
    let reasons: Vec<_> = fx
        .into_iter()
        .filter_map(|e| match e.unbased().0 {
            Effect::SetItem {
                state: ItemState::NotApplicable,
                reason,
                ..
            } => reason,
            _ => None,
        })
        .collect();
    assert_eq!(reasons, ["no SIEM here\nalerts come from the EDR"]);
}

#[test]
fn an_edit_closed_with_esc_keeps_a_draft_that_reopens_with_its_newlines() {
    let (mut app, _dir) = summary_dialog();
    let fx = press(&mut app, KeyEvent::from(KeyCode::Esc));
    let body = fx
        .iter()
        .find_map(|e| match e {
            Effect::SaveDraft { key, body } if key.ends_with(":summary") => Some(body.clone()),
            _ => None,
        })
        .expect("a draft is saved");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(
        text.starts_with("Encrypted shares on fs-2.\nBackups on tape"),
        "{text}"
    );
    // Opened again, the dialog continues the draft, lines and all.
    update(&mut app, Action::Command(Command::EditSummary), now());
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("continuing your saved draft"), "{screen}");
    assert!(screen.contains("│ Note left:"), "{screen}");
    let fx = press(&mut app, ctrl_s());
    let saved = fx.into_iter().find_map(|e| match e.unbased().0 {
        Effect::Update(_, patch) => patch.summary,
        _ => None,
    });
    assert_eq!(
        saved.as_deref(),
        Some(text),
        "Ctrl-S saves the draft's lines"
    );
}

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, now())).unwrap();
    t.backend().to_string()
}

#[test]
fn the_summary_editor_at_80x24_and_120x40() {
    let (app, _dir) = summary_dialog();
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = draw(&app, w, h);
        assert!(screen.contains("Ctrl-S save"), "{screen}");
        insta::assert_snapshot!(format!("summary_editor_{w}x{h}"), screen);
    }
}

#[test]
fn a_summary_typed_over_three_lines_is_saved_with_its_newlines() {
    let sb = Env::new();
    let id = sb.new_incident("Phishing wave", "P2");
    let mut c = sb.console(100, 30, &[]);
    c.wait_then_open("Phishing wave");
    c.type_text("E");
    c.wait_text("Edit summary");
    c.type_text("Mail from a look-alike domain");
    c.key_enter();
    c.type_text("40 users clicked");
    c.key_enter();
    c.type_text("3 gave passwords");
    c.wait_text("3 gave passwords");
    assert!(
        c.screen().contains("Edit summary"),
        "Enter kept the dialog open"
    );
    c.send(b"\x13"); // Ctrl-S
    c.wait_for("the dialog closed", Duration::from_secs(10), |s| {
        !s.contains("Edit summary")
    });
    c.type_text("q");
    c.wait_exit(Duration::from_secs(10));
    let shown = sb.show_json(&id);
    assert_eq!(
        shown["summary"],
        "Mail from a look-alike domain\n40 users clicked\n3 gave passwords"
    );
}
