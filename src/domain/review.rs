//! The post-incident review: 5 whys (statement, up to five whys, root
//! cause), corrective actions, lessons learned, what went well and what did
//! not; when it is due, and the closing gate. Pure: "now" is a parameter.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, Utc};
use serde::Serialize;

use super::incident::{Incident, ParseError, Status};
use super::playbook::{ChecklistItem, ItemState};
use super::policy::Policy;

/// At most this many whys.
pub const MAX_WHYS: usize = 5;

/// Timeline kinds of review changes.
pub mod kinds {
    pub const UPDATED: &str = "review.updated";
    pub const ACTION_ADDED: &str = "review.action_added";
    pub const ACTION_CHANGED: &str = "review.action_changed";
    pub const GATE_OVERRIDDEN: &str = "review.gate_overridden";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionStatus {
    Open,
    Done,
    Dropped,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::Done => "done",
            ActionStatus::Dropped => "dropped",
        }
    }
}

impl FromStr for ActionStatus {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(ActionStatus::Open),
            "done" => Ok(ActionStatus::Done),
            "dropped" => Ok(ActionStatus::Dropped),
            _ => Err(ParseError {
                what: "action status",
                got: s.to_string(),
                expected: "open, done, dropped",
            }),
        }
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ActionStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Something to change so it does not happen again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectiveAction {
    pub id: i64,
    pub incident: String,
    pub description: String,
    pub owner: String,
    pub due: Option<NaiveDate>,
    pub status: ActionStatus,
    /// Why it was dropped (required then).
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CorrectiveAction {
    /// Open and past its due date (the due day counts as on time).
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == ActionStatus::Open && self.due.is_some_and(|d| d < now.date_naive())
    }
}

/// The review as it stands. An incident with no review yet has an empty one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Review {
    pub statement: String,
    pub whys: Vec<String>,
    pub root_cause: String,
    pub lessons: String,
    pub went_well: String,
    pub went_badly: String,
    /// An explicit "no corrective action", with the reason.
    pub no_action_reason: Option<String>,
    pub actions: Vec<CorrectiveAction>,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Review {
    /// What still stands between the review and closing the incident, or
    /// `None` when it may close: a root cause, and at least one corrective
    /// action that is not dropped or an explicit "no action" with a reason.
    pub fn gate_problem(&self) -> Option<String> {
        let has_root = !self.root_cause.trim().is_empty();
        let has_action = self
            .actions
            .iter()
            .any(|a| a.status != ActionStatus::Dropped)
            || self
                .no_action_reason
                .as_deref()
                .is_some_and(|r| !r.trim().is_empty());
        match (has_root, has_action) {
            (true, true) => None,
            (false, true) => Some("the review has no root cause".into()),
            (true, false) => Some(
                "the review has no corrective action (nor a \"no action\" reason)".into(),
            ),
            (false, false) => Some(
                "the review has no root cause and no corrective action (nor a \"no action\" reason)"
                    .into(),
            ),
        }
    }

    pub fn is_complete(&self) -> bool {
        self.gate_problem().is_none()
    }

    pub fn open_actions(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| a.status == ActionStatus::Open)
            .count()
    }
}

/// When the review is due: the resolution time plus the policy's review
/// period for the severity. Derived, never stored, like the SLA clocks; an
/// incident that is not resolved has no review due.
pub fn review_due(incident: &Incident, policy: &Policy) -> Option<DateTime<Utc>> {
    let resolved = incident.resolved_at?;
    let within = policy.level(incident.severity).review_within;
    Some(resolved + ChronoDuration::from_std(within).unwrap_or(ChronoDuration::MAX))
}

/// Resolved (not yet closed), past the review's due time, and the review is
/// not complete.
pub fn review_overdue(
    incident: &Incident,
    review_complete: bool,
    policy: &Policy,
    now: DateTime<Utc>,
) -> bool {
    incident.status == Status::Resolved
        && !review_complete
        && review_due(incident, policy).is_some_and(|due| due < now)
}

/// Trims and checks a list of whys.
pub fn validate_whys(whys: &[String]) -> Result<Vec<String>, String> {
    let whys: Vec<String> = whys
        .iter()
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .collect();
    if whys.len() > MAX_WHYS {
        return Err(format!(
            "at most {MAX_WHYS} whys (got {}); the last one leads to the root cause",
            whys.len()
        ));
    }
    Ok(whys)
}

/// Parses a due date: `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date (expected YYYY-MM-DD)"))
}

/// What stands between an incident and closing: an incomplete review and
/// checklist items neither done nor marked not applicable with a reason.
/// The store checks it inside the closing write (`update_incident`), so
/// the CLI and the console meet the same gate; the commander may override
/// it with a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseBlockers {
    /// The review's problem (`Review::gate_problem`).
    pub review: Option<String>,
    /// Open items: (id, text), in checklist order.
    pub open_items: Vec<(String, String)>,
    /// How many items the checklist has.
    pub items: usize,
}

impl CloseBlockers {
    pub fn of(review: &Review, checklist: &[ChecklistItem]) -> CloseBlockers {
        let settled = |c: &ChecklistItem| match c.state {
            ItemState::Done => true,
            ItemState::NotApplicable => c.reason.as_deref().is_some_and(|r| !r.trim().is_empty()),
            ItemState::Open => false,
        };
        CloseBlockers {
            review: review.gate_problem(),
            open_items: checklist
                .iter()
                .filter(|c| !settled(c))
                .map(|c| (c.id.clone(), c.text.clone()))
                .collect(),
            items: checklist.len(),
        }
    }

