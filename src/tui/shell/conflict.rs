//! The conflict dialog over every screen: an edit the store refused
//! because the same thing changed after the view it was made from comes
//! back here, waits for the user's choice (keep mine, take theirs, merge),
//! and what they chose is sent. Also the version a dialog was opened at,
//! so an edit made in it is based on what the user saw when they began,
//! not on a view reloaded while they typed.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::app::{App, say};
use crate::domain::IncidentId;
use crate::domain::version::{Conflict, Version};
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::kit::conflict::state::{Choice, ConflictDialog};

/// The store refused `mine`: ask what to do.
pub fn arrived(app: &mut App, conflict: Conflict, mine: Effect) {
    tracing::info!("conflict shown: {conflict}");
    app.conflict
        .waiting
        .push(ConflictDialog::new(conflict, mine));
}

/// A command while a conflict is shown; false when none is (or the quit
/// question comes first). Quitting with an edit still refused asks first.
pub fn command(app: &mut App, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    if app.confirm_quit {
        return false;
    }
    let Some(d) = app.conflict.waiting.first_mut() else {
        return false;
    };
    if cmd == Command::Quit {
        app.confirm_quit = true;
        return true;
    }
    let choice = d.command(cmd);
    let what = d.conflict.what.clone();
    let id = d.conflict.incident.clone();
    match choice {
        Choice::Stay => return true,
        Choice::TakeTheirs => {
            let theirs = &d.conflict.theirs;
            let said = format!("{id}: {what} left as {} set it", theirs.actor);
            app.conflict.waiting.remove(0);
            say(app, said, false);
        }
        Choice::Send(e) => {
            app.conflict.waiting.remove(0);
            say(app, format!("{id}: {what}: yours sent over theirs"), false);
            fx.push(e);
        }
    }
    // Whatever was chosen, the view shows the store's state.
    if let Ok(id) = id.parse::<IncidentId>() {
        fx.push(Effect::LoadDetail(id));
    }
    true
}

/// A key typed while a conflict is shown: into the merge text, else
/// swallowed (it never reaches a dialog under the conflict).
pub fn input(app: &mut App, key: KeyEvent) -> bool {
    if app.confirm_quit {
        return false;
    }
    let Some(d) = app.conflict.waiting.first_mut() else {
        return false;
    };
    if let Some(input) = d.input_mut() {
        input.handle_key(key);
        d.error = None;
    } else if let Some(lines) = d.lines_mut() {
        lines.key(key);
        d.error = None;
    }
    true
}

/// Pasted text while a conflict is shown (a title's newlines as spaces).
pub fn paste(app: &mut App, text: &str) -> bool {
    if app.confirm_quit {
        return false;
    }
    let Some(d) = app.conflict.waiting.first_mut() else {
        return false;
    };
    if let Some(input) = d.input_mut() {
        input.insert_str(&text.replace(['\r', '\n'], " "));
    } else if let Some(lines) = d.lines_mut() {
        lines.paste(text);
    }
    true
}

/// Whether a dialog an edit can be made in is open: the shell's field
/// dialog, or one of the incident view's own.
pub fn dialog_open(app: &App) -> bool {
    app.modal.is_some() || app.stack.incident().is_some_and(|i| i.dialog.is_some())
}

/// After a command outside the conflict dialog: a dialog just opened over
/// an incident remembers the version the user saw; a closed one forgets.
pub fn after_command(app: &mut App, none_was_open: bool) {
    if !dialog_open(app) {
        app.conflict.dialog_base = None;
    } else if none_was_open {
        app.conflict.dialog_base = app.detail().map(|d| (d.incident.id.clone(), d.version));
    }
}

/// The version an edit of `id` is based on: the one its dialog was opened
/// at, else the view's.
pub fn base_for(app: &App, id: &IncidentId) -> Option<Version> {
    if let Some((opened, v)) = &app.conflict.dialog_base
        && opened == id
    {
        return Some(*v);
    }
    app.detail()
        .filter(|d| &d.incident.id == id)
        .map(|d| d.version)
}

/// Bases the edits in `fx` that a screen sent without a version on the
/// version their dialog was opened at, or the view's: screens know what
/// they edit, the shell knows when the user began. Incident edits and the
/// review's (its texts, an action's status, the close; the review screen
/// knows the review, not the incident's version).
pub fn base_edits(app: &App, fx: &mut [Effect]) {
    use crate::tui::records::RecordsEffect as R;
    for e in fx.iter_mut() {
        let id = match e {
            Effect::Update(id, _)
            | Effect::SetItem { id, .. }
            | Effect::Assign { id, .. }
            | Effect::SetDetected { id, .. } => id.clone(),
            Effect::Records(r) => match r.as_ref() {
                R::UpdateReview { id, .. }
                | R::SetActionStatus { id, .. }
                | R::Close { id, .. } => id.clone(),
                _ => continue,
            },
            _ => continue,
        };
        if let Some(base) = base_for(app, &id) {
            let unbased = std::mem::replace(e, Effect::Quit);
            *e = Effect::based(base, unbased);
        }
    }
}

/// What the quit question says about an edit still waiting here.
pub fn unsaved(app: &App) -> Option<String> {
    let c = &app.conflict.shown()?.conflict;
    Some(format!(
        "Your {} edit met {}'s change and is not saved.",
        c.what, c.theirs.actor
    ))
}

pub fn render(app: &App, frame: &mut Frame, body: Rect) {
    if let Some(d) = app.conflict.shown() {
        crate::tui::kit::conflict::view::render(d, app.no_color, frame, body);
    }
}

#[cfg(test)]
#[path = "conflict_tests.rs"]
mod tests;
