//! `update`: the one place the console's state changes. Pure: it takes the
//! time as a parameter and returns the I/O it wants done as [`Effect`]s,
//! which the runtime hands to the store worker.

use chrono::{DateTime, Utc};

use crate::domain::IncidentId;
use crate::domain::playbook::ItemState;
use crate::tui::action::Action;
use crate::tui::kit::cursor::clamp;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::compose::handle as compose;
use crate::tui::screens::incident::state::{FormField, NEW_INCIDENT_DRAFT, NewIncidentForm};
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
use crate::tui::screens::incident::dialogs::{modal_command, pick_by_key};
use crate::tui::shell::app::{new_incident_form, say};
use drafts::{autosave, discard_draft};
use typing::{focused_input, text_changed};

pub fn update(app: &mut App, action: Action, now: DateTime<Utc>) -> Vec<Effect> {
    let mut fx = Vec::new();
    match action {
        Action::Command(cmd) => {
            if !conflict::command(app, cmd, &mut fx) {
                let none_was_open = app.modal.is_none();
                command(app, cmd, now, &mut fx);
                conflict::base_review_edits(app, &mut fx);
                conflict::after_command(app, none_was_open);
            }
        }
        Action::Input(key) => {
            if conflict::input(app, key) {
                return fx;
            }
            if app.modal.is_none()
                && !app.confirm_quit
                && let Some(c) = app.stack.compose_mut()
            {
                compose::input(c, key);
                return fx;
            }
            if let Some(Modal::NewIncident(f)) = &mut app.modal
                && let crossterm::event::KeyCode::Char(c) = key.code
                && pick_by_key(f, c)
            {
                return fx;
            }
            if let Some(Modal::Fields(d)) = &mut app.modal
                && let crossterm::event::KeyCode::Char(c) = key.code
                && crate::tui::kit::fields::state::pick_by_key(d, c)
            {
                return fx;
            }
            if let Some(input) = focused_input(app)
                && input.handle_key(key)
            {
                text_changed(app, now);
            }
        }
        Action::Paste(text) => {
            if conflict::paste(app, &text) {
                return fx;
            }
            if let Some(Modal::Fields(_)) = &app.modal {
                // Marked changed first: the paste may leave a note (cut).
                text_changed(app, now);
                if let Some(Modal::Fields(d)) = &mut app.modal {
                    crate::tui::kit::fields::state::paste(d, &text);
                }
                return fx;
            }
            if app.modal.is_none()
                && !app.confirm_quit
                && let Some(c) = app.stack.compose_mut()
            {
                compose::paste(c, &text);
                return fx;
            }
            // One line fields: newlines become spaces; display_safe shows the rest.
            let text = text.replace(['\r', '\n'], " ");
            if let Some(input) = focused_input(app) {
                input.insert_str(&text);
                text_changed(app, now);
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
            if let Some(e) = autosave(app) {
                fx.push(e);
            }
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
            if app.modal.is_none()
                && let Some(body) = app.drafts.get(NEW_INCIDENT_DRAFT)
            {
                let mut form = NewIncidentForm::from_draft(body);
                form.restored = Some("restored your unsaved draft".into());
                app.modal = Some(Modal::NewIncident(form));
            }
        }
        Action::Created(incident) => {
            if app.pending_form.take().is_some() {
                discard_draft(app, NEW_INCIDENT_DRAFT, &mut fx);
            }
            say(app, format!("{} declared", incident.id), false);
            // The new incident is opened from the board; a composer open
            // meanwhile stays on top of it, as typed.
            let composer = app.stack.take_compose();
            crate::tui::shell::screens::home(app);
            crate::tui::shell::screens::open(app, Target::Incident(incident.id), now, &mut fx);
            if let Some(c) = composer {
                app.stack.push(ScreenState::Compose(c));
            }
        }
        Action::Saved(text) => say(app, text, false),
        Action::Conflict(c, mine) => conflict::arrived(app, *c, *mine),
        Action::DowngradeRefused { id, to, message } => {
            if app.modal.is_none() {
                crate::tui::screens::incident::dialogs::open_downgrade_reason(
                    app,
                    id,
                    to,
                    Some(message.clone()),
                );
            }
            say(app, message, true);
        }
        Action::StoreFailed(text) => {
            // A declaration that failed goes back on screen, as typed.
            if let Some(mut form) = app.pending_form.take()
                && app.modal.is_none()
            {
                form.restored = Some(format!("not declared: {text}"));
                app.modal = Some(Modal::NewIncident(form));
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
            fx.extend(autosave(app));
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
                if let Some(Modal::NewIncident(_) | Modal::Text(_) | Modal::Fields(_)) = app.modal {
                    app.modal = None;
                }
                app.stack.take_compose();
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
            Command::NewIncident => app.modal = Some(Modal::NewIncident(new_incident_form(app))),
            _ => {
                let nav = crate::tui::shell::screens::command(app, cmd, now, fx);
                crate::tui::shell::screens::go(app, nav, now, fx);
            }
        }
        return;
    };
    modal_command(app, modal, cmd, now, fx);
}

fn quit(app: &mut App, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    app.confirm_quit = false;
    fx.extend(autosave(app));
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
mod gate_tests;
#[cfg(test)]
mod records_tests;
#[cfg(test)]
mod screen_tests;
#[cfg(test)]
mod tests;