    pub fn is_clear(&self) -> bool {
        self.review.is_none() && self.open_items.is_empty()
    }

    /// "review gate", "checklist gate" or "review and checklist gate".
    pub fn gate(&self) -> &'static str {
        match (self.review.is_some(), self.open_items.is_empty()) {
            (true, true) => "review gate",
            (false, _) => "checklist gate",
            (true, false) => "review and checklist gate",
        }
    }

    /// The checklist's part: "14 of 18 checklist items are open: a, b".
    pub fn checklist_problem(&self) -> Option<String> {
        let n = self.open_items.len();
        if n == 0 {
            return None;
        }
        let ids: Vec<&str> = self.open_items.iter().map(|(id, _)| id.as_str()).collect();
        Some(format!(
            "{n} of {} checklist item{} {} open: {}",
            self.items,
            if self.items == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" },
            ids.join(", ")
        ))
    }

    /// Every problem, the review's first; `None` when closing may go ahead.
    pub fn problem(&self) -> Option<String> {
        let parts: Vec<String> = self
            .review
            .iter()
            .cloned()
            .chain(self.checklist_problem())
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// What to do about them, for the refusal.
    pub fn remedy(&self) -> String {
        let mut todo = Vec::new();
        if self.review.is_some() {
            todo.push("complete the review (root cause, and a corrective action or a \"no action\" reason)");
        }
        if !self.open_items.is_empty() {
            todo.push("mark each open item done, or not applicable with a reason (warroom incident check ID ITEM [--na REASON])");
        }
        todo.join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{IncidentId, Severity};
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + ChronoDuration::hours(h)
    }

    fn incident(sev: Severity, status: Status, resolved: Option<DateTime<Utc>>) -> Incident {
        Incident {
            id: IncidentId::new(2026, 1),
            title: "t".into(),
            summary: String::new(),
            severity: sev,
            status,
            phase: crate::domain::Phase::Review,
            source: crate::domain::Source::Manual,
            affected: String::new(),
            cia: Default::default(),
            customer_impact: String::new(),
            customer_summary: String::new(),
            personal_data_breach: false,
            drill: false,
            detected_at: t(0),
            declared_at: t(0),
            acknowledged_at: None,
            contained_at: None,
            resolved_at: resolved,
            closed_at: None,
            customer_notified_at: None,
            regulator_notified_at: None,
            last_update_at: None,
            updated_at: t(0),
            clock_history: Default::default(),
        }
    }

    fn action(status: ActionStatus) -> CorrectiveAction {
        CorrectiveAction {
            id: 1,
            incident: "INC-2026-001".into(),
            description: "d".into(),
            owner: "o".into(),
            due: NaiveDate::from_ymd_opt(2026, 3, 5),
            status,
            reason: None,
            created_by: "a".into(),
            created_at: t(0),
            updated_at: t(0),
        }
    }

    #[test]
    fn gate_needs_root_cause_and_an_action_or_a_reason() {
        let mut r = Review::default();
        assert!(r.gate_problem().unwrap().contains("no root cause and no"));
        r.root_cause = "expired cert".into();
        assert!(r.gate_problem().unwrap().contains("no corrective action"));
        r.actions.push(action(ActionStatus::Dropped));
        assert!(!r.is_complete(), "a dropped action does not count");
        r.actions.push(action(ActionStatus::Done));
        assert!(r.is_complete());
        r.actions.clear();
        r.no_action_reason = Some("one-off vendor fault".into());
        assert!(r.is_complete());
        r.root_cause = " ".into();
        assert_eq!(r.gate_problem().unwrap(), "the review has no root cause");
    }

    #[test]
    fn review_due_is_three_days_for_p1_five_otherwise() {
        let p = Policy::builtin();
        let i = incident(Severity::P1, Status::Resolved, Some(t(10)));
        assert_eq!(review_due(&i, &p), Some(t(10 + 72)));
        let i2 = incident(Severity::P3, Status::Resolved, Some(t(10)));
        assert_eq!(review_due(&i2, &p), Some(t(10 + 120)));
        assert!(!review_overdue(&i, false, &p, t(82)));
        assert!(review_overdue(&i, false, &p, t(83)));
        assert!(!review_overdue(&i, true, &p, t(83)), "complete");
        let closed = incident(Severity::P1, Status::Closed, Some(t(10)));
        assert!(!review_overdue(&closed, false, &p, t(200)));
        let open = incident(Severity::P1, Status::Contained, None);
        assert_eq!(review_due(&open, &p), None);
    }

    #[test]
    fn whys_and_dates_are_checked() {
        let six: Vec<String> = (0..6).map(|i| format!("why {i}")).collect();
        assert!(validate_whys(&six).is_err());
        assert_eq!(
            validate_whys(&[" a ".into(), "".into()]).unwrap(),
            vec!["a".to_string()]
        );
        assert!(parse_date("2026-02-30").is_err());
        assert_eq!(
            parse_date("2026-03-04").unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()
        );
        let mut a = action(ActionStatus::Open);
        assert!(!a.is_overdue(t(24 * 4 + 23)), "due day is on time");
        assert!(a.is_overdue(t(24 * 5)));
        a.status = ActionStatus::Done;
        assert!(!a.is_overdue(t(24 * 5)));
    }
}
