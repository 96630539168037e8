//! Keys in the dialogs over the board and incident view: help, the
//! new-incident form, pickers, one-field edits, role assignment, and the
//! field dialogs.

use chrono::{DateTime, Utc};

use crate::domain::incident::validate_title;
use crate::domain::playbook::ItemState;
use crate::domain::roles::{Assignment, Role};
use crate::domain::sla::clocks;
use crate::domain::{Severity, Source, Status};
use crate::store::{IncidentPatch, NewIncident};
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::kit::cursor::move_cursor;
use crate::tui::screens::incident::state::{
    FormField, NEW_INCIDENT_DRAFT, NewIncidentForm, Picker, PickerKind, TextDialog, TextKind,
};
use crate::tui::shell::app::{App, Modal, say};
use crate::tui::shell::router::drafts::{autosave, discard_draft, save_or_delete};

/// On a choice field, a typed digit or initial picks the choice.
pub fn pick_by_key(f: &mut NewIncidentForm, c: char) -> bool {
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
        FormField::Title | FormField::Summary | FormField::Detected => false,
    }
}

pub fn modal_command(
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
        Modal::Fields(d) => crate::tui::shell::fields::command(app, d, cmd, now, fx),
        Modal::Picker(mut p) => match cmd {
            Command::Up | Command::Down => {
                p.selected = move_cursor(p.selected, p.len(), cmd);
                app.modal = Some(Modal::Picker(p));
            }
            Command::Submit => apply_picker(app, &p, now, fx),
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
                let n = crate::tui::screens::incident::state::roster_matches(
                    &app.people,
                    a.input.text(),
                )
                .len();
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
                a.role = crate::tui::kit::cursor::step_in(&Role::ALL, a.role, forward);
                app.modal = Some(Modal::Assign(a));
            }
            Command::Submit => {
                let matches = crate::tui::screens::incident::state::roster_matches(
                    &app.people,
                    a.input.text(),
                );
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
                if let Some(d) = app.stack.incident_mut().and_then(|i| i.detail.as_mut()) {
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
                let base = crate::tui::shell::conflict::base_for(app, &a.id);
                fx.push(Effect::based(
                    base,
                    Effect::Assign {
                        id: a.id,
                        role: a.role,
                        person,
                    },
                ));
            }
            Command::Cancel => {}
            _ => app.modal = Some(Modal::Assign(a)),
        },
    }
}

