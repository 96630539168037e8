//! An incident's state recomputed from its timeline: what `verify`
//! compares with the stored row, so a direct edit of the row shows.
//!
//! [`apply`] is the one place that knows how each event kind changes an
//! incident: one arm per kind. A new kind that changes the row needs its
//! arm here (and the data in its event to replay it); kinds that change
//! nothing on the row fall through untouched. The rules the writers and
//! the replay share (what a status change stamps, what a customer notice
//! meets) are functions here too, so the two cannot drift apart.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::event::{Event, kinds};
use super::incident::{Cia, Incident, Pause, Severity, Status};

/// Lifecycle times follow the status: contained, resolved and closed are
/// stamped the first time the status reaches them, reopening clears
/// resolved and closed, and anything past "investigating" counts as
/// acknowledged.
pub fn stamp_status_times(i: &mut Incident, now: DateTime<Utc>) {
    match i.status {
        Status::Contained | Status::Monitoring => {
            i.contained_at.get_or_insert(now);
        }
        Status::Resolved => {
            i.contained_at.get_or_insert(now);
            i.resolved_at.get_or_insert(now);
            i.closed_at = None;
        }
        Status::Closed => {
            i.contained_at.get_or_insert(now);
            i.resolved_at.get_or_insert(now);
            i.closed_at.get_or_insert(now);
        }
        Status::Investigating | Status::Identified => {
            i.resolved_at = None;
            i.closed_at = None;
        }
    }
    if i.status != Status::Investigating {
        i.acknowledged_at.get_or_insert(now);
    }
}

/// Customers were told at `now`: meets the customer-notice clock (the
/// first notice counts) and restarts the update cadence.
pub fn note_customer_notice(i: &mut Incident, now: DateTime<Utc>) {
    i.customer_notified_at.get_or_insert(now);
    i.last_update_at = Some(now);
}

/// Why an event could not be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq} ({kind}): {problem}")]
pub struct ReplayError {
    pub seq: i64,
    pub kind: String,
    pub problem: String,
}

/// Applies one event of an incident (in chain order) to the state built
/// so far; `state` is `None` until `incident.created`.
pub fn apply(state: &mut Option<Incident>, e: &Event) -> Result<(), ReplayError> {
    let fail = |problem: String| ReplayError {
        seq: e.seq,
        kind: e.kind.clone(),
        problem,
    };
    let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
    if e.kind == kinds::INCIDENT_CREATED {
        if state.is_some() {
            return Err(fail("the incident was already created".into()));
        }
        let created: Incident = serde_json::from_value(data)
            .map_err(|err| fail(format!("its data is not an incident ({err})")))?;
        *state = Some(created);
        return Ok(());
    }
    let Some(i) = state.as_mut() else {
        return Err(fail("comes before the incident's incident.created".into()));
    };
    match e.kind.as_str() {
        kinds::INCIDENT_UPDATED => {
            let Some(changes) = data["changes"].as_object() else {
                return Err(fail("no changes recorded".into()));
            };
            let before = (i.severity, i.detected_at);
            for (field, change) in changes {
                let to = change["to"]
                    .as_str()
                    .ok_or_else(|| fail(format!("{field}: no new value")))?;
                set_field(i, field, to).map_err(|p| fail(format!("{field}: {p}")))?;
            }
            if changes.contains_key("status") {
                stamp_status_times(i, e.at);
            }
            if i.severity != before.0 {
                record_period(i, before, e.at);
            }
        }
        kinds::INCIDENT_DETECTION_CHANGED => {
            let to = data["detected_at"]["to"]
                .as_str()
                .ok_or_else(|| fail("no new detection time recorded".into()))?;
            let before = (i.severity, i.detected_at);
            i.detected_at = parse_time(to).map_err(fail)?;
            record_period(i, before, e.at);
        }
        kinds::CLOCK_PAUSED => {
            let clock = data["clock"]
                .as_str()
                .ok_or_else(|| fail("no clock recorded".into()))?;
            let from = data["from"]
                .as_str()
                .map_or(Ok(e.at), parse_time)
                .map_err(fail)?;
            i.clock_history.pauses.push(Pause {
                clock: clock.to_string(),
                from,
                until: None,
                reason: data["reason"].as_str().unwrap_or_default().to_string(),
            });
        }
        kinds::CLOCK_RESUMED => {
            let clock = data["clock"]
                .as_str()
                .ok_or_else(|| fail("no clock recorded".into()))?;
            let until = data["until"]
                .as_str()
                .map_or(Ok(e.at), parse_time)
                .map_err(fail)?;
            let Some(pause) = i
                .clock_history
                .pauses
                .iter_mut()
                .find(|p| p.clock == clock && p.until.is_none())
            else {
                return Err(fail(format!("the {clock} clock was not paused")));
            };
            pause.until = Some(until);
        }
        kinds::INCIDENT_ACKNOWLEDGED => {
            i.acknowledged_at.get_or_insert(e.at);
        }
        // The first commander also counts as the response.
        kinds::ROLE_ASSIGNED if data["role"].as_str() == Some("commander") => {
            i.acknowledged_at.get_or_insert(e.at);
        }
        kinds::CUSTOMER_NOTIFIED => note_customer_notice(i, e.at),
        kinds::COMMS_SENT => match data["audience"].as_str() {
            Some("customers") => note_customer_notice(i, e.at),
            Some("regulator") => {
                i.regulator_notified_at.get_or_insert(e.at);
            }
            Some(_) => i.last_update_at = Some(e.at),
            None => return Err(fail("no audience recorded".into())),
        },
        // Custody, notes, checklist, holds, deliveries, reviews: they
        // leave the incident's fields as they were.
        _ => {}
    }
    Ok(())
}

