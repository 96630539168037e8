//! Escalation: the policy's steps at their times while nobody acknowledges,
//! nothing after the acknowledgement, and an acknowledgement landing
//! between a step's claim and its delivery sends nothing.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::comms::sinks;
use crate::domain::Assignment;
use crate::domain::Playbook;
use crate::domain::incident::{Severity, Status};
use crate::domain::policy::DEFAULT_POLICY_TOML;
use crate::store::test_fixtures::t0;
use crate::store::{AlertDeliveryState, NewIncident, Store};

fn at(m: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(m)
}

/// The shipped steps (at the breach commander + primary on-call, 5 min
/// later the security lead, then every 10 min the on-call manager) with
/// the rotations filled in.
fn policy() -> Policy {
    let text = DEFAULT_POLICY_TOML
        .replacen(
            "people = []",
            "people = [\"alice\", \"bob\"]\nstarts = \"2026-02-23T00:00:00Z\"",
            1,
        )
        .replacen("people = []", "people = [\"mgr\"]", 1);
    Policy::from_toml(&text).unwrap()
}

fn config(dir: &Path) -> CommsConfig {
    let toml = "[alerts]\nescalation = [\"ciso@example.com\"]\nsinks = [\"mail\"]\n\
                [[sinks]]\nname = \"mail\"\nkind = \"outbox\"\ndir = \"out\"\n";
    CommsConfig::from_toml(toml, dir).unwrap()
}

fn escalations(alerts: &[NewAlert]) -> Vec<String> {
    alerts
        .iter()
        .filter(|a| a.kind == ESCALATION)
        .map(|a| {
            let step = a.key.split(':').rev().nth(1).unwrap_or("?").to_string();
            format!("{step}:{}", a.recipient.as_deref().unwrap_or("-"))
        })
        .collect()
}

fn subject(i: &Incident, holders: Vec<Assignment>) -> Vec<AlertSubject> {
    vec![AlertSubject {
        incident: i.clone(),
        holders,
    }]
}

fn p1() -> Incident {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    s.create_incident(
        &NewIncident::new("Login API down", Severity::P1),
        &Playbook::builtin(),
        "alice",
        t0(),
    )
    .unwrap()
}

#[test]
fn an_unacknowledged_breach_walks_the_steps_at_their_times_and_stops_at_ack() {
    let dir = tempfile::tempdir().unwrap();
    let (p, c) = (policy(), config(dir.path()));
    let i = p1();
    let carol = Assignment {
        role: Role::Security,
        person: "carol".into(),
        since: at(1),
        until: None,
        assigned_by: "alice".into(),
    };
    let s = subject(&i, vec![carol]);
    let esc = |m: i64| escalations(&due(&s, &p, &c, "bob", at(m)));
    // P1 response due 10:15.
    assert!(esc(14).is_empty());
    assert_eq!(esc(15), ["0:alice", "0:ciso@example.com"]);
    assert_eq!(esc(19), ["0:alice", "0:ciso@example.com"]);
    assert_eq!(esc(20), ["0:alice", "0:ciso@example.com", "1:carol"]);
    assert_eq!(
        esc(30),
        ["0:alice", "0:ciso@example.com", "1:carol", "2:mgr"]
    );
    assert_eq!(
        esc(40),
        ["0:alice", "0:ciso@example.com", "1:carol", "2:mgr", "3:mgr"]
    );
    let text = due(&s, &p, &c, "bob", at(15))
        .into_iter()
        .find(|a| a.kind == ESCALATION)
        .unwrap()
        .text;
    assert_eq!(
        text,
        "ESCALATION step 1 to alice: INC-2026-001 P1 Login API down not acknowledged; response was due 10:15 UTC"
    );

    // Acknowledged (late, at 10:41): nothing more, ever, not even a
    // "you were late" page (the old code escalated only then).
    let mut acked = i.clone();
    acked.acknowledged_at = Some(at(41));
    let s = subject(&acked, vec![]);
    for m in [41, 45, 50, 120] {
        assert!(esc_of(&s, &p, &c, at(m)).is_empty(), "at +{m} min");
    }
}

fn esc_of(s: &[AlertSubject], p: &Policy, c: &CommsConfig, now: DateTime<Utc>) -> Vec<String> {
    escalations(&due(s, p, c, "bob", now))
}

#[test]
fn a_step_that_names_nobody_still_raises_one_alert_to_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let c = CommsConfig::builtin(dir.path());
    // The shipped policy: empty rotations, no roles held.
    let s = subject(&p1(), vec![]);
    let a = due(&s, &Policy::builtin(), &c, "bob", at(15));
    let esc: Vec<_> = a.iter().filter(|a| a.kind == ESCALATION).collect();
    assert_eq!(esc.len(), 1);
    assert_eq!(esc[0].recipient, None);
    assert!(esc[0].text.contains("nobody to page"), "{}", esc[0].text);
}

