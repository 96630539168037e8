//! The incident report as data: everything the Markdown, HTML and JSON forms
//! show, built from what the store holds, the policy and `now` (a
//! parameter, so a report is reproducible). Serializing a [`Report`] *is*
//! the stable JSON form documented in docs/report-json.md: add fields,
//! never rename or remove them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::json as shapes;
use super::records::{self, ChecklistReport, MessageReport};
use crate::domain::event::{Event, format_time};
use crate::domain::evidence::{CustodyEvent, EvidenceItem};
use crate::domain::review::{CorrectiveAction, Review, review_due, review_overdue};
use crate::domain::roles::{Assignment, Role};
use crate::domain::sla::{ClockState, clocks};
use crate::domain::{Incident, IncidentId, Policy};
use crate::store::{IncidentDetail, IncidentSource, LegalHold, SentMessage, Store, StoreError};

/// The JSON form's `format` field; bumped only on an incompatible change.
pub const FORMAT: &str = "warroom-report/1";

/// Everything a report is made from, as read from the store.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub detail: IncidentDetail,
    pub evidence: Vec<EvidenceItem>,
    pub custody: Vec<CustodyEvent>,
    pub review: Review,
    pub legal_hold: Option<LegalHold>,
    /// The keys of its detections (a campaign's sources), most events first.
    pub sources: Vec<IncidentSource>,
    /// Every message sent about it, oldest first, with deliveries.
    pub messages: Vec<SentMessage>,
}

impl ReportInput {
    /// Reads everything about one incident.
    pub fn load(store: &Store, id: &IncidentId) -> Result<ReportInput, StoreError> {
        Ok(ReportInput {
            detail: store.detail(id, None)?,
            evidence: store.evidence(id)?,
            custody: store.custody(id)?,
            review: store.review(id)?,
            legal_hold: store.legal_hold(id)?,
            sources: store.incident_sources(id)?,
            messages: store.messages(id)?,
        })
    }
}

/// One entry of the timeline (the same shape as `incident show --json`'s).
#[derive(Debug, Clone, Serialize)]
pub struct EventJson {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub detail: String,
    pub data: Value,
    pub hash: String,
}

impl From<&Event> for EventJson {
    fn from(e: &Event) -> Self {
        EventJson {
            seq: e.seq,
            at: format_time(e.at),
            actor: e.actor.clone(),
            kind: e.kind.clone(),
            detail: e.detail.clone(),
            data: serde_json::from_str(&e.data).unwrap_or(Value::Null),
            hash: e.hash.clone(),
        }
    }
}

/// A change of one field: severity, status or phase. `from` is null for
/// the value the incident was declared with.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub at: String,
    pub actor: String,
    pub from: Option<String>,
    pub to: String,
}

/// A role holding: who, from when, until when, given by whom.
#[derive(Debug, Clone, Serialize)]
pub struct Holding {
    pub role: String,
    pub person: String,
    pub since: String,
    pub until: Option<String>,
    pub assigned_by: String,
}

impl From<&Assignment> for Holding {
    fn from(a: &Assignment) -> Self {
        Holding {
            role: a.role.as_str().into(),
            person: a.person.clone(),
            since: format_time(a.since),
            until: a.until.map(format_time),
            assigned_by: a.assigned_by.clone(),
        }
    }
}

/// A clock with its outcome: met or breached, and by how much.
#[derive(Debug, Clone, Serialize)]
pub struct ClockReport {
    pub kind: String,
    pub label: String,
    pub started: String,
    pub due: String,
    /// running, met or breached.
    pub state: String,
    pub met_at: Option<String>,
    /// Due minus (met time, or now if unmet): positive = margin or time
    /// left, negative = late or overdue by.
    pub margin_seconds: i64,
    /// How late, for a breached clock; null otherwise.
    pub breached_by_seconds: Option<i64>,
    /// When it was breached (whatever changed later); null otherwise.
    pub breached_at: Option<String>,
    /// The severity whose deadline `due` is (in force at the breach, when
    /// it was met, or now).
    pub severity: String,
}

