//! The stable JSON shapes of incidents, clocks and events, shared by the
//! CLI's `--json` output and the reports. Field names here are an interface:
//! add fields, never rename or remove them.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::domain::event::{Event, format_time};
use crate::domain::roles::Role;
use crate::domain::sla::{Clock, clocks, most_urgent};
use crate::domain::{Incident, Policy};
use crate::store::{BoardRow, IncidentDetail};

fn time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(format_time(t)))
}

pub fn clock(c: &Clock) -> Value {
    json!({
        "kind": c.kind.key(),
        "label": c.kind.label(),
        "started": format_time(c.started),
        "due": format_time(c.due),
        "state": c.state.as_str(),
        "met_at": time(c.met_at),
        "remaining_seconds": c.remaining.num_seconds(),
    })
}

/// The incident's own fields (no checklist, roles or timeline).
pub fn incident(i: &Incident, policy: &Policy) -> Value {
    let level = policy.level(i.severity);
    json!({
        "id": i.id.as_str(),
        "title": i.title,
        "summary": i.summary,
        "severity": i.severity.as_str(),
        "severity_label": level.label,
        "criteria": level.criteria,
        "status": i.status.as_str(),
        "phase": i.phase.as_str(),
        "source": i.source.as_str(),
        "affected": i.affected,
        "cia": {
            "confidentiality": i.cia.confidentiality.as_str(),
            "integrity": i.cia.integrity.as_str(),
            "availability": i.cia.availability.as_str(),
        },
        "customer_impact": i.customer_impact,
        "personal_data_breach": i.personal_data_breach,
        "drill": i.drill,
        "detected_at": format_time(i.detected_at),
        "declared_at": format_time(i.declared_at),
        "acknowledged_at": time(i.acknowledged_at),
        "contained_at": time(i.contained_at),
        "resolved_at": time(i.resolved_at),
        "closed_at": time(i.closed_at),
        "customer_notified_at": time(i.customer_notified_at),
        "regulator_notified_at": time(i.regulator_notified_at),
        "last_update_at": time(i.last_update_at),
        "updated_at": format_time(i.updated_at),
    })
}

/// One line of `incident list --json`: the incident, its commander and its
/// most urgent clock.
pub fn board_row(row: &BoardRow, policy: &Policy, now: DateTime<Utc>) -> Value {
    let mut v = incident(&row.incident, policy);
    let all = clocks(&row.incident, policy, now);
    if let Value::Object(m) = &mut v {
        m.insert("commander".into(), json!(row.commander));
        m.insert(
            "urgent_clock".into(),
            most_urgent(&all).map_or(Value::Null, clock),
        );
    }
    v
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
