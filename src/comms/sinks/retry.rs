//! The one retry path: failed deliveries, and pending ones abandoned by a
//! sender that died, of messages and of alerts; each is claimed under a
//! lease first, so two processes retrying at once never deliver twice.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::super::config::CommsConfig;
use super::STALE_PENDING;
use super::alert::{AlertResult, alert_message};
use super::lease::Lease;
use super::record::{CANCELLED, SinkResult, deliver_alert_and_record, deliver_and_record};
use crate::domain::IncidentId;
use crate::store::{AlertClaim, Delivery, Store, StoreError};

/// Re-delivers failed deliveries (and pending ones abandoned for longer
/// than [`STALE_PENDING`]) of one incident or all. Each is claimed first,
/// so two retries at once do not deliver twice.
pub fn retry(
    store: &mut Store,
    incident: Option<&IncidentId>,
    config: &CommsConfig,
    db: &Path,
    actor: &str,
    now: DateTime<Utc>,
    terminal: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<Vec<SinkResult>, StoreError> {
    retry_where(store, incident, None, config, db, actor, now, terminal)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn retry_where(
    store: &mut Store,
    incident: Option<&IncidentId>,
    except: Option<i64>,
    config: &CommsConfig,
    db: &Path,
    actor: &str,
    now: DateTime<Utc>,
    terminal: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<Vec<SinkResult>, StoreError> {
    let stale_before =
        now - chrono::Duration::from_std(STALE_PENDING).unwrap_or(chrono::Duration::zero());
    let due = store.pending_deliveries(incident, stale_before)?;
    let all = config.effective_sinks(db);
    let clock = Lease::start(now);
    let mut out = Vec::new();
    for (msg, Delivery { sink, .. }) in due {
        // Claimed as of the moment it is tried, not the moment the retry
        // began: a delivery waiting behind slow ones must not look
        // abandoned to another process before it is tried.
        if Some(msg.id) == except
            || !store.claim_delivery(msg.id, &sink, stale_before, clock.now())?
        {
            continue;
        }
        let result = match all.iter().find(|s| s.name == sink) {
            Some(cfg) => deliver_and_record(store, &msg, cfg, config, actor, now, terminal)?,
            None => {
                let why = format!("sink '{sink}' is no longer configured (comms.toml)");
                store.record_delivery(msg.id, &sink, Err(&why), actor, now)?;
                SinkResult {
                    message_id: msg.id,
                    sink,
                    delivered: false,
                    detail: why,
                }
            }
        };
        out.push(result);
    }
    Ok(out)
}

/// Re-delivers failed alert deliveries (escalations and detections; and
/// pending ones abandoned for longer than [`STALE_PENDING`]) of one
/// incident or all, each claimed first.
pub fn retry_alerts(
    store: &mut Store,
    incident: Option<&IncidentId>,
    config: &CommsConfig,
    db: &Path,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<AlertResult>, StoreError> {
    let stale_before =
        now - chrono::Duration::from_std(STALE_PENDING).unwrap_or(chrono::Duration::zero());
    let due = store.pending_alert_deliveries(incident, stale_before)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let all = config.effective_sinks(db);
    let people = store.people()?;
    let clock = Lease::start(now);
    let mut out = Vec::new();
    for (alert, d) in due {
        let claim = store.claim_alert_delivery(&alert.key, &d.sink, stale_before, clock.now())?;
        let msg = alert_message(store, &alert, &people);
        match claim {
            AlertClaim::Held => {}
            AlertClaim::Lost => continue,
            AlertClaim::Cancelled => {
                out.push(AlertResult::of(&msg, &d.sink, false, CANCELLED.into()));
                continue;
            }
        }
        let result = match all.iter().find(|s| s.name == d.sink) {
            Some(sink) => deliver_alert_and_record(store, &msg, sink, config, actor, now)?,
            None => {
                let why = format!("sink '{}' is no longer configured (comms.toml)", d.sink);
                store.record_alert_delivery(&alert.key, &d.sink, Err(&why), actor, now)?;
                AlertResult::of(&msg, &d.sink, false, why)
            }
        };
        out.push(result);
    }
    Ok(out)
}
