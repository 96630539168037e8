//! The review screen's state and keys: the 5 whys (statement, up to five
//! whys, root cause), what was learned, corrective actions and the
//! "no action" reason, each edited in a dialog whose text is autosaved as a
//! draft and committed through the store. Also the closing gate's
//! refusal and the commander's override.

use chrono::{DateTime, Utc};

use super::app::{App, Modal, Screen};
use super::app::{new_incident_form, say};
use super::effect::Effect;
use super::fields::{Field, FieldsDialog, Purpose};
use super::keymap::Command;
use super::kit::cursor::move_cursor;
use super::records::{RecordsEffect, close, effect};
use crate::domain::review::{ActionStatus, MAX_WHYS, Review, parse_date};
use crate::domain::{IncidentId, Role};
use crate::store::{NewAction, ReviewPatch};

/// Longest text a review field takes from the console.
pub const MAX_TEXT: usize = 4000;

/// One editable text of the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewField {
    Statement,
    /// The n-th why, from 0.
    Why(usize),
    RootCause,
    Lessons,
    WentWell,
    WentBadly,
    NoAction,
}

impl ReviewField {
    /// The draft key's last part.
    pub fn key(self) -> String {
        match self {
            ReviewField::Statement => "statement".into(),
            ReviewField::Why(i) => format!("why{}", i + 1),
            ReviewField::RootCause => "root-cause".into(),
            ReviewField::Lessons => "lessons".into(),
            ReviewField::WentWell => "went-well".into(),
            ReviewField::WentBadly => "went-badly".into(),
            ReviewField::NoAction => "no-action".into(),
        }
    }

    pub fn label(self) -> String {
        match self {
            ReviewField::Statement => "Incident statement".into(),
            ReviewField::Why(i) => format!("Why {}", i + 1),
            ReviewField::RootCause => "Root cause".into(),
            ReviewField::Lessons => "Lessons learned".into(),
            ReviewField::WentWell => "Went well".into(),
            ReviewField::WentBadly => "Went badly".into(),
            ReviewField::NoAction => "No action, because".into(),
        }
    }

    /// The field's text in `r` ("" when unset).
    pub fn value(self, r: &Review) -> String {
        match self {
            ReviewField::Statement => r.statement.clone(),
            ReviewField::Why(i) => r.whys.get(i).cloned().unwrap_or_default(),
            ReviewField::RootCause => r.root_cause.clone(),
            ReviewField::Lessons => r.lessons.clone(),
            ReviewField::WentWell => r.went_well.clone(),
            ReviewField::WentBadly => r.went_badly.clone(),
            ReviewField::NoAction => r.no_action_reason.clone().unwrap_or_default(),
        }
    }
}

/// A line of the review screen the cursor can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewRow {
    Field(ReviewField),
    /// A corrective action, by position in `Review::actions`.
    Action(usize),
}

/// The rows in screen order: the 5 whys (with one empty slot to add a why
/// while there are fewer than five), what was learned, the corrective
/// actions, then the "no action" reason.
pub fn rows(r: &Review) -> Vec<ReviewRow> {
    let mut out = vec![ReviewRow::Field(ReviewField::Statement)];
    let whys = r.whys.len().min(MAX_WHYS);
    let slots = if whys < MAX_WHYS { whys + 1 } else { whys };
    out.extend((0..slots).map(|i| ReviewRow::Field(ReviewField::Why(i))));
    out.extend(
        [
            ReviewField::RootCause,
            ReviewField::Lessons,
            ReviewField::WentWell,
            ReviewField::WentBadly,
        ]
        .map(ReviewRow::Field),
    );
    out.extend((0..r.actions.len()).map(ReviewRow::Action));
    out.push(ReviewRow::Field(ReviewField::NoAction));
    out
}

/// Where the movement keys go: the rows, or the selected row's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReviewPane {
    #[default]
    List,
    Text,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewState {
    pub id: IncidentId,
    pub review: Option<Review>,
    /// Position in `rows(review)`.
    pub cursor: usize,
    pub pane: ReviewPane,
    /// First line of the selected text shown (as wrapped on screen).
    pub text_scroll: usize,
}

