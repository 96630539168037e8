//! The review screen: how keys and the worker's answers change the app.

use chrono::{DateTime, Utc};

use super::state::*;
use crate::domain::review::{ActionStatus, parse_date};
use crate::domain::{IncidentId, Role};
use crate::store::NewAction;
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::effect::{close, effect};
use crate::tui::kit::cursor::move_cursor;
use crate::tui::kit::fields::state::{Field, FieldsDialog};
use crate::tui::records::RecordsEffect;
use crate::tui::screens::nav::Nav;
use crate::tui::shell::app::App;
use crate::tui::shell::app::Modal;
use crate::tui::shell::app::say;

pub fn open(id: IncidentId, fx: &mut Vec<Effect>) -> ReviewState {
    let state = ReviewState::new(id.clone());
    fx.push(effect(RecordsEffect::LoadReview { id }));
    state
}

pub fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> Nav {
    let Some(state) = app.stack.review_mut() else {
        return Nav::Stay;
    };
    let id = state.id.clone();
    let len = state.review.as_ref().map_or(0, |r| rows(r).len());
    match cmd {
        Command::Back => return Nav::Back,
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => match state.pane {
            ReviewPane::List => {
                let before = state.cursor;
                state.cursor = move_cursor(state.cursor, len, cmd);
                if state.cursor != before {
                    state.text_scroll = 0;
                }
            }
            ReviewPane::Text => {
                // Bounded by the text's lines at the narrowest the console
                // draws; the view stops at the last screenful.
                let lines = crate::tui::kit::layout::wrap(
                    &crate::text::display_safe_lines(&state.selected_text().1),
                    usize::from(crate::tui::kit::layout::MIN_WIDTH),
                );
                state.text_scroll = move_cursor(state.text_scroll, lines.len(), cmd);
            }
        },
        Command::NextPane | Command::PrevPane => {
            state.pane = match state.pane {
                ReviewPane::List => ReviewPane::Text,
                ReviewPane::Text => ReviewPane::List,
            };
        }
        Command::Edit => match (state.row(), state.review.as_ref()) {
            (Some(ReviewRow::Field(field)), Some(r)) => {
                let current = field.value(r);
                let d = FieldsDialog::new(
                    ReviewAsk::ReviewText { field },
                    id.clone(),
                    &format!("{} ({id})", field.label()),
                    vec![Field::text(&field.label(), &current, hint(field))],
                )
                .with_note(vec![note(field).into()])
                .with_draft(draft_key(&id, &field.key()), &app.drafts);
                app.modal = Some(Modal::Fields(d));
            }
            (Some(ReviewRow::Action(_)), _) => say(
                app,
                "d marks it done, x drops it (with a reason), o reopens it",
                false,
            ),
            _ => {}
        },
        Command::AddAction => {
            let owner = app
                .detail()
                .and_then(|d| d.holder(Role::Commander))
                .map(|a| a.person.clone())
                .unwrap_or_default();
            let d = FieldsDialog::new(
                ReviewAsk::AddAction,
                id.clone(),
                &format!("Add a corrective action to {id}"),
                vec![
                    Field::text("Description", "", "what will change"),
                    Field::text("Owner", &owner, "who sees it through"),
                    Field::text("Due", "", "YYYY-MM-DD (optional)"),
                ],
            )
            .with_draft(draft_key(&id, "new-action"), &app.drafts);
            app.modal = Some(Modal::Fields(d));
        }
        Command::ActionDone | Command::ActionReopen | Command::ActionDrop => {
            let row = state.row();
            let action = match (row, state.review.as_mut()) {
                (Some(ReviewRow::Action(i)), Some(r)) => r.actions.get_mut(i),
                _ => None,
            };
            let Some(action) = action else {
                say(app, "select a corrective action first", true);
                return Nav::Stay;
            };
            let status = match cmd {
                Command::ActionDone => ActionStatus::Done,
                Command::ActionReopen => ActionStatus::Open,
                _ => ActionStatus::Dropped,
            };
            if action.status == status {
                let text = format!("action #{} is already {status}", action.id);
                say(app, text, false);
                return Nav::Stay;
            }
            if status == ActionStatus::Dropped {
                let d = FieldsDialog::new(
                    ReviewAsk::DropAction { action: action.id },
                    id.clone(),
                    &format!("Drop corrective action #{}", action.id),
                    vec![Field::text(
                        "Reason",
                        "",
                        "why it will not be done (required)",
                    )],
                )
                .with_note(vec![
                    crate::text::display_safe(&action.description).into_owned(),
                ]);
                app.modal = Some(Modal::Fields(d));
                return Nav::Stay;
            }
            // Shown at once; the store's answer replaces it.
            action.status = status;
            action.reason = None;
            action.updated_at = now;
            fx.push(effect(RecordsEffect::SetActionStatus {
                id,
                action: action.id,
                status,
                reason: None,
            }));
        }
        _ => {}
    }
    Nav::Stay
}

