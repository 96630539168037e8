//! Campaign incidents and coalesced reports on real SQLite files.

use chrono::{DateTime, Duration, Utc};

use crate::domain::campaign::IncidentGrouping;
use crate::domain::{Playbook, Severity, Status};
use crate::store::test_fixtures::t0;
use crate::store::watch_batch::{CommitOutcome, DetectionChange, RuleFacts};
use crate::store::watcher::WatchBatch;
use crate::store::{IncidentPatch, Store};

fn facts(grouping: IncidentGrouping) -> RuleFacts {
    RuleFacts {
        rule: "SSH brute force".into(),
        description: "many failures".into(),
        why: String::new(),
        condition: "fail > 3 in 1 minute".into(),
        severity: Severity::P2,
        group_by: "src".into(),
        window_seconds: Some(60),
        create_incident: true,
        notify: vec!["oncall".into()],
        alert: true,
        incident: grouping,
        evidence_lines: crate::domain::campaign::DEFAULT_EVIDENCE_LINES,
    }
}

fn hit(f: &RuleFacts, key: &str, count: u64, added: u64, new: bool, host: &str) -> DetectionChange {
    let line =
        format!("Mar  1 10:00:00 {host} sshd[1]: Failed password for root from {key} #{count}");
    DetectionChange {
        facts: f.clone().into(),
        key: key.into(),
        count,
        first_seen: t0(),
        last_seen: t0() + Duration::seconds(count as i64),
        added,
        new,
        new_lines: if new { vec![line.clone()] } else { Vec::new() },
        latest_lines: vec![line],
        host: Some(host.into()),
        lines_before: usize::from(!new),
        sources: vec!["/var/log/auth.log".into()],
        closed_after: false,
    }
}

fn commit(
    s: &mut Store,
    d: Vec<DetectionChange>,
    now: DateTime<Utc>,
    flush: bool,
) -> CommitOutcome {
    let b = WatchBatch {
        watcher: "default".into(),
        detections: d,
        flush,
        ..WatchBatch::default()
    };
    s.commit_watch_batch(&b, &Playbook::builtin(), "rule-watcher", "host1", now)
        .unwrap()
}

fn kinds(s: &Store, id: &str, kind: &str) -> usize {
    s.timeline(id, None)
        .unwrap()
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

#[test]
fn hits_within_a_minute_make_one_update_and_one_excerpt_and_a_flush_tells_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let f = facts(IncidentGrouping::PerKey);
    let out = commit(
        &mut s,
        vec![hit(&f, "1.2.3.4", 4, 4, true, "h")],
        t0(),
        false,
    );
    let id = out.opened[0].incident.clone().unwrap();
    assert_eq!(s.evidence(&id).unwrap().len(), 1, "the opening excerpt");
    // Ten commits in 50 seconds, one hit each: nothing reported yet.
    for i in 1..=10 {
        let d = hit(&f, "1.2.3.4", 4 + i, 1, false, "h");
        commit(
            &mut s,
            vec![d],
            t0() + Duration::seconds(5 * i as i64),
            false,
        );
    }
    assert_eq!(kinds(&s, id.as_str(), "detect.updated"), 0);
    assert_eq!(s.evidence(&id).unwrap().len(), 1);
    // The next commit after the minute reports all ten at once.
    let d = hit(&f, "1.2.3.4", 15, 1, false, "h");
    commit(&mut s, vec![d], t0() + Duration::seconds(61), false);
    let updated: Vec<_> = s
        .timeline(id.as_str(), None)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "detect.updated")
        .collect();
    assert_eq!(updated.len(), 1);
    let data: serde_json::Value = serde_json::from_str(&updated[0].data).unwrap();
    assert_eq!(data["added"], 11);
    assert_eq!(s.evidence(&id).unwrap().len(), 2);
    // One more hit, then the watcher stops: the flush reports it at once.
    let d = hit(&f, "1.2.3.4", 16, 1, false, "h");
    commit(&mut s, vec![d], t0() + Duration::seconds(65), true);
    assert_eq!(kinds(&s, id.as_str(), "detect.updated"), 2);
    assert_eq!(s.evidence(&id).unwrap().len(), 3);
    // Nothing new: a second flush stores no second copy of the excerpt.
    commit(&mut s, vec![], t0() + Duration::seconds(70), true);
    s.report_watch_incidents("w", "h", t0() + Duration::seconds(80), true)
        .unwrap();
    assert_eq!(s.evidence(&id).unwrap().len(), 3);
    assert!(s.verify_chain().unwrap().failure.is_none());
}

