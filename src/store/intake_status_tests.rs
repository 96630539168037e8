//! Intake counts per source and way in, and where an incident's alerts
//! came from, on real SQLite files; a watcher commit carrying alerts
//! writes them with its checkpoint or not at all.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::domain::{Playbook, Severity, Source};
use crate::store::{
    FileCheckpoint, IntakeAlert, IntakeBatch, LeaseClaim, LeaseHolder, LeaseTerm, NewIncident,
    Store, StoreError, WatchBatch, intake_channels,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap()
}

fn open_temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("i.db")).unwrap();
    (dir, store)
}

fn alert(id: &str, key: &str) -> IntakeAlert {
    IntakeAlert {
        alert_id: id.into(),
        resolved: false,
        starts_at: t0() - Duration::minutes(5),
        ends_at: None,
        group_by: "rule.id, agent.name".into(),
        key: key.into(),
        title: format!("alert {id}"),
        summary: String::new(),
        severity: Severity::P2,
        source: Source::Siem,
        create_incident: true,
        notify: Vec::new(),
        raw: format!("{{\"id\":\"{id}\"}}"),
    }
}

fn batch(name: &str, format: &str, channel: &str, alerts: Vec<IntakeAlert>) -> IntakeBatch {
    IntakeBatch {
        intake: name.into(),
        format: format.into(),
        channel: channel.into(),
        alerts,
        ..IntakeBatch::default()
    }
}

#[test]
fn counts_are_kept_per_way_in_and_an_incident_names_where_its_alerts_came_from() {
    let (_d, mut s) = open_temp();
    let pb = Playbook::builtin();
    let listener = batch(
        "alertmanager",
        "alertmanager",
        intake_channels::LISTENER,
        vec![alert("fp1", "g1")],
    );
    s.commit_intake(&listener, &pb, "intake", "h", t0())
        .unwrap();
    // The same alert again, from a file: deduplicated, counted for ingest.
    let again = batch(
        "alertmanager",
        "alertmanager",
        intake_channels::INGEST,
        vec![alert("fp1", "g1")],
    );
    let t1 = t0() + Duration::minutes(1);
    let out = s.commit_intake(&again, &pb, "intake", "h", t1).unwrap();
    assert_eq!(out.deduplicated, 1);
    let t2 = t0() + Duration::minutes(2);
    s.record_intake_error(
        "alertmanager",
        intake_channels::LISTENER,
        "alertmanager",
        "not JSON: EOF",
        t2,
    )
    .unwrap();
    // A followed Wazuh file: one alert, one line that was no alert.
    let follow = intake_channels::follow("/var/ossec/logs/alerts/alerts.json");
    let mut wazuh = batch(
        "wazuh",
        "wazuh",
        &follow,
        vec![alert("1.2", "5712 / web-01")],
    );
    wazuh.dropped = 1;
    wazuh.last_error = Some("alerts.json: line not read as an alert: not JSON".into());
    let t3 = t0() + Duration::minutes(3);
    s.commit_intake(&wazuh, &pb, "intake", "h", t3).unwrap();

    let rows = s.intake_channel_stats().unwrap();
    let got: Vec<(&str, &str, &str, u64, u64, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.channel.as_str(),
                r.format.as_str(),
                r.received,
                r.deduplicated,
                r.dropped,
                r.refused,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("alertmanager", "ingest", "alertmanager", 1, 1, 0, 0),
            ("alertmanager", "listener", "alertmanager", 1, 0, 0, 1),
            ("wazuh", follow.as_str(), "wazuh", 2, 0, 1, 0),
        ]
    );
    let listener_row = &rows[1];
    assert_eq!(listener_row.last_received_at, Some(t0()));
    assert_eq!(listener_row.last_error.as_deref(), Some("not JSON: EOF"));
    assert_eq!(listener_row.last_error_at, Some(t2));
    assert_eq!(rows[0].last_error, None);
    assert_eq!(rows[2].last_error_at, Some(t3));
    assert!(rows[2].last_error.as_deref().unwrap().contains("not JSON"));

    // The totals per source still add up, with the last error kept when
    // a later commit had none.
    let totals = s.intake_stats().unwrap();
    let am = &totals[0];
    assert_eq!(
        (am.received, am.deduplicated, am.refused),
        (2, 1, 1),
        "{am:?}"
    );
    assert_eq!(am.last_received_at, Some(t1));
    assert_eq!(am.last_error_at, Some(t2));

    // Each incident says where its alerts came from.
    let dets = s.detections(false).unwrap();
    let am_incident = dets[0].incident.clone().unwrap();
    let from = s.incident_intake(&am_incident).unwrap();
    assert_eq!(from.len(), 1);
    assert_eq!(
        (
            from[0].intake.as_str(),
            from[0].format.as_str(),
            from[0].channel.as_str(),
            from[0].alerts
        ),
        ("alertmanager", "alertmanager", "listener", 1)
    );
    assert_eq!(from[0].first_received_at, Some(t0()));
    let wazuh_incident = dets[1].incident.clone().unwrap();
    assert_eq!(
        s.incident_intake(&wazuh_incident).unwrap()[0].channel,
        follow
    );
    let by_hand = s
        .create_incident(
            &NewIncident::new("Typed in", Severity::P3),
            &pb,
            "ann",
            t0(),
        )
        .unwrap();
    assert!(s.incident_intake(by_hand.id.as_str()).unwrap().is_empty());
}

