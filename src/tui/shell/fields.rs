//! The field dialog over the screens: keys while it has the focus, and
//! its submit handed to the code that opened it, found by its purpose's
//! type (each opener owns its tag; the dialog itself is in `kit::fields`).

use chrono::{DateTime, Utc};

use crate::tui::effect::Effect;
use crate::tui::kit::fields::state::{FieldsDialog, autosave};
use crate::tui::screens::evidence::state::EvidenceAsk;
use crate::tui::screens::incident::clocks::DetectedAsk;
use crate::tui::screens::incident::edits::EditAsk;
use crate::tui::screens::incident::report::ReportAsk;
use crate::tui::screens::review::state::ReviewAsk;
use crate::tui::screens::roster::state::RosterAsk;
use crate::tui::shell::app::{App, Modal};
use crate::tui::shell::keymap::Command;

/// A command while the dialog has the focus. The dialog was taken out of
/// `app.modal`; it is put back unless the command closes it.
pub fn command(
    app: &mut App,
    mut d: FieldsDialog,
    cmd: Command,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) {
    if d.navigate(cmd) {
        app.modal = Some(Modal::Fields(d));
        return;
    }
    match cmd {
        Command::Submit => {
            // Save what was typed first: the draft goes once the store has
            // the change, and stays if the write fails.
            if d.draft_key.is_some() {
                d.dirty = true;
                fx.extend(autosave(&mut d, &mut app.drafts));
            }
            match submit(app, &d, now, fx) {
                Ok(()) => return,
                Err(e) => d.error = Some(e),
            }
        }
        Command::Cancel => {
            fx.extend(autosave(&mut d, &mut app.drafts));
            if d.draft_key
                .as_ref()
                .is_some_and(|k| app.drafts.contains_key(k))
            {
                app.message = Some(crate::tui::shell::app::Message {
                    text: "kept as a draft: it comes back when you open this again".into(),
                    error: false,
                    age: 0,
                });
            }
            return;
        }
        _ => {}
    }
    app.modal = Some(Modal::Fields(d));
}

/// Hands the values to the code that opened the dialog, which validates
/// them and turns them into effects; an error keeps the dialog open.
fn submit(
    app: &mut App,
    d: &FieldsDialog,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    if let Some(ask) = d.purpose::<EvidenceAsk>() {
        let out = crate::tui::screens::evidence::handle::submit(ask, d)?;
        crate::tui::shell::lend::apply(app, out, fx);
        return Ok(());
    }
    if let Some(ask) = d.purpose::<ReviewAsk>() {
        let out = match ask {
            ReviewAsk::CloseOverride => crate::tui::screens::review::handle::submit_override(d)?,
            _ => crate::tui::screens::review::handle::submit(app.stack.review_mut(), ask, d)?,
        };
        crate::tui::shell::lend::apply(app, out, fx);
        return Ok(());
    }
    if d.purpose::<ReportAsk>().is_some() {
        let out = crate::tui::screens::incident::report::submit(d, &app.policy)?;
        crate::tui::shell::lend::apply(app, out, fx);
        return Ok(());
    }
    if d.purpose::<RosterAsk>().is_some() {
        let (stack, c) = crate::tui::shell::lend::split(app, now);
        let out = crate::tui::screens::roster::handle::submit(stack.find_mut(), d, &c)?;
        crate::tui::shell::lend::apply(app, out, fx);
        return Ok(());
    }
    if let Some(ask) = d.purpose::<EditAsk>() {
        let current = app.detail().map(|x| &x.incident);
        let out = crate::tui::screens::incident::edits::submit(ask, d, current)?;
        crate::tui::shell::lend::apply(app, out, fx);
        return Ok(());
    }
    if d.purpose::<DetectedAsk>().is_some() {
        let base = crate::tui::shell::conflict::base_for(app, &d.id);
        return crate::tui::screens::incident::clocks::submit_detected(d, base, now, fx);
    }
    Ok(())
}