#[test]
fn a_campaign_rule_opens_one_incident_for_all_keys_with_one_alert_and_its_sources() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let f = facts(IncidentGrouping::PerRule);
    let keys: Vec<String> = (0..120)
        .map(|i| format!("10.0.{}.{}", i / 200, i % 200))
        .collect();
    let mut changes = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        changes.push(hit(
            &f,
            k,
            4 + i as u64 % 3,
            4 + i as u64 % 3,
            true,
            "bastion-1",
        ));
    }
    let out = commit(&mut s, changes, t0(), false);
    assert_eq!(out.opened.len(), 120);
    assert_eq!(out.opened.iter().filter(|o| !o.joined).count(), 1);
    assert_eq!(out.opened.iter().filter(|o| o.alert.is_some()).count(), 1);
    let id = out.opened[0].incident.clone().unwrap();
    assert!(out.opened.iter().all(|o| o.incident.as_ref() == Some(&id)));
    assert_eq!(s.incidents(true).unwrap().len(), 1);
    // Reported right after it opened: the keys that joined in the same
    // commit are in the title already; a flush finds nothing more to say.
    commit(&mut s, vec![], t0() + Duration::seconds(1), true);
    let inc = s.incident(&id).unwrap();
    assert_eq!(inc.title, "SSH brute force from 120 addresses");
    let sources = s.incident_sources(&id).unwrap();
    assert_eq!(sources.len(), 120);
    let total: u64 = sources.iter().map(|x| x.count).sum();
    let want: u64 = (0..120u64).map(|i| 4 + i % 3).sum();
    assert_eq!(total, want);
    assert_eq!(kinds(&s, id.as_str(), "detect.opened"), 1);
    assert_eq!(kinds(&s, id.as_str(), "detect.notify"), 1);
    assert_eq!(kinds(&s, id.as_str(), "detect.updated"), 1);
    assert_eq!(
        kinds(&s, id.as_str(), "incident.updated"),
        1,
        "the title change, recorded"
    );
    assert!(s.evidence(&id).unwrap().len() <= 2);
    let v = s.verify(None).unwrap();
    assert!(v.failure.is_none(), "{v:?}");

    // Resolved: its detections close, and the next wave is a new campaign.
    s.update_incident(
        &id,
        &IncidentPatch {
            status: Some(Status::Resolved),
            ..IncidentPatch::default()
        },
        "alice",
        t0() + Duration::hours(1),
    )
    .unwrap();
    let out = commit(
        &mut s,
        vec![hit(&f, "10.0.0.1", 4, 4, true, "bastion-1")],
        t0() + Duration::hours(2),
        false,
    );
    assert_eq!(out.closed.len(), 120);
    let next = out.opened[0].incident.clone().unwrap();
    assert_ne!(next, id);
    assert!(!out.opened[0].joined);
    assert_eq!(out.opened[0].number, 2);
}

#[test]
fn a_per_host_campaign_is_one_incident_per_host() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let f = facts(IncidentGrouping::PerHost);
    let changes = vec![
        hit(&f, "1.1.1.1", 4, 4, true, "web-1"),
        hit(&f, "1.1.1.2", 4, 4, true, "web-1"),
        hit(&f, "1.1.1.3", 4, 4, true, "db-1"),
    ];
    commit(&mut s, changes, t0(), true);
    let mut titles: Vec<String> = s
        .incidents(true)
        .unwrap()
        .into_iter()
        .map(|i| i.title)
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "SSH brute force against db-1 from 1 address",
            "SSH brute force against web-1 from 2 addresses"
        ]
    );
}

