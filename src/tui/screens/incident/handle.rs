//! Keys on the incident view: panes, checklist, roles, edits, and the
//! screens opened from it. Its dialogs' keys are in `dialogs.rs`.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::dialogs::{self, text_dialog};
use crate::domain::playbook::ItemState;
use crate::domain::roles::Role;
use crate::domain::{Severity, Status};
use crate::store::IncidentPatch;
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::kit::cursor::move_cursor;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::incident::state::{
    AssignDialog, IncidentDialog, IncidentState, Pane, Picker, PickerKind, TextKind,
};
use crate::tui::screens::nav::{Nav, Target};

impl Screen for IncidentState {
    type Feed = ();

    fn handle(&mut self, cmd: Command, ctx: &Ctx) -> Outcome {
        match self.dialog.take() {
            Some(d) => dialogs::command(self, d, cmd, ctx),
            None => incident_command(self, cmd, ctx),
        }
    }

    fn view(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        super::view::render(self, ctx, frame, area)
    }

    fn dialog_view(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        if let Some(d) = &self.dialog {
            super::dialogs_view::render(self, d, ctx, frame, area)
        }
    }

    fn context(&self) -> Context {
        match (&self.dialog, self.pane) {
            (Some(IncidentDialog::Picker(_)), _) => Context::Picker,
            (Some(IncidentDialog::Text(t)), _) if t.lines.is_some() => Context::Lines,
            (Some(IncidentDialog::Text(_)), _) => Context::TextDialog,
            (Some(IncidentDialog::Assign(a)), _) if a.ask_add.is_some() => Context::AssignAsk,
            (Some(IncidentDialog::Assign(_)), _) => Context::AssignDialog,
            (None, Pane::Checklist) => Context::Checklist,
            (None, Pane::Roles) => Context::Roles,
            (None, Pane::Timeline) => Context::Timeline,
            (None, Pane::Summary | Pane::Clocks | Pane::Sources) => Context::Incident,
        }
    }

    /// The incident, loading.
    fn open(target: &Target, _ctx: &Ctx) -> Option<(Self, Outcome)> {
        let Target::Incident(id) = target else {
            return None;
        };
        let mut out = Outcome::stay();
        out.push(Effect::LoadDetail(id.clone()));
        Some((IncidentState::new(id.clone()), out))
    }

    fn input(&mut self, key: KeyEvent, ctx: &Ctx) -> Outcome {
        if let Some(IncidentDialog::Text(t)) = &mut self.dialog
            && let Some(l) = t.lines.as_mut()
        {
            if l.key(key) {
                dialogs::text_changed(self, ctx);
            }
            return Outcome::stay();
        }
        if let Some(input) = self.dialog.as_mut().and_then(dialogs::input_of)
            && input.handle_key(key)
        {
            dialogs::text_changed(self, ctx);
        }
        Outcome::stay()
    }

    fn paste(&mut self, text: &str, ctx: &Ctx) -> Outcome {
        // A text of several lines keeps the newlines.
        if let Some(IncidentDialog::Text(t)) = &mut self.dialog
            && let Some(l) = t.lines.as_mut()
        {
            if l.paste(text) {
                t.error = Some("the paste was cut: the text is at its longest".into());
            } else {
                dialogs::text_changed(self, ctx);
            }
            return Outcome::stay();
        }
        // One-line fields: newlines become spaces; display_safe shows the rest.
        let text = text.replace(['\r', '\n'], " ");
        if let Some(input) = self.dialog.as_mut().and_then(dialogs::input_of) {
            input.insert_str(&text);
            dialogs::text_changed(self, ctx);
        }
        Outcome::stay()
    }

    fn autosave(&mut self, _ctx: &Ctx) -> Outcome {
        let mut out = Outcome::stay();
        if let Some(IncidentDialog::Text(t)) = &mut self.dialog {
            out.effects.extend(dialogs::autosave(t));
        }
        out
    }

    fn unsaved(&self) -> bool {
        matches!(&self.dialog, Some(IncidentDialog::Text(t)) if !t.is_blank() && t.dirty)
    }
}

