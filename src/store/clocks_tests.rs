//! The store's side of the clocks on real SQLite files: a downgrade after
//! a breach needs its reason, pauses and detection changes are recorded
//! with what replays them, acknowledgement says how it happened, and every
//! console can read every alert.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::domain::sla::{ClockKind, ClockState, clocks};
use crate::domain::{Playbook, Role, Severity, Status};
use crate::store::{IncidentPatch, NewAlert, NewIncident, Store, StoreError};

fn at(m: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap() + Duration::minutes(m)
}

fn setup(sev: Severity) -> (tempfile::TempDir, Store, crate::domain::IncidentId) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let i = s
        .create_incident(
            &NewIncident::new("Login API down", sev),
            &Playbook::builtin(),
            "alice",
            at(0),
        )
        .unwrap();
    (dir, s, i.id)
}

fn severity(to: Severity, reason: Option<&str>) -> IncidentPatch {
    IncidentPatch {
        severity: Some(to),
        reason: reason.map(str::to_string),
        ..IncidentPatch::default()
    }
}

fn data(s: &Store, id: &crate::domain::IncidentId, kind: &str) -> serde_json::Value {
    let e = s
        .timeline(id.as_str(), None)
        .unwrap()
        .into_iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} event"));
    serde_json::from_str(&e.data).unwrap()
}

#[test]
fn lowering_the_severity_after_a_breach_needs_a_reason_and_the_breach_stays() {
    let (_d, mut s, id) = setup(Severity::P1);
    // 10:20: response (10:15) and customer notice (10:05) breached.
    let e = s
        .update_incident(&id, &severity(Severity::P3, None), "bob", at(20))
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert!(e.to_string().contains("needs a reason"), "{e}");
    assert_eq!(
        s.incident(&id).unwrap().severity,
        Severity::P1,
        "nothing changed"
    );
    let blank = severity(Severity::P3, Some("  "));
    assert!(s.update_incident(&id, &blank, "bob", at(20)).is_err());

    let i = s
        .update_incident(
            &id,
            &severity(Severity::P3, Some("only one customer affected")),
            "bob",
            at(20),
        )
        .unwrap();
    assert_eq!(i.severity, Severity::P3);
    let c = clocks(&i, s.policy(), at(21));
    for kind in [ClockKind::Response, ClockKind::CustomerNotice] {
        let clock = c.iter().find(|c| c.kind == kind).unwrap();
        assert_eq!(clock.state, ClockState::Breached, "{kind:?}");
        assert_eq!(clock.severity, Severity::P1);
    }
    let d = data(&s, &id, "incident.updated");
    assert_eq!(d["reason"], "only one customer affected");
    assert_eq!(d["changes"]["severity"]["from"], "P1");
    assert_eq!(d["changes"]["severity"]["to"], "P3");
    // Re-read from the file: the history is kept with the incident.
    assert_eq!(s.incident(&id).unwrap().clock_history, i.clock_history);

    // Raising needs no reason; lowering before any breach neither.
    let (_d2, mut s2, id2) = setup(Severity::P3);
    s2.update_incident(&id2, &severity(Severity::P4, None), "bob", at(5))
        .unwrap();
    s2.update_incident(&id2, &severity(Severity::P1, None), "bob", at(6))
        .unwrap();
}

#[test]
fn pausing_and_resuming_are_recorded_and_regulatory_clocks_never_pause() {
    let (_d, mut s, id) = setup(Severity::P2);
    let e = s
        .pause_clock(&id, &ClockKind::CustomerNotice, " ", "bob", at(10))
        .unwrap_err();
    assert!(e.to_string().contains("reason"), "{e}");
    let i = s
        .pause_clock(
            &id,
            &ClockKind::CustomerNotice,
            "waiting on the customer",
            "bob",
            at(60),
        )
        .unwrap();
    let n = clocks(&i, s.policy(), at(600))
        .into_iter()
        .find(|c| c.kind == ClockKind::CustomerNotice)
        .unwrap();
    assert_eq!(n.state, ClockState::Paused);
    assert!(
        s.pause_clock(&id, &ClockKind::CustomerNotice, "again", "bob", at(61))
            .is_err()
    );
    let d = data(&s, &id, "clock.paused");
    assert_eq!(d["clock"], "customer_notice");
    assert_eq!(d["reason"], "waiting on the customer");

    let i = s
        .resume_clock(&id, &ClockKind::CustomerNotice, "bob", at(120))
        .unwrap();
    let n = clocks(&i, s.policy(), at(121))
        .into_iter()
        .find(|c| c.kind == ClockKind::CustomerNotice)
        .unwrap();
    assert_eq!(
        (n.state, n.due),
        (ClockState::Running, at(300)),
        "4 h plus the hour paused"
    );
    assert!(
        s.resume_clock(&id, &ClockKind::CustomerNotice, "bob", at(122))
            .is_err()
    );
    let d = data(&s, &id, "clock.resumed");
    assert_eq!(
        (d["from"].as_str(), d["until"].as_str()),
        (
            Some("2026-03-01T11:00:00.000Z"),
            Some("2026-03-01T12:00:00.000Z")
        )
    );

    // Regulatory: refused, whatever its name.
    s.update_incident(
        &id,
        &IncidentPatch {
            personal_data_breach: Some(true),
            ..IncidentPatch::default()
        },
        "bob",
        at(130),
    )
    .unwrap();
    let e = s
        .pause_clock(
            &id,
            &ClockKind::parse("regulatory").unwrap(),
            "waiting on counsel",
            "bob",
            at(131),
        )
        .unwrap_err();
    assert!(e.to_string().contains("never pauses"), "{e}");
    // A breached clock cannot be paused either (the response: due 11:00).
    let e = s
        .pause_clock(&id, &ClockKind::Response, "lunch", "bob", at(61))
        .unwrap_err();
    assert!(e.to_string().contains("breached"), "{e}");
}

