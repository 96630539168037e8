//! One delivery through one sink, its outcome recorded: for a message
//! (`deliver_and_record`) and for an alert (`deliver_alert_and_record`).
//! Sending, delivering what was just raised, and retrying all end here.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::super::config::{CommsConfig, SinkConfig};
use super::alert::{AlertMessage, AlertResult, deliver_alert};
use super::deliver;
use crate::store::{AlertDeliveryState, SentMessage, Store, StoreError};

/// How one sink did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkResult {
    pub message_id: i64,
    pub sink: String,
    pub delivered: bool,
    /// Where it went, or why it failed.
    pub detail: String,
}

pub(super) fn deliver_and_record(
    store: &mut Store,
    msg: &SentMessage,
    sink: &SinkConfig,
    config: &CommsConfig,
    actor: &str,
    now: DateTime<Utc>,
    terminal: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<SinkResult, StoreError> {
    let handover = super::handover_of(&sink.kind);
    let outcome = deliver(sink, msg, config).and_then(|d| match &d.terminal {
        Some(seq) => terminal(seq)
            .map(|()| d.detail.clone())
            .map_err(|e| format!("cannot write to the terminal: {e}")),
        None => Ok(d.detail),
    });
    if let Err(e) = &outcome {
        tracing::warn!(message = msg.id, sink = %sink.name, "delivery failed: {e}");
    }
    let d = store.record_delivery_via(
        msg.id,
        &sink.name,
        outcome.as_deref().map_err(String::as_str),
        handover,
        actor,
        now,
    )?;
    Ok(SinkResult {
        message_id: msg.id,
        sink: sink.name.clone(),
        delivered: d.state == crate::store::DeliveryState::Delivered,
        detail: d.detail,
    })
}

/// What an escalation overtaken by the incident's acknowledgement reports.
pub(super) const CANCELLED: &str =
    "cancelled: the incident was acknowledged before it went out; nothing sent";

pub(super) fn deliver_alert_and_record(
    store: &mut Store,
    msg: &AlertMessage,
    sink: &SinkConfig,
    config: &CommsConfig,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<AlertResult, StoreError> {
    let outcome = deliver_alert(sink, msg, config).map(|d| d.detail);
    if let Err(e) = &outcome {
        tracing::warn!(alert = %msg.alert.key, sink = %sink.name, "alert delivery failed: {e}");
    }
    let d = store.record_alert_delivery(
        &msg.alert.key,
        &sink.name,
        outcome.as_deref().map_err(String::as_str),
        actor,
        now,
    )?;
    Ok(AlertResult::of(
        msg,
        &sink.name,
        d.state == AlertDeliveryState::Delivered,
        d.detail,
    ))
}
