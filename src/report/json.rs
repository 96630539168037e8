//! The stable JSON shapes of incidents, clocks and events, shared by the
//! CLI's `--json` output and the reports. Field names here are an interface:
//! add fields, never rename or remove them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::domain::event::{Event, TimeText, format_time};
use crate::domain::review::{review_due, review_overdue};
use crate::domain::roles::Role;
use crate::domain::sla::{Clock, clocks, most_urgent};
use crate::domain::{Incident, Policy};
use crate::store::{BoardRow, IncidentDetail};

fn time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(format_time(t)))
}

/// Serializes a time as the stored RFC 3339 form.
fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    match TimeText::new(*t) {
        Some(text) => s.serialize_str(text.as_str()),
        None => s.serialize_str(&format_time(*t)),
    }
}

fn ser_opt_time<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ser_time(t, s),
        None => s.serialize_none(),
    }
}

/// A clock as JSON. Typed and borrowing (not a `Value` tree) because lists
/// of ten thousand incidents are serialized through these.
#[derive(Serialize)]
pub struct ClockJson {
    kind: String,
    label: String,
    #[serde(serialize_with = "ser_time")]
    started: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    due: DateTime<Utc>,
    state: &'static str,
    #[serde(serialize_with = "ser_opt_time")]
    met_at: Option<DateTime<Utc>>,
    remaining_seconds: i64,
    /// When it was breached (kept whatever changed later), or null.
    #[serde(serialize_with = "ser_opt_time")]
    breached_at: Option<DateTime<Utc>>,
    /// The severity whose deadline `due` is: in force at the breach, when
    /// it was met, or now.
    severity: &'static str,
}

impl From<&Clock> for ClockJson {
    fn from(c: &Clock) -> Self {
        ClockJson {
            kind: c.kind.key(),
            label: c.kind.label(),
            started: c.started,
            due: c.due,
            state: c.state.as_str(),
            met_at: c.met_at,
            remaining_seconds: c.remaining.num_seconds(),
            breached_at: c.breached_at,
            severity: c.severity.as_str(),
        }
    }
}

pub fn clock(c: &Clock) -> Value {
    serde_json::to_value(ClockJson::from(c)).unwrap_or(Value::Null)
}

#[derive(Serialize)]
struct CiaJson {
    confidentiality: &'static str,
    integrity: &'static str,
    availability: &'static str,
}

/// The incident's own fields (no checklist, roles or timeline).
#[derive(Serialize)]
pub struct IncidentJson<'a> {
    id: &'a str,
    title: &'a str,
    summary: &'a str,
    severity: &'static str,
    severity_label: &'a str,
    criteria: &'a str,
    status: &'static str,
    phase: &'static str,
    source: &'static str,
    affected: &'a str,
    cia: CiaJson,
    customer_impact: &'a str,
    /// What customers are told; absent while unset (older shapes unchanged).
    #[serde(skip_serializing_if = "str::is_empty")]
    customer_summary: &'a str,
    personal_data_breach: bool,
    drill: bool,
    #[serde(serialize_with = "ser_time")]
    detected_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    declared_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_opt_time")]
    acknowledged_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    contained_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    resolved_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    closed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    customer_notified_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    regulator_notified_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    last_update_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_time")]
    updated_at: DateTime<Utc>,
}

impl<'a> IncidentJson<'a> {
    pub fn new(i: &'a Incident, policy: &'a Policy) -> Self {
        let level = policy.level(i.severity);
        IncidentJson {
            id: i.id.as_str(),
            title: &i.title,
            summary: &i.summary,
            severity: i.severity.as_str(),
            severity_label: &level.label,
            criteria: &level.criteria,
            status: i.status.as_str(),
            phase: i.phase.as_str(),
            source: i.source.as_str(),
            affected: &i.affected,
            cia: CiaJson {
                confidentiality: i.cia.confidentiality.as_str(),
                integrity: i.cia.integrity.as_str(),
                availability: i.cia.availability.as_str(),
            },
            customer_impact: &i.customer_impact,
            customer_summary: &i.customer_summary,
            personal_data_breach: i.personal_data_breach,
            drill: i.drill,
            detected_at: i.detected_at,
            declared_at: i.declared_at,
            acknowledged_at: i.acknowledged_at,
            contained_at: i.contained_at,
            resolved_at: i.resolved_at,
            closed_at: i.closed_at,
            customer_notified_at: i.customer_notified_at,
            regulator_notified_at: i.regulator_notified_at,
            last_update_at: i.last_update_at,
            updated_at: i.updated_at,
        }
    }
}