#[test]
fn the_detection_time_is_a_recorded_reasoned_change_never_in_the_future() {
    let (_d, mut s, id) = setup(Severity::P2);
    assert!(
        s.set_detected(&id, at(-15), "", "bob", at(5)).is_err(),
        "a reason is required"
    );
    assert!(
        s.set_detected(&id, at(6), "siem", "bob", at(5)).is_err(),
        "in the future"
    );
    assert!(
        s.set_detected(&id, at(1), "siem", "bob", at(5)).is_err(),
        "after the declaration"
    );
    let i = s
        .set_detected(&id, at(-15), "the SIEM alert came at 09:45", "bob", at(5))
        .unwrap();
    assert_eq!(i.detected_at, at(-15));
    let r = clocks(&i, s.policy(), at(6))
        .into_iter()
        .find(|c| c.kind == ClockKind::Response)
        .unwrap();
    assert_eq!(r.due, at(45), "an hour from the corrected detection");
    let d = data(&s, &id, "incident.detection_changed");
    assert_eq!(d["detected_at"]["from"], "2026-03-01T10:00:00.000Z");
    assert_eq!(d["detected_at"]["to"], "2026-03-01T09:45:00.000Z");
    assert_eq!(d["reason"], "the SIEM alert came at 09:45");
    assert_eq!(s.incident(&id).unwrap().detected_at, at(-15));
}

#[test]
fn naming_the_first_commander_acknowledges_and_says_so() {
    let (_d, mut s, id) = setup(Severity::P1);
    let (_, acked) = s
        .assign_role_acknowledging(&id, Role::Security, "carol", "alice", at(3))
        .unwrap();
    assert!(!acked, "a security lead does not take charge");
    let (_, acked) = s
        .assign_role_acknowledging(&id, Role::Commander, "dana", "alice", at(4))
        .unwrap();
    assert!(acked);
    let tl = s.timeline(id.as_str(), None).unwrap();
    assert_eq!(tl[0].kind, "incident.acknowledged");
    assert_eq!(
        tl[0].detail,
        "acknowledged: dana named incident commander by alice"
    );
    let d: serde_json::Value = serde_json::from_str(&tl[0].data).unwrap();
    assert_eq!(
        (d["via"].as_str(), d["commander"].as_str()),
        (Some("commander"), Some("dana"))
    );
    assert_eq!(s.incident(&id).unwrap().acknowledged_at, Some(at(4)));
    // A second commander, or an explicit ack, acknowledges nothing again.
    let (_, again) = s
        .assign_role_acknowledging(&id, Role::Commander, "erin", "alice", at(5))
        .unwrap();
    assert!(!again);
    s.acknowledge(&id, "erin", at(6)).unwrap();
    let n = s
        .timeline(id.as_str(), None)
        .unwrap()
        .iter()
        .filter(|e| e.kind == "incident.acknowledged")
        .count();
    assert_eq!(n, 1);
}

#[test]
fn every_console_reads_every_alert_and_each_user_is_notified_once() {
    let (d, mut s, id) = setup(Severity::P1);
    let path = d.path().join("w.db");
    let mut other = Store::open(&path).unwrap();
    let alert = |key: &str| NewAlert {
        key: key.into(),
        incident_id: Some(id.to_string()),
        kind: "clock-breached".into(),
        text: format!("alert {key}"),
        recipient: None,
        raised_by: "bob".into(),
        raised_at: at(20),
    };
    assert_eq!(s.last_alert_id().unwrap(), 0);
    assert!(s.raise_alert(&alert("a")).unwrap());
    assert!(other.raise_alert(&alert("b")).unwrap());
    assert!(!s.raise_alert(&alert("b")).unwrap(), "raised once");
    // Both consoles see both alerts, whoever raised them.
    for store in [&s, &other] {
        let all = store.alerts_after(0, 100).unwrap();
        let keys: Vec<_> = all.iter().map(|a| a.alert.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert!(all.iter().all(|a| a.acknowledged_at.is_none()));
        assert_eq!(store.alerts_after(all[0].id, 100).unwrap().len(), 1);
    }
    assert_eq!(s.last_alert_id().unwrap(), 2);
    s.acknowledge(&id, "dana", at(21)).unwrap();
    assert_eq!(
        other.alerts_after(0, 1).unwrap()[0].acknowledged_at,
        Some(at(21))
    );
    // One desktop notification per user, across their consoles.
    assert!(s.claim_desktop_notification("a", "bob", at(22)).unwrap());
    assert!(
        !other
            .claim_desktop_notification("a", "bob", at(22))
            .unwrap()
    );
    assert!(
        other
            .claim_desktop_notification("a", "carol", at(22))
            .unwrap()
    );
}

#[test]
fn status_past_investigating_acknowledges_with_its_own_event() {
    let (_d, mut s, id) = setup(Severity::P2);
    let p = IncidentPatch {
        status: Some(Status::Identified),
        ..IncidentPatch::default()
    };
    s.update_incident(&id, &p, "bob", at(3)).unwrap();
    let d = data(&s, &id, "incident.acknowledged");
    assert_eq!(d["via"], "status");
    assert_eq!(d["acknowledged_at"]["to"], "2026-03-01T10:03:00.000Z");
}
