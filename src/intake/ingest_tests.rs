//! Decoded, mapped and committed on a real SQLite file: the same alert
//! twice changes nothing, a resolution ends the detection and leaves the
//! incident open, groups and re-fires add to one incident.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::domain::{Playbook, Severity, Source, Status};
use crate::intake::IntakeConfig;
use crate::intake::decode::tests::{AM_GROUP, WAZUH_LINE};
use crate::store::{IncidentPatch, IntakeOutcome, Store, detect_kinds};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
}

fn open_temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("i.db")).unwrap();
    (dir, store)
}

fn ingest(s: &mut Store, format: Format, body: &str, at: DateTime<Utc>) -> IntakeOutcome {
    let c = IntakeConfig::default();
    let m = c.mapping(format);
    let alerts = decode_payload(format, m, body.as_bytes()).unwrap();
    let b = batch(format, m, &alerts, &[]);
    s.commit_intake(&b, &Playbook::builtin(), "intake", "host1", at)
        .unwrap()
}

/// One alert of the group, firing.
fn firing_only() -> String {
    let v: serde_json::Value = serde_json::from_str(AM_GROUP).unwrap();
    let mut v = v;
    v["alerts"].as_array_mut().unwrap().truncate(1);
    v.to_string()
}

fn resolved_first() -> String {
    let mut v: serde_json::Value = serde_json::from_str(&firing_only()).unwrap();
    v["status"] = "resolved".into();
    v["alerts"][0]["status"] = "resolved".into();
    v["alerts"][0]["endsAt"] = "2026-11-30T09:00:00Z".into();
    v.to_string()
}

#[test]
fn a_firing_alert_opens_one_incident_and_a_retry_changes_nothing() {
    let (_d, mut s) = open_temp();
    let out = ingest(&mut s, Format::Alertmanager, &firing_only(), now());
    assert_eq!(out.commit.opened.len(), 1);
    let incidents = s.incidents(true).unwrap();
    assert_eq!(incidents.len(), 1);
    let inc = &incidents[0];
    assert_eq!(inc.title, "Disk almost full on db1");
    assert_eq!(inc.severity, Severity::P1);
    assert_eq!(inc.source, Source::AutomatedAlert);
    assert_eq!(
        inc.detected_at,
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 15, 2).unwrap() + Duration::milliseconds(120),
        "the alert's startsAt, not now"
    );
    let events = s.timeline(inc.id.as_str(), None).unwrap();
    assert!(events.iter().any(|e| e.kind == detect_kinds::OPENED));
    let before = events.len();
    // The sender retries: nothing changes.
    let again = ingest(
        &mut s,
        Format::Alertmanager,
        &firing_only(),
        now() + Duration::minutes(1),
    );
    assert_eq!(again.deduplicated, 1);
    assert!(again.commit.opened.is_empty());
    assert_eq!(s.incidents(true).unwrap().len(), 1);
    assert_eq!(s.timeline(inc.id.as_str(), None).unwrap().len(), before);
    let d = s.detections(false).unwrap();
    assert_eq!((d.len(), d[0].count), (1, 1));
    assert_eq!(d[0].origin, "intake:alertmanager");
    let stats = s.intake_stats().unwrap();
    assert_eq!((stats[0].received, stats[0].deduplicated), (2, 1));
}

#[test]
fn a_resolution_ends_the_detection_but_never_resolves_the_incident() {
    let (_d, mut s) = open_temp();
    ingest(&mut s, Format::Alertmanager, &firing_only(), now());
    let out = ingest(
        &mut s,
        Format::Alertmanager,
        &resolved_first(),
        now() + Duration::hours(1),
    );
    assert_eq!(out.ended, 1);
    let inc = &s.incidents(true).unwrap()[0];
    assert_ne!(inc.status, Status::Resolved);
    assert_ne!(inc.status, Status::Closed);
    let events = s.timeline(inc.id.as_str(), None).unwrap();
    let ended: Vec<_> = events
        .iter()
        .filter(|e| e.kind == detect_kinds::ENDED)
        .collect();
    assert_eq!(ended.len(), 1);
    assert!(
        ended[0].detail.contains("resolved at 2026-11-30T09:00:00"),
        "{}",
        ended[0].detail
    );
    assert!(ended[0].detail.contains("stays open"));
    assert!(s.detections(true).unwrap().is_empty(), "detection ended");
    // The resolution delivered again: nothing more.
    let again = ingest(
        &mut s,
        Format::Alertmanager,
        &resolved_first(),
        now() + Duration::hours(2),
    );
    assert_eq!((again.deduplicated, again.ended), (1, 0));
    let n = s.timeline(inc.id.as_str(), None).unwrap().len();
    assert_eq!(n, events.len());
    // It fires again while the incident is still handled: same incident.
    let refire = firing_only().replace("08:15:02.120Z", "10:00:00Z");
    let out = ingest(
        &mut s,
        Format::Alertmanager,
        &refire,
        now() + Duration::hours(3),
    );
    assert!(out.commit.opened.is_empty());
    assert_eq!(out.commit.attached, 1);
    assert_eq!(s.incidents(true).unwrap().len(), 1);
    let d = s.detections(true).unwrap();
    assert_eq!((d.len(), d[0].count), (1, 2), "reopened and counted");
}

