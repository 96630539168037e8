//! Alert deliveries (escalations, a notify rule's detections) through each
//! sink: retried under a lease like message deliveries, and an escalation
//! whose incident was acknowledged is cancelled inside the claim that
//! would have sent it.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::super::changes::{load_in_tx, record_change};
use super::super::rows::{parse_time, ser_time};
use super::super::{Result, Store, StoreError, WriteError};
use super::alerts::{ALERT_COLUMNS, NewAlert, alert_from_row};
use super::lease::ALERT_DELIVERY_LEASES;
use crate::domain::IncidentId;
use crate::domain::event::{format_time, kinds};

/// Where an alert delivery stands: a message delivery's states, plus
/// `cancelled` (an escalation the incident's acknowledgement overtook:
/// nothing was sent, and nothing will be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertDeliveryState {
    Pending,
    Delivered,
    Failed,
    Cancelled,
}

impl AlertDeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertDeliveryState::Pending => "pending",
            AlertDeliveryState::Delivered => "delivered",
            AlertDeliveryState::Failed => "failed",
            AlertDeliveryState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> AlertDeliveryState {
        match s {
            "delivered" => AlertDeliveryState::Delivered,
            "failed" => AlertDeliveryState::Failed,
            "cancelled" => AlertDeliveryState::Cancelled,
            _ => AlertDeliveryState::Pending,
        }
    }

    /// Delivered or cancelled: nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            AlertDeliveryState::Delivered | AlertDeliveryState::Cancelled
        )
    }
}

/// An alert delivery (an escalation, or a notify rule's detection) through
/// one sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertDelivery {
    pub alert_key: String,
    pub sink: String,
    pub state: AlertDeliveryState,
    /// Where it went or why it failed.
    pub detail: String,
    pub attempts: u32,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
}

const ALERT_DELIVERY_COLUMNS: &str = "alert_key, sink, state, detail, attempts, updated_at";

fn alert_delivery_from_row(r: &Row<'_>) -> rusqlite::Result<AlertDelivery> {
    let state: String = r.get(2)?;
    Ok(AlertDelivery {
        alert_key: r.get(0)?,
        sink: r.get(1)?,
        state: AlertDeliveryState::parse(&state),
        detail: r.get(3)?,
        attempts: r.get(4)?,
        updated_at: parse_time(r, 5)?,
    })
}

fn alert_deliveries_in_tx(
    conn: &rusqlite::Connection,
    key: &str,
) -> rusqlite::Result<Vec<AlertDelivery>> {
    let sql = format!(
        "SELECT {ALERT_DELIVERY_COLUMNS} FROM alert_deliveries WHERE alert_key = ?1 ORDER BY sink"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_map([key], alert_delivery_from_row)?.collect()
}

/// What a claim of an alert delivery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertClaim {
    /// This process holds it: deliver now.
    Held,
    /// Another process holds it, or it was delivered.
    Lost,
    /// An escalation whose incident was acknowledged: cancelled and
    /// recorded; send nothing.
    Cancelled,
}

