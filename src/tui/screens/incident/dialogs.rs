//! Keys in the incident view's dialogs: the severity and status pickers,
//! one-field edits (title, summary, note, reasons) and role assignment.
//! Each dialog is taken out of the state while its key is handled and put
//! back unless the key closes it.

use crate::domain::IncidentId;
use crate::domain::incident::validate_title;
use crate::domain::playbook::ItemState;
use crate::domain::roles::{Assignment, Person, Role};
use crate::domain::sla::clocks;
use crate::domain::{Severity, Status};
use crate::store::IncidentPatch;
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::kit::cursor::{move_cursor, step_in};
use crate::tui::kit::fields::lines::Lines;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::ctx::{Ctx, Outcome};
use crate::tui::screens::incident::state::{
    AssignDialog, IncidentDialog, IncidentState, Picker, PickerKind, TextDialog, TextKind,
    handle_for, on_roster, roster_matches,
};

/// A command while dialog `d` (taken out of `s`) has the focus.
pub fn command(s: &mut IncidentState, d: IncidentDialog, cmd: Command, ctx: &Ctx) -> Outcome {
    let mut out = Outcome::stay();
    match d {
        IncidentDialog::Picker(mut p) => match cmd {
            Command::Up | Command::Down => {
                p.selected = move_cursor(p.selected, p.len(), cmd);
                s.dialog = Some(IncidentDialog::Picker(p));
            }
            Command::Submit => apply_picker(s, &p, ctx, &mut out),
            Command::Cancel => {}
            _ => s.dialog = Some(IncidentDialog::Picker(p)),
        },
        IncidentDialog::Text(mut t) => match cmd {
            Command::Submit => match submit_text(s, &t, ctx, &mut out) {
                Err(e) => {
                    t.error = Some(e);
                    s.dialog = Some(IncidentDialog::Text(t));
                }
                Ok(()) => {
                    let key = t.draft_key();
                    if ctx.drafts.contains_key(&key) {
                        out.push(Effect::DeleteDraft { key });
                    }
                }
            },
            // Kept as a draft unless nothing was typed.
            Command::Cancel => out.effects.extend(autosave(&mut t)),
            Command::Undo | Command::Redo => {
                if let Some(l) = t.lines.as_mut() {
                    let changed = if cmd == Command::Undo {
                        l.undo()
                    } else {
                        l.redo()
                    };
                    t.dirty |= changed;
                }
                s.dialog = Some(IncidentDialog::Text(t));
            }
            _ => s.dialog = Some(IncidentDialog::Text(t)),
        },
        IncidentDialog::Assign(a) => assign_command(s, a, cmd, ctx, &mut out),
    }
    out
}

fn assign_command(
    s: &mut IncidentState,
    mut a: AssignDialog,
    cmd: Command,
    ctx: &Ctx,
    out: &mut Outcome,
) {
    if let Some((handle, name)) = a.ask_add.take() {
        match cmd {
            Command::ConfirmYes => {
                assign(s, &a, handle.clone(), ctx, out);
                let said = no_contact_note(&handle);
                out.say(said.clone(), false);
                let person = Person {
                    handle,
                    name,
                    contact: String::new(),
                    roles: Vec::new(),
                    on_call: false,
                };
                out.push(Effect::AddPerson {
                    person: Box::new(person),
                    said,
                });
                return;
            }
            Command::ConfirmNo => return assign(s, &a, name, ctx, out),
            // Esc goes back to the name; other keys keep asking.
            Command::Cancel => {}
            _ => a.ask_add = Some((handle, name)),
        }
        s.dialog = Some(IncidentDialog::Assign(a));
        return;
    }
    match cmd {
        Command::Up | Command::Down => {
            let n = roster_matches(ctx.people, a.input.text(), ctx.actor).len();
            a.selected = match (a.selected, cmd) {
                (_, _) if n == 0 => None,
                (None, Command::Down) => Some(0),
                (None, _) => None,
                (Some(0), Command::Up) => None,
                (Some(i), _) => Some(move_cursor(i, n, cmd)),
            };
        }
        Command::ChoiceNext | Command::ChoicePrev => {
            a.role = step_in(&Role::ALL, a.role, cmd == Command::ChoiceNext);
        }
        Command::Submit => {
            let matches = roster_matches(ctx.people, a.input.text(), ctx.actor);
            let (person, typed) = match a.selected.and_then(|i| matches.get(i)) {
                Some(p) => (p.handle.clone(), false),
                None => (a.input.text().trim().to_string(), true),
            };
            let handle = handle_for(&person);
            if person.is_empty() {
                a.error = Some("type a name or choose someone from the roster".into());
            } else if s
                .detail
                .as_ref()
                .and_then(|d| d.holder(a.role))
                .is_some_and(|h| h.person == person)
            {
                a.error = Some(format!("{person} already holds this role"));
            } else if typed
                && on_roster(ctx.people, &person).is_none()
                && !handle.is_empty()
                && on_roster(ctx.people, &handle).is_none()
            {
                // Someone escalations could never reach: offer the roster.
                a.ask_add = Some((handle, person));
            } else {
                return assign(s, &a, person, ctx, out);
            }
        }
        Command::Cancel => return,
        _ => {}
    }
    s.dialog = Some(IncidentDialog::Assign(a));
}

