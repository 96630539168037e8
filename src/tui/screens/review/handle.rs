//! The review screen: how keys, dialogs and the worker's answers change it.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::state::*;
use crate::domain::review::{ActionStatus, parse_date};
use crate::domain::{IncidentId, Role};
use crate::store::IncidentDetail;
use crate::store::NewAction;
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::effect::{close, effect};
use crate::tui::kit::cursor::move_cursor;
use crate::tui::kit::fields::state::{Field, FieldsDialog};
use crate::tui::records::RecordsEffect;
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::Nav;

pub fn open(id: IncidentId, fx: &mut Vec<Effect>) -> ReviewState {
    let state = ReviewState::new(id.clone());
    fx.push(effect(RecordsEffect::LoadReview { id }));
    state
}

impl Screen for ReviewState {
    type Feed = ();

    fn handle(&mut self, cmd: Command, ctx: &Ctx) -> Outcome {
        command(self, cmd, ctx)
    }

    fn view(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        super::view::render(self, ctx, frame, area)
    }

    fn context(&self) -> Context {
        Context::Review
    }

    /// Reloads the review if another process wrote.
    fn tick(&mut self, _ctx: &Ctx) -> Outcome {
        let mut out = Outcome::stay();
        out.push(effect(RecordsEffect::Poll {
            evidence: None,
            review: Some(self.id.clone()),
            metrics: false,
            messages: None,
        }));
        out
    }
}

fn command(state: &mut ReviewState, cmd: Command, ctx: &Ctx) -> Outcome {
    let now = ctx.now;
    let id = state.id.clone();
    let len = state.review.as_ref().map_or(0, |r| rows(r).len());
    match cmd {
        Command::Back => return Outcome::go(Nav::Back),
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
                    vec![Field::lines(&field.label(), &current, hint(field))],
                )
                .with_note(vec![note(field).into()])
                .with_draft(draft_key(&id, &field.key()), ctx.drafts);
                return Outcome::dialog(d);
            }
            (Some(ReviewRow::Action(_)), _) => {
                return Outcome::said(
                    "d marks it done, x drops it (with a reason), o reopens it",
                    false,
                );
            }
            _ => {}
        },
        Command::AddAction => {
            let owner = ctx
                .detail
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
            .with_draft(draft_key(&id, "new-action"), ctx.drafts);
            return Outcome::dialog(d);
        }
        Command::ActionDone | Command::ActionReopen | Command::ActionDrop => {
            let row = state.row();
            let action = match (row, state.review.as_mut()) {
                (Some(ReviewRow::Action(i)), Some(r)) => r.actions.get_mut(i),
                _ => None,
            };
            let Some(action) = action else {
                return Outcome::said("select a corrective action first", true);
            };
            let status = match cmd {
                Command::ActionDone => ActionStatus::Done,
                Command::ActionReopen => ActionStatus::Open,
                _ => ActionStatus::Dropped,
            };
            if action.status == status {
                let text = format!("action #{} is already {status}", action.id);
                return Outcome::said(text, false);
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
                return Outcome::dialog(d);
            }
            // Shown at once; the store's answer replaces it.
            action.status = status;
            action.reason = None;
            action.updated_at = now;
            let mut out = Outcome::stay();
            out.push(effect(RecordsEffect::SetActionStatus {
                id,
                action: action.id,
                status,
                reason: None,
            }));
            return out;
        }
        _ => {}
    }
    Outcome::stay()
}

/// Validates a review dialog and asks the worker to write.
/// `state` is the review screen, when open.
pub fn submit(
    state: Option<&mut ReviewState>,
    ask: &ReviewAsk,
    d: &FieldsDialog,
) -> Result<Outcome, String> {
    let mut out = Outcome::stay();
    let id = d.id.clone();
    match ask {
        ReviewAsk::ReviewText { field } => {
            let text = d.text(0);
            if text.chars().count() > MAX_TEXT {
                return Err(format!("at most {MAX_TEXT} characters"));
            }
            let Some(review) = state.filter(|s| s.id == id).and_then(|s| s.review.as_mut()) else {
                return Err("the review is not loaded yet; try again".into());
            };
            let patch = patch_for(*field, text, review);
            apply_locally(review, &patch);
            out.push(effect(RecordsEffect::UpdateReview {
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
            out.push(effect(RecordsEffect::AddAction {
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
            if let Some(a) = state
                .and_then(|s| s.review.as_mut())
                .and_then(|r| r.actions.iter_mut().find(|a| a.id == *action))
            {
                a.status = ActionStatus::Dropped;
                a.reason = Some(reason.clone());
            }
            out.push(effect(RecordsEffect::SetActionStatus {
                id,
                action: *action,
                status: ActionStatus::Dropped,
                reason: Some(reason),
            }));
        }
        ReviewAsk::CloseOverride => {}
    }
    Ok(out)
}

/// Shows `message` in the override dialog of `id` if it is open (an
/// override refused too, or a write that failed); says whether it was.
pub fn override_failed(dialog: Option<&mut FieldsDialog>, id: &IncidentId, message: &str) -> bool {
    if let Some(d) = dialog
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

/// The store refused to close: why, and the override offered (`detail`:
/// the incident shown, `actor`: who is at this console).
pub fn gate_refused(
    detail: Option<&IncidentDetail>,
    actor: &str,
    id: IncidentId,
    message: String,
) -> FieldsDialog {
    let commander = detail
        .filter(|d| d.incident.id == id)
        .and_then(|d| d.holder(Role::Commander))
        .map(|a| a.person.clone());
    let who = match commander.as_deref() {
        Some(c) if c == actor => {
            "You are the commander: you may close anyway, with a reason that goes into the timeline.".to_string()
        }
        Some(c) => format!(
            "Only the commander ({}) may close anyway; you are {}.",
            crate::text::display_safe(c),
            crate::text::display_safe(actor)
        ),
        None => "Only the commander may close anyway, and nobody holds the role.".to_string(),
    };
    FieldsDialog::new(
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
    ])
}

/// The worker's answer: the review as stored, the cursor kept in it.
pub fn loaded(s: &mut ReviewState, review: crate::domain::review::Review) {
    let rows = rows(&review).len();
    s.cursor = crate::tui::kit::cursor::clamp(s.cursor, rows);
    s.review = Some(review);
}

/// The store closed the incident: whether `dialog` is its override
/// dialog, which then goes.
pub fn closed(dialog: Option<&FieldsDialog>, id: &IncidentId) -> bool {
    dialog
        .is_some_and(|d| d.purpose::<ReviewAsk>() == Some(&ReviewAsk::CloseOverride) && d.id == *id)
}

/// The override's reason: close, keeping the dialog open (saying it is
/// closing) until the store answers.
pub fn submit_override(d: &FieldsDialog) -> Result<Outcome, String> {
    let reason = d.text(0).trim().to_string();
    if reason.is_empty() {
        return Err("an override needs a reason (it goes into the timeline)".into());
    }
    let mut out = Outcome::stay();
    out.push(close(d.id.clone(), Some(reason)));
    // Kept open until the store answers: a refusal shows in it.
    let mut pending = d.clone();
    pending.error = None;
    if pending.note.last().map(String::as_str) != Some(CLOSING) {
        pending.note.push(CLOSING.into());
    }
    out.dialog = Some(pending);
    Ok(out)
}