/// Validates a review dialog and asks the worker to write.
pub fn submit(
    app: &mut App,
    ask: &ReviewAsk,
    d: &FieldsDialog,
    _now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let id = d.id.clone();
    match ask {
        ReviewAsk::ReviewText { field } => {
            let text = d.text(0);
            if text.chars().count() > MAX_TEXT {
                return Err(format!("at most {MAX_TEXT} characters"));
            }
            let Some(review) = app
                .stack
                .review_mut()
                .filter(|s| s.id == id)
                .and_then(|s| s.review.as_mut())
            else {
                return Err("the review is not loaded yet; try again".into());
            };
            let patch = patch_for(*field, text, review);
            apply_locally(review, &patch);
            fx.push(effect(RecordsEffect::UpdateReview {
                id,
                patch,
                draft: d.draft_key.clone(),
            }));
        }
        ReviewAsk::AddAction => {
            let description = d.text(0).trim().to_string();
            let owner = d.text(1).trim().to_string();
            if description.is_empty() {
                return Err("describe what will change".into());
            }
            if owner.is_empty() {
                return Err("an action needs an owner".into());
            }
            let due = match d.text(2).trim() {
                "" => None,
                s => Some(parse_date(s)?),
            };
            fx.push(effect(RecordsEffect::AddAction {
                id,
                new: NewAction {
                    description,
                    owner,
                    due,
                },
                draft: d.draft_key.clone(),
            }));
        }
        ReviewAsk::DropAction { action } => {
            let reason = d.text(0).trim().to_string();
            if reason.is_empty() {
                return Err("say why the action is dropped".into());
            }
            if let Some(a) = app
                .stack
                .review_mut()
                .and_then(|s| s.review.as_mut())
                .and_then(|r| r.actions.iter_mut().find(|a| a.id == *action))
            {
                a.status = ActionStatus::Dropped;
                a.reason = Some(reason.clone());
            }
            fx.push(effect(RecordsEffect::SetActionStatus {
                id,
                action: *action,
                status: ActionStatus::Dropped,
                reason: Some(reason),
            }));
        }
        _ => {}
    }
    Ok(())
}

/// Shows `message` in the override dialog of `id` if it is open (an
/// override refused too, or a write that failed); says whether it was.
pub fn override_failed(app: &mut App, id: &IncidentId, message: &str) -> bool {
    if let Some(Modal::Fields(d)) = app.modal.as_mut()
        && d.purpose::<ReviewAsk>() == Some(&ReviewAsk::CloseOverride)
        && d.id == *id
    {
        if d.note.last().map(String::as_str) == Some(CLOSING) {
            d.note.pop();
        }
        d.error = Some(message.to_string());
        return true;
    }
    false
}

/// The store refused to close: show why, and offer the override.
pub fn gate_refused(app: &mut App, id: IncidentId, message: String) {
    if override_failed(app, &id, &message) {
        return;
    }
    let commander = app
        .detail()
        .filter(|d| d.incident.id == id)
        .and_then(|d| d.holder(Role::Commander))
        .map(|a| a.person.clone());
    let who = match commander.as_deref() {
        Some(c) if c == app.actor => {
            "You are the commander: you may close anyway, with a reason that goes into the timeline.".to_string()
        }
        Some(c) => format!(
            "Only the commander ({}) may close anyway; you are {}.",
            crate::text::display_safe(c),
            crate::text::display_safe(&app.actor)
        ),
        None => "Only the commander may close anyway, and nobody holds the role.".to_string(),
    };
    let d = FieldsDialog::new(
        ReviewAsk::CloseOverride,
        id.clone(),
        &format!("Closing {id} refused"),
        vec![Field::text("Override reason", "", "why close without it")],
    )
    .with_note(vec![
        message,
        String::new(),
        who,
        "Esc leaves the incident open; r (from the incident) opens the review.".into(),
    ]);
    app.modal = Some(Modal::Fields(d));
}

/// The store closed the incident: the override dialog (if open) goes.
pub fn closed(app: &mut App, id: &IncidentId) {
    if let Some(Modal::Fields(d)) = &app.modal
        && d.purpose::<ReviewAsk>() == Some(&ReviewAsk::CloseOverride)
        && d.id == *id
    {
        app.modal = None;
    }
}

pub fn submit_override(
    app: &mut App,
    d: &FieldsDialog,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let reason = d.text(0).trim().to_string();
    if reason.is_empty() {
        return Err("an override needs a reason (it goes into the timeline)".into());
    }
    fx.push(close(d.id.clone(), Some(reason)));
    // Kept open until the store answers: a refusal shows in it.
    let mut pending = d.clone();
    pending.error = None;
    if pending.note.last().map(String::as_str) != Some(CLOSING) {
        pending.note.push(CLOSING.into());
    }
    app.modal = Some(Modal::Fields(pending));
    Ok(())
}
