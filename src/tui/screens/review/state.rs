//! The review screen: its state and pure helpers; nothing here imports the app.

use crate::domain::IncidentId;
use crate::domain::review::{MAX_WHYS, Review};
use crate::store::ReviewPatch;
use crate::tui::kit::fields::state::Purpose;

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

pub(crate) fn draft_key(id: &IncidentId, what: &str) -> String {
    format!("review:{id}:{what}")
}

pub(crate) fn hint(field: ReviewField) -> &'static str {
    match field {
        ReviewField::Statement => "what happened, in one sentence",
        ReviewField::Why(_) => "why did that happen? (empty removes it)",
        ReviewField::RootCause => "what the last why leads to",
        ReviewField::NoAction => "why nothing needs to change (empty clears)",
        _ => "",
    }
}

pub(crate) fn note(field: ReviewField) -> &'static str {
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
pub(crate) fn apply_locally(r: &mut Review, p: &ReviewPatch) {
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

pub(crate) const CLOSING: &str = "Closing…";

/// What a review dialog is for (its fields, in order).
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewAsk {
    /// The text of one review field.
    ReviewText { field: ReviewField },
    /// Description, owner, due date.
    AddAction,
    /// Reason.
    DropAction { action: i64 },
    /// Reason (the closing gate's override).
    CloseOverride,
}

impl Purpose for ReviewAsk {
    fn verb(&self) -> &'static str {
        match self {
            ReviewAsk::ReviewText { .. } => "save",
            ReviewAsk::AddAction => "add",
            ReviewAsk::DropAction { .. } => "drop it",
            ReviewAsk::CloseOverride => "close anyway",
        }
    }
}