fn term(actor: &str) -> LeaseTerm {
    LeaseTerm {
        holder: LeaseHolder {
            actor: actor.into(),
            host: "h1".into(),
            pid: 4242,
            token: actor.into(),
        },
        ttl: std::time::Duration::from_secs(15),
    }
}

#[test]
fn a_watcher_commit_writes_its_alerts_with_the_checkpoint_or_nothing() {
    let (_d, mut s) = open_temp();
    let pb = Playbook::builtin();
    let (anna, ben) = (term("anna"), term("ben"));
    assert!(matches!(
        s.claim_watch_lease("w", &anna, t0(), |_| false).unwrap(),
        LeaseClaim::Held(_)
    ));
    let follow = intake_channels::follow("/var/ossec/logs/alerts/alerts.json");
    let with_alerts = |offset: u64, id: &str, lease: &LeaseTerm| WatchBatch {
        watcher: "w".into(),
        checkpoints: vec![FileCheckpoint {
            path: "/var/ossec/logs/alerts/alerts.json".into(),
            dev: 2049,
            inode: 77,
            fp_len: 12,
            fingerprint: "ab".repeat(32),
            offset,
        }],
        intake: vec![batch("wazuh", "wazuh", &follow, vec![alert(id, id)])],
        lease: Some(lease.clone()),
        ..WatchBatch::default()
    };
    let out = s
        .commit_watch_batch(&with_alerts(100, "a1", &anna), &pb, "anna", "h", t0())
        .unwrap();
    assert_eq!(out.opened.len(), 1, "the alert opened its detection");
    assert!(out.opened[0].incident.is_some());

    // Anna stalls; ben takes over. Her next commit is refused whole: no
    // alert, no count, no checkpoint.
    let later = t0() + Duration::seconds(30);
    assert!(matches!(
        s.claim_watch_lease("w", &ben, later, |_| false).unwrap(),
        LeaseClaim::Held(_)
    ));
    let e = s
        .commit_watch_batch(&with_alerts(200, "a2", &anna), &pb, "anna", "h", later)
        .unwrap_err();
    assert!(matches!(e, StoreError::LeaseLost { .. }), "{e}");
    assert_eq!(s.detections(false).unwrap().len(), 1);
    assert_eq!(s.intake_stats().unwrap()[0].received, 1);
    assert_eq!(s.intake_channel_stats().unwrap()[0].received, 1);
    assert_eq!(s.watch_checkpoints("w").unwrap()[0].offset, 100);
}