fn incident_command(state: &mut IncidentState, cmd: Command, ctx: &Ctx) -> Outcome {
    let mut out = Outcome::stay();
    let id = state.id.clone();
    let checklist_len = state.detail.as_ref().map_or(0, |d| d.checklist.len());
    let timeline_len = state.detail.as_ref().map_or(0, |d| d.timeline.len());
    match cmd {
        Command::Back => return Outcome::go(Nav::Back),
        Command::Compose if state.detail.is_none() => {
            out.say("the incident is still loading", true)
        }
        Command::Compose => return Outcome::go(Nav::Open(Target::Compose)),
        Command::NextPane | Command::PrevPane => {
            let forward = cmd == Command::NextPane;
            let step = |p: Pane| if forward { p.next() } else { p.prev() };
            state.pane = step(state.pane);
            // Only a campaign (two sources or more) has a sources table.
            if state.pane == Pane::Sources && state.origins.sources.len() < 2 {
                state.pane = step(state.pane);
            }
        }
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
            Pane::Sources => {
                let n = state.origins.sources.len();
                state.sources_scroll = move_cursor(state.sources_scroll, n, cmd)
            }
            Pane::Clocks => {}
        },
        Command::ToggleItem => {
            let cursor = state.checklist_cursor;
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
                item.by = Some(ctx.actor.to_string());
                item.at = Some(ctx.now);
                out.push(Effect::SetItem {
                    id,
                    item: item.id.clone(),
                    state: to,
                    reason: None,
                });
            }
        }
        Command::MarkNotApplicable => {
            let item = state
                .detail
                .as_ref()
                .and_then(|d| d.checklist.get(state.checklist_cursor));
            if let Some(item) = item {
                let kind = TextKind::NotApplicable {
                    item: item.id.clone(),
                    text: item.text.clone(),
                };
                let d = text_dialog(ctx, id, kind, "");
                state.dialog = Some(IncidentDialog::Text(d));
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
                        out.push(Effect::Update(
                            id,
                            Box::new(IncidentPatch {
                                phase: Some(to),
                                ..IncidentPatch::default()
                            }),
                        ));
                    }
                    None => out.say("no phase that way", true),
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
            state.dialog = Some(IncidentDialog::Assign(AssignDialog {
                id,
                role,
                input: LineInput::default(),
                selected: (!ctx.people.is_empty()).then_some(0),
                error: None,
                ask_add: None,
            }));
        }
        Command::Acknowledge => out.push(Effect::Acknowledge(id)),
        Command::SetDetected => {
            if let Some(at) = state.detail.as_ref().map(|d| d.incident.detected_at) {
                out.dialog = Some(super::clocks::detected_dialog(id, at));
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
                state.dialog = Some(IncidentDialog::Picker(Picker { kind, selected }));
            }
        }
        Command::EditTitle | Command::EditSummary | Command::AddNote => {
            if let Some(d) = state.detail.as_ref() {
                let (kind, current) = match cmd {
                    Command::EditTitle => (TextKind::Title, d.incident.title.clone()),
                    Command::EditSummary => (TextKind::Summary, d.incident.summary.clone()),
                    _ => (TextKind::Note, String::new()),
                };
                let d = text_dialog(ctx, id, kind, &current);
                state.dialog = Some(IncidentDialog::Text(d));
            }
        }
        Command::OpenEvidence => return Outcome::go(Nav::Open(Target::Evidence(id))),
        Command::OpenReview => return Outcome::go(Nav::Open(Target::Review(id))),
        Command::OpenMessages => return Outcome::go(Nav::Open(Target::Messages(id))),
        Command::WriteReport => out.dialog = Some(super::report::dialog(id)),
        Command::EditImpact | Command::EditCustomerSummary => {
            if let Some(d) = state.detail.as_ref() {
                out.dialog = Some(match cmd {
                    Command::EditImpact => super::edits::impact_dialog(&d.incident),
                    _ => super::edits::customer_summary_dialog(&d.incident),
                });
            }
        }
        _ => {}
    }
    out
}
