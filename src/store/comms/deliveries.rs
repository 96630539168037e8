//! How each message delivery went: outcomes recorded with their timeline
//! events, claims and renewals for a retry, and the deliveries still to
//! retry.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde_json::json;

use super::super::changes::{load_in_tx, record_change};
use super::super::{Result, Store, StoreError};
use super::lease::MESSAGE_DELIVERY_LEASES;
use super::messages::{Delivery, DeliveryState, SentMessage, message_in_tx};
use crate::domain::IncidentId;
use crate::domain::comms::Handover;
use crate::domain::event::{format_time, kinds};

impl Store {
    /// Records how one delivery went: `Ok(detail)` (where it went) or
    /// `Err(reason)`, handed on to be sent (see `record_delivery_via`).
    pub fn record_delivery(
        &mut self,
        message_id: i64,
        sink: &str,
        outcome: Result<&str, &str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Delivery> {
        self.record_delivery_via(message_id, sink, outcome, Handover::Sent, actor, now)
    }

    /// Records how one delivery went: `Ok(detail)` (where it went) or
    /// `Err(reason)`, and for a success how far it went (`handover`: an
    /// outbox file is recorded as "written to outbox, not sent"). Appends
    /// `comms.delivered` or `comms.delivery_failed` to the incident's
    /// timeline. A delivery already recorded as delivered stays delivered
    /// (a late failure from a racing retry is ignored).
    pub fn record_delivery_via(
        &mut self,
        message_id: i64,
        sink: &str,
        outcome: Result<&str, &str>,
        handover: Handover,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Delivery> {
        self.write(|tx| {
            let Some(msg) = message_in_tx(tx, message_id)? else {
                return Err(StoreError::Invalid(format!("no message #{message_id}")).into());
            };
            let Some(current) = msg.deliveries.iter().find(|d| d.sink == sink) else {
                return Err(StoreError::Invalid(format!(
                    "message #{message_id} has no delivery through '{sink}'"
                ))
                .into());
            };
            if current.state == DeliveryState::Delivered {
                return Ok(current.clone());
            }
            let (state, detail, kind) = match outcome {
                Ok(d) => (DeliveryState::Delivered, d, kinds::COMMS_DELIVERED),
                Err(e) => (DeliveryState::Failed, e, kinds::COMMS_DELIVERY_FAILED),
            };
            let detail: String = detail.chars().take(2000).collect();
            let handover = (state == DeliveryState::Delivered).then_some(handover);
            tx.execute(
                "UPDATE deliveries SET state = ?3, detail = ?4, attempts = attempts + 1,
                    updated_at = ?5, handover = ?6
                 WHERE message_id = ?1 AND sink = ?2",
                params![
                    message_id,
                    sink,
                    state.as_str(),
                    detail,
                    format_time(now),
                    handover.map(Handover::as_str)
                ],
            )?;
            let mut incident = load_in_tx(tx, &msg.incident_id)?;
            let line = match handover {
                Some(Handover::Sent) => {
                    format!("message #{message_id} delivered via {sink}: {detail}")
                }
                Some(h) => format!(
                    "message #{message_id} {} (via {sink}: {detail})",
                    h.state_text()
                ),
                None => format!("message #{message_id} NOT delivered via {sink}: {detail}"),
            };
            record_change(
                tx,
                &mut incident,
                actor,
                now,
                kind,
                line,
                json!({
                    "message_id": message_id,
                    "sink": sink,
                    "state": state.as_str(),
                    "attempt": current.attempts + 1,
                    "detail": detail,
                    "handover": handover.map(Handover::as_str),
                }),
            )?;
            Ok(Delivery {
                message_id,
                sink: sink.to_string(),
                state,
                handover,
                detail,
                attempts: current.attempts + 1,
                updated_at: now,
            })
        })
    }

    /// Takes a failed (or stale pending) delivery for a retry: marks it
    /// pending as of `now`. True for the one process that takes it, so two
    /// retries running at once do not deliver twice.
    pub fn claim_delivery(
        &mut self,
        message_id: i64,
        sink: &str,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|tx| {
            Ok(MESSAGE_DELIVERY_LEASES.claim(tx, &message_id, sink, stale_before, now)?)
        })
    }

    /// Renews this process's hold on a pending delivery just before trying
    /// it: the stamp moves from `held_since` (the stamp this process set)
    /// to `now`. False when the delivery is no longer this process's: it
    /// was delivered, or it looked abandoned and another process claimed
    /// it. The sender must then not deliver it.
    pub fn renew_delivery(
        &mut self,
        message_id: i64,
        sink: &str,
        held_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|tx| {
            Ok(MESSAGE_DELIVERY_LEASES.renew(tx, &message_id, sink, held_since, now)?)
        })
    }

    /// Deliveries to retry: failed ones, and pending ones last touched
    /// before `stale_before` (a sender that crashed mid-delivery), of one
    /// incident or all. Oldest message first.
    pub fn pending_deliveries(
        &self,
        incident: Option<&IncidentId>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<(SentMessage, Delivery)>> {
        let keys: Vec<(i64, String)> = self.query_all(
            "SELECT d.message_id, d.sink FROM deliveries d JOIN messages m ON m.id = d.message_id
                 WHERE d.state <> 'delivered'
                   AND (d.state = 'failed' OR d.updated_at < ?2)
                   AND (?1 IS NULL OR m.incident_id = ?1)
                 ORDER BY d.message_id, d.sink",
            params![incident.map(IncidentId::as_str), format_time(stale_before)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut out = Vec::with_capacity(keys.len());
        for (id, sink) in keys {
            if let Some(m) = self.message(id)?
                && let Some(d) = m.deliveries.iter().find(|d| d.sink == sink).cloned()
            {
                out.push((m, d));
            }
        }
        Ok(out)
    }
}
