//! `update`: the one place the console's state changes. Pure: it takes the
//! time as a parameter and returns the I/O it wants done as [`Effect`]s,
//! which the runtime hands to the store worker.

use chrono::{DateTime, Utc};

use super::action::Action;
use super::keymap::Command;
use crate::domain::incident::validate_title;
use crate::domain::playbook::ItemState;
use crate::domain::roles::{Assignment, Role};
use crate::domain::{IncidentId, Severity, Source, Status};
use crate::store::{IncidentPatch, NewIncident};
use crate::tui::alerts::handle as alerts;
use crate::tui::app::{
    App, AssignDialog, FormField, IncidentState, Modal, NEW_INCIDENT_DRAFT, NewIncidentForm, Pane,
    Picker, PickerKind, Screen, TextDialog, TextKind,
};
use crate::tui::kit::cursor::move_cursor;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::compose::handle as compose;

mod board;
mod dialogs;
mod incident;

pub use super::effect::Effect;
use crate::tui::app::{new_incident_form, say};
use board::board_command;
use dialogs::{modal_command, pick_by_key};
use incident::incident_command;

pub fn update(app: &mut App, action: Action, now: DateTime<Utc>) -> Vec<Effect> {
    let mut fx = Vec::new();
    match action {
        Action::Command(cmd) => command(app, cmd, now, &mut fx),
        Action::Input(key) => {
            if app.compose.is_some() && app.modal.is_none() && !app.confirm_quit {
                compose::input(app, key);
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
                && crate::tui::fields::state::pick_by_key(d, c)
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
            if let Some(Modal::Fields(_)) = &app.modal {
                // Marked changed first: the paste may leave a note (cut).
                text_changed(app, now);
                if let Some(Modal::Fields(d)) = &mut app.modal {
                    crate::tui::fields::state::paste(d, &text);
                }
                return fx;
            }
            if app.compose.is_some() && app.modal.is_none() && !app.confirm_quit {
                compose::paste(app, &text);
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
            fx.extend(compose::tick(app, now));
            fx.extend(alerts::tick(app, now));
            fx.push(Effect::Poll {
                include_closed: app.board.show_closed,
                open: open_id(app),
            });
            fx.extend(crate::tui::records::handle::tick(app, now));
        }
        Action::Resize => {}
        Action::BoardLoaded(rows) => {
            app.rows = rows;
            app.loaded = true;
            app.rebuild_order(now);
            fx.extend(crate::tui::records::handle::board_loaded(app));
        }
        Action::DetailLoaded(detail) => {
            if let Some(state) = app.incident.as_mut()
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
                    state
                        .checklist_cursor
                        .min(detail.checklist.len().saturating_sub(1))
                };
                state.timeline_scroll = state
                    .timeline_scroll
                    .min(detail.timeline.len().saturating_sub(1));
                state.detail = Some(*detail);
            }
        }
        Action::PeopleLoaded(people) => app.people = people,
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
            app.screen = Screen::Incident;
            app.incident = Some(IncidentState::new(incident.id.clone()));
            fx.push(Effect::LoadDetail(incident.id));
        }
        Action::Saved(text) => say(app, text, false),
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
        Action::Records(loaded) => crate::tui::records::handle::loaded(app, *loaded, now, &mut fx),
        Action::DraftNotSaved(key) => compose::draft_not_saved(app, &key),
        Action::DraftSaved(key, at) => compose::draft_saved(app, &key, at),
        Action::ComposeLoaded(loaded) => compose::loaded(app, *loaded),
        Action::MessageSent { report, retry } => compose::sent(app, *report, retry, &mut fx),
        Action::SendFailed(text) => compose::send_failed(app, text),
        Action::AlertSubjectsLoaded(subjects) => app.alerts.set_subjects(subjects),
        Action::AlertsRaised(raised) => fx.extend(app.alerts.raised(raised)),
        Action::AlertsNotRaised(keys) => app.alerts.retry_later(&keys),
        Action::WatcherStatus(status) => {
            let len = status.recent.len();
            app.watcher.status = Some(*status);
            app.watcher.scroll = app.watcher.scroll.min(len.saturating_sub(1));
        }
        Action::WatcherProblems(problems) => app.watcher.problems.extend(problems),
        Action::WatcherStandby(standby) => app.watcher.standby = standby,
        Action::WatcherFailed(text) => {
            app.watcher.problems.push(text.clone());
            say(app, text, true);
        }
        Action::Terminate => {
            fx.extend(autosave(app));
            fx.extend(compose::save(app, now));
            fx.push(Effect::Quit);
            app.quit = true;
        }
    }
    fx
}

