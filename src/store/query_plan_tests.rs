//! Every statement the watcher's commits, its restart and the alert
//! deliveries run goes through `EXPLAIN QUERY PLAN`: none may scan a table
//! that grows with detections, events or alerts. The statements are the
//! ones SQLite actually executed (a trace of a real workload), so a new
//! query on these paths is checked without being listed here.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::trace::{TraceEvent, TraceEventCodes};

use super::watch_batch::{DetectionChange, RuleFacts};
use super::watcher::{FileCheckpoint, SavedWindow, WatchBatch};
use crate::comms::CommsConfig;
use crate::domain::{Playbook, Severity, Status};
use crate::store::{IncidentPatch, Store};

/// Tables that grow with what the watcher sees.
const BIG: &[&str] = &[
    "detections",
    "detection_replays",
    "incidents",
    "events",
    "evidence",
    "alerts",
    "alert_deliveries",
    "alert_log",
    "alert_notified",
    "watch_windows",
    "watch_checkpoints",
    "source_reads",
    "intake_alerts",
    "watch_incidents",
];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap()
}

fn facts() -> RuleFacts {
    RuleFacts {
        rule: "brute".into(),
        description: "many failures".into(),
        why: String::new(),
        condition: "fail > 3 in 1 minute".into(),
        severity: Severity::P2,
        group_by: "src".into(),
        window_seconds: Some(60),
        create_incident: true,
        notify: vec!["oncall".into()],
        alert: true,
        incident: crate::domain::campaign::IncidentGrouping::PerRule,
        evidence_lines: crate::domain::campaign::DEFAULT_EVIDENCE_LINES,
    }
}

fn change(key: &str, count: u64, new: bool) -> DetectionChange {
    DetectionChange {
        facts: facts().into(),
        key: key.into(),
        count,
        first_seen: t0(),
        last_seen: t0() + Duration::seconds(count as i64),
        added: if new { count } else { 1 },
        new,
        new_lines: vec![format!("Failed password for root from {key}")],
        latest_lines: vec![format!("Failed password for root from {key}")],
        host: Some("bastion-1".into()),
        lines_before: 0,
        sources: vec!["/var/log/auth.log".into()],
        closed_after: false,
    }
}

fn batch(detections: Vec<DetectionChange>, offset: u64) -> WatchBatch {
    WatchBatch {
        watcher: "default".into(),
        checkpoints: vec![FileCheckpoint {
            path: "/var/log/auth.log".into(),
            dev: 1,
            inode: 2,
            fp_len: 4,
            fingerprint: "ab".repeat(32),
            offset,
        }],
        windows: vec![SavedWindow {
            rule: "brute".into(),
            key: "9.9.9.9".into(),
            state: r#"{"entries":[],"total":0}"#.into(),
        }],
        dropped_windows: vec![("brute".into(), "8.8.8.8".into())],
        detections,
        notify_sinks: vec!["outbox".into()],
        ..WatchBatch::default()
    }
}

