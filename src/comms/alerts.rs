//! Which responder alerts are due at `now`. Pure: the same incidents, policy,
//! settings and `now` give the same alerts in every process, with the same
//! keys, so `Store::raise_alert` lets exactly one process take (and show)
//! each.
//!
//! Occasions and their keys (times are RFC 3339 UTC):
//! - a clock nearing its deadline (`near`, once the configured share of its
//!   time is used, default 75%): `clock:ID:KIND:DUE:near`
//! - a clock breached (unmet past due): `clock:ID:KIND:DUE:breached`
//! - a clock due at once (zero time allowed, e.g. a P1's customer notice):
//!   `clock:ID:KIND:DUE:due`
//! - a response breached and unacknowledged walks the policy's escalation
//!   steps (each step once per occurrence, the last repeating), to each
//!   person a step names (and at the first step, comms.toml's escalation
//!   contacts): `escalate:ID:response:DUE:N:WHO` (`N` the occurrence,
//!   `WHO` `-` when the step named nobody); nothing once acknowledged
//! - a new, unacknowledged incident opened by the rule watcher:
//!   `incident:ID:new`
//! - a role assigned to me (not by myself): `role:ID:ROLE:SINCE:ME`
//!
//! The due time is part of a clock's key, so a restarted update cadence or a
//! severity change that moves a deadline is a new occasion, while the same
//! deadline never alerts twice.

use chrono::{DateTime, Utc};

use super::CommsConfig;
use crate::domain::event::format_time;
use crate::domain::sla::{ClockKind, ClockState, clocks, format_countdown};
use crate::domain::{Incident, Policy, Role, Source, Status};
use crate::store::{AlertSubject, NewAlert};
use crate::text::display_safe;

pub use crate::domain::comms::{
    CLOCK_BREACHED, CLOCK_DUE, CLOCK_NEAR, DETECTION, ESCALATION, INCIDENT_NEW, ROLE_ASSIGNED,
};

/// Alert kinds that call for immediate attention (desktop urgency
/// critical).
pub fn is_urgent(kind: &str) -> bool {
    matches!(kind, CLOCK_BREACHED | ESCALATION | CLOCK_DUE)
}

fn hhmm(t: DateTime<Utc>) -> String {
    t.format("%H:%M UTC").to_string()
}

fn headline(i: &Incident) -> String {
    let drill = if i.drill { "[DRILL] " } else { "" };
    format!(
        "{drill}{} {} {}",
        i.id,
        i.severity,
        display_safe(i.title.trim())
    )
}

/// The alerts that should exist at `now` for the open incidents given, as
/// seen by `me` (role alerts are only mine). Raise each with
/// `Store::raise_alert`; show only those it returns true for.
pub fn due(
    subjects: &[AlertSubject],
    policy: &Policy,
    config: &CommsConfig,
    me: &str,
    now: DateTime<Utc>,
) -> Vec<NewAlert> {
    let mut out = Vec::new();
    for s in subjects {
        let i = &s.incident;
        if !i.status.is_open() {
            continue;
        }
        let id = i.id.as_str();
        let alert = |key: String, kind: &str, text: String, recipient: Option<String>| NewAlert {
            key,
            incident_id: Some(id.to_string()),
            kind: kind.to_string(),
            text,
            recipient,
            raised_by: me.to_string(),
            raised_at: now,
        };

        if i.source == Source::RuleWatcher
            && i.acknowledged_at.is_none()
            && i.status == Status::Investigating
        {
            out.push(alert(
                format!("incident:{id}:new"),
                INCIDENT_NEW,
                format!("New incident from the rule watcher: {}", headline(i)),
                None,
            ));
        }

        for c in clocks(i, policy, now) {
            // Escalation goes on only while nobody has acknowledged.
            if let (ClockKind::Response, None, Some(breached)) = (&c.kind, c.met_at, c.breached_at)
            {
                escalate(&mut out, s, policy, config, &c, breached, now, &alert);
            }
            if !c.is_live() {
                continue;
            }
            let base = format!("clock:{id}:{}:{}", c.kind.key(), format_time(c.due));
            let label = c.kind.label();
            match c.state {
                ClockState::DueNow => {
                    out.push(alert(
                        format!("{base}:due"),
                        CLOCK_DUE,
                        format!(
                            "{}: {label} is due now (policy: immediately; breached at {})",
                            headline(i),
                            hhmm(c.due)
                        ),
                        None,
                    ));
                }
                ClockState::Running if c.fraction_used(now) >= config.near_threshold => {
                    let pct = (c.fraction_used(now) * 100.0).floor() as i64;
                    out.push(alert(
                        format!("{base}:near"),
                        CLOCK_NEAR,
                        format!(
                            "{}: {label} clock {pct}% used, due {} ({} left)",
                            headline(i),
                            hhmm(c.due),
                            format_countdown(c.remaining)
                        ),
                        None,
                    ));
                }
                ClockState::Breached => {
                    out.push(alert(
                        format!("{base}:breached"),
                        CLOCK_BREACHED,
                        format!(
                            "{}: {label} clock BREACHED, was due {}",
                            headline(i),
                            hhmm(c.due)
                        ),
                        None,
                    ));
                }
                _ => {}
            }
        }

        for a in &s.holders {
            if a.person == me && a.assigned_by != me && a.until.is_none() {
                out.push(alert(
                    format!("role:{id}:{}:{}:{me}", a.role, format_time(a.since)),
                    ROLE_ASSIGNED,
                    format!(
                        "You are now {} on {} (assigned by {})",
                        a.role.title().to_lowercase(),
                        headline(i),
                        display_safe(&a.assigned_by)
                    ),
                    Some(me.to_string()),
                ));
            }
        }
    }
    out
}

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
    pub escalations: Vec<super::sinks::AlertResult>,
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
    let escalations =
        super::sinks::deliver_alerts(store, &raised.escalations, &raised.sinks, config, me, now);
    Ok(Checked {
        raised: raised.alerts,
        escalations,
    })
}

