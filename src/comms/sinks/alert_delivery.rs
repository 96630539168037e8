//! Delivering alerts this process has just raised (their deliveries are
//! already pending, taken with the alert's key): each delivery renewed
//! under this process's lease, delivered, and its outcome recorded.

use chrono::{DateTime, Utc};

use super::super::config::{CommsConfig, SinkConfig};
use super::alert::{AlertResult, alert_message};
use super::lease::Lease;
use super::record::{CANCELLED, deliver_alert_and_record};
use crate::store::{AlertClaim, AlertDeliveryState, NewAlert, Store, StoreError};

/// Delivers alerts this process has just raised with pending deliveries
/// (escalations from `Store::raise_alerts`, detections from the watcher's
/// commit; each delivery stamped at the alert's `raised_at`). Never fails:
/// the alerts are raised and must still be shown, so a store error is
/// logged and reported as a failed delivery (left pending, a later retry
/// takes it).
pub fn deliver_alerts(
    store: &mut Store,
    raised: &[NewAlert],
    sinks: &[SinkConfig],
    config: &CommsConfig,
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<AlertResult> {
    let people = store.people().unwrap_or_default();
    let clock = Lease::start(now);
    let mut out = Vec::new();
    for alert in raised {
        let msg = alert_message(store, alert, &people);
        for sink in sinks {
            let result = (|| -> Result<AlertResult, StoreError> {
                match store.renew_alert_delivery(
                    &alert.key,
                    &sink.name,
                    alert.raised_at,
                    clock.now(),
                )? {
                    AlertClaim::Held => {}
                    AlertClaim::Cancelled => {
                        return Ok(AlertResult::of(&msg, &sink.name, false, CANCELLED.into()));
                    }
                    AlertClaim::Lost => {
                        let state = store
                            .alert_deliveries(&alert.key)?
                            .into_iter()
                            .find(|d| d.sink == sink.name);
                        return Ok(AlertResult::of(
                            &msg,
                            &sink.name,
                            state
                                .as_ref()
                                .is_some_and(|d| d.state == AlertDeliveryState::Delivered),
                            format!(
                                "taken over by another process ({})",
                                state.map_or("not recorded", |d| d.state.as_str())
                            ),
                        ));
                    }
                }
                deliver_alert_and_record(store, &msg, sink, config, actor, now)
            })();
            out.push(result.unwrap_or_else(|e| {
                tracing::warn!(alert = %alert.key, sink = %sink.name, "alert delivery: {e}");
                AlertResult::of(&msg, &sink.name, false, format!("not recorded: {e}"))
            }));
        }
    }
    out
}