/// What is said when a name is added to the roster from the console.
pub fn no_contact_note(handle: &str) -> String {
    format!(
        "{handle} added to the roster with no contact: escalations cannot reach them until one is set (warroom roster add)"
    )
}

/// Hands `a`'s role to `person`: shown at once, written by the store.
fn assign(s: &mut IncidentState, a: &AssignDialog, person: String, ctx: &Ctx, out: &mut Outcome) {
    if let Some(d) = s.detail.as_mut() {
        for held in d.assignments.iter_mut() {
            if held.role == a.role && held.until.is_none() {
                held.until = Some(ctx.now);
            }
        }
        d.assignments.push(Assignment {
            role: a.role,
            person: person.clone(),
            since: ctx.now,
            until: None,
            assigned_by: ctx.actor.to_string(),
        });
    }
    out.push(Effect::Assign {
        id: a.id.clone(),
        role: a.role,
        person,
    });
}

/// The text the open dialog types into, if it has one.
pub fn input_of(d: &mut IncidentDialog) -> Option<&mut LineInput> {
    match d {
        IncidentDialog::Text(t) if t.lines.is_some() => None,
        IncidentDialog::Text(t) => Some(&mut t.input),
        IncidentDialog::Assign(a) => Some(&mut a.input),
        IncidentDialog::Picker(_) => None,
    }
}

/// What a change to the typed text marks: the edit changed (its error
/// cleared), or the roster matches chosen afresh.
pub fn text_changed(s: &mut IncidentState, ctx: &Ctx) {
    match &mut s.dialog {
        Some(IncidentDialog::Text(t)) => {
            t.dirty = true;
            t.error = None;
        }
        Some(IncidentDialog::Assign(a)) => {
            a.error = None;
            let none = roster_matches(ctx.people, a.input.text(), ctx.actor).is_empty();
            a.selected = if none { None } else { Some(0) };
        }
        _ => {}
    }
}

/// The draft save (or delete, when emptied) of an edit changed since the
/// last save.
pub fn autosave(t: &mut TextDialog) -> Option<Effect> {
    if !t.dirty {
        return None;
    }
    t.dirty = false;
    let key = t.draft_key();
    Some(if t.is_blank() {
        Effect::DeleteDraft { key }
    } else {
        let body = serde_json::json!({ "text": t.text() }).to_string();
        Effect::SaveDraft { key, body }
    })
}

