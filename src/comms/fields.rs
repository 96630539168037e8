//! The fields a message template is filled with, taken from an incident.
//! Pure: `now` is a parameter. Every text that came from a person goes
//! through `display_safe`, so no control character or escape sequence
//! reaches a message (or the terminal that previews it).

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::Serialize;

use crate::domain::event::{Event, kinds};
use crate::domain::playbook::ItemState;
use crate::domain::sla::{ClockKind, ClockState, clocks, format_countdown};
use crate::domain::{Policy, Role};
use crate::store::IncidentDetail;
use crate::text::{display_safe, display_safe_lines};

pub use crate::domain::comms::{ACTION_FLAG, CUSTOMER_FLAG};

/// True for a note whose event data sets `flag`.
fn note_flagged(e: &Event, flag: &str) -> bool {
    e.kind == kinds::NOTE_ADDED
        && serde_json::from_str::<serde_json::Value>(&e.data)
            .ok()
            .and_then(|v| v.get(flag).and_then(serde_json::Value::as_bool))
            .unwrap_or(false)
}

/// True for timeline events that record an action taken (notes flagged as
/// actions).
pub fn is_action(e: &Event) -> bool {
    note_flagged(e, ACTION_FLAG)
}

/// True for notes written for customers (`incident note --customer`).
pub fn is_customer_note(e: &Event) -> bool {
    note_flagged(e, CUSTOMER_FLAG)
}

/// One bullet of ACTIONS TAKEN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionTaken {
    /// `2024-01-15 14:30 UTC`
    pub at: String,
    pub text: String,
}

/// One clock, as a template shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockField {
    pub label: String,
    /// running, met or breached
    pub state: String,
    pub due: String,
    /// `1:05:00 left`, `+0:10:00 overdue`, `met`, `met 5:00 late`
    pub status: String,
}

/// Everything a template may use. An unknown name in a template is an
/// error (strict undefined), so this list is the templates' vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageFields {
    pub id: String,
    pub title: String,
    /// `P1`
    pub severity: String,
    /// `Critical` (the policy's label)
    pub severity_label: String,
    /// `P1 - Critical`
    pub severity_text: String,
    /// `investigating`
    pub status: String,
    /// `Investigating`
    pub status_label: String,
    pub phase: String,
    pub phase_title: String,
    pub source: String,
    /// Detection time, UTC: `2024-01-15 14:30 UTC`
    pub detected: String,
    pub declared: String,
    /// When the message is written (`now`), UTC.
    pub date: String,
    /// The internal summary: never in a customer template.
    pub summary: String,
    /// What customers are told happened (`incident set --customer-summary`).
    pub customer_summary: String,
    pub customer_impact: String,
    pub affected: String,
    /// `C:high I:none A:low`
    pub cia: String,
    pub personal_data_breach: bool,
    pub drill: bool,
    /// Checklist items done and timeline notes marked as actions, oldest
    /// first.
    pub actions_taken: Vec<ActionTaken>,
    /// Notes written for customers (`incident note --customer`), oldest
    /// first: the customer template's ACTIONS TAKEN, in place of
    /// `actions_taken`, whose checklist names are internal.
    pub customer_actions: Vec<ActionTaken>,
    /// Open checklist items of the current phase (next steps).
    pub next_steps: Vec<String>,
    /// `Within 2 hours or sooner if status changes`
    pub next_update: String,
    /// When the next update is due (`now` + cadence), or empty.
    pub next_update_at: String,
    /// The CONTACT block (from comms.toml; may span lines).
    pub contact: String,
    pub organization: String,
    /// Current holders: `commander`, `security`, `ops`, `comms`, `legal`
    /// (empty when unassigned).
    pub commander: String,
    pub security_lead: String,
    pub ops_lead: String,
    pub comms_lead: String,
    pub legal_lead: String,
    pub clocks: Vec<ClockField>,
    /// Due time of the regulatory notice (e.g. GDPR's 72 hours), or empty.
    pub regulator_due: String,
}

