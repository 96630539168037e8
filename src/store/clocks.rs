//! Changes that move clocks: the detection time, pausing and resuming a
//! clock, acknowledgement, and the check that a severity lowered after a
//! breach says why. Each keeps the incident's clock history (the periods
//! and pauses `sla::clocks` folds) and appends an event carrying the whole
//! change (before and after), so the history can be rebuilt from the
//! timeline alone.

use chrono::{DateTime, Utc};
use rusqlite::Transaction;
use serde_json::json;

use super::changes::{load_in_tx, record_change};
use super::migration::Migration;
use super::rows::non_blank;
use super::{Result, Store, StoreError, WriteError};
use crate::domain::event::{format_time, kinds};
use crate::domain::incident::Pause;
use crate::domain::sla::{ClockKind, ClockState, clocks};
use crate::domain::{Incident, IncidentId, Policy, Severity};

/// 8: the clock history (severity and detection periods, pauses) beside
/// each incident, as JSON; `{}` for incidents from before it.
pub(super) const MIGRATION: Migration = Migration {
    version: 8,
    sql: r#"
ALTER TABLE incidents ADD COLUMN clock_history TEXT NOT NULL DEFAULT '{}';
"#,
};

/// Refuses lowering the severity of an incident one of whose clocks is
/// breached unless a reason is given: the breach stays, and the timeline
/// says why the deadlines were relaxed.
pub(super) fn check_downgrade(
    incident: &Incident,
    to: Severity,
    reason: Option<&str>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if to <= incident.severity || reason.is_some_and(|r| !r.trim().is_empty()) {
        return Ok(());
    }
    let breached: Vec<String> = clocks(incident, policy, now)
        .iter()
        .filter_map(|c| {
            c.breached_at
                .map(|at| format!("{} breached {}", c.kind.label(), format_time(at)))
        })
        .collect();
    if breached.is_empty() {
        return Ok(());
    }
    Err(StoreError::Invalid(format!(
        "lowering {} from {} to {to} after a breach needs a reason (--reason); {} (the breach stays recorded)",
        incident.id,
        incident.severity,
        breached.join(", ")
    )))
}

/// Marks the incident acknowledged at `now` by `actor` (if it was not) and
/// appends `incident.acknowledged`; `via` says how (`ack`, or `commander`
/// when naming the first commander took charge). True when this call
/// acknowledged it.
pub(super) fn acknowledge_in_tx(
    tx: &Transaction<'_>,
    incident: &mut Incident,
    via: &str,
    commander: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    if incident.acknowledged_at.is_some() {
        return Ok(false);
    }
    incident.acknowledged_at = Some(now);
    let detail = match commander {
        Some(c) => format!("acknowledged: {c} named incident commander by {actor}"),
        None => format!("acknowledged by {actor}"),
    };
    record_change(
        tx,
        incident,
        actor,
        now,
        kinds::INCIDENT_ACKNOWLEDGED,
        detail,
        json!({
            "by": actor,
            "at": format_time(now),
            "via": via,
            "commander": commander,
            "acknowledged_at": { "from": null, "to": format_time(now) },
        }),
    )?;
    Ok(true)
}

/// The clock a pause or resume names, refused when it cannot pause.
fn pausable(kind: &ClockKind) -> Result<String, StoreError> {
    if !kind.pausable() {
        return Err(StoreError::Invalid(format!(
            "{} is a regulatory clock: the law's deadline never pauses",
            match kind {
                ClockKind::Regulatory(n) if !n.is_empty() => n.clone(),
                _ => "regulatory".into(),
            }
        )));
    }
    Ok(kind.key())
}

impl Store {
    /// Corrects when the incident was detected (its clocks count from
    /// then), with the reason; a breach under the old time stays. Never in
    /// the future, never after the declaration.
    pub fn set_detected(
        &mut self,
        id: &IncidentId,
        detected_at: DateTime<Utc>,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        self.set_detected_based(id, detected_at, reason, None, actor, now)
    }

