//! `update`: the one place the console's state changes. Pure: it takes the
//! time as a parameter and returns the I/O it wants done as [`Effect`]s,
//! which the runtime hands to the store worker.

use chrono::{DateTime, Utc};

use crate::domain::IncidentId;
use crate::domain::playbook::ItemState;
use crate::tui::action::Action;
use crate::tui::kit::cursor::clamp;
use crate::tui::screens::declare::state::{NEW_INCIDENT_DRAFT, NewIncidentForm};
use crate::tui::screens::incident::state::IncidentDialog;
use crate::tui::screens::nav::Target;
use crate::tui::shell::alerts::handle as alerts;
use crate::tui::shell::app::{App, Modal};
use crate::tui::shell::conflict;
use crate::tui::shell::keymap::Command;
use crate::tui::shell::stack::ScreenState;

mod answers;
mod composer_io;
pub mod drafts;
mod typing;

pub use crate::tui::effect::Effect;
use crate::tui::shell::app::say;
use drafts::{autosave, discard_draft};

pub fn update(app: &mut App, action: Action, now: DateTime<Utc>) -> Vec<Effect> {
    let mut fx = Vec::new();
    match action {
        Action::Command(cmd) => {
            if !conflict::command(app, cmd, &mut fx) {
                let none_was_open = !conflict::dialog_open(app);
                command(app, cmd, now, &mut fx);
                conflict::base_edits(app, &mut fx);
                conflict::after_command(app, none_was_open);
            }
        }
        Action::Input(key) => {
            if !conflict::input(app, key) {
                typing::input(app, key, now, &mut fx);
            }
        }
        Action::Paste(text) => {
            if !conflict::paste(app, &text) {
                typing::paste(app, &text, now, &mut fx);
            }
        }
        Action::Tick => {
            if let Some(m) = app.message.as_mut() {
                m.age = m.age.saturating_add(1);
                let keep = if m.error { 10 } else { 5 };
                if m.age > keep {
                    app.message = None;
                }
            }
            autosave(app, now, &mut fx);
            composer_io::tick(app, now, &mut fx);
            fx.extend(alerts::tick(app, now));
            fx.push(Effect::Poll {
                include_closed: app.board.show_closed,
                open: open_id(app),
            });
            crate::tui::shell::screens::tick(app, now, &mut fx);
        }
        Action::Resize => {}
        Action::BoardLoaded(rows) => {
            app.rows = rows;
            app.board_feed.loaded = true;
            app.rebuild_order(now);
            fx.extend(answers::board_loaded(app));
        }
        Action::OriginsLoaded(id, origins) => {
            if let Some(state) = app.stack.incident_mut()
                && state.id == id
            {
                state.origins = *origins;
            }
        }
        Action::DetailLoaded(detail) => {
            if let Some(state) = app.stack.incident_mut()
                && state.id == detail.incident.id
            {
                state.checklist_cursor = if state.detail.is_none() {
                    // First look: start at the current phase's first open item.
                    let phase = detail.incident.phase;
                    let in_phase = |c: &&crate::domain::ChecklistItem| c.phase == phase;
                    detail
                        .checklist
                        .iter()
                        .position(|c| in_phase(&c) && c.state == ItemState::Open)
                        .or_else(|| detail.checklist.iter().position(|c| in_phase(&c)))
                        .unwrap_or(0)
                } else {
                    clamp(state.checklist_cursor, detail.checklist.len())
                };
                state.timeline_scroll = clamp(state.timeline_scroll, detail.timeline.len());
                state.detail = Some(*detail);
            }
        }
        Action::PeopleLoaded(people) => app.people = people,
        Action::PresenceLoaded { me, present } => {
            app.console_id = me;
            app.present = present;
        }
        Action::DraftsLoaded(drafts) => {
            for d in drafts {
                app.drafts.insert(d.key, d.body);
            }
            if !app.dialog_open()
                && let Some(body) = app.drafts.get(NEW_INCIDENT_DRAFT)
            {
                let mut form = NewIncidentForm::from_draft(body);
                form.restored = Some("restored your unsaved draft".into());
                app.stack.push(ScreenState::Declare(form));
            }
        }
        Action::Created(incident) => {
            if app.pending_form.take().is_some() {
                discard_draft(app, NEW_INCIDENT_DRAFT, &mut fx);
            }
            say(app, format!("{} declared", incident.id), false);
            // The new incident is opened from the board; a composer or a
            // second form opened meanwhile stays on top of it, as typed
            // (the form's draft saved again: the first one's was its key).
            let form = match app.stack.top() {
                Some(ScreenState::Declare(_)) => app.stack.pop(),
                _ => None,
            };
            let composer = app.stack.take_compose();
            crate::tui::shell::screens::home(app);
            crate::tui::shell::screens::open(app, Target::Incident(incident.id), now, &mut fx);
            if let Some(c) = composer {
                app.stack.push(ScreenState::Compose(c));
            }
            if let Some(ScreenState::Declare(mut f)) = form {
                f.dirty = !f.is_blank();
                app.stack.push(ScreenState::Declare(f));
            }
        }
        Action::Saved(text) => say(app, text, false),
        Action::Conflict(c, mine) => conflict::arrived(app, *c, *mine),
        Action::DowngradeRefused { id, to, message } => {
            if !app.dialog_open() {
                let (stack, c) = crate::tui::shell::lend::split(app, now);
                if let Some(s) = stack.incident_mut().filter(|s| s.id == id) {
                    let error = Some(message.clone());
                    crate::tui::screens::incident::dialogs::ask_downgrade_reason(
                        s, &c, id, to, error,
                    );
                }
            }
            say(app, message, true);
        }
        Action::StoreFailed(text) => {
            // A declaration that failed goes back on screen, as typed.
            if let Some(mut form) = app.pending_form.take()
                && !app.dialog_open()
            {
                form.restored = Some(format!("not declared: {text}"));
                form.submitted = false;
                app.stack.push(ScreenState::Declare(form));
            }
            say(app, text, true);
        }
        Action::Records(loaded) => answers::loaded(app, *loaded, now, &mut fx),
        a @ (Action::DraftNotSaved(_)
        | Action::DraftSaved(..)
        | Action::ComposeLoaded(_)
        | Action::MessageSent { .. }
        | Action::SendFailed(_)) => composer_io::answer(app, a, now, &mut fx),
        Action::AlertSubjectsLoaded(subjects) => app.alerts.set_subjects(subjects),
        Action::AlertFeed(batch) => fx.extend(app.alerts.arrived(*batch, &app.actor)),
        Action::AlertsNotRaised(keys) => app.alerts.retry_later(&keys),
        Action::WatcherStatus(status) => {
            app.watcher.status = Some(*status);
        }
        Action::WatcherProblems(problems) => app.watcher.problems.extend(problems),
        Action::IntakeLoaded(intake) => app.watcher.intake = intake,
        Action::WatcherStandby(standby) => app.watcher.standby = standby,
        Action::WatcherFailed(text) => {
            app.watcher.problems.push(text.clone());
            say(app, text, true);
        }
        Action::Terminate => {
            autosave(app, now, &mut fx);
            composer_io::save(app, now, &mut fx);
            fx.push(Effect::Quit);
            app.quit = true;
        }
    }
    fx
}

