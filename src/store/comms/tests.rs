//! The comms room's store tests on real SQLite files.

use chrono::{DateTime, Utc};

use super::*;
use crate::domain::comms::Audience;
use crate::domain::event::kinds;
use crate::domain::{IncidentId, Playbook, Severity};
use crate::store::test_fixtures::with_incident;
use crate::store::{NewIncident, Store, StoreError};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn setup() -> (tempfile::TempDir, Store, IncidentId) {
    let (dir, s, i) = with_incident("Login API down", Severity::P2);
    (dir, s, i.id)
}

fn msg(id: &IncidentId, audience: Audience, body: &str) -> NewMessage {
    NewMessage {
        incident_id: id.clone(),
        audience,
        template: Some("customer".into()),
        body: body.into(),
        author: "bob".into(),
    }
}

#[test]
fn an_alert_key_is_raised_once_across_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let mut a = Store::open(&path).unwrap();
    let mut b = Store::open(&path).unwrap();
    let alert = NewAlert {
        key: "clock:INC-2026-001:response:75".into(),
        incident_id: None,
        kind: "clock-near".into(),
        text: "response clock at 75%".into(),
        recipient: None,
        raised_by: "alice".into(),
        raised_at: "2026-11-22T10:00:00Z".parse().unwrap(),
    };
    assert!(a.raise_alert(&alert).unwrap());
    assert!(!b.raise_alert(&alert).unwrap());
    assert!(!a.raise_alert(&alert).unwrap());
    assert_eq!(b.alerts_since(alert.raised_at).unwrap(), vec![alert]);
}

#[test]
fn an_alert_check_that_fails_half_way_takes_no_key_so_nothing_goes_unshown() {
    // P1 created 10:00; at 10:20 the response clock (due 10:15) and the
    // customer notice (due at once, 5 minutes' grace) are breached, and
    // two escalation steps (10:15, 10:20) are due: four alerts. An
    // escalation's insert fails (a
    // trigger standing in for a busy or full disk). Had the first key
    // been taken, its alert would be recorded but shown by nobody: this
    // check returns an error and every later check sees the key taken.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    s.create_incident(
        &NewIncident::new("Login API down", Severity::P1),
        &Playbook::builtin(),
        "alice",
        t("2026-03-01T10:00:00Z"),
    )
    .unwrap();
    let now = t("2026-03-01T10:20:00Z");
    let config = crate::comms::CommsConfig::builtin(dir.path());
    let policy = crate::domain::Policy::builtin();
    s.conn
        .execute_batch(
            "CREATE TEMP TRIGGER fail_second BEFORE INSERT ON alerts
             WHEN NEW.key LIKE 'escalate:%' BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    assert!(crate::comms::alerts::check(&mut s, &policy, &config, "bob", now).is_err());
    assert!(
        s.alerts_since(DateTime::<Utc>::MIN_UTC).unwrap().is_empty(),
        "a key was taken by a check that showed nothing"
    );
    s.conn.execute_batch("DROP TRIGGER fail_second").unwrap();
    let raised = crate::comms::alerts::check(&mut s, &policy, &config, "bob", now).unwrap();
    assert_eq!(raised.len(), 4, "{raised:?}");
}

#[test]
fn sending_records_the_message_event_clocks_and_pending_deliveries() {
    let (_d, mut s, id) = setup();
    let now = t("2026-03-01T10:30:00Z");
    let sent = s
        .send_message(
            &msg(&id, Audience::Customers, "We are on it.\n"),
            &["outbox".into(), "mail".into(), "outbox".into()],
            now,
        )
        .unwrap();
    assert_eq!(sent.id, 1);
    assert_eq!(sent.sha256, body_sha256("We are on it.\n"));
    assert_eq!(sent.author, "bob");
    let sinks: Vec<_> = sent
        .deliveries
        .iter()
        .map(|d| (d.sink.as_str(), d.state))
        .collect();
    assert_eq!(
        sinks,
        [
            ("mail", DeliveryState::Pending),
            ("outbox", DeliveryState::Pending)
        ]
    );
    let i = s.incident(&id).unwrap();
    assert_eq!(i.customer_notified_at, Some(now));
    assert_eq!(i.last_update_at, Some(now));
    let ev = &s.timeline(id.as_str(), Some(1)).unwrap()[0];
    assert_eq!(ev.kind, kinds::COMMS_SENT);
    assert_eq!(ev.seq, sent.event_seq);
    assert!(
        ev.data.contains(&sent.sha256) && ev.data.contains("\"customers\""),
        "{}",
        ev.data
    );

    // A second customer message restarts the cadence but the first
    // notice stays the one that met the clock.
    let later = t("2026-03-01T11:00:00Z");
    s.send_message(&msg(&id, Audience::Customers, "Update."), &[], later)
        .unwrap();
    let i = s.incident(&id).unwrap();
    assert_eq!(i.customer_notified_at, Some(now));
    assert_eq!(i.last_update_at, Some(later));
    assert_eq!(
        s.last_message(&id, Audience::Customers)
            .unwrap()
            .unwrap()
            .body,
        "Update."
    );
    assert!(s.last_message(&id, Audience::Executives).unwrap().is_none());

    // The regulator notice meets the regulatory clock only.
    let reg = t("2026-03-01T12:00:00Z");
    s.send_message(&msg(&id, Audience::Regulator, "Notice."), &[], reg)
        .unwrap();
    let i = s.incident(&id).unwrap();
    assert_eq!(i.regulator_notified_at, Some(reg));
    assert_eq!(i.last_update_at, Some(later));
    assert!(s.verify_chain().unwrap().failure.is_none());
}

