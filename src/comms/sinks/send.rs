//! Sending a message: record it, then deliver through each sink and
//! record each outcome; older failures of the incident are retried after
//! the new message has gone out.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::super::config::CommsConfig;
use super::lease::Lease;
use super::record::{SinkResult, deliver_and_record};
use super::retry::retry_where;
use crate::store::{NewMessage, SentMessage, Store, StoreError};

/// What a send did: the message as recorded (with its deliveries after
/// this attempt), each sink's result, and older deliveries retried.
#[derive(Debug, Clone, Serialize)]
pub struct SendOutcome {
    pub message: SentMessage,
    pub results: Vec<SinkResult>,
    pub retried: Vec<SinkResult>,
}

impl SendOutcome {
    pub fn failures(&self) -> usize {
        self.results.iter().filter(|r| !r.delivered).count()
    }
}

/// Sends a message: selects the sinks (`names`, or the defaults for the
/// audience), records it (`Store::send_message`), retries older failed
/// deliveries of the incident, then delivers through each sink and records
/// each outcome. `terminal` writes OSC 52 sequences to the user's terminal;
/// its error fails that delivery.
#[allow(clippy::too_many_arguments)]
pub fn send(
    store: &mut Store,
    new: &NewMessage,
    names: &[String],
    config: &CommsConfig,
    db: &Path,
    now: DateTime<Utc>,
    terminal: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<SendOutcome, StoreError> {
    let sinks = config
        .select_sinks(names, new.audience, db)
        .map_err(StoreError::Invalid)?;
    let sink_names: Vec<String> = sinks.iter().map(|s| s.name.clone()).collect();
    let sent = store.send_message(new, &sink_names, now)?;
    let clock = Lease::start(now);
    // The new message first: it must not wait behind old failures, each of
    // which may take a whole command timeout.
    let mut results = Vec::new();
    for sink in &sinks {
        // Each delivery is renewed just before it is tried, so one that
        // waited behind a slow sink does not look abandoned; if another
        // process took it over meanwhile, it is theirs to deliver.
        let at = clock.now();
        if !store.renew_delivery(sent.id, &sink.name, now, at)? {
            results.push(taken_over(store, sent.id, &sink.name)?);
            continue;
        }
        results.push(deliver_and_record(
            store,
            &sent,
            sink,
            config,
            &new.author,
            now,
            terminal,
        )?);
    }
    let retried = retry_where(
        store,
        Some(&new.incident_id),
        Some(sent.id),
        config,
        db,
        &new.author,
        clock.now(),
        terminal,
    )?;
    let message = store.message(sent.id)?.unwrap_or(sent);
    Ok(SendOutcome {
        message,
        results,
        retried,
    })
}

/// A delivery of this send that another process took over (it looked
/// abandoned): reported as it stands, not delivered again.
fn taken_over(store: &Store, message_id: i64, sink: &str) -> Result<SinkResult, StoreError> {
    let d = store
        .message(message_id)?
        .and_then(|m| m.deliveries.into_iter().find(|d| d.sink == sink));
    let (delivered, detail) = match d {
        Some(d) => (
            d.state == crate::store::DeliveryState::Delivered,
            format!(
                "taken over by another process ({}{}{})",
                d.state.as_str(),
                if d.detail.is_empty() { "" } else { ": " },
                d.detail
            ),
        ),
        None => (false, "taken over by another process".to_string()),
    };
    tracing::warn!(message = message_id, sink, "{detail}");
    Ok(SinkResult {
        message_id,
        sink: sink.to_string(),
        delivered,
        detail,
    })
}