fn apply_picker(s: &mut IncidentState, p: &Picker, ctx: &Ctx, out: &mut Outcome) {
    let Some(d) = s.detail.as_mut() else {
        return;
    };
    let mut patch = IncidentPatch::default();
    match p.kind {
        PickerKind::Severity => {
            let Some(to) = Severity::ALL.get(p.selected).copied() else {
                return;
            };
            if to == d.incident.severity {
                return;
            }
            if to > d.incident.severity
                && clocks(&d.incident, ctx.policy, ctx.now)
                    .iter()
                    .any(|c| c.breached_at.is_some())
            {
                // The store wants a reason; ask before sending anything.
                let id = d.incident.id.clone();
                ask_downgrade_reason(s, ctx, id, to, None);
                return;
            }
            d.incident.severity = to;
            patch.severity = Some(to);
        }
        PickerKind::Status => {
            let Some(to) = Status::ALL.get(p.selected).copied() else {
                return;
            };
            if to == d.incident.status {
                return;
            }
            if to == Status::Closed {
                // Through the closing gate: a refusal offers the override.
                out.push(crate::tui::effect::close(d.incident.id.clone(), None));
                return;
            }
            d.incident.status = to;
            patch.status = Some(to);
        }
    }
    // The shell keeps the board row in step until the store's reload.
    out.push(Effect::Update(d.incident.id.clone(), Box::new(patch)));
}

/// The reason dialog for lowering `id` to `to` after a breach (continuing
/// a saved draft of it); `error` is the store's refusal, if it refused.
pub fn ask_downgrade_reason(
    s: &mut IncidentState,
    ctx: &Ctx,
    id: IncidentId,
    to: Severity,
    error: Option<String>,
) {
    let mut d = text_dialog(ctx, id, TextKind::DowngradeReason { to }, "");
    d.error = error;
    s.dialog = Some(IncidentDialog::Text(d));
}

fn submit_text(
    s: &mut IncidentState,
    t: &TextDialog,
    ctx: &Ctx,
    out: &mut Outcome,
) -> Result<(), String> {
    let text = t.text().trim().to_string();
    let id = t.id.clone();
    let detail = s.detail.as_mut();
    let patch = match &t.kind {
        TextKind::Title => {
            let title = validate_title(&text)?;
            if let Some(d) = detail {
                d.incident.title = title.clone();
            }
            IncidentPatch {
                title: Some(title),
                ..IncidentPatch::default()
            }
        }
        TextKind::Summary => {
            if let Some(d) = detail {
                d.incident.summary = text.clone();
            }
            IncidentPatch {
                summary: Some(text),
                ..IncidentPatch::default()
            }
        }
        TextKind::Note => {
            if text.is_empty() {
                return Err("a note needs some text".into());
            }
            out.push(Effect::AddNote { id, text });
            return Ok(());
        }
        TextKind::DowngradeReason { to } => {
            if text.is_empty() {
                return Err("a clock breached: say why the severity is lowered".into());
            }
            if let Some(d) = detail {
                d.incident.severity = *to;
            }
            IncidentPatch {
                severity: Some(*to),
                reason: Some(text),
                ..IncidentPatch::default()
            }
        }
        TextKind::NotApplicable { item, .. } => {
            if text.is_empty() {
                return Err("say why the item does not apply".into());
            }
            if let Some(c) = detail.and_then(|d| d.checklist.iter_mut().find(|c| &c.id == item)) {
                c.state = ItemState::NotApplicable;
                c.reason = Some(text.clone());
                c.by = Some(ctx.actor.to_string());
                c.at = Some(ctx.now);
            }
            out.push(Effect::SetItem {
                id,
                item: item.clone(),
                state: ItemState::NotApplicable,
                reason: Some(text),
            });
            return Ok(());
        }
    };
    out.push(Effect::Update(id, Box::new(patch)));
    Ok(())
}

/// A text dialog, continuing a saved draft of the same edit if there is one.
pub fn text_dialog(ctx: &Ctx, id: IncidentId, kind: TextKind, current: &str) -> TextDialog {
    let lines = TextDialog::takes_lines(&kind);
    let mut d = TextDialog {
        kind,
        id,
        input: LineInput::new(current),
        lines: lines.then(|| Lines::new(current)),
        error: None,
        dirty: false,
        restored: false,
    };
    if let Some(body) = ctx.drafts.get(&d.draft_key()) {
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        if let Some(text) = v.get("text").and_then(|t| t.as_str()) {
            d.input = LineInput::new(text);
            d.lines = lines.then(|| Lines::new(text));
            d.restored = true;
        }
    }
    d
}