/// The rows (key, count, lines, latest) of a campaign's detections, and
/// its newest excerpt.
fn campaign_state(s: &Store) -> (Vec<(String, i64, String, String)>, String) {
    let mut stmt = s
        .conn
        .prepare("SELECT key, count, lines, latest FROM detections ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    let incident = s.incidents(true).unwrap()[0].id.clone();
    let excerpt = s
        .evidence(&incident)
        .unwrap()
        .last()
        .and_then(|e| e.content.clone())
        .unwrap();
    (rows, excerpt)
}

#[test]
fn a_campaigns_later_keys_keep_only_their_latest_line_however_commits_were_grouped() {
    let f = facts(IncidentGrouping::PerRule);
    let keep = f.evidence_lines;
    let keys: Vec<String> = (0..3 * keep).map(|i| format!("10.0.0.{i}")).collect();
    let line =
        |key: &str, n: u64| format!("Mar  1 10:00:00 h sshd[1]: Failed password from {key} #{n}");
    // Each key fires with three lines, then two more come.
    let fired = |key: &str| DetectionChange {
        new_lines: (1..=3).map(|n| line(key, n)).collect(),
        latest_lines: (1..=3).map(|n| line(key, n)).collect(),
        ..hit(&f, key, 3, 3, true, "h")
    };
    let more = |key: &str| DetectionChange {
        latest_lines: (4..=5).map(|n| line(key, n)).collect(),
        ..hit(&f, key, 5, 2, false, "h")
    };
    // All at once, or one change a commit: the same rows and excerpt.
    let dir = tempfile::tempdir().unwrap();
    let mut whole = Store::open(&dir.path().join("a.db")).unwrap();
    commit(
        &mut whole,
        keys.iter().map(|k| fired(k)).collect(),
        t0(),
        false,
    );
    commit(
        &mut whole,
        keys.iter().map(|k| more(k)).collect(),
        t0(),
        false,
    );
    commit(&mut whole, Vec::new(), t0(), true);
    let mut apart = Store::open(&dir.path().join("b.db")).unwrap();
    for k in &keys {
        commit(&mut apart, vec![fired(k)], t0(), false);
    }
    for k in &keys {
        commit(&mut apart, vec![more(k)], t0(), false);
    }
    commit(&mut apart, Vec::new(), t0(), true);
    let (rows, excerpt) = campaign_state(&whole);
    assert_eq!((rows.clone(), excerpt.clone()), campaign_state(&apart));

    assert_eq!(rows.len(), keys.len());
    for (i, (key, count, lines, latest)) in rows.iter().enumerate() {
        assert_eq!(*count, 5, "{key}");
        let latest: Vec<String> = serde_json::from_str(latest).unwrap();
        if i < keep {
            // The first keys: their first lines (as many as a campaign's
            // detection keeps) and latest ones.
            let first: Vec<String> = serde_json::from_str(lines).unwrap();
            assert_eq!(first, vec![line(key, 1), line(key, 2)], "{key}");
            assert_eq!(latest, vec![line(key, 4), line(key, 5)], "{key}");
        } else if i >= keys.len() - keep {
            // Among the latest seen (all alike here, so the last to join):
            // the excerpt's latest lines come from these.
            assert_eq!(lines, "", "{key} keeps no first lines");
            assert_eq!(latest, vec![line(key, 5)], "{key} keeps its latest line");
        } else {
            assert_eq!(lines, "", "{key} keeps no first lines");
            assert!(latest.is_empty(), "{key} is not among the latest seen");
        }
    }
    // The excerpt: the first keys' first lines and the latest of the last
    // keys seen, the rest counted.
    let shown: Vec<&str> = excerpt.lines().filter(|l| l.contains("sshd[1]")).collect();
    assert_eq!(shown.len(), 2 * keep, "{excerpt}");
    assert_eq!(shown[0], line(&keys[0], 1), "{excerpt}");
    assert_eq!(
        *shown.last().unwrap(),
        line(keys.last().unwrap(), 5),
        "{excerpt}"
    );
    let total = 5 * keys.len();
    assert!(
        excerpt.contains(&format!("[... {} more", total - 2 * keep)),
        "{excerpt}"
    );
}

#[test]
fn an_alert_only_campaigns_later_keys_keep_no_lines() {
    let f = RuleFacts {
        create_incident: false,
        ..facts(IncidentGrouping::PerRule)
    };
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let out = commit(
        &mut s,
        vec![
            hit(&f, "10.0.0.1", 4, 4, true, "h"),
            hit(&f, "10.0.0.2", 4, 4, true, "h"),
        ],
        t0(),
        false,
    );
    assert_eq!(
        out.opened.iter().filter(|o| o.alert.is_some()).count(),
        1,
        "one alert for the campaign"
    );
    let rows: Vec<(String, String, String)> = s
        .conn
        .prepare("SELECT key, lines, latest FROM detections ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let line = |k: &str| format!("Mar  1 10:00:00 h sshd[1]: Failed password for root from {k} #4");
    let json = |k: &str| serde_json::to_string(&[line(k)]).unwrap();
    assert_eq!(
        rows,
        vec![
            ("10.0.0.1".into(), json("10.0.0.1"), json("10.0.0.1")),
            ("10.0.0.2".into(), String::new(), "[]".into()),
        ]
    );
}

#[test]
fn a_key_seen_again_among_the_latest_gets_its_latest_line_back() {
    let f = facts(IncidentGrouping::PerRule);
    let keep = f.evidence_lines;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let at = |key: &str, count: u64, new: bool, secs: i64| DetectionChange {
        last_seen: t0() + Duration::seconds(secs),
        ..hit(&f, key, count, if new { count } else { 1 }, new, "h")
    };
    // 3 * keep keys, each seen at its own second.
    let keys: Vec<String> = (0..3 * keep).map(|i| format!("10.0.1.{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        commit(&mut s, vec![at(k, 4, true, i as i64)], t0(), false);
    }
    let latest_of = |s: &Store, key: &str| -> String {
        s.conn
            .query_row("SELECT latest FROM detections WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .unwrap()
    };
    // keys[keep] joined after the first keep (no first lines) and is no
    // longer among the keep latest seen: the report drops its line.
    assert_ne!(latest_of(&s, &keys[keep]), "[]", "kept until a report");
    commit(&mut s, Vec::new(), t0(), true);
    assert_eq!(latest_of(&s, &keys[keep]), "[]");
    // Seen again, last of all: its latest line is back, and a report
    // keeps it.
    commit(&mut s, vec![at(&keys[keep], 5, false, 1000)], t0(), true);
    let back: Vec<String> = serde_json::from_str(&latest_of(&s, &keys[keep])).unwrap();
    assert_eq!(back.len(), 1);
    assert!(back[0].ends_with("#5"), "{back:?}");
    assert_eq!(latest_of(&s, &keys[keep + 1]), "[]");
}