impl ReviewState {
    pub fn new(id: IncidentId) -> ReviewState {
        ReviewState {
            id,
            review: None,
            cursor: 0,
            pane: ReviewPane::List,
            text_scroll: 0,
        }
    }

    /// The selected row's title and whole text (raw: draw it safe).
    pub fn selected_text(&self) -> (String, String) {
        let Some(r) = self.review.as_ref() else {
            return (String::new(), String::new());
        };
        match self.row() {
            Some(ReviewRow::Field(f)) => (f.label(), f.value(r)),
            Some(ReviewRow::Action(i)) => match r.actions.get(i) {
                Some(a) => (
                    format!("Action #{} (d done · x drop · o reopen)", a.id),
                    format!(
                        "{}\nowner {} · status {}{} · added by {} {}",
                        a.description,
                        a.owner,
                        a.status,
                        a.reason
                            .as_deref()
                            .map_or(String::new(), |r| format!(" ({r})")),
                        a.created_by,
                        a.created_at.format("%Y-%m-%d %H:%M UTC")
                    ),
                ),
                None => (String::new(), String::new()),
            },
            None => (String::new(), String::new()),
        }
    }

    pub fn row(&self) -> Option<ReviewRow> {
        self.review
            .as_ref()
            .and_then(|r| rows(r).get(self.cursor).copied())
    }
}

pub fn open(app: &mut App, id: IncidentId, fx: &mut Vec<Effect>) {
    app.screen = Screen::Review;
    app.review = Some(ReviewState::new(id.clone()));
    fx.push(effect(RecordsEffect::LoadReview { id }));
}

fn draft_key(id: &IncidentId, what: &str) -> String {
    format!("review:{id}:{what}")
}

pub fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    let Some(state) = app.review.as_mut() else {
        app.screen = if app.incident.is_some() {
            Screen::Incident
        } else {
            Screen::Board
        };
        return;
    };
    let id = state.id.clone();
    let len = state.review.as_ref().map_or(0, |r| rows(r).len());
    match cmd {
        Command::Back => {
            app.screen = Screen::Incident;
            app.review = None;
        }
        Command::Help => {
            let under = app.focus();
            app.modal = Some(Modal::Help { scroll: 0, under });
        }
        Command::NewIncident => app.modal = Some(Modal::NewIncident(new_incident_form(app))),
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
                let lines = super::kit::layout::wrap(
                    &crate::text::display_safe_lines(&state.selected_text().1),
                    usize::from(super::views::MIN_WIDTH),
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
                    Purpose::ReviewText { field },
                    id.clone(),
                    &format!("{} ({id})", field.label()),
                    vec![Field::text(&field.label(), &current, hint(field))],
                )
                .with_note(vec![note(field).into()])
                .with_draft(draft_key(&id, &field.key()), app);
                app.modal = Some(Modal::Fields(d));
            }
            (Some(ReviewRow::Action(_)), _) => say(
                app,
                "d marks it done, x drops it (with a reason), o reopens it".into(),
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
                Purpose::AddAction,
                id.clone(),
                &format!("Add a corrective action to {id}"),
                vec![
                    Field::text("Description", "", "what will change"),
                    Field::text("Owner", &owner, "who sees it through"),
                    Field::text("Due", "", "YYYY-MM-DD (optional)"),
                ],
            )
            .with_draft(draft_key(&id, "new-action"), app);
            app.modal = Some(Modal::Fields(d));
        }
        Command::ActionDone | Command::ActionReopen | Command::ActionDrop => {
            let row = state.row();
            let action = match (row, state.review.as_mut()) {
                (Some(ReviewRow::Action(i)), Some(r)) => r.actions.get_mut(i),
                _ => None,
            };
            let Some(action) = action else {
                say(app, "select a corrective action first".into(), true);
                return;
            };
            let status = match cmd {
                Command::ActionDone => ActionStatus::Done,
                Command::ActionReopen => ActionStatus::Open,
                _ => ActionStatus::Dropped,
            };
            if action.status == status {
                let text = format!("action #{} is already {status}", action.id);
                say(app, text, false);
                return;
            }
            if status == ActionStatus::Dropped {
                let d = FieldsDialog::new(
                    Purpose::DropAction { action: action.id },
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
                return;
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
}

fn hint(field: ReviewField) -> &'static str {
    match field {
        ReviewField::Statement => "what happened, in one sentence",
        ReviewField::Why(_) => "why did that happen? (empty removes it)",
        ReviewField::RootCause => "what the last why leads to",
        ReviewField::NoAction => "why nothing needs to change (empty clears)",
        _ => "",
    }
}

fn note(field: ReviewField) -> &'static str {
    match field {
        ReviewField::Statement => "5 whys: start from what happened.",
        ReviewField::Why(0) => "Why did the incident happen?",
        ReviewField::Why(_) => "And why did the previous answer happen?",
        ReviewField::RootCause => {
            "Closing needs a root cause and an action (or a no-action reason)."
        }
        ReviewField::Lessons => "What the team learned.",
        ReviewField::WentWell => "What went well in the response.",
        ReviewField::WentBadly => "What did not go well.",
        ReviewField::NoAction => "An explicit \"no corrective action\" needs a reason.",
    }
}