#[test]
fn no_statement_on_a_detection_or_delivery_path_scans_a_big_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut s = Store::open(&db).unwrap();
    let pb = Playbook::builtin();
    // Some rows first, so the planner has something to choose among.
    for i in 0..20 {
        let b = batch(vec![change(&format!("10.0.0.{i}"), 4, true)], 100 + i);
        s.commit_watch_batch(&b, &pb, "w", "h", t0()).unwrap();
    }

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&seen);
    s.conn
        .trace_v2(
            TraceEventCodes::SQLITE_TRACE_STMT,
            Some(move |e: TraceEvent<'_>| {
                if let TraceEvent::Stmt(_, sql) = e {
                    sink.lock().unwrap().push(sql.to_string());
                }
            }),
        )
        .unwrap();

    // A watcher's round: detections opened (incident, events, evidence,
    // alert with a delivery), attached, flushed.
    let now = t0() + Duration::minutes(5);
    let opened = s
        .commit_watch_batch(
            &batch(
                vec![change("1.2.3.4", 4, true), change("10.0.0.1", 5, false)],
                500,
            ),
            &pb,
            "w",
            "h",
            now,
        )
        .unwrap();
    // A notify-only campaign rule: its second key joins the first's alert.
    let mut burst = change("5.5.5.5", 4, true);
    let f = std::sync::Arc::make_mut(&mut burst.facts);
    f.rule = "burst".into();
    f.create_incident = false;
    let mut burst2 = burst.clone();
    burst2.key = "5.5.5.6".into();
    s.commit_watch_batch(&batch(vec![burst, burst2], 550), &pb, "w", "h", now)
        .unwrap();
    let mut flush = batch(vec![change("1.2.3.4", 9, false)], 600);
    flush.flush = true;
    s.commit_watch_batch(&flush, &pb, "w", "h", now + Duration::minutes(2))
        .unwrap();
    // A digest of the keys that joined the campaign since it opened.
    let digest = crate::store::DigestRule {
        rule: "brute".into(),
        every: Duration::minutes(1),
        severity: crate::domain::Severity::P2,
        notify: vec!["oncall".into()],
    };
    let sent = s
        .send_campaign_digests(
            &[digest],
            &["outbox".into()],
            "w",
            now + Duration::minutes(2),
        )
        .unwrap();
    assert_eq!(sent.len(), 1, "the digest's statements are traced");
    // Its deliveries, as `watch` makes them after the commit.
    let config = CommsConfig::builtin(dir.path());
    let sinks = config.escalation_sinks(&db);
    crate::comms::sinks::deliver_alerts(&mut s, &opened.deliver, &sinks, &config, "w", now);
    s.detection_by_alert("detect:brute:1.2.3.4:1").unwrap();
    // The consoles' alert log and a retry's pending look.
    s.alerts_after(0, 100).unwrap();
    s.pending_alert_deliveries(None, now).unwrap();
    // A restart, and a resolved incident closing its detections.
    s.load_watch_state("default").unwrap();
    let id = opened.opened[0].incident.clone().unwrap();
    s.incident_sources(&id).unwrap();
    s.report_watch_incidents("w", "h", now + Duration::minutes(9), false)
        .unwrap();
    s.update_incident(
        &id,
        &IncidentPatch {
            status: Some(Status::Resolved),
            ..IncidentPatch::default()
        },
        "alice",
        now,
    )
    .unwrap();
    s.commit_watch_batch(&batch(vec![], 700), &pb, "w", "h", now)
        .unwrap();
    s.conn
        .trace_v2(
            TraceEventCodes::SQLITE_TRACE_STMT,
            None::<fn(TraceEvent<'_>)>,
        )
        .unwrap();

    let mut statements: Vec<String> = seen.lock().unwrap().clone();
    // The triggers' conditions run with every detection inserted or
    // reopened, but are not traced as statements of their own.
    let triggers: Vec<String> = s
        .conn
        .prepare("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'detections'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(!triggers.is_empty());
    for t in triggers {
        let start = t.find("SELECT 1 FROM").unwrap();
        let end = start + t[start..].find(")\nBEGIN").unwrap();
        statements.push(
            t[start..end]
                .replace("NEW.", "?")
                .replace("?rule", "?1")
                .replace("?key", "?2")
                .replace("?id", "?3"),
        );
    }
    statements.sort();
    statements.dedup();
    let mut checked = 0;
    let mut scans = Vec::new();
    for sql in &statements {
        let head = sql.trim_start().to_ascii_uppercase();
        // Trigger bodies are reported as "-- TRIGGER ..."; transaction and
        // pragma statements have no plan worth checking.
        if !["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"]
            .iter()
            .any(|k| head.starts_with(k))
        {
            continue;
        }
        checked += 1;
        let mut stmt = s
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        // Parameters left unbound are NULL; the plan does not depend on them.
        let mut rows = stmt.raw_query();
        let mut details = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            details.push(r.get::<_, String>(3).unwrap());
        }
        for d in details {
            // A lookup by key that the planner answers from the (open, id)
            // index reads every open detection: a scan in all but name.
            if d.contains("(open=?)") && sql.contains("key =") {
                scans.push(format!("{d}\n    in: {sql}"));
            }
            let Some(rest) = d.strip_prefix("SCAN ") else {
                continue;
            };
            let table = rest.split_whitespace().next().unwrap_or("");
            if BIG.contains(&table) {
                scans.push(format!(
                    "{d}\n    in: {}",
                    sql.split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
        }
    }
    assert!(checked > 20, "the workload ran only {checked} statements");
    assert!(scans.is_empty(), "full scans:\n{}", scans.join("\n"));
}
