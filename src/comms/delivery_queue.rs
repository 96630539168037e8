//! Alert deliveries of a long-running raiser (the watcher): one thread with
//! its own store connection takes batches from a bounded queue, so a slow
//! mail command never holds up the loop that commits detections, and a
//! flood of alerts never becomes a flood of threads. A batch that does not
//! fit in the queue is not lost: its deliveries were committed pending with
//! the alerts, and `warroom alerts` (or `notify retry`) takes them later.
//! A caller with one batch now and then (the console, `ingest`, the intake
//! listener, `warroom alerts`) uses [`deliver_in_background`]: the same
//! queue and thread for that one batch, so every process delivers alerts
//! off its own thread one way.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{CommsConfig, SinkConfig};
use crate::store::NewAlert;

/// Batches waiting for the delivery thread, at most.
pub const QUEUE_BATCHES: usize = 64;

type Batch = (Vec<NewAlert>, DateTime<Utc>);

/// The queue and its one delivery thread.
pub struct DeliveryQueue {
    tx: Option<SyncSender<Batch>>,
    thread: Option<JoinHandle<()>>,
}

impl DeliveryQueue {
    /// Starts the delivery thread (it opens the store at `db` when the
    /// first batch comes). Without a thread, batches stay pending.
    pub fn start(
        db: &Path,
        sinks: Vec<SinkConfig>,
        config: &CommsConfig,
        me: &str,
        capacity: usize,
    ) -> DeliveryQueue {
        let (tx, rx) = sync_channel::<Batch>(capacity.max(1));
        let (db, config, me) = (db.to_path_buf(), config.clone(), me.to_string());
        let spawned = std::thread::Builder::new()
            .name("alert-delivery".into())
            .spawn(move || deliver_all(&db, &rx, &sinks, &config, &me));
        match spawned {
            Ok(h) => DeliveryQueue {
                tx: Some(tx),
                thread: Some(h),
            },
            Err(e) => {
                tracing::warn!(
                    "alerts will be left pending for a retry: cannot start a thread: {e}"
                );
                DeliveryQueue {
                    tx: None,
                    thread: None,
                }
            }
        }
    }

    /// Queues a commit's alerts for delivery; false (and they stay pending
    /// for a retry) when the queue is full or the thread is gone.
    pub fn push(&self, alerts: Vec<NewAlert>, now: DateTime<Utc>) -> bool {
        if alerts.is_empty() {
            return true;
        }
        let Some(tx) = &self.tx else {
            return false;
        };
        match tx.try_send((alerts, now)) {
            Ok(()) => true,
            Err(TrySendError::Full((a, _)) | TrySendError::Disconnected((a, _))) => {
                tracing::warn!(
                    alerts = a.len(),
                    "alert delivery queue full; left pending for a retry"
                );
                false
            }
        }
    }

    /// Lets the thread finish what is queued, waiting at most `grace`;
    /// true if it did. What it did not deliver stays pending.
    pub fn finish(mut self, grace: Duration) -> bool {
        self.tx = None;
        let Some(h) = self.thread.take() else {
            return true;
        };
        let deadline = Instant::now() + grace;
        while !h.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if h.is_finished() {
            let _ = h.join();
            true
        } else {
            false
        }
    }
}

/// Delivers alerts this process raised with pending deliveries on a thread
/// of their own (a queue of one batch), so a slow mail command never holds
/// up the caller. If the process ends first, the deliveries stay pending
/// and the next `warroom alerts` (or `notify retry`) takes them after 5
/// minutes. The handle lets a caller about to exit give them a moment.
pub fn deliver_in_background(
    db: &Path,
    alerts: Vec<NewAlert>,
    sinks: Vec<SinkConfig>,
    config: &CommsConfig,
    me: &str,
    now: DateTime<Utc>,
) -> Option<JoinHandle<()>> {
    let mut queue = DeliveryQueue::start(db, sinks, config, me, 1);
    queue.push(alerts, now);
    // Closing the queue ends the thread once the batch is delivered.
    queue.tx = None;
    queue.thread.take()
}