pub fn incident(i: &Incident, policy: &Policy) -> Value {
    serde_json::to_value(IncidentJson::new(i, policy)).unwrap_or(Value::Null)
}

/// One line of `incident list --json`: the incident, its commander and its
/// most urgent clock.
#[derive(Serialize)]
pub struct BoardRowJson<'a> {
    #[serde(flatten)]
    incident: IncidentJson<'a>,
    commander: Option<&'a str>,
    urgent_clock: Option<ClockJson>,
    /// When the post-incident review is due (resolution + the policy's
    /// review period); null until resolved.
    #[serde(serialize_with = "ser_opt_time")]
    review_due: Option<DateTime<Utc>>,
    /// Resolved, review incomplete and past `review_due`.
    review_overdue: bool,
    /// The incident's version (for `--if-version`), when read with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

impl<'a> BoardRowJson<'a> {
    pub fn new(row: &'a BoardRow, policy: &'a Policy, now: DateTime<Utc>) -> Self {
        let all = clocks(&row.incident, policy, now);
        BoardRowJson {
            incident: IncidentJson::new(&row.incident, policy),
            commander: row.commander.as_deref(),
            urgent_clock: most_urgent(&all).map(ClockJson::from),
            review_due: None,
            review_overdue: false,
            version: None,
        }
    }

    /// Adds the incident's version.
    pub fn with_version(mut self, version: Option<crate::domain::version::Version>) -> Self {
        self.version = version.map(|v| v.0);
        self
    }

    /// Adds the review's due time and overdue flag.
    pub fn with_review(
        mut self,
        row: &BoardRow,
        review_complete: bool,
        policy: &Policy,
        now: DateTime<Utc>,
    ) -> Self {
        self.review_due = review_due(&row.incident, policy);
        self.review_overdue = review_overdue(&row.incident, review_complete, policy, now);
        self
    }
}

pub fn event(e: &Event) -> Value {
    json!({
        "seq": e.seq,
        "at": format_time(e.at),
        "actor": e.actor,
        "kind": e.kind,
        "detail": e.detail,
        "data": serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null),
        "hash": e.hash,
    })
}

/// `incident show --json`: everything about one incident.
pub fn incident_detail(d: &IncidentDetail, policy: &Policy, now: DateTime<Utc>) -> Value {
    let mut v = incident(&d.incident, policy);
    v["version"] = json!(d.version.0);
    let roles: Map<String, Value> = Role::ALL
        .iter()
        .map(|r| {
            let holder = d.holder(*r).map_or(Value::Null, |a| {
                json!({ "person": a.person, "since": format_time(a.since), "assigned_by": a.assigned_by })
            });
            (r.as_str().to_string(), holder)
        })
        .collect();
    let history: Vec<Value> = d
        .assignments
        .iter()
        .map(|a| {
            json!({
                "role": a.role.as_str(),
                "person": a.person,
                "since": format_time(a.since),
                "until": time(a.until),
                "assigned_by": a.assigned_by,
            })
        })
        .collect();
    let checklist: Vec<Value> = d
        .checklist
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "phase": c.phase.as_str(),
                "text": c.text,
                "state": c.state.as_str(),
                "reason": c.reason,
                "by": c.by,
                "at": time(c.at),
            })
        })
        .collect();
    let clock_list: Vec<Value> = clocks(&d.incident, policy, now).iter().map(clock).collect();
    if let Value::Object(m) = &mut v {
        m.insert("roles".into(), Value::Object(roles));
        m.insert("role_history".into(), Value::Array(history));
        m.insert("checklist".into(), Value::Array(checklist));
        m.insert("clocks".into(), Value::Array(clock_list));
        m.insert(
            "timeline".into(),
            Value::Array(d.timeline.iter().map(event).collect()),
        );
    }
    v
}