#[test]
fn through_the_store_each_step_is_delivered_once_and_none_after_ack() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let (p, c) = (policy(), config(dir.path()));
    let mut a = Store::open(&db).unwrap();
    let mut b = Store::open(&db).unwrap();
    let i = a
        .create_incident(
            &NewIncident::new("Login API down", Severity::P1),
            &Playbook::builtin(),
            "alice",
            t0(),
        )
        .unwrap();
    let out = dir.path().join("out");
    let files = || std::fs::read_dir(&out).map_or(0, |d| d.count());

    // Two processes check at 10:15: the step's two pages go out once.
    let first = check_and_deliver(&mut a, &p, &c, "bob", at(15)).unwrap();
    let second = check_and_deliver(&mut b, &p, &c, "carol", at(15)).unwrap();
    assert_eq!(first.escalations.iter().filter(|r| r.delivered).count(), 2);
    assert!(second.escalations.is_empty());
    assert_eq!(files(), 2);
    // 10:20: the security step names nobody (no holder): one page to
    // everyone through the sink.
    check_and_deliver(&mut b, &p, &c, "carol", at(20)).unwrap();
    assert_eq!(files(), 3);
    a.acknowledge(&i.id, "dana", at(21)).unwrap();
    for m in [30, 40, 90] {
        let r = check_and_deliver(&mut a, &p, &c, "bob", at(m)).unwrap();
        assert!(r.escalations.is_empty(), "+{m}: {:?}", r.escalations);
    }
    assert_eq!(files(), 3);
    let kinds: Vec<String> = a
        .timeline(i.id.as_str(), None)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "comms.escalated").count(), 3);
}

#[test]
fn an_ack_between_the_claim_and_the_delivery_sends_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let (p, c) = (policy(), config(dir.path()));
    let mut s = Store::open(&db).unwrap();
    let i = s
        .create_incident(
            &NewIncident::new("Login API down", Severity::P1),
            &Playbook::builtin(),
            "alice",
            t0(),
        )
        .unwrap();
    // The check takes the step (keys and pending deliveries committed)...
    let subjects = s.alert_subjects().unwrap();
    let alerts: Vec<NewAlert> = due(&subjects, &p, &c, "bob", at(15))
        .into_iter()
        .filter(|a| a.kind == ESCALATION)
        .collect();
    let batch: Vec<_> = alerts
        .iter()
        .map(|a| (a.clone(), Some(vec!["mail".to_string()])))
        .collect();
    assert!(s.raise_alerts(&batch).unwrap().iter().all(|t| *t));
    // ...another console acknowledges before the delivery starts...
    let mut other = Store::open(&db).unwrap();
    other
        .acknowledge(&i.id, "dana", at(15) + Duration::seconds(1))
        .unwrap();
    // ...and the delivery, claiming each page, sends none of them.
    let sinks = c.escalation_sinks(&db);
    let results = sinks::deliver_alerts(&mut s, &alerts, &sinks, &c, "bob", at(15));
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| !r.delivered), "{results:?}");
    assert!(!dir.path().join("out").exists() || files_in(&dir.path().join("out")) == 0);
    for a in &alerts {
        let d = s.alert_deliveries(&a.key).unwrap();
        assert_eq!(d[0].state, AlertDeliveryState::Cancelled);
    }
    let cancelled = s
        .timeline(i.id.as_str(), None)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "comms.escalation_cancelled")
        .count();
    assert_eq!(cancelled, 2);
    // A retry much later finds nothing to send.
    let retried = sinks::retry_alerts(&mut s, None, &c, &db, "bob", at(60)).unwrap();
    assert!(retried.is_empty(), "{retried:?}");
    assert_eq!(s.incident(&i.id).unwrap().status, Status::Investigating);
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

#[test]
fn a_policy_without_steps_pages_the_contacts_once_at_the_breach() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let text = DEFAULT_POLICY_TOML
        .split("\n# Escalation while")
        .next()
        .unwrap()
        .to_string();
    let p = Policy::from_toml(&text).unwrap();
    let s = subject(&p1(), vec![]);
    assert!(esc_of(&s, &p, &c, at(14)).is_empty());
    assert_eq!(esc_of(&s, &p, &c, at(15)), ["0:ciso@example.com"]);
    assert_eq!(esc_of(&s, &p, &c, at(300)), ["0:ciso@example.com"]);
}