fn deliver_all(
    db: &Path,
    rx: &Receiver<Batch>,
    sinks: &[SinkConfig],
    config: &CommsConfig,
    me: &str,
) {
    let mut store = None;
    while let Ok((alerts, now)) = rx.recv() {
        if store.is_none() {
            match crate::store::Store::open(db) {
                Ok(s) => store = Some(s),
                Err(e) => {
                    tracing::warn!("alerts left pending for a retry: {e}");
                    continue;
                }
            }
        }
        let Some(store) = store.as_mut() else {
            continue;
        };
        for r in super::sinks::deliver_alerts(store, &alerts, sinks, config, me, now) {
            if r.delivered {
                tracing::info!(alert = %r.alert_key, sink = %r.sink, "{} delivered: {}", r.describe(), r.detail);
            } else {
                tracing::warn!(alert = %r.alert_key, sink = %r.sink, "{} NOT delivered: {}", r.describe(), r.detail);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn alert(key: &str) -> NewAlert {
        NewAlert {
            key: key.into(),
            incident_id: None,
            kind: "detection".into(),
            text: "t".into(),
            recipient: Some("oncall".into()),
            raised_by: "w".into(),
            raised_at: Utc::now(),
        }
    }

    #[test]
    fn queued_alerts_are_delivered_by_the_one_thread_before_finish_returns() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let config = CommsConfig::builtin(dir.path());
        let sinks = config.escalation_sinks(&db);
        assert!(!sinks.is_empty(), "the built-in outbox");
        let names: Vec<String> = sinks.iter().map(|s| s.name.clone()).collect();
        let mut store = Store::open(&db).unwrap();
        let alerts: Vec<NewAlert> = (0..3).map(|i| alert(&format!("k{i}"))).collect();
        let raise: Vec<_> = alerts
            .iter()
            .map(|a| (a.clone(), Some(names.clone())))
            .collect();
        store.raise_alerts(&raise).unwrap();
        let q = DeliveryQueue::start(&db, sinks, &config, "w", QUEUE_BATCHES);
        for a in &alerts {
            assert!(q.push(vec![a.clone()], Utc::now()));
        }
        assert!(q.finish(Duration::from_secs(30)));
        for a in &alerts {
            let d = store.alert_deliveries(&a.key).unwrap();
            assert_eq!(d.len(), names.len());
            assert!(d.iter().all(|d| d.state.is_final()), "{d:?}");
        }
    }

    #[test]
    fn one_batch_in_the_background_is_delivered_and_its_thread_ends() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let config = CommsConfig::builtin(dir.path());
        let sinks = config.escalation_sinks(&db);
        let names: Vec<String> = sinks.iter().map(|s| s.name.clone()).collect();
        let mut store = Store::open(&db).unwrap();
        let a = alert("once");
        store
            .raise_alerts(&[(a.clone(), Some(names.clone()))])
            .unwrap();
        let h = deliver_in_background(&db, vec![a.clone()], sinks, &config, "w", Utc::now())
            .expect("a thread");
        h.join()
            .expect("the delivery thread ends once its batch is done");
        let d = store.alert_deliveries(&a.key).unwrap();
        assert_eq!(d.len(), names.len());
        assert!(d.iter().all(|d| d.state.is_final()), "{d:?}");
    }

    #[test]
    fn a_full_queue_refuses_at_once_instead_of_holding_the_caller() {
        // No thread behind it: the sender alone, capacity one.
        let (tx, _rx) = sync_channel::<Batch>(1);
        let q = DeliveryQueue {
            tx: Some(tx),
            thread: None,
        };
        assert!(q.push(vec![alert("a")], Utc::now()));
        assert!(
            !q.push(vec![alert("b")], Utc::now()),
            "full: refused, not blocked"
        );
        assert!(
            q.push(Vec::new(), Utc::now()),
            "nothing to deliver is no refusal"
        );
        assert!(q.finish(Duration::from_secs(1)));
    }
}
