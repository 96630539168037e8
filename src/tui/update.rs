//! `update`: the one place the console's state changes. Pure: it takes the
//! time as a parameter and returns the I/O it wants done as [`Effect`]s,
//! which the runtime hands to the store worker.

use chrono::{DateTime, Utc};

use super::action::Action;
use super::app::{
    App, AssignDialog, FormField, IncidentState, Message, Modal, NEW_INCIDENT_DRAFT,
    NewIncidentForm, Pane, Picker, PickerKind, Screen, TextDialog, TextKind,
};
use super::keymap::Command;
use super::kit::cursor::move_cursor;
use super::kit::input::LineInput;
use super::{alerts, compose};
use crate::domain::incident::validate_title;
use crate::domain::playbook::ItemState;
use crate::domain::roles::{Assignment, Role};
use crate::domain::{IncidentId, Severity, Source, Status};
use crate::store::{IncidentPatch, NewIncident};

/// I/O the runtime performs on `update`'s behalf.
#[derive(Debug, Clone)]
pub enum Effect {
    LoadBoard {
        include_closed: bool,
    },
    LoadDetail(IncidentId),
    /// Check `data_version`; reload what is shown if another process wrote.
    Poll {
        include_closed: bool,
        open: Option<IncidentId>,
    },
    Create(Box<NewIncident>),
    Update(IncidentId, Box<IncidentPatch>),
    SetItem {
        id: IncidentId,
        item: String,
        state: ItemState,
        reason: Option<String>,
    },
    Assign {
        id: IncidentId,
        role: Role,
        person: String,
    },
    AddNote {
        id: IncidentId,
        text: String,
    },
    SaveDraft {
        key: String,
        body: String,
    },
    DeleteDraft {
        key: String,
    },
    /// Evidence, review, report and metrics I/O (issue 6), run by
    /// `records::Worker`.
    Records(Box<super::records::RecordsEffect>),
    /// Composer: render `template` (when given) for the incident as it is
    /// in the store, and load the last message sent to the audience.
    ComposeLoad {
        id: IncidentId,
        audience: crate::comms::Audience,
        template: Option<String>,
    },
    /// Record the message, then deliver it through the named sinks.
    SendMessage {
        message: Box<crate::store::NewMessage>,
        sinks: Vec<String>,
    },
    /// Deliver a recorded message's failed deliveries again (with the
    /// incident's others, through `comms::sinks::retry`).
    RetryDeliveries {
        message_id: i64,
    },
    /// Raise these alerts in the store; report the ones this process took.
    RaiseAlerts(Vec<crate::store::NewAlert>),
    /// Written by the runtime to its own terminal (never by a worker):
    /// a BEL for alerts, an OSC 52 sequence for the clipboard sink.
    Bell,
    Clipboard(String),
    /// A desktop notification, sent off the UI thread; silently nothing
    /// without a session bus.
    DesktopNotify {
        summary: String,
        body: String,
        urgent: bool,
    },
    Quit,
}

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
                && super::fields::pick_by_key(d, c)
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
                    super::fields::paste(d, &text);
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
            fx.extend(super::records::tick(app, now));
        }
        Action::Resize => {}
        Action::BoardLoaded(rows) => {
            app.rows = rows;
            app.loaded = true;
            app.rebuild_order(now);
            fx.extend(super::records::board_loaded(app));
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
        Action::Records(loaded) => super::records::loaded(app, *loaded, now, &mut fx),
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

/// On a choice field, a typed digit or initial picks the choice.
fn pick_by_key(f: &mut NewIncidentForm, c: char) -> bool {
    match f.focus {
        FormField::Severity => {
            if let Ok(s) = c.to_string().parse::<Severity>() {
                f.severity = Some(s);
                f.errors.retain(|(field, _)| *field != FormField::Severity);
                f.dirty = true;
            }
            true
        }
        FormField::Source => {
            let c = c.to_ascii_lowercase();
            if let Some(s) = Source::ALL.iter().find(|s| s.as_str().starts_with(c)) {
                f.source = *s;
                f.dirty = true;
            }
            true
        }
        FormField::Title | FormField::Summary => false,
    }
}

pub(crate) fn say(app: &mut App, text: String, error: bool) {
    app.message = Some(Message {
        text,
        error,
        age: 0,
    });
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
            a.selected = if super::app::roster_matches(&app.people, a.input.text()).is_empty() {
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
        Some(Modal::Fields(d)) => super::fields::autosave(d, &mut app.drafts),
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
            Screen::Evidence => super::evidence::command(app, cmd, now, fx),
            Screen::Review => super::review::command(app, cmd, now, fx),
            Screen::Metrics => super::metrics::command(app, cmd, now, fx),
            Screen::Messages => super::messages::command(app, cmd, now, fx),
            Screen::Watcher => super::watcher::command(app, cmd, now, fx),
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

pub(crate) fn new_incident_form(app: &App) -> NewIncidentForm {
    match app.drafts.get(NEW_INCIDENT_DRAFT) {
        Some(body) => {
            let mut f = NewIncidentForm::from_draft(body);
            f.restored = Some("continuing your saved draft".into());
            f
        }
        None => NewIncidentForm::default(),
    }
}

fn board_command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    if app.board.filtering {
        match cmd {
            Command::Submit => app.board.filtering = false,
            Command::Cancel => {
                app.board.filtering = false;
                app.board.filter = LineInput::default();
                app.rebuild_order(now);
            }
            _ => {}
        }
        return;
    }
    match cmd {
        Command::Help => {
            app.modal = Some(Modal::Help {
                scroll: 0,
                under: app.focus(),
            })
        }
        Command::NewIncident => app.modal = Some(Modal::NewIncident(new_incident_form(app))),
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => {
            app.board.selected = move_cursor(app.board.selected, app.board.order.len(), cmd);
        }
        Command::Open => {
            if let Some(row) = app.selected_row() {
                let id = row.incident.id.clone();
                app.screen = Screen::Incident;
                app.incident = Some(IncidentState::new(id.clone()));
                fx.push(Effect::LoadDetail(id));
            }
        }
        Command::Filter => app.board.filtering = true,
        Command::Back => {
            app.board.filter = LineInput::default();
            app.board.severity_filter = None;
            app.board.status_filter = None;
            app.rebuild_order(now);
        }
        Command::CycleSort => {
            app.board.sort = app.board.sort.next();
            app.rebuild_order(now);
            say(app, format!("sorted by {}", app.board.sort.label()), false);
        }
        Command::CycleSeverityFilter => {
            app.board.severity_filter = match app.board.severity_filter {
                None => Some(Severity::P1),
                Some(Severity::P1) => Some(Severity::P2),
                Some(Severity::P2) => Some(Severity::P3),
                Some(Severity::P3) => Some(Severity::P4),
                Some(Severity::P4) => None,
            };
            app.board.selected = 0;
            app.rebuild_order(now);
        }
        Command::CycleStatusFilter => {
            let all = Status::ALL;
            app.board.status_filter = match app.board.status_filter {
                None => all.first().copied(),
                Some(s) => all
                    .iter()
                    .position(|x| *x == s)
                    .and_then(|i| all.get(i + 1))
                    .copied(),
            };
            if app.board.status_filter == Some(Status::Closed) {
                app.board.show_closed = true;
                fx.push(Effect::LoadBoard {
                    include_closed: true,
                });
            }
            app.board.selected = 0;
            app.rebuild_order(now);
        }
        Command::ToggleClosed => {
            app.board.show_closed = !app.board.show_closed;
            fx.push(Effect::LoadBoard {
                include_closed: app.board.show_closed,
            });
            app.rebuild_order(now);
            let shown = if app.board.show_closed {
                "shown"
            } else {
                "hidden"
            };
            say(app, format!("closed incidents {shown}"), false);
        }
        Command::OpenMetrics => super::metrics::open(app, now, fx),
        _ => {}
    }
}

fn incident_command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    let Some(state) = app.incident.as_mut() else {
        app.screen = Screen::Board;
        return;
    };
    let id = state.id.clone();
    let checklist_len = state.detail.as_ref().map_or(0, |d| d.checklist.len());
    let timeline_len = state.detail.as_ref().map_or(0, |d| d.timeline.len());
    match cmd {
        Command::Back => {
            app.screen = Screen::Board;
            app.incident = None;
        }
        Command::Help => {
            let under = app.focus();
            app.modal = Some(Modal::Help { scroll: 0, under });
        }
        Command::NewIncident => app.modal = Some(Modal::NewIncident(new_incident_form(app))),
        Command::Compose => compose::open(app),
        Command::NextPane => state.pane = state.pane.next(),
        Command::PrevPane => state.pane = state.pane.prev(),
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => match state.pane {
            Pane::Checklist => {
                state.checklist_cursor = move_cursor(state.checklist_cursor, checklist_len, cmd)
            }
            Pane::Roles => state.role_cursor = move_cursor(state.role_cursor, Role::ALL.len(), cmd),
            Pane::Timeline => {
                state.timeline_scroll = move_cursor(state.timeline_scroll, timeline_len, cmd)
            }
            Pane::Summary => state.summary_scroll = move_cursor(state.summary_scroll, 50, cmd),
            Pane::Clocks => {}
        },
        Command::ToggleItem => {
            let cursor = state.checklist_cursor;
            let actor = app.actor.clone();
            if let Some(item) = state
                .detail
                .as_mut()
                .and_then(|d| d.checklist.get_mut(cursor))
            {
                let to = match item.state {
                    ItemState::Open => ItemState::Done,
                    ItemState::Done | ItemState::NotApplicable => ItemState::Open,
                };
                // Shown at once; the store's answer replaces it on reload.
                item.state = to;
                item.reason = None;
                item.by = Some(actor);
                item.at = Some(now);
                fx.push(Effect::SetItem {
                    id,
                    item: item.id.clone(),
                    state: to,
                    reason: None,
                });
            }
        }
        Command::MarkNotApplicable => {
            if let Some(item) = app.checklist_item(checklist_cursor(app)) {
                let kind = TextKind::NotApplicable {
                    item: item.id.clone(),
                    text: item.text.clone(),
                };
                app.modal = Some(Modal::Text(text_dialog(app, id, kind, "")));
            }
        }
        Command::AdvancePhase | Command::StepBackPhase => {
            if let Some(detail) = state.detail.as_mut() {
                let phase = detail.incident.phase;
                let to = if cmd == Command::AdvancePhase {
                    phase.next()
                } else {
                    phase.prev()
                };
                match to {
                    Some(to) => {
                        detail.incident.phase = to;
                        fx.push(Effect::Update(
                            id,
                            Box::new(IncidentPatch {
                                phase: Some(to),
                                ..IncidentPatch::default()
                            }),
                        ));
                    }
                    None => say(app, "no phase that way".into(), true),
                }
            }
        }
        Command::Assign => {
            let role = if state.pane == Pane::Roles {
                Role::ALL
                    .get(state.role_cursor)
                    .copied()
                    .unwrap_or(Role::Commander)
            } else {
                Role::Commander
            };
            app.modal = Some(Modal::Assign(AssignDialog {
                id,
                role,
                input: LineInput::default(),
                selected: (!app.people.is_empty()).then_some(0),
                error: None,
            }));
        }
        Command::SetSeverity | Command::SetStatus => {
            if let Some(d) = state.detail.as_ref() {
                let (kind, selected) = if cmd == Command::SetSeverity {
                    let at = Severity::ALL.iter().position(|s| *s == d.incident.severity);
                    (PickerKind::Severity, at.unwrap_or(0))
                } else {
                    let at = Status::ALL.iter().position(|s| *s == d.incident.status);
                    (PickerKind::Status, at.unwrap_or(0))
                };
                app.modal = Some(Modal::Picker(Picker { kind, selected }));
            }
        }
        Command::EditTitle | Command::EditSummary | Command::AddNote => {
            if let Some(d) = state.detail.as_ref() {
                let (kind, current) = match cmd {
                    Command::EditTitle => (TextKind::Title, d.incident.title.clone()),
                    Command::EditSummary => (TextKind::Summary, d.incident.summary.clone()),
                    _ => (TextKind::Note, String::new()),
                };
                app.modal = Some(Modal::Text(text_dialog(app, id, kind, &current)));
            }
        }
        Command::OpenEvidence => super::evidence::open(app, id, fx),
        Command::OpenReview => super::review::open(app, id, fx),
        Command::OpenMessages => super::messages::open(app, id, fx),
        Command::WriteReport => super::records::open_report(app, id),
        _ => {}
    }
}

fn checklist_cursor(app: &App) -> usize {
    app.incident.as_ref().map_or(0, |i| i.checklist_cursor)
}

/// A text dialog, continuing a saved draft of the same edit if there is one.
fn text_dialog(app: &App, id: IncidentId, kind: TextKind, current: &str) -> TextDialog {
    let mut d = TextDialog {
        kind,
        id,
        input: LineInput::new(current),
        error: None,
        dirty: false,
        restored: false,
    };
    if let Some(body) = app.drafts.get(&d.draft_key()) {
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        if let Some(text) = v.get("text").and_then(|t| t.as_str()) {
            d.input = LineInput::new(text);
            d.restored = true;
        }
    }
    d
}

fn modal_command(
    app: &mut App,
    modal: Modal,
    cmd: Command,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) {
    // Each arm puts the modal back unless the command closes it.
    match modal {
        Modal::Help { scroll, under } => match cmd {
            Command::Back => {}
            Command::Up => {
                app.modal = Some(Modal::Help {
                    scroll: scroll.saturating_sub(1),
                    under,
                })
            }
            Command::Down => {
                app.modal = Some(Modal::Help {
                    scroll: scroll + 1,
                    under,
                })
            }
            _ => app.modal = Some(Modal::Help { scroll, under }),
        },
        Modal::NewIncident(form) => form_command(app, form, cmd, now, fx),
        Modal::Fields(d) => super::fields::command(app, d, cmd, now, fx),
        Modal::Picker(mut p) => match cmd {
            Command::Up | Command::Down => {
                p.selected = move_cursor(p.selected, p.len(), cmd);
                app.modal = Some(Modal::Picker(p));
            }
            Command::Submit => apply_picker(app, &p, fx),
            Command::Cancel => {}
            _ => app.modal = Some(Modal::Picker(p)),
        },
        Modal::Text(mut t) => match cmd {
            Command::Submit => {
                if let Err(e) = submit_text(app, &t, now, fx) {
                    t.error = Some(e);
                    app.modal = Some(Modal::Text(t));
                } else {
                    discard_draft(app, &t.draft_key(), fx);
                }
            }
            Command::Cancel => {
                // Kept as a draft unless nothing was typed.
                app.modal = Some(Modal::Text(t));
                fx.extend(autosave(app));
                app.modal = None;
            }
            _ => app.modal = Some(Modal::Text(t)),
        },
        Modal::Assign(mut a) => match cmd {
            Command::Up | Command::Down => {
                let n = super::app::roster_matches(&app.people, a.input.text()).len();
                a.selected = match (a.selected, cmd) {
                    (_, _) if n == 0 => None,
                    (None, Command::Down) => Some(0),
                    (None, _) => None,
                    (Some(0), Command::Up) => None,
                    (Some(i), _) => Some(move_cursor(i, n, cmd)),
                };
                app.modal = Some(Modal::Assign(a));
            }
            Command::ChoiceNext | Command::ChoicePrev => {
                let forward = cmd == Command::ChoiceNext;
                a.role = super::kit::cursor::step_in(&Role::ALL, a.role, forward);
                app.modal = Some(Modal::Assign(a));
            }
            Command::Submit => {
                let matches = super::app::roster_matches(&app.people, a.input.text());
                let person = match a.selected.and_then(|i| matches.get(i)) {
                    Some(p) => p.handle.clone(),
                    None => a.input.text().trim().to_string(),
                };
                if person.is_empty() {
                    a.error = Some("type a name or choose someone from the roster".into());
                    app.modal = Some(Modal::Assign(a));
                    return;
                }
                let holder = app
                    .detail()
                    .and_then(|d| d.holder(a.role))
                    .map(|h| h.person.clone());
                if holder.as_deref() == Some(person.as_str()) {
                    a.error = Some(format!("{person} already holds this role"));
                    app.modal = Some(Modal::Assign(a));
                    return;
                }
                if let Some(d) = app.incident.as_mut().and_then(|i| i.detail.as_mut()) {
                    for held in d.assignments.iter_mut() {
                        if held.role == a.role && held.until.is_none() {
                            held.until = Some(now);
                        }
                    }
                    d.assignments.push(Assignment {
                        role: a.role,
                        person: person.clone(),
                        since: now,
                        until: None,
                        assigned_by: app.actor.clone(),
                    });
                }
                fx.push(Effect::Assign {
                    id: a.id,
                    role: a.role,
                    person,
                });
            }
            Command::Cancel => {}
            _ => app.modal = Some(Modal::Assign(a)),
        },
    }
}

fn apply_picker(app: &mut App, p: &Picker, fx: &mut Vec<Effect>) {
    let Some(d) = app.incident.as_mut().and_then(|i| i.detail.as_mut()) else {
        return;
    };
    let mut patch = IncidentPatch::default();
    match p.kind {
        PickerKind::Severity => {
            let Some(s) = Severity::ALL.get(p.selected).copied() else {
                return;
            };
            if s == d.incident.severity {
                return;
            }
            d.incident.severity = s;
            patch.severity = Some(s);
        }
        PickerKind::Status => {
            let Some(s) = Status::ALL.get(p.selected).copied() else {
                return;
            };
            if s == d.incident.status {
                return;
            }
            if s == Status::Closed {
                // Through the closing gate: a refusal offers the override.
                fx.push(super::records::close(d.incident.id.clone(), None));
                return;
            }
            d.incident.status = s;
            patch.status = Some(s);
        }
    }
    let id = d.incident.id.clone();
    // Keep the board row in step until the store's reload arrives.
    if let Some(row) = app.rows.iter_mut().find(|r| r.incident.id == id) {
        if let Some(s) = patch.severity {
            row.incident.severity = s;
        }
        if let Some(s) = patch.status {
            row.incident.status = s;
        }
    }
    fx.push(Effect::Update(id, Box::new(patch)));
}

fn submit_text(
    app: &mut App,
    t: &TextDialog,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let text = t.input.text().trim().to_string();
    let id = t.id.clone();
    match &t.kind {
        TextKind::Title => {
            let title = validate_title(&text)?;
            if let Some(d) = app.incident.as_mut().and_then(|i| i.detail.as_mut()) {
                d.incident.title = title.clone();
            }
            fx.push(Effect::Update(
                id,
                Box::new(IncidentPatch {
                    title: Some(title),
                    ..IncidentPatch::default()
                }),
            ));
        }
        TextKind::Summary => {
            if let Some(d) = app.incident.as_mut().and_then(|i| i.detail.as_mut()) {
                d.incident.summary = text.clone();
            }
            fx.push(Effect::Update(
                id,
                Box::new(IncidentPatch {
                    summary: Some(text),
                    ..IncidentPatch::default()
                }),
            ));
        }
        TextKind::Note => {
            if text.is_empty() {
                return Err("a note needs some text".into());
            }
            fx.push(Effect::AddNote { id, text });
        }
        TextKind::NotApplicable { item, .. } => {
            if text.is_empty() {
                return Err("say why the item does not apply".into());
            }
            let actor = app.actor.clone();
            if let Some(c) = app
                .incident
                .as_mut()
                .and_then(|i| i.detail.as_mut())
                .and_then(|d| d.checklist.iter_mut().find(|c| &c.id == item))
            {
                c.state = ItemState::NotApplicable;
                c.reason = Some(text.clone());
                c.by = Some(actor);
                c.at = Some(now);
            }
            fx.push(Effect::SetItem {
                id,
                item: item.clone(),
                state: ItemState::NotApplicable,
                reason: Some(text),
            });
        }
    }
    Ok(())
}

/// Inline validation; returns the new incident or the errors by field.
pub fn validate_form(form: &NewIncidentForm) -> Result<NewIncident, Vec<(FormField, String)>> {
    let mut errors = Vec::new();
    let title = validate_title(form.title.text()).map_err(|e| errors.push((FormField::Title, e)));
    if form.severity.is_none() {
        errors.push((
            FormField::Severity,
            "choose a severity with ←/→ (P1 critical … P4 low)".into(),
        ));
    }
    if form.summary.text().chars().count() > 4000 {
        errors.push((FormField::Summary, "summary is over 4000 characters".into()));
    }
    match (title, form.severity) {
        (Ok(title), Some(severity)) if errors.is_empty() => {
            let mut new = NewIncident::new(title, severity);
            new.summary = form.summary.text().trim().to_string();
            new.source = form.source;
            Ok(new)
        }
        _ => Err(errors),
    }
}

fn form_command(
    app: &mut App,
    mut form: NewIncidentForm,
    cmd: Command,
    _now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) {
    let fields = FormField::ALL;
    let at = fields.iter().position(|f| *f == form.focus).unwrap_or(0);
    match cmd {
        Command::NextField => form.focus = fields[(at + 1) % fields.len()],
        Command::PrevField => form.focus = fields[(at + fields.len() - 1) % fields.len()],
        Command::ChoiceNext | Command::ChoicePrev => {
            let forward = cmd == Command::ChoiceNext;
            match form.focus {
                FormField::Severity => {
                    form.severity = Some(match form.severity {
                        None if forward => Severity::P1,
                        None => Severity::P4,
                        Some(s) => super::kit::cursor::step_in(&Severity::ALL, s, forward),
                    });
                    form.errors.retain(|(f, _)| *f != FormField::Severity);
                    form.dirty = true;
                }
                FormField::Source => {
                    form.source = super::kit::cursor::step_in(Source::ALL, form.source, forward);
                    form.dirty = true;
                }
                // In text fields the arrows move the cursor.
                FormField::Title | FormField::Summary => {
                    let code = if forward {
                        crossterm::event::KeyCode::Right
                    } else {
                        crossterm::event::KeyCode::Left
                    };
                    let key = crossterm::event::KeyEvent::from(code);
                    if form.focus == FormField::Title {
                        form.title.handle_key(key);
                    } else {
                        form.summary.handle_key(key);
                    }
                }
            }
        }
        Command::Submit => match validate_form(&form) {
            Ok(new) => {
                fx.push(Effect::Create(Box::new(new)));
                // Save the draft as it stands; it is deleted once the store
                // confirms the incident, and the form comes back on failure.
                if !form.is_blank() {
                    fx.push(save_or_delete(
                        &mut app.drafts,
                        NEW_INCIDENT_DRAFT.into(),
                        Some(form.to_draft()),
                    ));
                }
                form.dirty = false;
                app.pending_form = Some(form);
                return;
            }
            Err(errors) => {
                if let Some((first, _)) = errors.first() {
                    form.focus = *first;
                }
                form.errors = errors;
            }
        },
        Command::Cancel => {
            app.modal = Some(Modal::NewIncident(form));
            fx.extend(autosave(app));
            let kept = app.drafts.contains_key(NEW_INCIDENT_DRAFT);
            app.modal = None;
            if kept {
                say(
                    app,
                    "form kept as a draft: press n to continue it".into(),
                    false,
                );
            }
            return;
        }
        _ => {}
    }
    app.modal = Some(Modal::NewIncident(form));
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