fn apply_picker(app: &mut App, p: &Picker, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    let policy = &app.policy;
    let Some(d) = app.stack.incident_mut().and_then(|i| i.detail.as_mut()) else {
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
            if s > d.incident.severity
                && clocks(&d.incident, policy, now)
                    .iter()
                    .any(|c| c.breached_at.is_some())
            {
                // The store wants a reason; ask before sending anything.
                let id = d.incident.id.clone();
                open_downgrade_reason(app, id, s, None);
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
                // Based by the shell, as the review's edits are.
                fx.push(crate::tui::effect::close(d.incident.id.clone(), None));
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
    let base = crate::tui::shell::conflict::base_for(app, &id);
    fx.push(Effect::based(base, Effect::Update(id, Box::new(patch))));
}

/// The reason dialog for lowering `id` to `to` after a breach (continuing
/// a saved draft of it); `error` is the store's refusal, if it refused.
pub fn open_downgrade_reason(
    app: &mut App,
    id: crate::domain::IncidentId,
    to: Severity,
    error: Option<String>,
) {
    let mut d = TextDialog {
        kind: TextKind::DowngradeReason { to },
        id,
        input: crate::tui::kit::input::LineInput::default(),
        error,
        dirty: false,
        restored: false,
    };
    if let Some(body) = app.drafts.get(&d.draft_key()) {
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        if let Some(text) = v.get("text").and_then(|t| t.as_str()) {
            d.input = crate::tui::kit::input::LineInput::new(text);
            d.restored = true;
        }
    }
    app.modal = Some(Modal::Text(d));
}

fn submit_text(
    app: &mut App,
    t: &TextDialog,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let text = t.input.text().trim().to_string();
    let id = t.id.clone();
    // Based on the version the dialog was opened at.
    let base = crate::tui::shell::conflict::base_for(app, &id);
    match &t.kind {
        TextKind::Title => {
            let title = validate_title(&text)?;
            if let Some(d) = app.stack.incident_mut().and_then(|i| i.detail.as_mut()) {
                d.incident.title = title.clone();
            }
            fx.push(Effect::based(
                base,
                Effect::Update(
                    id,
                    Box::new(IncidentPatch {
                        title: Some(title),
                        ..IncidentPatch::default()
                    }),
                ),
            ));
        }
        TextKind::Summary => {
            if let Some(d) = app.stack.incident_mut().and_then(|i| i.detail.as_mut()) {
                d.incident.summary = text.clone();
            }
            fx.push(Effect::based(
                base,
                Effect::Update(
                    id,
                    Box::new(IncidentPatch {
                        summary: Some(text),
                        ..IncidentPatch::default()
                    }),
                ),
            ));
        }
        TextKind::Note => {
            if text.is_empty() {
                return Err("a note needs some text".into());
            }
            fx.push(Effect::AddNote { id, text });
        }
        TextKind::DowngradeReason { to } => {
            if text.is_empty() {
                return Err("a clock breached: say why the severity is lowered".into());
            }
            if let Some(d) = app.stack.incident_mut().and_then(|i| i.detail.as_mut()) {
                d.incident.severity = *to;
            }
            if let Some(row) = app.rows.iter_mut().find(|r| r.incident.id == id) {
                row.incident.severity = *to;
            }
            fx.push(Effect::based(
                base,
                Effect::Update(
                    id,
                    Box::new(IncidentPatch {
                        severity: Some(*to),
                        reason: Some(text),
                        ..IncidentPatch::default()
                    }),
                ),
            ));
        }
        TextKind::NotApplicable { item, .. } => {
            if text.is_empty() {
                return Err("say why the item does not apply".into());
            }
            let actor = app.actor.clone();
            if let Some(c) = app
                .stack
                .incident_mut()
                .and_then(|i| i.detail.as_mut())
                .and_then(|d| d.checklist.iter_mut().find(|c| &c.id == item))
            {
                c.state = ItemState::NotApplicable;
                c.reason = Some(text.clone());
                c.by = Some(actor);
                c.at = Some(now);
            }
            fx.push(Effect::based(
                base,
                Effect::SetItem {
                    id,
                    item: item.clone(),
                    state: ItemState::NotApplicable,
                    reason: Some(text),
                },
            ));
        }
    }
    Ok(())
}

/// Inline validation; returns the new incident or the errors by field.
/// The detection time is checked against `now` (never in the future).
pub fn validate_form(
    form: &NewIncidentForm,
    now: DateTime<Utc>,
) -> Result<NewIncident, Vec<(FormField, String)>> {
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
    let detected = match form.detected.text().trim() {
        "" => None,
        typed => crate::domain::clock_history::parse_detected(typed, now)
            .map_err(|e| errors.push((FormField::Detected, e)))
            .ok(),
    };
    match (title, form.severity) {
        (Ok(title), Some(severity)) if errors.is_empty() => {
            let mut new = NewIncident::new(title, severity);
            new.summary = form.summary.text().trim().to_string();
            new.source = form.source;
            new.detected_at = detected;
            Ok(new)
        }
        _ => Err(errors),
    }
}

fn form_command(
    app: &mut App,
    mut form: NewIncidentForm,
    cmd: Command,
    now: DateTime<Utc>,
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
                        Some(s) => crate::tui::kit::cursor::step_in(&Severity::ALL, s, forward),
                    });
                    form.errors.retain(|(f, _)| *f != FormField::Severity);
                    form.dirty = true;
                }
                FormField::Source => {
                    form.source =
                        crate::tui::kit::cursor::step_in(Source::ALL, form.source, forward);
                    form.dirty = true;
                }
                // In text fields the arrows move the cursor.
                FormField::Title | FormField::Summary | FormField::Detected => {
                    let code = if forward {
                        crossterm::event::KeyCode::Right
                    } else {
                        crossterm::event::KeyCode::Left
                    };
                    let key = crossterm::event::KeyEvent::from(code);
                    match form.focus {
                        FormField::Title => form.title.handle_key(key),
                        FormField::Summary => form.summary.handle_key(key),
                        _ => form.detected.handle_key(key),
                    };
                }
            }
        }
        Command::Submit => match validate_form(&form, now) {
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
                say(app, "form kept as a draft: press n to continue it", false);
            }
            return;
        }
        _ => {}
    }
    app.modal = Some(Modal::NewIncident(form));
}