#[test]
fn bad_bodies_are_refused_and_nothing_is_recorded() {
    let (_d, mut s, id) = setup();
    let now = t("2026-03-01T10:30:00Z");
    for (body, needle) in [
        ("  \n", "empty"),
        ("hi [FILL IN: who] there", "line 1: [FILL IN: who]"),
        ("ok\nbad \u{1b}[2J", "line 2: control character U+001B"),
        // Shown, this reads "Status: BREACH" over "Status: all good".
        (
            "Hello\r\nStatus: all good\rStatus: BREACH\r\n",
            "line 2: a carriage return without a line feed",
        ),
        (
            "ok\nthe file evil\u{202e}gpj.exe",
            "line 2: bidirectional control U+202E",
        ),
        ("\u{2067}isolate", "line 1: bidirectional control U+2067"),
        ("mark\u{200f}", "line 1: bidirectional control U+200F"),
    ] {
        let err = s
            .send_message(&msg(&id, Audience::Internal, body), &[], now)
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    // CR LF line ends, tabs and ordinary non-Latin text are fine.
    assert_eq!(check_body("Hi\r\n\tStatus: مرحبا\r\n"), Ok(()));
    let huge = "x".repeat(MAX_MESSAGE_BYTES + 1);
    assert!(
        s.send_message(&msg(&id, Audience::Internal, &huge), &[], now)
            .is_err()
    );
    let missing: IncidentId = "INC-2026-099".parse().unwrap();
    assert!(matches!(
        s.send_message(&msg(&missing, Audience::Internal, "x"), &[], now),
        Err(StoreError::IncidentNotFound(_))
    ));
    assert!(s.messages(&id).unwrap().is_empty());
    assert!(s.incident(&id).unwrap().last_update_at.is_none());
}

#[test]
fn deliveries_fail_retry_and_stay_delivered() {
    let (_d, mut s, id) = setup();
    let t0 = t("2026-03-01T10:30:00Z");
    let sent = s
        .send_message(
            &msg(&id, Audience::Internal, "x"),
            &["a".into(), "b".into()],
            t0,
        )
        .unwrap();
    let t1 = t("2026-03-01T10:30:05Z");
    s.record_delivery(sent.id, "a", Ok("file /o/1.txt"), "bob", t1)
        .unwrap();
    let d = s
        .record_delivery(sent.id, "b", Err("exit status 1: no route"), "bob", t1)
        .unwrap();
    assert_eq!((d.state, d.attempts), (DeliveryState::Failed, 1));
    let m = s.message(sent.id).unwrap().unwrap();
    assert!(!m.delivered());

    // Only the failed one is due for retry; a pending one only when stale.
    let due = s.pending_deliveries(Some(&id), t0).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].1.sink, "b");
    let t2 = t("2026-03-01T10:40:00Z");
    assert!(s.claim_delivery(sent.id, "b", t0, t2).unwrap());
    assert!(
        !s.claim_delivery(sent.id, "b", t0, t2).unwrap(),
        "claimed once"
    );
    assert!(s.pending_deliveries(Some(&id), t0).unwrap().is_empty());
    assert_eq!(
        s.pending_deliveries(None, t("2026-03-01T10:41:00Z"))
            .unwrap()
            .len(),
        1
    );
    let d = s
        .record_delivery(sent.id, "b", Ok("exit 0"), "carol", t2)
        .unwrap();
    assert_eq!((d.state, d.attempts), (DeliveryState::Delivered, 2));
    let d = s
        .record_delivery(sent.id, "b", Err("late"), "carol", t2)
        .unwrap();
    assert_eq!(d.state, DeliveryState::Delivered, "stays delivered");
    assert!(s.message(sent.id).unwrap().unwrap().delivered());
    let kinds_seen: Vec<String> = s
        .timeline(id.as_str(), Some(3))
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds_seen,
        [
            kinds::COMMS_DELIVERED,
            kinds::COMMS_DELIVERY_FAILED,
            kinds::COMMS_DELIVERED
        ]
    );
    assert!(
        s.record_delivery(sent.id, "zzz", Ok(""), "bob", t2)
            .is_err()
    );
}

#[test]
fn sent_messages_cannot_be_changed_but_drills_purge_with_theirs() {
    let (_d, mut s, id) = setup();
    let t0 = t("2026-03-01T10:30:00Z");
    s.send_message(&msg(&id, Audience::Internal, "x"), &[], t0)
        .unwrap();
    let err = s
        .conn
        .execute("UPDATE messages SET body = 'y'", [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("immutable"), "{err}");
    assert!(s.conn.execute("DELETE FROM messages", []).is_err());

    let mut drill = NewIncident::new("Drill", Severity::P3);
    drill.drill = true;
    let d = s
        .create_incident(&drill, &Playbook::builtin(), "alice", t0)
        .unwrap();
    s.send_message(
        &msg(&d.id, Audience::Internal, "drill msg"),
        &["a".into()],
        t0,
    )
    .unwrap();
    s.purge_drills("alice", t0).unwrap();
    assert_eq!(s.messages(&id).unwrap().len(), 1);
    let left: i64 = s
        .conn
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 1);
}