/// The incident shown or under the screen shown (the metrics and the
/// watcher open from the board, so none is under them).
fn open_id(app: &App) -> Option<IncidentId> {
    app.stack.incident().map(|i| i.id.clone())
}

fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    if app.confirm_quit {
        match cmd {
            Command::ConfirmYes => quit(app, now, fx),
            Command::ConfirmDiscard => {
                let keys: Vec<String> = app.drafts.keys().cloned().collect();
                for key in keys {
                    discard_draft(app, &key, fx);
                }
                close_drafts(app);
                quit(app, now, fx);
            }
            Command::ConfirmNo | Command::Cancel => app.confirm_quit = false,
            Command::Quit => quit(app, now, fx),
            _ => {}
        }
        return;
    }
    if cmd == Command::Quit {
        if app.has_unsaved_form() || !app.drafts.is_empty() {
            app.confirm_quit = true;
        } else {
            quit(app, now, fx);
        }
        return;
    }
    let Some(modal) = app.modal.take() else {
        // Keys that mean the same on every screen, handled once.
        match cmd {
            Command::OpenWatcher => crate::tui::shell::screens::open(app, Target::Watcher, now, fx),
            Command::OpenAlerts => crate::tui::shell::screens::open(app, Target::Alerts, now, fx),
            Command::Help => {
                let under = app.focus();
                app.modal = Some(Modal::Help { scroll: 0, under });
            }
            Command::NewIncident => {
                crate::tui::shell::screens::open(app, Target::NewIncident, now, fx)
            }
            _ => {
                let nav = crate::tui::shell::screens::command(app, cmd, now, fx);
                crate::tui::shell::screens::go(app, nav, now, fx);
            }
        }
        return;
    };
    match modal {
        Modal::Help { scroll, under } => {
            app.modal = crate::tui::shell::overlays::help_command(scroll, under, cmd)
        }
        Modal::Fields(d) => crate::tui::shell::fields::command(app, d, cmd, now, fx),
    }
}

/// Closes what holds a draft (the drafts are discarded): the field
/// dialog, the incident's text edit, the form, the composer.
fn close_drafts(app: &mut App) {
    if let Some(Modal::Fields(_)) = app.modal {
        app.modal = None;
    }
    if let Some(i) = app.stack.incident_mut()
        && matches!(i.dialog, Some(IncidentDialog::Text(_)))
    {
        i.dialog = None;
    }
    if matches!(app.stack.top(), Some(ScreenState::Declare(_))) {
        app.stack.pop();
    }
    app.stack.take_compose();
}

fn quit(app: &mut App, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    app.confirm_quit = false;
    autosave(app, now, fx);
    composer_io::save(app, now, fx);
    fx.push(Effect::Quit);
    app.quit = true;
}

#[cfg(test)]
mod alert_list_tests;
#[cfg(test)]
mod clock_tests;
#[cfg(test)]
mod compose_tests;
#[cfg(test)]
mod edit_tests;
#[cfg(test)]
mod gate_tests;
#[cfg(test)]
mod records_tests;
#[cfg(test)]
mod screen_tests;
#[cfg(test)]
mod tests;