/// `2024-01-15 14:30 UTC`: the format messages use.
pub fn message_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2 hours`, `1 hour 30 minutes`, `45 minutes`, `immediately`.
pub fn spoken_duration(d: std::time::Duration) -> String {
    let mins = d.as_secs().div_ceil(60);
    if mins == 0 {
        return "immediately".into();
    }
    let (h, m) = (mins / 60, mins % 60);
    let unit = |n: u64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    match (h, m) {
        (0, m) => unit(m, "minute"),
        (h, 0) => unit(h, "hour"),
        (h, m) => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
    }
}

fn one_line(s: &str) -> String {
    display_safe(s.trim()).into_owned()
}

fn multi_line(s: &str) -> String {
    display_safe_lines(s.trim()).join("\n")
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl MessageFields {
    /// Fills the fields from an incident as loaded with its whole timeline
    /// (`Store::detail(id, None)`: action notes older than a shortened
    /// timeline would be missed), the policy in force, the contact block
    /// and `now`.
    pub fn from_incident(
        detail: &IncidentDetail,
        policy: &Policy,
        contact: &str,
        now: DateTime<Utc>,
    ) -> MessageFields {
        let i = &detail.incident;
        let level = policy.level(i.severity);
        let holder = |r: Role| {
            detail
                .holder(r)
                .map_or_else(String::new, |a| one_line(&a.person))
        };

        let mut actions: Vec<(DateTime<Utc>, String)> = detail
            .checklist
            .iter()
            .filter(|c| c.state == ItemState::Done)
            .map(|c| (c.at.unwrap_or(i.declared_at), one_line(&c.text)))
            .chain(
                detail
                    .timeline
                    .iter()
                    .filter(|e| is_action(e))
                    .map(|e| (e.at, one_line(&e.detail))),
            )
            .collect();
        actions.sort_by_key(|a| a.0);
        let mut customer_actions: Vec<ActionTaken> = detail
            .timeline
            .iter()
            .filter(|e| is_customer_note(e))
            .map(|e| ActionTaken {
                at: message_time(e.at),
                text: one_line(&e.detail),
            })
            .collect();
        // The timeline is newest first; messages read oldest first.
        customer_actions.reverse();

        let next_steps = detail
            .checklist
            .iter()
            .filter(|c| c.phase == i.phase && c.state == ItemState::Open)
            .map(|c| one_line(&c.text))
            .collect();

        let (next_update, next_update_at) = match (i.status.is_open(), level.update_every) {
            (false, _) => (
                "No further updates are planned unless the status changes.".to_string(),
                String::new(),
            ),
            (true, None) => (
                "As needed, or sooner if status changes".to_string(),
                String::new(),
            ),
            (true, Some(every)) => (
                format!(
                    "Within {} or sooner if status changes",
                    spoken_duration(every)
                ),
                message_time(now + ChronoDuration::from_std(every).unwrap_or(ChronoDuration::MAX)),
            ),
        };

        let all = clocks(i, policy, now);
        let regulator_due = all
            .iter()
            .find(|c| matches!(c.kind, ClockKind::Regulatory(_)))
            .map_or_else(String::new, |c| message_time(c.due));
        let clocks = all
            .iter()
            .map(|c| ClockField {
                label: c.kind.label(),
                state: c.state.as_str().into(),
                due: message_time(c.due),
                status: match (c.state, c.met_at) {
                    (ClockState::Met, _) => "met".into(),
                    (ClockState::Breached, Some(_)) => format!(
                        "met {} late",
                        format_countdown(-c.remaining).trim_start_matches('+')
                    ),
                    (ClockState::Breached, None) => format!(
                        "{} overdue",
                        format_countdown(c.remaining).trim_start_matches('+')
                    ),
                    (ClockState::Running, _) => {
                        format!("{} left", format_countdown(c.remaining))
                    }
                    (ClockState::DueNow, _) => "due now".into(),
                    (ClockState::Paused, _) => {
                        format!("paused, {} left", format_countdown(c.remaining))
                    }
                },
            })
            .collect();

        MessageFields {
            id: i.id.to_string(),
            title: one_line(&i.title),
            severity: i.severity.to_string(),
            severity_label: level.label.clone(),
            severity_text: format!("{} - {}", i.severity, level.label),
            status: i.status.to_string(),
            status_label: capitalized(i.status.as_str()),
            phase: i.phase.to_string(),
            phase_title: i.phase.title().into(),
            source: i.source.to_string(),
            detected: message_time(i.detected_at),
            declared: message_time(i.declared_at),
            date: message_time(now),
            summary: multi_line(&i.summary),
            customer_summary: multi_line(&i.customer_summary),
            customer_impact: multi_line(&i.customer_impact),
            affected: one_line(&i.affected),
            cia: i.cia.to_string(),
            personal_data_breach: i.personal_data_breach,
            drill: i.drill,
            actions_taken: actions
                .into_iter()
                .map(|(at, text)| ActionTaken {
                    at: message_time(at),
                    text,
                })
                .collect(),
            customer_actions,
            next_steps,
            next_update,
            next_update_at,
            contact: multi_line(contact),
            organization: String::new(),
            commander: holder(Role::Commander),
            security_lead: holder(Role::Security),
            ops_lead: holder(Role::Ops),
            comms_lead: holder(Role::Comms),
            legal_lead: holder(Role::Legal),
            clocks,
            regulator_due,
        }
    }

    /// The same, with the contact block and organisation from comms.toml.
    pub fn for_config(
        detail: &IncidentDetail,
        policy: &Policy,
        config: &super::CommsConfig,
        now: DateTime<Utc>,
    ) -> MessageFields {
        let mut f = MessageFields::from_incident(detail, policy, &config.contact, now);
        f.organization = one_line(&config.organization);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_spoken() {
        let m = |n: u64| std::time::Duration::from_secs(n * 60);
        assert_eq!(spoken_duration(m(120)), "2 hours");
        assert_eq!(spoken_duration(m(60)), "1 hour");
        assert_eq!(spoken_duration(m(90)), "1 hour 30 minutes");
        assert_eq!(spoken_duration(m(1)), "1 minute");
        assert_eq!(spoken_duration(m(45)), "45 minutes");
        assert_eq!(spoken_duration(m(0)), "immediately");
    }

    #[test]
    fn message_times_are_utc_minutes() {
        let t: DateTime<Utc> = "2024-01-15T14:30:59Z".parse().unwrap();
        assert_eq!(message_time(t), "2024-01-15 14:30 UTC");
    }
}