struct Raised {
    alerts: Vec<NewAlert>,
    escalations: Vec<NewAlert>,
    sinks: Vec<super::SinkConfig>,
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

/// Delivers alerts this process raised with pending deliveries
/// (escalations, a notify rule's detections) on a thread with its own
/// store connection, so a slow mail command never holds up the caller
/// (the console's store worker, the watcher's loop). If the process ends
/// first, the deliveries stay pending and the next `warroom alerts` (or
/// `notify retry`) takes them after 5 minutes. The handle lets a caller
/// that is about to exit give them a moment to finish.
pub fn deliver_in_background(
    db: &std::path::Path,
    alerts: Vec<NewAlert>,
    sinks: Vec<super::SinkConfig>,
    config: &CommsConfig,
    me: &str,
    now: DateTime<Utc>,
) -> Option<std::thread::JoinHandle<()>> {
    let (db, config, me) = (db.to_path_buf(), config.clone(), me.to_string());
    let spawned = std::thread::Builder::new()
        .name("alert-delivery".into())
        .spawn(move || match crate::store::Store::open(&db) {
            Ok(mut store) => {
                for r in
                    super::sinks::deliver_alerts(&mut store, &alerts, &sinks, &config, &me, now)
                {
                    if r.delivered {
                        tracing::info!(alert = %r.alert_key, sink = %r.sink, "{} delivered: {}", r.describe(), r.detail);
                    } else {
                        tracing::warn!(alert = %r.alert_key, sink = %r.sink, "{} NOT delivered: {}", r.describe(), r.detail);
                    }
                }
            }
            Err(e) => tracing::warn!("alerts left pending for a retry: {e}"),
        });
    match spawned {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::warn!("alerts left pending for a retry: cannot start a thread: {e}");
            None
        }
    }
}

/// Builds an alert of one incident: (key, kind, text, recipient).
type MakeAlert<'a> = dyn Fn(String, &str, String, Option<String>) -> NewAlert + 'a;