/// One item of evidence with its chain of custody.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceJson {
    pub id: i64,
    pub kind: String,
    pub sha256: String,
    pub size: u64,
    pub collected_by: String,
    pub collected_at: String,
    pub collected_at_local: String,
    pub source_host: String,
    pub source_path: Option<String>,
    pub description: String,
    /// The text of an excerpt or a note; null for files.
    pub content: Option<String>,
    /// Relative to the evidence store.
    pub stored_path: String,
    pub custody: Vec<CustodyEvent>,
}

impl EvidenceJson {
    /// The item with its custody events picked out of `custody`.
    pub fn new(i: &EvidenceItem, custody: &[CustodyEvent]) -> EvidenceJson {
        EvidenceJson {
            id: i.id,
            kind: i.kind.as_str().into(),
            sha256: i.sha256.clone(),
            size: i.size,
            collected_by: i.collected_by.clone(),
            collected_at: format_time(i.collected_at),
            collected_at_local: i.collected_at_local.clone(),
            source_host: i.source_host.clone(),
            source_path: i.source_path.clone(),
            description: i.description.clone(),
            content: i.content.clone(),
            stored_path: i.stored_path.clone(),
            custody: custody.iter().filter(|c| c.item == i.id).cloned().collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionJson {
    pub id: i64,
    pub description: String,
    pub owner: String,
    /// YYYY-MM-DD or null.
    pub due: Option<String>,
    /// open, done or dropped.
    pub status: String,
    pub reason: Option<String>,
    /// Open and past its due date.
    pub overdue: bool,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl ActionJson {
    pub fn new(a: &CorrectiveAction, now: DateTime<Utc>) -> ActionJson {
        ActionJson {
            id: a.id,
            description: a.description.clone(),
            owner: a.owner.clone(),
            due: a.due.map(|d: NaiveDate| d.format("%Y-%m-%d").to_string()),
            status: a.status.as_str().into(),
            reason: a.reason.clone(),
            overdue: a.is_overdue(now),
            created_by: a.created_by.clone(),
            created_at: format_time(a.created_at),
            updated_at: format_time(a.updated_at),
        }
    }
}

/// The post-incident review, with whether it lets the incident close.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewJson {
    pub statement: String,
    pub whys: Vec<String>,
    pub root_cause: String,
    pub actions: Vec<ActionJson>,
    pub no_action_reason: Option<String>,
    pub lessons: String,
    pub went_well: String,
    pub went_badly: String,
    /// Root cause and an action (or a "no action" reason) are there.
    pub complete: bool,
    /// What the closing gate would say; null when complete.
    pub gate_problem: Option<String>,
    pub due: Option<String>,
    pub overdue: bool,
    pub updated_by: Option<String>,
    pub updated_at: Option<String>,
}

impl ReviewJson {
    pub fn new(r: &Review, incident: &Incident, policy: &Policy, now: DateTime<Utc>) -> ReviewJson {
        ReviewJson {
            statement: r.statement.clone(),
            whys: r.whys.clone(),
            root_cause: r.root_cause.clone(),
            actions: r.actions.iter().map(|a| ActionJson::new(a, now)).collect(),
            no_action_reason: r.no_action_reason.clone(),
            lessons: r.lessons.clone(),
            went_well: r.went_well.clone(),
            went_badly: r.went_badly.clone(),
            complete: r.is_complete(),
            gate_problem: r.gate_problem(),
            due: review_due(incident, policy).map(format_time),
            overdue: review_overdue(incident, r.is_complete(), policy, now),
            updated_by: r.updated_by.clone(),
            updated_at: r.updated_at.map(format_time),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HoldJson {
    pub reason: String,
    pub set_by: String,
    pub set_at: String,
}

/// The whole report. Its serialization is the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub generated_at: String,
    /// An exercise: every form says DRILL prominently.
    pub drill: bool,
    /// The incident's fields, as in `incident show --json`.
    pub incident: Value,
    pub severity_history: Vec<Change>,
    pub status_history: Vec<Change>,
    pub phase_history: Vec<Change>,
    /// Current holder per role (commander, security, ops, comms, legal) or null.
    pub roles: Map<String, Value>,
    /// Every holding, oldest first (a handoff ends one and starts the next).
    pub role_history: Vec<Holding>,
    pub clocks: Vec<ClockReport>,
    /// Every checklist item: its state, who set it and when, its changes.
    pub checklist: Vec<ChecklistReport>,
    /// Timeline events of kind `comms.*`, oldest first.
    pub communications: Vec<EventJson>,
    /// Every message sent, in full: subject, body and deliveries, oldest first.
    pub messages: Vec<MessageReport>,
    /// Timeline events of kind `detect.*`, oldest first.
    pub detections: Vec<EventJson>,
    /// Every key its detections were for (a campaign's sources): count,
    /// first and last seen, most events first.
    pub sources: Vec<IncidentSource>,
    pub legal_hold: Option<HoldJson>,
    /// Holds set and lifted, oldest first.
    pub legal_hold_history: Vec<EventJson>,
    pub evidence: Vec<EvidenceJson>,
    pub review: ReviewJson,
    /// Every event of the incident, oldest first.
    pub timeline: Vec<EventJson>,
    /// Not serialized: the typed incident, for the text forms.
    #[serde(skip)]
    pub typed: Incident,
    #[serde(skip)]
    pub severity_label: String,
}

fn changes_of(timeline: &[Event], field: &str, initial: String, declared: &Event) -> Vec<Change> {
    let mut out = vec![Change {
        at: format_time(declared.at),
        actor: declared.actor.clone(),
        from: None,
        to: initial,
    }];
    for e in timeline.iter().filter(|e| e.kind == "incident.updated") {
        let Ok(data) = serde_json::from_str::<Value>(&e.data) else {
            continue;
        };
        if let Some(c) = data.get("changes").and_then(|c| c.get(field)) {
            out.push(Change {
                at: format_time(e.at),
                actor: e.actor.clone(),
                from: c.get("from").and_then(Value::as_str).map(str::to_string),
                to: c
                    .get("to")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            });
        }
    }
    out
}

impl Report {
    /// Builds the report at `now` (pure).
    pub fn build(input: &ReportInput, policy: &Policy, now: DateTime<Utc>) -> Report {
        let i = &input.detail.incident;
        let mut timeline: Vec<Event> = input.detail.timeline.clone();
        timeline.sort_by_key(|e| e.seq);
        let declared = timeline
            .iter()
            .find(|e| e.kind == "incident.created")
            .cloned()
            .unwrap_or_else(|| Event {
                seq: 0,
                at: i.declared_at,
                actor: String::new(),
                incident: Some(i.id.as_str().into()),
                kind: "incident.created".into(),
                detail: String::new(),
                data: "{}".into(),
                prev_hash: String::new(),
                hash: String::new(),
            });
        let initial = |field: &str, fallback: String| -> String {
            serde_json::from_str::<Value>(&declared.data)
                .ok()
                .and_then(|d| d.get(field).and_then(Value::as_str).map(str::to_string))
                .unwrap_or(fallback)
        };
        // The declared values: what the creation event recorded.
        let sev0 = initial("severity", i.severity.to_string());
        let status0 = initial("status", "investigating".into());
        let phase0 = initial("phase", "detection".into());
        let roles: Map<String, Value> = Role::ALL
            .iter()
            .map(|r| {
                let holder = input.detail.holder(*r).map_or(Value::Null, |a| {
                    json!({ "person": a.person, "since": format_time(a.since), "assigned_by": a.assigned_by })
                });
                (r.as_str().to_string(), holder)
            })
            .collect();
        let clock_list = clocks(i, policy, now)
            .iter()
            .map(|c| ClockReport {
                kind: c.kind.key(),
                label: c.kind.label(),
                started: format_time(c.started),
                due: format_time(c.due),
                state: c.state.as_str().into(),
                met_at: c.met_at.map(format_time),
                margin_seconds: c.remaining.num_seconds(),
                breached_by_seconds: (c.state == ClockState::Breached)
                    .then(|| -c.remaining.num_seconds()),
                breached_at: c.breached_at.map(format_time),
                severity: c.severity.to_string(),
            })
            .collect();
        let of_kind = |prefix: &str| -> Vec<EventJson> {
            timeline
                .iter()
                .filter(|e| e.kind.starts_with(prefix))
                .map(EventJson::from)
                .collect()
        };
        Report {
            format: FORMAT,
            generated_at: format_time(now),
            drill: i.drill,
            incident: shapes::incident(i, policy),
            severity_history: changes_of(&timeline, "severity", sev0, &declared),
            status_history: changes_of(&timeline, "status", status0, &declared),
            phase_history: changes_of(&timeline, "phase", phase0, &declared),
            roles,
            role_history: input.detail.assignments.iter().map(Holding::from).collect(),
            clocks: clock_list,
            checklist: records::checklist(&input.detail.checklist, &timeline),
            communications: of_kind("comms."),
            messages: records::messages(&input.messages),
            detections: of_kind("detect."),
            sources: input.sources.clone(),
            legal_hold: input.legal_hold.as_ref().map(|h| HoldJson {
                reason: h.reason.clone(),
                set_by: h.set_by.clone(),
                set_at: format_time(h.set_at),
            }),
            legal_hold_history: timeline
                .iter()
                .filter(|e| e.kind == "incident.hold_set" || e.kind == "incident.hold_released")
                .map(EventJson::from)
                .collect(),
            evidence: input
                .evidence
                .iter()
                .map(|e| EvidenceJson::new(e, &input.custody))
                .collect(),
            review: ReviewJson::new(&input.review, i, policy, now),
            timeline: timeline.iter().map(EventJson::from).collect(),
            severity_label: policy.level(i.severity).label.clone(),
            typed: i.clone(),
        }
    }

    /// The stable JSON form, pretty-printed, with every character that
    /// could steer a terminal (C1 controls, DEL, bidi and zero-width
    /// format characters) written as a `\uXXXX` escape: the same data for
    /// a JSON parser, inert on a screen.
    pub fn to_json(&self) -> String {
        crate::text::json::to_string_pretty(self).unwrap_or_else(|_| "{}".into()) + "\n"
    }
}

/// Seconds as "1h 05m", "12m 30s", "45s" (for the text forms).
pub fn human_duration(secs: i64) -> String {
    let s = secs.abs();
    let (d, h, m, sec) = (s / 86400, (s % 86400) / 3600, (s % 3600) / 60, s % 60);
    if d > 0 {
        format!("{d}d {h:02}h {m:02}m")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// The outcome of a clock in words: "met (4m 00s to spare)", "BREACHED by
/// 1h 02m", "running (10m 00s left)".
pub fn clock_outcome(c: &ClockReport) -> String {
    match (c.state.as_str(), c.met_at.is_some()) {
        ("met", _) => format!("met ({} to spare)", human_duration(c.margin_seconds)),
        ("breached", true) => format!(
            "BREACHED: met {} late",
            human_duration(c.breached_by_seconds.unwrap_or(0))
        ),
        ("breached", false) => format!(
            "BREACHED: overdue by {}",
            human_duration(c.breached_by_seconds.unwrap_or(0))
        ),
        _ => format!("running ({} left)", human_duration(c.margin_seconds)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(750), "12m 30s");
        assert_eq!(human_duration(-3900), "1h 05m");
        assert_eq!(human_duration(90000), "1d 01h 00m");
    }
}
