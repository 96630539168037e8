//! Raising due alerts: each key taken once across every process (an
//! escalation with one pending delivery per escalation sink, in the same
//! transaction), and the one path that delivers what this process raised
//! off the caller's thread (`deliver_in_background`): the console's alert
//! check and watcher, `watch`, `ingest` and the intake listener all go
//! through it. Retries go through `sinks::retry` and `sinks::retry_alerts`.

use chrono::{DateTime, Utc};

use super::super::CommsConfig;
use super::super::delivery_queue::deliver_in_background;
use super::{ESCALATION, due};
use crate::domain::Policy;
use crate::store::NewAlert;

/// The whole check, for a console tick: computes the due alerts, raises
/// each under its key, and returns those this process raised (and so must
/// show); alerts another process already raised are left out. The
/// escalations among them are delivered through the escalation sinks on a
/// thread of its own (with its own connection), so a slow mail command
/// never holds up the caller; use [`check_and_deliver`] to wait for them.
pub fn check(
    store: &mut crate::store::Store,
    policy: &Policy,
    config: &CommsConfig,
    me: &str,
    now: DateTime<Utc>,
) -> Result<Vec<NewAlert>, crate::store::StoreError> {
    let raised = raise(store, policy, config, me, now)?;
    Ok(raised.escalate_in_background(store.path(), config, me, now))
}

/// What a check did.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// The alerts this process raised: show them.
    pub raised: Vec<NewAlert>,
    /// How the escalations among them went through the escalation sinks.
    pub escalations: Vec<super::super::sinks::AlertResult>,
}

/// [`check`], delivering the escalations before it returns and saying how
/// each went (for `warroom alerts`).
///
/// An escalation (a response breach, to the commander and each escalation
/// contact) is raised together with one pending delivery per escalation
/// sink (`CommsConfig::escalation_sinks`) in the same transaction, so the
/// one process that takes its key delivers it; a failed delivery stays
/// retryable (`sinks::retry_alerts`). Delivery problems never make
/// the check fail: the alerts are raised and must be shown.
pub fn check_and_deliver(
    store: &mut crate::store::Store,
    policy: &Policy,
    config: &CommsConfig,
    me: &str,
    now: DateTime<Utc>,
) -> Result<Checked, crate::store::StoreError> {
    let raised = raise(store, policy, config, me, now)?;
    let escalations = super::super::sinks::deliver_alerts(
        store,
        &raised.escalations,
        &raised.sinks,
        config,
        me,
        now,
    );
    Ok(Checked {
        raised: raised.alerts,
        escalations,
    })
}

struct Raised {
    alerts: Vec<NewAlert>,
    escalations: Vec<NewAlert>,
    sinks: Vec<super::super::SinkConfig>,
}

impl Raised {
    /// Starts delivering the escalations through the sinks on a thread of
    /// their own (when there are both) and returns the alerts this process
    /// raised.
    fn escalate_in_background(
        self,
        db: &std::path::Path,
        config: &CommsConfig,
        me: &str,
        now: DateTime<Utc>,
    ) -> Vec<NewAlert> {
        if !self.escalations.is_empty() && !self.sinks.is_empty() {
            deliver_in_background(db, self.escalations, self.sinks, config, me, now);
        }
        self.alerts
    }
}

fn raise(
    store: &mut crate::store::Store,
    policy: &Policy,
    config: &CommsConfig,
    me: &str,
    now: DateTime<Utc>,
) -> Result<Raised, crate::store::StoreError> {
    let subjects = store.alert_subjects()?;
    take(store, due(&subjects, policy, config, me, now), config)
}

/// Takes the keys of `alerts` in one transaction (an error takes none, so
/// no alert is left recorded but shown by nobody); an escalation is taken
/// together with one pending delivery per escalation sink, so the one
/// process that takes its key is the one that delivers it.
fn take(
    store: &mut crate::store::Store,
    alerts: Vec<NewAlert>,
    config: &CommsConfig,
) -> Result<Raised, crate::store::StoreError> {
    let sinks = config.escalation_sinks(store.path());
    let names: Vec<String> = sinks.iter().map(|s| s.name.clone()).collect();
    let batch: Vec<(NewAlert, Option<Vec<String>>)> = alerts
        .into_iter()
        .map(|a| {
            let through = (a.kind == ESCALATION).then(|| names.clone());
            (a, through)
        })
        .collect();
    let taken = store.raise_alerts(&batch)?;
    let alerts: Vec<NewAlert> = batch
        .into_iter()
        .zip(taken)
        .filter_map(|((a, _), took)| took.then_some(a))
        .collect();
    let escalations = alerts
        .iter()
        .filter(|a| a.kind == ESCALATION)
        .cloned()
        .collect();
    Ok(Raised {
        alerts,
        escalations,
        sinks,
    })
}

/// For a caller that computed its due alerts itself (the console, which
/// checks only the incidents that changed): raises them as [`check`]
/// does, escalations delivered in the background, and returns those this
/// process raised.
pub fn raise_due(
    store: &mut crate::store::Store,
    alerts: Vec<NewAlert>,
    config: &CommsConfig,
    me: &str,
    now: DateTime<Utc>,
) -> Result<Vec<NewAlert>, crate::store::StoreError> {
    let raised = take(store, alerts, config)?;
    Ok(raised.escalate_in_background(store.path(), config, me, now))
}