/// From `at` on, the incident's (already changed) severity and detection
/// time hold: the same step the writers take, so the clocks' history is
/// rebuilt from the chain, not taken from the cached column.
fn record_period(i: &mut Incident, before: (Severity, DateTime<Utc>), at: DateTime<Utc>) {
    let mut history = std::mem::take(&mut i.clock_history);
    history.change(before, i, at);
    i.clock_history = history;
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("'{s}' is not a time ({e})"))
}

/// Sets one field from the text an `incident.updated` event recorded.
fn set_field(i: &mut Incident, field: &str, to: &str) -> Result<(), String> {
    let parse = |e: super::incident::ParseError| e.to_string();
    match field {
        "title" => i.title = to.to_string(),
        "summary" => i.summary = to.to_string(),
        "affected" => i.affected = to.to_string(),
        "customer_impact" => i.customer_impact = to.to_string(),
        "customer_summary" => i.customer_summary = to.to_string(),
        "severity" => i.severity = to.parse().map_err(parse)?,
        "status" => i.status = to.parse().map_err(parse)?,
        "phase" => i.phase = to.parse().map_err(parse)?,
        "source" => i.source = to.parse().map_err(parse)?,
        "cia" => i.cia = parse_cia(to).map_err(parse)?,
        "personal_data_breach" => {
            i.personal_data_breach = to
                .parse()
                .map_err(|_| format!("'{to}' is not true/false"))?
        }
        other => return Err(format!("unknown field '{other}'")),
    }
    Ok(())
}

/// CIA as recorded: its display form `C:high I:none A:low`, or `high/none/low`.
fn parse_cia(s: &str) -> Result<Cia, super::incident::ParseError> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if let [c, i, a] = parts.as_slice()
        && let (Some(c), Some(i), Some(a)) = (
            c.strip_prefix("C:"),
            i.strip_prefix("I:"),
            a.strip_prefix("A:"),
        )
    {
        return format!("{c}/{i}/{a}").parse();
    }
    s.parse()
}

/// The fields where `row` differs from `replayed`, as "field: row says X,
/// events say Y". `updated_at` is not compared: it is bookkeeping that
/// reads and custody events leave alone, not part of the history.
pub fn differences(row: &Incident, replayed: &Incident) -> Vec<String> {
    let mut out = Vec::new();
    let mut cmp = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name}: row says {a:?}, its events say {b:?}"));
        }
    };
    let t = |t: Option<DateTime<Utc>>| t.map_or_else(|| "-".into(), super::event::format_time);
    cmp("title", row.title.clone(), replayed.title.clone());
    cmp("summary", row.summary.clone(), replayed.summary.clone());
    cmp(
        "customer_summary",
        row.customer_summary.clone(),
        replayed.customer_summary.clone(),
    );
    cmp(
        "severity",
        row.severity.to_string(),
        replayed.severity.to_string(),
    );
    cmp(
        "status",
        row.status.to_string(),
        replayed.status.to_string(),
    );
    cmp("phase", row.phase.to_string(), replayed.phase.to_string());
    cmp(
        "source",
        row.source.to_string(),
        replayed.source.to_string(),
    );
    cmp("affected", row.affected.clone(), replayed.affected.clone());
    cmp("cia", row.cia.to_string(), replayed.cia.to_string());
    cmp(
        "customer_impact",
        row.customer_impact.clone(),
        replayed.customer_impact.clone(),
    );
    cmp(
        "personal_data_breach",
        row.personal_data_breach.to_string(),
        replayed.personal_data_breach.to_string(),
    );
    cmp("drill", row.drill.to_string(), replayed.drill.to_string());
    cmp(
        "detected_at",
        t(Some(row.detected_at)),
        t(Some(replayed.detected_at)),
    );
    cmp(
        "declared_at",
        t(Some(row.declared_at)),
        t(Some(replayed.declared_at)),
    );
    cmp(
        "acknowledged_at",
        t(row.acknowledged_at),
        t(replayed.acknowledged_at),
    );
    cmp(
        "contained_at",
        t(row.contained_at),
        t(replayed.contained_at),
    );
    cmp("resolved_at", t(row.resolved_at), t(replayed.resolved_at));
    cmp("closed_at", t(row.closed_at), t(replayed.closed_at));
    cmp(
        "customer_notified_at",
        t(row.customer_notified_at),
        t(replayed.customer_notified_at),
    );
    cmp(
        "regulator_notified_at",
        t(row.regulator_notified_at),
        t(replayed.regulator_notified_at),
    );
    cmp(
        "last_update_at",
        t(row.last_update_at),
        t(replayed.last_update_at),
    );
    cmp(
        "clock_history",
        history_text(&row.clock_history),
        history_text(&replayed.clock_history),
    );
    out
}

/// The clock history at the events' precision (milliseconds): the cached
/// column keeps the writer's full `now`, the chain its recorded time.
fn history_text(h: &super::incident::ClockHistory) -> String {
    let t = super::event::format_time;
    let mut out = String::new();
    for p in &h.periods {
        out.push_str(&format!(
            "[{} {} {}]",
            t(p.from),
            p.severity,
            t(p.detected_at)
        ));
    }
    for p in &h.pauses {
        let until = p.until.map_or_else(|| "-".into(), t);
        out.push_str(&format!(
            "[{} {} {} {:?}]",
            p.clock,
            t(p.from),
            until,
            p.reason
        ));
    }
    out
}