/// A response breached and still unacknowledged: every escalation step
/// due by `now` (the policy's steps from the breach on, the last one
/// repeating), one alert per person the step names at its time, each under
/// a key of its own so it is raised (and delivered) once. A step that names
/// nobody (an empty rotation, a role nobody holds) still raises one alert,
/// to everyone, saying so: escalation never goes quiet.
#[allow(clippy::too_many_arguments)]
fn escalate(
    out: &mut Vec<NewAlert>,
    s: &AlertSubject,
    policy: &Policy,
    config: &CommsConfig,
    c: &crate::domain::Clock,
    breached: DateTime<Utc>,
    now: DateTime<Utc>,
    alert: &MakeAlert<'_>,
) {
    let i = &s.incident;
    let holder = |r: Role| {
        s.holders
            .iter()
            .find(|a| a.role == r && a.until.is_none())
            .map(|a| a.person.clone())
    };
    let what = format!("not acknowledged; response was due {}", hhmm(c.due));
    // A policy without steps still pages comms.toml's contacts, once, at
    // the breach (as before escalation steps existed).
    let at_breach = crate::domain::escalation::EscalationPolicy {
        steps: vec![crate::domain::escalation::Step {
            notify: Vec::new(),
            wait: std::time::Duration::ZERO,
        }],
        rotations: Default::default(),
    };
    let escalation = match policy.escalation.steps.is_empty() {
        true => &at_breach,
        false => &policy.escalation,
    };
    for d in escalation.due(breached, now) {
        let mut who: Vec<String> = Vec::new();
        for t in &d.step.notify {
            if let Some(w) = escalation.resolve(t, holder, d.at)
                && !who.contains(&w)
            {
                who.push(w);
            }
        }
        if d.occurrence == 0 {
            for e in &config.escalation {
                if !who.contains(e) {
                    who.push(e.clone());
                }
            }
        }
        let step = d.occurrence + 1;
        let base = format!(
            "escalate:{}:response:{}:{}",
            i.id,
            format_time(c.due),
            d.occurrence
        );
        if who.is_empty() {
            out.push(alert(
                format!("{base}:-"),
                ESCALATION,
                format!(
                    "ESCALATION step {step}: nobody to page (the step's roles and rotations name no one): {} {what}",
                    headline(i)
                ),
                None,
            ));
        }
        for w in who {
            out.push(alert(
                format!("{base}:{w}"),
                ESCALATION,
                format!(
                    "ESCALATION step {step} to {}: {} {what}",
                    display_safe(&w),
                    headline(i)
                ),
                Some(w),
            ));
        }
    }
}