    /// [`Store::set_detected`] from a view read at `base`: refused with a
    /// conflict if the detection time was changed after it.
    pub fn set_detected_based(
        &mut self,
        id: &IncidentId,
        detected_at: DateTime<Utc>,
        reason: &str,
        base: Option<crate::domain::version::Version>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let reason = non_blank(
            reason,
            "changing the detection time needs a reason (--reason)",
        )?;
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            if detected_at > now {
                return Err(StoreError::Invalid(format!(
                    "detection time {} is in the future",
                    format_time(detected_at)
                ))
                .into());
            }
            if detected_at > incident.declared_at {
                return Err(StoreError::Invalid(format!(
                    "detection time {} is after {id} was declared ({})",
                    format_time(detected_at),
                    format_time(incident.declared_at)
                ))
                .into());
            }
            let from = incident.detected_at;
            if from == detected_at {
                return Ok(incident);
            }
            super::versions::check(
                tx,
                id.as_str(),
                base,
                crate::domain::version::Target::Field("detected_at"),
                Some(&format_time(detected_at)),
            )?;
            let before = (incident.severity, from);
            incident.detected_at = detected_at;
            let mut history = std::mem::take(&mut incident.clock_history);
            history.change(before, &incident, now);
            incident.clock_history = history;
            record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::INCIDENT_DETECTION_CHANGED,
                format!(
                    "detection time {} \u{2192} {} ({reason})",
                    format_time(from),
                    format_time(detected_at)
                ),
                json!({
                    "detected_at": { "from": format_time(from), "to": format_time(detected_at) },
                    "reason": reason,
                }),
            )?;
            Ok(incident)
        })
    }

    /// Stops a clock (waiting on a customer, on a third party) until it is
    /// resumed; its deadline moves by the time paused. Regulatory clocks,
    /// and clocks already met, breached or paused, are refused.
    pub fn pause_clock(
        &mut self,
        id: &IncidentId,
        kind: &ClockKind,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let key = pausable(kind)?;
        let reason = non_blank(reason, "pausing a clock needs a reason (--reason)")?;
        let policy = self.policy.clone();
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let clock = clocks(&incident, &policy, now)
                .into_iter()
                .find(|c| c.kind.key() == key);
            let refuse = |why: String| -> WriteError { StoreError::Invalid(why).into() };
            let label = kind.label();
            match clock.as_ref().map(|c| (c.state, c.breached_at)) {
                None => return Err(refuse(format!("{id} has no {label} clock running"))),
                Some((ClockState::Paused, _)) => {
                    return Err(refuse(format!(
                        "the {label} clock of {id} is already paused"
                    )));
                }
                Some((ClockState::Met, _)) => {
                    return Err(refuse(format!("the {label} clock of {id} is already met")));
                }
                Some((_, Some(at))) => {
                    return Err(refuse(format!(
                        "the {label} clock of {id} was breached at {}; a breach cannot be paused",
                        format_time(at)
                    )));
                }
                Some(_) => {}
            }
            incident.clock_history.pauses.push(Pause {
                clock: key.clone(),
                from: now,
                until: None,
                reason: reason.to_string(),
            });
            record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::CLOCK_PAUSED,
                format!("{label} clock paused: {reason}"),
                json!({ "clock": key, "from": format_time(now), "reason": reason }),
            )?;
            Ok(incident)
        })
    }

    /// Starts a paused clock again.
    pub fn resume_clock(
        &mut self,
        id: &IncidentId,
        kind: &ClockKind,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let key = pausable(kind)?;
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let Some(pause) = incident
                .clock_history
                .pauses
                .iter_mut()
                .find(|p| p.clock == key && p.until.is_none())
            else {
                return Err(StoreError::Invalid(format!(
                    "the {} clock of {id} is not paused",
                    kind.label()
                ))
                .into());
            };
            let since = pause.from;
            pause.until = Some(now.max(since));
            let held = (now.max(since) - since).num_seconds();
            record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::CLOCK_RESUMED,
                format!(
                    "{} clock resumed after {}",
                    kind.label(),
                    crate::domain::sla::format_countdown(chrono::Duration::seconds(held))
                ),
                json!({ "clock": key, "from": format_time(since), "until": format_time(now.max(since)) }),
            )?;
            Ok(incident)
        })
    }
}

#[cfg(test)]
#[path = "clocks_tests.rs"]
mod tests;