/// The patch that sets `field` to `text`, given the review as it stands.
pub fn patch_for(field: ReviewField, text: &str, r: &Review) -> ReviewPatch {
    let text = text.trim().to_string();
    let mut p = ReviewPatch::default();
    match field {
        ReviewField::Statement => p.statement = Some(text),
        ReviewField::Why(i) => {
            let mut whys = r.whys.clone();
            match (i < whys.len(), text.is_empty()) {
                (true, true) => {
                    whys.remove(i);
                }
                (true, false) => whys[i] = text,
                (false, false) => whys.push(text),
                (false, true) => {}
            }
            p.whys = Some(whys);
        }
        ReviewField::RootCause => p.root_cause = Some(text),
        ReviewField::Lessons => p.lessons = Some(text),
        ReviewField::WentWell => p.went_well = Some(text),
        ReviewField::WentBadly => p.went_badly = Some(text),
        ReviewField::NoAction => {
            p.no_action_reason = Some((!text.is_empty()).then_some(text));
        }
    }
    p
}

/// Applies a patch to the review shown (before the store answers).
fn apply_locally(r: &mut Review, p: &ReviewPatch) {
    let set = |dst: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            *dst = v.clone();
        }
    };
    set(&mut r.statement, &p.statement);
    set(&mut r.root_cause, &p.root_cause);
    set(&mut r.lessons, &p.lessons);
    set(&mut r.went_well, &p.went_well);
    set(&mut r.went_badly, &p.went_badly);
    if let Some(w) = &p.whys {
        r.whys = w.clone();
    }
    if let Some(n) = &p.no_action_reason {
        r.no_action_reason = n.clone();
    }
}

/// Validates a review dialog and asks the worker to write.
pub fn submit(
    app: &mut App,
    d: &FieldsDialog,
    _now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let id = d.id.clone();
    match &d.purpose {
        Purpose::ReviewText { field } => {
            let text = d.text(0);
            if text.chars().count() > MAX_TEXT {
                return Err(format!("at most {MAX_TEXT} characters"));
            }
            let Some(review) = app
                .review
                .as_mut()
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
        Purpose::AddAction => {
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
        Purpose::DropAction { action } => {
            let reason = d.text(0).trim().to_string();
            if reason.is_empty() {
                return Err("say why the action is dropped".into());
            }
            if let Some(a) = app
                .review
                .as_mut()
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
        && d.purpose == Purpose::CloseOverride
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
        Purpose::CloseOverride,
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

const CLOSING: &str = "Closing…";

/// The store closed the incident: the override dialog (if open) goes.
pub fn closed(app: &mut App, id: &IncidentId) {
    if let Some(Modal::Fields(d)) = &app.modal
        && d.purpose == Purpose::CloseOverride
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