#[cfg(test)]
#[path = "escalation_tests.rs"]
mod escalation_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Assignment;
    use crate::domain::incident::{Cia, IncidentId, Phase, Severity};
    use chrono::Duration;
    use std::path::Path;

    fn t0() -> DateTime<Utc> {
        "2026-03-01T10:00:00Z".parse().unwrap()
    }

    fn incident(sev: Severity) -> Incident {
        Incident {
            id: IncidentId::new(2026, 1),
            title: "Login API down".into(),
            summary: String::new(),
            severity: sev,
            status: Status::Investigating,
            phase: Phase::Detection,
            source: Source::Manual,
            affected: String::new(),
            cia: Cia::default(),
            customer_impact: String::new(),
            personal_data_breach: false,
            drill: false,
            detected_at: t0(),
            declared_at: t0(),
            acknowledged_at: None,
            contained_at: None,
            resolved_at: None,
            closed_at: None,
            customer_notified_at: Some(t0()),
            regulator_notified_at: None,
            last_update_at: None,
            updated_at: t0(),
            clock_history: Default::default(),
        }
    }

    fn subject(i: Incident, holders: Vec<Assignment>) -> AlertSubject {
        AlertSubject {
            incident: i,
            holders,
        }
    }

    fn config() -> CommsConfig {
        CommsConfig::builtin(Path::new("/c"))
    }

    fn keys(alerts: &[NewAlert]) -> Vec<&str> {
        alerts.iter().map(|a| a.key.as_str()).collect()
    }

    #[test]
    fn response_nears_at_exactly_75_percent_and_breaches_at_due() {
        // P2: response due in 60 minutes; 75% is 45:00 in.
        let s = [subject(incident(Severity::P2), vec![])];
        let p = Policy::builtin();
        let at = |ms: i64| t0() + Duration::milliseconds(ms);
        let near = "clock:INC-2026-001:response:2026-03-01T11:00:00.000Z:near";
        let breached = "clock:INC-2026-001:response:2026-03-01T11:00:00.000Z:breached";
        assert!(!keys(&due(&s, &p, &config(), "me", at(45 * 60_000 - 1))).contains(&near));
        let a = due(&s, &p, &config(), "me", at(45 * 60_000));
        assert!(keys(&a).contains(&near), "{:?}", keys(&a));
        let n = a.iter().find(|a| a.key == near).unwrap();
        assert_eq!(n.kind, CLOCK_NEAR);
        assert_eq!(
            n.text,
            "INC-2026-001 P2 Login API down: Response clock 75% used, due 11:00 UTC (15:00 left)"
        );
        let a = due(&s, &p, &config(), "me", at(60 * 60_000 - 1));
        assert!(keys(&a).contains(&near) && !keys(&a).contains(&breached));
        let a = due(&s, &p, &config(), "me", at(60 * 60_000));
        assert!(
            keys(&a).contains(&breached) && !keys(&a).contains(&near),
            "{:?}",
            keys(&a)
        );
    }

    #[test]
    fn the_threshold_is_configurable() {
        let s = [subject(incident(Severity::P2), vec![])];
        let mut c = config();
        c.near_threshold = 0.5;
        let at30 = t0() + Duration::minutes(30);
        assert!(
            due(&s, &Policy::builtin(), &c, "me", at30)
                .iter()
                .any(|a| a.kind == CLOCK_NEAR)
        );
        assert!(
            !due(
                &s,
                &Policy::builtin(),
                &c,
                "me",
                at30 - Duration::milliseconds(1)
            )
            .iter()
            .any(|a| a.kind == CLOCK_NEAR)
        );
    }

    #[test]
    fn watcher_incidents_roles_and_immediate_clocks() {
        let mut i = incident(Severity::P1);
        i.source = Source::RuleWatcher;
        i.customer_notified_at = None;
        let role = |person: &str, by: &str| Assignment {
            role: Role::Security,
            person: person.into(),
            since: t0() + Duration::minutes(1),
            until: None,
            assigned_by: by.into(),
        };
        let s = [subject(i.clone(), vec![role("carol", "alice")])];
        let now = t0() + Duration::minutes(2);
        let a = due(&s, &Policy::builtin(), &config(), "carol", now);
        let k = keys(&a);
        assert!(k.contains(&"incident:INC-2026-001:new"), "{k:?}");
        assert!(
            k.contains(&"clock:INC-2026-001:customer_notice:2026-03-01T10:05:00.000Z:due"),
            "{k:?}"
        );
        assert!(
            k.contains(&"role:INC-2026-001:security:2026-03-01T10:01:00.000Z:carol"),
            "{k:?}"
        );
        let r = a.iter().find(|a| a.kind == ROLE_ASSIGNED).unwrap();
        assert_eq!(r.recipient.as_deref(), Some("carol"));
        assert_eq!(
            r.text,
            "You are now security lead on INC-2026-001 P1 Login API down (assigned by alice)"
        );
        // Someone else's console raises no role alert for carol, and nobody
        // is alerted about a role they gave themselves.
        assert!(
            !due(&s, &Policy::builtin(), &config(), "dave", now)
                .iter()
                .any(|a| a.kind == ROLE_ASSIGNED)
        );
        let own = [subject(i.clone(), vec![role("carol", "carol")])];
        assert!(
            !due(&own, &Policy::builtin(), &config(), "carol", now)
                .iter()
                .any(|a| a.kind == ROLE_ASSIGNED)
        );
        // Acknowledged: no longer "new".
        let mut acked = i;
        acked.acknowledged_at = Some(now);
        assert!(
            !due(
                &[subject(acked, vec![])],
                &Policy::builtin(),
                &config(),
                "x",
                now
            )
            .iter()
            .any(|a| a.kind == INCIDENT_NEW)
        );
    }

    #[test]
    fn the_update_cadence_is_a_new_occasion_after_each_update() {
        let mut i = incident(Severity::P2);
        i.acknowledged_at = Some(t0());
        let p = Policy::builtin();
        // P2 updates every 2 hours from declaration; 75% is 1:30.
        let now = t0() + Duration::minutes(90);
        let a = due(&[subject(i.clone(), vec![])], &p, &config(), "me", now);
        assert_eq!(
            keys(&a),
            ["clock:INC-2026-001:next_update:2026-03-01T12:00:00.000Z:near"]
        );
        i.last_update_at = Some(now);
        let later = now + Duration::minutes(90);
        let a = due(&[subject(i.clone(), vec![])], &p, &config(), "me", later);
        assert_eq!(
            keys(&a),
            ["clock:INC-2026-001:next_update:2026-03-01T13:30:00.000Z:near"]
        );
        // Resolved incidents raise nothing.
        i.status = Status::Resolved;
        assert!(
            due(
                &[subject(i, vec![])],
                &p,
                &config(),
                "me",
                later + Duration::days(3)
            )
            .is_empty()
        );
    }

    #[test]
    fn a_console_check_is_not_held_up_by_a_slow_escalation_sink() {
        use crate::domain::Playbook;
        use crate::store::{NewIncident, Store};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let gate = dir.path().join("gate");
        let out = dir.path().join("paged");
        let mut store = Store::open(&db).unwrap();
        store
            .create_incident(
                &NewIncident::new("Login API down", Severity::P1),
                &Playbook::builtin(),
                "alice",
                t0(),
            )
            .unwrap();
        let toml = format!(
            "[alerts]\nescalation = [\"ciso@example.com\"]\nsinks = [\"pager\"]\n\
             [[sinks]]\nname = \"pager\"\nkind = \"command\"\n\
             argv = [\"sh\", \"-c\", \"while [ ! -e \\\"$1\\\" ]; do sleep 0.05; done; cat > \\\"$2\\\"\", \"sink\", \"{}\", \"{}\"]\n",
            gate.display(),
            out.display()
        );
        let config = CommsConfig::from_toml(&toml, dir.path()).unwrap();
        // 10:16: only the first escalation step is due (one page).
        let now = t0() + Duration::minutes(16);
        let (tx, rx) = std::sync::mpsc::channel();
        let c = config.clone();
        std::thread::spawn(move || {
            let _ = tx.send(check(&mut store, &Policy::builtin(), &c, "bob", now));
        });
        // The pager waits for the gate, which opens only after check()
        // returned: a check that waited for it would never return.
        let returned = rx.recv_timeout(std::time::Duration::from_secs(60));
        std::fs::write(&gate, "").unwrap();
        let raised = returned
            .expect("check() waited for the escalation sink")
            .unwrap();
        let esc = raised.iter().find(|a| a.kind == ESCALATION).unwrap();

        // The delivery completes behind it, recorded in the store.
        let store = Store::open(&db).unwrap();
        let mut state = None;
        for _ in 0..1200 {
            state = store
                .alert_deliveries(&esc.key)
                .unwrap()
                .first()
                .map(|d| d.state);
            if state == Some(crate::store::AlertDeliveryState::Delivered) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(state, Some(crate::store::AlertDeliveryState::Delivered));
        assert!(
            std::fs::read_to_string(&out)
                .unwrap()
                .contains("ESCALATION")
        );
    }

    #[test]
    fn alerts_the_console_computed_are_raised_with_their_escalation_deliveries() {
        use crate::domain::Playbook;
        use crate::store::{NewIncident, Store};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let mut store = Store::open(&db).unwrap();
        store
            .create_incident(
                &NewIncident::new("Login API down", Severity::P1),
                &Playbook::builtin(),
                "alice",
                t0(),
            )
            .unwrap();
        let toml = "[alerts]\nescalation = [\"ciso@example.com\"]\nsinks = [\"mail\"]\n\
                    [[sinks]]\nname = \"mail\"\nkind = \"outbox\"\ndir = \"out\"\n";
        let config = CommsConfig::from_toml(toml, dir.path()).unwrap();
        let now = t0() + Duration::minutes(20);
        // The console computes due() over what it has loaded, then raises.
        let subjects = store.alert_subjects().unwrap();
        let due_now = due(&subjects, &Policy::builtin(), &config, "bob", now);
        let raised = raise_due(&mut store, due_now.clone(), &config, "bob", now).unwrap();
        let esc = raised.iter().find(|a| a.kind == ESCALATION).unwrap();
        let deliveries = store.alert_deliveries(&esc.key).unwrap();
        assert_eq!(deliveries.len(), 1, "one delivery per escalation sink");
        // A second console computing the same alerts raises none of them.
        let again = raise_due(&mut store, due_now, &config, "carol", now).unwrap();
        assert!(again.is_empty());
        assert_eq!(store.alert_deliveries(&esc.key).unwrap().len(), 1);
    }

    #[test]
    fn the_same_inputs_give_the_same_alerts() {
        let s = [subject(incident(Severity::P1), vec![])];
        let now = t0() + Duration::hours(2);
        let a = due(&s, &Policy::builtin(), &config(), "me", now);
        assert!(!a.is_empty());
        assert_eq!(a, due(&s, &Policy::builtin(), &config(), "me", now));
    }
}
