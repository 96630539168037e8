//! Keys on the incident view: panes, checklist, roles, edits, and the
//! screens opened from it.

use chrono::{DateTime, Utc};

use crate::domain::playbook::ItemState;
use crate::domain::roles::Role;
use crate::domain::{IncidentId, Severity, Status};
use crate::store::IncidentPatch;
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::kit::cursor::move_cursor;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::incident::state::{
    AssignDialog, Pane, Picker, PickerKind, TextDialog, TextKind,
};
use crate::tui::screens::nav::{Nav, Target};
use crate::tui::shell::app::{App, Modal, say};

pub fn incident_command(
    app: &mut App,
    cmd: Command,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> Nav {
    let Some(state) = app.stack.incident_mut() else {
        return Nav::Stay;
    };
    let id = state.id.clone();
    let checklist_len = state.detail.as_ref().map_or(0, |d| d.checklist.len());
    let timeline_len = state.detail.as_ref().map_or(0, |d| d.timeline.len());
    let base = state.detail.as_ref().map(|d| d.version);
    match cmd {
        Command::Back => return Nav::Back,
        Command::Compose => return Nav::Open(Target::Compose),
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
                let e = Effect::SetItem {
                    id,
                    item: item.id.clone(),
                    state: to,
                    reason: None,
                };
                fx.push(Effect::based(base, e));
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
                        let e = Effect::Update(
                            id,
                            Box::new(IncidentPatch {
                                phase: Some(to),
                                ..IncidentPatch::default()
                            }),
                        );
                        fx.push(Effect::based(base, e));
                    }
                    None => say(app, "no phase that way", true),
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
        Command::Acknowledge => fx.push(Effect::Acknowledge(id)),
        Command::SetDetected => {
            if let Some(at) = state.detail.as_ref().map(|d| d.incident.detected_at) {
                crate::tui::screens::incident::clocks::open_detected(app, id, at);
            }
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
        Command::OpenEvidence => return Nav::Open(Target::Evidence(id)),
        Command::OpenReview => return Nav::Open(Target::Review(id)),
        Command::OpenMessages => return Nav::Open(Target::Messages(id)),
        Command::WriteReport => app.modal = Some(Modal::Fields(super::report::dialog(id))),
        _ => {}
    }
    Nav::Stay
}

fn checklist_cursor(app: &App) -> usize {
    app.stack.incident().map_or(0, |i| i.checklist_cursor)
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