/// Inside a delivery's claim: an escalation whose incident has been
/// acknowledged is cancelled (state `cancelled`, a
/// `comms.escalation_cancelled` event) instead of being sent. Must run in
/// the transaction that took the claim, so an acknowledgement either
/// committed before it (nothing is sent) or after it (it was already on
/// its way, and the ack's own record shows the order).
fn cancel_if_acknowledged(
    tx: &Transaction<'_>,
    key: &str,
    sink: &str,
    now: DateTime<Utc>,
) -> Result<bool, WriteError> {
    // (kind, incident, recipient, the incident's acknowledgement)
    type Row = (String, Option<String>, Option<String>, Option<String>);
    let row: Option<Row> = tx
        .query_row(
            "SELECT a.kind, a.incident_id, a.recipient, i.acknowledged_at
             FROM alerts a LEFT JOIN incidents i ON i.id = a.incident_id WHERE a.key = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((kind, Some(incident), recipient, Some(acked))) = row else {
        return Ok(false);
    };
    if kind != crate::domain::comms::ESCALATION {
        return Ok(false);
    }
    let n = tx.execute(
        "UPDATE alert_deliveries SET state = 'cancelled', updated_at = ?3,
            detail = 'cancelled: the incident was acknowledged at ' || ?4
         WHERE alert_key = ?1 AND sink = ?2 AND state IN ('pending', 'failed')",
        params![key, sink, format_time(now), acked],
    )?;
    if n == 0 {
        return Ok(false);
    }
    let mut inc = load_in_tx(tx, &incident)?;
    let who = recipient.as_deref().unwrap_or("everyone");
    record_change(
        tx,
        &mut inc,
        "warroom",
        now,
        kinds::COMMS_ESCALATION_CANCELLED,
        format!("escalation to {who} via {sink} cancelled: acknowledged at {acked}; nothing sent"),
        json!({
            "alert_key": key,
            "recipient": recipient,
            "sink": sink,
            "state": { "from": "pending", "to": "cancelled" },
            "acknowledged_at": acked,
        }),
    )?;
    Ok(true)
}

impl Store {
    /// The deliveries of an escalation, by sink name.
    pub fn alert_deliveries(&self, key: &str) -> Result<Vec<AlertDelivery>> {
        alert_deliveries_in_tx(&self.conn, key).map_err(|e| self.err(e))
    }

    /// Escalation deliveries to retry: failed ones, and pending ones last
    /// touched before `stale_before`, of one incident or all; oldest first.
    pub fn pending_alert_deliveries(
        &self,
        incident: Option<&IncidentId>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<(NewAlert, AlertDelivery)>> {
        let sql = format!(
            "SELECT {ALERT_DELIVERY_COLUMNS} FROM alert_deliveries d
             JOIN alerts a ON a.key = d.alert_key
             WHERE d.state NOT IN ('delivered', 'cancelled')
               AND (d.state = 'failed' OR d.updated_at < ?2)
               AND (?1 IS NULL OR a.incident_id = ?1)
             ORDER BY a.raised_at, d.alert_key, d.sink"
        );
        let due: Vec<AlertDelivery> = self.query_all(
            &sql,
            params![incident.map(IncidentId::as_str), format_time(stale_before)],
            alert_delivery_from_row,
        )?;
        let mut out = Vec::with_capacity(due.len());
        for d in due {
            if let Some(a) = self.alert(&d.alert_key)? {
                out.push((a, d));
            }
        }
        Ok(out)
    }

    /// Takes a failed (or stale pending) alert delivery for a retry, like
    /// `claim_delivery`: `Held` for the one process that takes it;
    /// `Cancelled` (and recorded) for an escalation whose incident has been
    /// acknowledged meanwhile, which must not be sent.
    pub fn claim_alert_delivery(
        &mut self,
        key: &str,
        sink: &str,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<AlertClaim> {
        self.write(|tx| {
            if !ALERT_DELIVERY_LEASES.claim(tx, &key, sink, stale_before, now)? {
                return Ok(AlertClaim::Lost);
            }
            if cancel_if_acknowledged(tx, key, sink, now)? {
                return Ok(AlertClaim::Cancelled);
            }
            Ok(AlertClaim::Held)
        })
    }

    /// Renews this process's hold on a pending alert delivery just before
    /// trying it, like `renew_delivery`: `Lost` when another process has
    /// taken it over (or it was delivered), `Cancelled` (and recorded) for
    /// an escalation whose incident was acknowledged since it was raised.
    pub fn renew_alert_delivery(
        &mut self,
        key: &str,
        sink: &str,
        held_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<AlertClaim> {
        self.write(|tx| {
            if !ALERT_DELIVERY_LEASES.renew(tx, &key, sink, held_since, now)? {
                return Ok(AlertClaim::Lost);
            }
            if cancel_if_acknowledged(tx, key, sink, now)? {
                return Ok(AlertClaim::Cancelled);
            }
            Ok(AlertClaim::Held)
        })
    }

    /// Records how one alert delivery went, with a timeline event on its
    /// incident if it has one (`comms.escalation_delivered` /
    /// `comms.escalation_failed` for escalations, `comms.alert_delivered` /
    /// `comms.alert_failed` for other alerts). One already delivered stays
    /// delivered.
    pub fn record_alert_delivery(
        &mut self,
        key: &str,
        sink: &str,
        outcome: std::result::Result<&str, &str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<AlertDelivery> {
        self.write(|tx| {
            let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE key = ?1");
            let Some(alert) = tx.query_row(&sql, [key], alert_from_row).optional()? else {
                return Err(StoreError::Invalid(format!("no alert '{key}'")).into());
            };
            let Some(current) = alert_deliveries_in_tx(tx, key)?
                .into_iter()
                .find(|d| d.sink == sink)
            else {
                return Err(StoreError::Invalid(format!(
                    "alert '{key}' has no delivery through '{sink}'"
                ))
                .into());
            };
            if current.state.is_final() {
                return Ok(current);
            }
            // Escalations keep their own event kinds; every other alert
            // delivered through sinks (a notify rule's detection) is a
            // `comms.alert_*` event.
            let escalation = alert.kind == crate::domain::comms::ESCALATION;
            let (what, ok_kind, failed_kind) = if escalation {
                (
                    "escalation",
                    kinds::COMMS_ESCALATION_DELIVERED,
                    kinds::COMMS_ESCALATION_FAILED,
                )
            } else {
                (
                    "alert",
                    kinds::COMMS_ALERT_DELIVERED,
                    kinds::COMMS_ALERT_FAILED,
                )
            };
            let (state, detail, kind) = match outcome {
                Ok(d) => (AlertDeliveryState::Delivered, d, ok_kind),
                Err(e) => (AlertDeliveryState::Failed, e, failed_kind),
            };
            let detail: String = detail.chars().take(2000).collect();
            tx.execute(
                "UPDATE alert_deliveries SET state = ?3, detail = ?4, attempts = attempts + 1,
                    updated_at = ?5
                 WHERE alert_key = ?1 AND sink = ?2",
                params![key, sink, state.as_str(), detail, format_time(now)],
            )?;
            if let Some(incident) = &alert.incident_id {
                let who = alert.recipient.as_deref().unwrap_or("everyone");
                let line = match state {
                    AlertDeliveryState::Delivered => {
                        format!("{what} to {who} delivered via {sink}: {detail}")
                    }
                    _ => format!("{what} to {who} NOT delivered via {sink}: {detail}"),
                };
                let mut inc = load_in_tx(tx, incident)?;
                record_change(
                    tx,
                    &mut inc,
                    actor,
                    now,
                    kind,
                    line,
                    json!({
                        "alert_key": key,
                        "recipient": alert.recipient,
                        "sink": sink,
                        "state": state.as_str(),
                        "attempt": current.attempts + 1,
                        "detail": detail,
                    }),
                )?;
            }
            Ok(AlertDelivery {
                alert_key: key.to_string(),
                sink: sink.to_string(),
                state,
                detail,
                attempts: current.attempts + 1,
                updated_at: now,
            })
        })
    }
}