fn open_id(app: &App) -> Option<IncidentId> {
    match app.screen {
        Screen::Incident | Screen::Evidence | Screen::Review | Screen::Messages => {
            app.incident.as_ref().map(|i| i.id.clone())
        }
        Screen::Board | Screen::Metrics | Screen::Watcher => None,
    }
}

fn focused_input(app: &mut App) -> Option<&mut LineInput> {
    if app.confirm_quit {
        return None;
    }
    match &mut app.modal {
        Some(Modal::NewIncident(f)) => match f.focus {
            FormField::Title => Some(&mut f.title),
            FormField::Summary => Some(&mut f.summary),
            // Typing on a choice field picks by its first letter/number.
            FormField::Severity | FormField::Source => None,
        },
        Some(Modal::Text(t)) => Some(&mut t.input),
        Some(Modal::Assign(a)) => Some(&mut a.input),
        Some(Modal::Fields(d)) => d.focused_input(),
        Some(_) => None,
        None if app.board.filtering => Some(&mut app.board.filter),
        None => None,
    }
}

fn text_changed(app: &mut App, now: DateTime<Utc>) {
    match &mut app.modal {
        Some(Modal::NewIncident(f)) => {
            f.dirty = true;
            // Clear a field's error as soon as it is being fixed.
            let focus = f.focus;
            f.errors.retain(|(field, _)| *field != focus);
        }
        Some(Modal::Text(t)) => {
            t.dirty = true;
            t.error = None;
        }
        Some(Modal::Fields(d)) => {
            d.dirty = true;
            d.error = None;
        }
        Some(Modal::Assign(a)) => {
            a.error = None;
            a.selected = if crate::tui::app::roster_matches(&app.people, a.input.text()).is_empty()
            {
                None
            } else {
                Some(0)
            };
        }
        _ => {
            if app.board.filtering {
                app.board.selected = 0;
                app.rebuild_order(now);
            }
        }
    }
}

/// A draft save (or delete) for the form or edit in progress, if it changed.
fn autosave(app: &mut App) -> Option<Effect> {
    match &mut app.modal {
        Some(Modal::NewIncident(f)) if f.dirty => {
            f.dirty = false;
            Some(save_or_delete(
                &mut app.drafts,
                NEW_INCIDENT_DRAFT.to_string(),
                (!f.is_blank()).then(|| f.to_draft()),
            ))
        }
        Some(Modal::Text(t)) if t.dirty => {
            t.dirty = false;
            let body = (!t.input.is_blank())
                .then(|| serde_json::json!({ "text": t.input.text() }).to_string());
            Some(save_or_delete(&mut app.drafts, t.draft_key(), body))
        }
        Some(Modal::Fields(d)) => crate::tui::fields::state::autosave(d, &mut app.drafts),
        _ => None,
    }
}

fn save_or_delete(
    drafts: &mut std::collections::HashMap<String, String>,
    key: String,
    body: Option<String>,
) -> Effect {
    match body {
        Some(body) => {
            drafts.insert(key.clone(), body.clone());
            Effect::SaveDraft { key, body }
        }
        None => {
            drafts.remove(&key);
            Effect::DeleteDraft { key }
        }
    }
}

fn discard_draft(app: &mut App, key: &str, fx: &mut Vec<Effect>) {
    if app.drafts.remove(key).is_some() {
        fx.push(Effect::DeleteDraft {
            key: key.to_string(),
        });
    }
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
                app.compose = None;
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
    if cmd == Command::OpenWatcher && app.modal.is_none() {
        app.screen = Screen::Watcher;
        return;
    }
    match app.modal.take() {
        Some(modal) => modal_command(app, modal, cmd, now, fx),
        None if app.compose.is_some() => compose::command(app, cmd, now, fx),
        None => match app.screen {
            Screen::Incident => incident_command(app, cmd, now, fx),
            Screen::Board => board_command(app, cmd, now, fx),
            Screen::Evidence => crate::tui::screens::evidence::handle::command(app, cmd, now, fx),
            Screen::Review => crate::tui::screens::review::handle::command(app, cmd, now, fx),
            Screen::Metrics => crate::tui::screens::metrics::handle::command(app, cmd, now, fx),
            Screen::Messages => crate::tui::screens::messages::handle::command(app, cmd, now, fx),
            Screen::Watcher => crate::tui::screens::watcher::handle::command(app, cmd, now, fx),
        },
    }
}

fn quit(app: &mut App, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    app.confirm_quit = false;
    fx.extend(autosave(app));
    fx.extend(compose::save(app, now));
    fx.push(Effect::Quit);
    app.quit = true;
}

#[cfg(test)]
mod tests;