#[test]
fn a_resolution_of_a_resolved_incidents_alert_refires_as_a_new_incident() {
    let (_d, mut s) = open_temp();
    let out = ingest(&mut s, Format::Alertmanager, &firing_only(), now());
    let id = out.commit.opened[0].incident.clone().unwrap();
    s.update_incident(
        &id,
        &IncidentPatch {
            status: Some(Status::Resolved),
            ..IncidentPatch::default()
        },
        "alice",
        now() + Duration::hours(1),
    )
    .unwrap();
    let refire = firing_only().replace("08:15:02.120Z", "13:00:00Z");
    let out = ingest(
        &mut s,
        Format::Alertmanager,
        &refire,
        now() + Duration::hours(2),
    );
    assert_eq!(out.commit.opened.len(), 1);
    assert_eq!(s.incidents(true).unwrap().len(), 2);
}

#[test]
fn a_group_is_one_incident_ended_when_its_last_alert_resolves() {
    let (_d, mut s) = open_temp();
    // Both alerts firing in one group.
    let both = AM_GROUP
        .replace("\"status\": \"resolved\"", "\"status\": \"firing\"")
        .replace(
            "\"endsAt\": \"2026-11-30T07:40:00+01:00\"",
            "\"endsAt\": \"0001-01-01T00:00:00Z\"",
        );
    let out = ingest(&mut s, Format::Alertmanager, &both, now());
    assert_eq!((out.commit.opened.len(), out.commit.attached), (1, 1));
    let inc = s.incidents(true).unwrap()[0].id.clone();
    // The original payload resolves the second: one still firing.
    let out = ingest(
        &mut s,
        Format::Alertmanager,
        AM_GROUP,
        now() + Duration::hours(1),
    );
    assert_eq!((out.ended, out.deduplicated), (1, 1));
    assert_eq!(s.detections(true).unwrap().len(), 1, "db1 still firing");
    let ev = s.timeline(inc.as_str(), None).unwrap();
    let last = ev.iter().find(|e| e.kind == detect_kinds::ENDED).unwrap();
    assert!(
        last.detail
            .contains("1 alert(s) of this detection still firing"),
        "{}: {}",
        last.kind,
        last.detail
    );
}

#[test]
fn wazuh_alerts_group_by_rule_and_agent_and_low_levels_only_notify_or_drop() {
    let (_d, mut s) = open_temp();
    let second = WAZUH_LINE.replace("1795946400.1234567", "1795946401.7654321");
    let notice = WAZUH_LINE
        .replace("1795946400.1234567", "1795946402.1")
        .replace("\"level\":10", "\"level\":7")
        .replace("\"id\":\"5712\"", "\"id\":\"5710\"");
    let noise = WAZUH_LINE
        .replace("1795946400.1234567", "1795946403.1")
        .replace("\"level\":10", "\"level\":3")
        .replace("\"id\":\"5712\"", "\"id\":\"5715\"");
    let body = format!("{WAZUH_LINE}\n{second}\n{notice}\n{noise}\n");
    let out = ingest(&mut s, Format::Wazuh, &body, now());
    let incidents = s.incidents(true).unwrap();
    assert_eq!(incidents.len(), 1, "level 10 twice: one incident");
    assert_eq!(incidents[0].source, Source::Siem);
    assert_eq!(incidents[0].severity, Severity::P2);
    assert_eq!(out.commit.attached, 1);
    // The level 7 alert raised a responder alert without an incident.
    let notify: Vec<_> = out
        .commit
        .opened
        .iter()
        .filter(|o| o.incident.is_none())
        .collect();
    assert_eq!(notify.len(), 1);
    assert!(notify[0].alert.is_some());
    let stats = &s.intake_stats().unwrap()[0];
    assert_eq!(
        (stats.name.as_str(), stats.received, stats.dropped),
        ("wazuh", 4, 1)
    );
    // The same file again: nothing new.
    let again = ingest(&mut s, Format::Wazuh, &body, now());
    assert_eq!(again.deduplicated, 3);
    assert_eq!(s.incidents(true).unwrap().len(), 1);
    assert_eq!(
        s.detections(false)
            .unwrap()
            .iter()
            .map(|d| d.count)
            .sum::<u64>(),
        3
    );
}

#[test]
fn a_bad_line_refuses_the_payload_naming_the_line() {
    let c = IntakeConfig::default();
    let body = format!("{WAZUH_LINE}\n{{\"rule\":{{}}}}\n");
    let e = decode_payload(Format::Wazuh, &c.wazuh, body.as_bytes()).unwrap_err();
    assert!(e.0.starts_with("line 2: "), "{e}");
}
