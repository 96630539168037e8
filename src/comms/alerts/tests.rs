//! Which alerts are due: thresholds, keys, roles and the update cadence;
//! raising what a console computed, and a check that a slow escalation
//! sink does not hold up.

use super::*;
use crate::domain::Assignment;
use crate::domain::incident::{Cia, IncidentId, Phase, Severity};
use crate::store::test_fixtures::t0;
use chrono::Duration;
use std::path::Path;

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
        customer_summary: String::new(),
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
