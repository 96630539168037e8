//! A campaign's lines kept on its incident's row, on real SQLite files; and
//! campaigns opened before that (lines on their detections) still reported.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::domain::campaign::IncidentGrouping;
use crate::domain::{IncidentId, Playbook, Severity};
use crate::store::Store;
use crate::store::watch_batch::{CommitOutcome, DetectionChange, RuleFacts};
use crate::store::watcher::{SavedWindow, WatchBatch};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap()
}

fn facts() -> RuleFacts {
    RuleFacts {
        rule: "Wide".into(),
        description: "many failures".into(),
        why: String::new(),
        condition: "fail > 3 in 1 minute".into(),
        severity: Severity::P2,
        group_by: "src".into(),
        window_seconds: Some(60),
        create_incident: true,
        notify: Vec::new(),
        alert: false,
        incident: IncidentGrouping::PerRule,
        evidence_lines: 4,
    }
}

fn line(key: &str, n: u64) -> String {
    format!("Mar  1 10:00:00 h sshd[1]: Failed password for root from {key} #{n}")
}

/// Key `key` reached `count` events at `t0 + count` seconds: a new
/// detection holds lines #1..#count, an attach (from 4) adds line #count.
fn hit(key: &str, count: u64, new: bool) -> DetectionChange {
    let lines: Vec<String> = if new {
        (1..=count).map(|n| line(key, n)).collect()
    } else {
        vec![line(key, count)]
    };
    DetectionChange {
        facts: facts(),
        key: key.into(),
        count,
        first_seen: t0(),
        last_seen: t0() + Duration::seconds(count as i64),
        // Every key starts at 4.
        added: if new { count } else { count - 4 },
        new,
        new_lines: if new { lines.clone() } else { Vec::new() },
        latest_lines: lines,
        host: Some("h".into()),
        lines_before: if new { 0 } else { 2 },
        sources: vec!["/var/log/auth.log".into()],
        closed_after: false,
    }
}

fn commit(s: &mut Store, d: Vec<DetectionChange>, now: DateTime<Utc>) -> CommitOutcome {
    let b = WatchBatch {
        watcher: "default".into(),
        detections: d,
        flush: true,
        ..WatchBatch::default()
    };
    s.commit_watch_batch(&b, &Playbook::builtin(), "rule-watcher", "host1", now)
        .unwrap()
}

fn newest_excerpt(s: &Store, id: &IncidentId) -> String {
    s.evidence(id)
        .unwrap()
        .last()
        .and_then(|e| e.content.clone())
        .unwrap()
}

#[test]
fn joined_keys_keep_no_lines_and_the_campaign_keeps_its_first_and_latest() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let keys: Vec<String> = (0..30).map(|i| format!("10.0.0.{i}")).collect();
    let out = commit(
        &mut s,
        keys.iter().map(|k| hit(k, 4, true)).collect(),
        t0() + Duration::seconds(5),
    );
    let id = out.opened[0].incident.clone().unwrap();
    // Later hits on two keys that joined.
    commit(
        &mut s,
        vec![hit("10.0.0.7", 5, false), hit("10.0.0.9", 6, false)],
        t0() + Duration::minutes(2),
    );
    let c = &s.conn;
    let (joined, bare): (i64, i64) = c
        .query_row(
            "SELECT count(*), sum(lines = '' AND latest = '') FROM detections
             WHERE incident_id = ?1 AND id > (SELECT min(id) FROM detections)",
            [id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((joined, bare), (29, 29), "joined keys hold no lines");
    // Their counts and times are the campaign's sources, exactly.
    let sources = s.incident_sources(&id).unwrap();
    assert_eq!(sources.len(), 30);
    assert_eq!(sources[0].key, "10.0.0.9");
    assert_eq!(sources[0].count, 6);
    assert_eq!(sources[0].last_seen, t0() + Duration::seconds(6));
    let total: u64 = sources.iter().map(|x| x.count).sum();
    assert_eq!(total, 28 * 4 + 5 + 6);
    // The excerpt: two first lines of each of the first keys, four in
    // all; the latest four, newest last; the rest counted.
    let text = newest_excerpt(&s, &id);
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got.len(), 4 + 1 + 4, "{text}");
    assert_eq!(
        got[..4],
        [
            line("10.0.0.0", 1),
            line("10.0.0.0", 2),
            line("10.0.0.1", 1),
            line("10.0.0.1", 2)
        ]
    );
    assert_eq!(got[4], "[... 115 more matching line(s) not kept ...]");
    assert_eq!(got[5..7], [line("10.0.0.29", 3), line("10.0.0.29", 4)]);
    assert_eq!(got[7..], [line("10.0.0.7", 5), line("10.0.0.9", 6)]);
    assert!(s.verify(None).unwrap().failure.is_none());
}

/// A database whose campaign was opened before migration 18: its row has
/// no lines of its own (NULL) and its detections hold two each.
#[test]
fn a_campaign_opened_before_keeps_its_lines_on_its_detections_and_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let mut s = Store::open(&path).unwrap();
    let keys: Vec<String> = (0..3).map(|i| format!("10.0.0.{i}")).collect();
    let out = commit(
        &mut s,
        keys.iter().map(|k| hit(k, 4, true)).collect(),
        t0() + Duration::seconds(5),
    );
    let id = out.opened[0].incident.clone().unwrap();
    // Rewritten the way the version before stored it.
    s.conn
        .execute_batch(&format!(
            "UPDATE watch_incidents SET first_lines = NULL, latest_lines = NULL;
             UPDATE detections SET
                lines = json_array('{a}', '{b}'), latest = json_array('{a}', '{b}')
             WHERE incident_id = '{id}';",
            a = line("old", 1),
            b = line("old", 2),
            id = id.as_str()
        ))
        .unwrap();
    drop(s);
    let mut s = Store::open(&path).unwrap();
    // A new key joins after the upgrade: it keeps its lines as before,
    // since its campaign does not keep them.
    commit(
        &mut s,
        vec![hit("10.0.0.50", 4, true)],
        t0() + Duration::minutes(2),
    );
    let lines: String = s
        .conn
        .query_row(
            "SELECT lines FROM detections WHERE key = '10.0.0.50'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Vec<String>>(&lines).unwrap(),
        [line("10.0.0.50", 1), line("10.0.0.50", 2)]
    );
    let first_lines: Option<String> = s
        .conn
        .query_row("SELECT first_lines FROM watch_incidents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(first_lines, None);
    let text = newest_excerpt(&s, &id);
    assert!(text.starts_with(&line("old", 1)), "{text}");
    // Its latest two (of four) are the excerpt's latest.
    assert!(text.ends_with(&line("10.0.0.50", 4)), "{text}");
    assert!(
        text.contains("[... 10 more matching line(s) not kept ...]"),
        "{text}"
    );
}

/// What a flood frees (windows dropped as they fire) goes back to the file
/// system when the watcher stops, in a file made with incremental
/// auto-vacuum.
#[test]
fn pages_a_flood_freed_are_given_back_when_the_watcher_stops() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let pragma = |s: &Store, p: &str| -> i64 {
        s.conn
            .query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(pragma(&s, "auto_vacuum"), 2, "incremental");
    let windows: Vec<SavedWindow> = (0..3000)
        .map(|i| SavedWindow {
            rule: "Wide".into(),
            key: format!("10.0.{}.{}", i / 256, i % 256),
            state: format!(
                "{{\"v\":2,\"e\":[],\"pad\":\"{}\"}}",
                "x".repeat(900 + i % 7)
            ),
        })
        .collect();
    let mut b = WatchBatch {
        watcher: "default".into(),
        windows,
        ..WatchBatch::default()
    };
    s.commit_watch_batch(&b, &Playbook::builtin(), "w", "h", t0())
        .unwrap();
    let full = pragma(&s, "page_count");
    assert!(full > 700, "{full} pages");
    // Two fifths of the windows fired: their pages are free, kept for the
    // next commits to reuse while the watcher runs.
    b.dropped_windows = b.windows.drain(..1200).map(|w| (w.rule, w.key)).collect();
    b.windows.clear();
    s.commit_watch_batch(&b, &Playbook::builtin(), "w", "h", t0())
        .unwrap();
    let free = pragma(&s, "freelist_count");
    assert!(free > 256, "{free} free pages");
    // The watcher stops: its empty last batch commits nothing, its final
    // report gives them back.
    s.report_watch_incidents("w", "h", t0(), true).unwrap();
    assert_eq!(pragma(&s, "freelist_count"), 0);
    assert!(
        pragma(&s, "page_count") <= full - free,
        "{full} pages before"
    );
}
