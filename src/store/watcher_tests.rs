//! The watcher's store on real SQLite files: one transaction per batch,
//! incidents from detections, suppression, replays recorded once.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::domain::{IncidentId, Playbook, Severity, Status};
use crate::store::test_fixtures::{open_temp, t0};
use crate::store::watch_batch::*;
use crate::store::{IncidentPatch, NewAlert, Store, StoreError};

fn brute_facts() -> RuleFacts {
    RuleFacts {
        rule: "Multiple failed logins".into(),
        description: "sshd rejected many passwords from one address".into(),
        why: "ten in five minutes is no typo".into(),
        condition: "failed_logins > 10 in 5 minutes".into(),
        severity: Severity::P2,
        group_by: "src".into(),
        window_seconds: Some(300),
        create_incident: true,
        notify: vec!["security-team@example.com".into(), "oncall".into()],
        alert: true,
        incident: crate::domain::campaign::IncidentGrouping::PerKey,
        evidence_lines: crate::domain::campaign::DEFAULT_EVIDENCE_LINES,
    }
}

fn change(facts: RuleFacts, key: &str, count: u64, new: bool, lines: &[&str]) -> DetectionChange {
    DetectionChange {
        facts: facts.into(),
        key: key.into(),
        count,
        first_seen: t0(),
        last_seen: t0() + Duration::seconds(count as i64),
        added: count,
        new,
        new_lines: lines.iter().map(|l| l.to_string()).collect(),
        latest_lines: lines.iter().map(|l| l.to_string()).collect(),
        host: None,
        lines_before: 0,
        sources: vec!["/var/log/auth.log".into()],
        closed_after: false,
    }
}

fn commit(s: &mut Store, batch: &WatchBatch, now: DateTime<Utc>) -> CommitOutcome {
    s.commit_watch_batch(batch, &Playbook::builtin(), "rule-watcher", "host1", now)
        .unwrap()
}

fn checkpoint(offset: u64) -> FileCheckpoint {
    FileCheckpoint {
        path: "/var/log/auth.log".into(),
        dev: 2049,
        inode: 77,
        fp_len: 12,
        fingerprint: "ab".repeat(32),
        offset,
    }
}

#[test]
fn a_detection_opens_an_incident_with_its_evidence_alert_and_checkpoint_in_one_commit() {
    let (_d, mut s) = open_temp();
    let lines = [
        "Dec 10 06:55:46 h sshd[1]: Failed password for root from 1.2.3.4 port 1 ssh2",
        "Dec 10 06:55:48 h sshd[1]: Failed password for root from 1.2.3.4 port 2 ssh2\u{1b}[2J",
    ];
    let batch = WatchBatch {
        watcher: "default".into(),
        checkpoints: vec![checkpoint(4096)],
        windows: vec![SavedWindow {
            rule: "Multiple failed logins".into(),
            key: "5.6.7.8".into(),
            state: r#"{"entries":[],"total":0}"#.into(),
        }],
        detections: vec![change(brute_facts(), "1.2.3.4", 11, true, &lines)],
        ..WatchBatch::default()
    };
    let out = commit(&mut s, &batch, t0() + Duration::minutes(1));
    assert_eq!(out.opened.len(), 1);
    let o = &out.opened[0];
    let id = o.incident.clone().expect("an incident");
    assert_eq!(o.number, 1);
    assert_eq!(
        o.alert,
        Some(("detect:Multiple failed logins:1.2.3.4:1".into(), true))
    );

    let inc = s.incident(&id).unwrap();
    assert_eq!(inc.severity, Severity::P2);
    assert_eq!(inc.source, crate::domain::Source::RuleWatcher);
    assert_eq!(inc.title, "Multiple failed logins (src=1.2.3.4)");
    assert_eq!(
        inc.detected_at,
        t0(),
        "detected when the first line was logged"
    );

    let timeline = s.timeline(id.as_str(), None).unwrap();
    let kinds: Vec<&str> = timeline.iter().rev().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "incident.created",
            "detect.opened",
            "detect.notify",
            "evidence.collected"
        ]
    );
    let opened = timeline.iter().find(|e| e.kind == "detect.opened").unwrap();
    let data: serde_json::Value = serde_json::from_str(&opened.data).unwrap();
    assert_eq!(data["rule"], "Multiple failed logins");
    assert_eq!(data["key"], "1.2.3.4");
    assert_eq!(data["count"], 11);
    assert_eq!(data["first_seen"], "2026-03-01T10:00:00.000Z");
    assert_eq!(data["last_seen"], "2026-03-01T10:00:11.000Z");
    assert_eq!(data["window_seconds"], 300);
    assert_eq!(data["lines"][1], lines[1], "stored raw");
    let notify = timeline.iter().find(|e| e.kind == "detect.notify").unwrap();
    assert!(notify.detail.contains("security-team@example.com, oncall"));

    let ev = s.evidence(&id).unwrap();
    assert_eq!(ev.len(), 1);
    // Bounded: the lines kept, and how many of the 11 events are not.
    let want = format!(
        "{}\n[... 9 more matching line(s) not kept ...]",
        lines.join("\n")
    );
    assert_eq!(ev[0].content.as_deref(), Some(want.as_str()));
    assert_eq!(ev[0].source_path.as_deref(), Some("/var/log/auth.log"));
    assert_eq!(ev[0].source_host, "host1");

    let state = s.load_watch_state("default").unwrap();
    assert_eq!(state.checkpoints, vec![checkpoint(4096)]);
    assert_eq!(state.windows, batch.windows);
    assert_eq!(state.open.len(), 1);
    assert_eq!(state.open[0].count, 11);
    assert_eq!(state.open[0].lines, lines);
    assert!(
        s.load_watch_state("other").unwrap().checkpoints.is_empty(),
        "checkpoints are per watcher"
    );

    // Raised once: the same alert key is taken.
    let taken = s
        .raise_alert(&NewAlert {
            key: "detect:Multiple failed logins:1.2.3.4:1".into(),
            incident_id: None,
            kind: "detection".into(),
            text: "again".into(),
            recipient: None,
            raised_by: "x".into(),
            raised_at: t0(),
        })
        .unwrap();
    assert!(!taken);
    assert!(s.verify_chain().unwrap().failure.is_none());
}

#[test]
fn later_hits_attach_to_the_open_detection_and_its_incident() {
    let (_d, mut s) = open_temp();
    let first = WatchBatch {
        watcher: "default".into(),
        detections: vec![change(brute_facts(), "1.2.3.4", 11, true, &["a"])],
        ..WatchBatch::default()
    };
    let out = commit(&mut s, &first, t0());
    let id = out.opened[0].incident.clone().unwrap();

    let mut more = change(brute_facts(), "1.2.3.4", 14, false, &["b", "c"]);
    more.added = 3;
    more.lines_before = 1;
    more.last_seen = t0() + Duration::minutes(2);
    let second = WatchBatch {
        watcher: "default".into(),
        detections: vec![more.clone()],
        ..WatchBatch::default()
    };
    let out = commit(&mut s, &second, t0() + Duration::minutes(3));
    assert!(out.opened.is_empty());
    assert_eq!(out.attached, 3);

    // Another watcher's engine, unaware of it, opens the same rule and key:
    // suppression attaches that too.
    let other = WatchBatch {
        watcher: "console".into(),
        detections: vec![change(brute_facts(), "1.2.3.4", 11, true, &["d"])],
        ..WatchBatch::default()
    };
    let out = commit(&mut s, &other, t0() + Duration::minutes(4));
    assert!(out.opened.is_empty());

    let all = s.detections(false).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].count, 11 + 3 + 11);
    assert_eq!(all[0].last_seen, t0() + Duration::minutes(2));
    assert_eq!(all[0].lines, ["a", "b", "c", "d"]);
    assert_eq!(s.incidents(true).unwrap().len(), 1);
    let updates: Vec<_> = s
        .timeline(id.as_str(), None)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "detect.updated")
        .collect();
    assert_eq!(updates.len(), 2);
    assert!(
        updates[1].detail.contains("3 more event(s)"),
        "{}",
        updates[1].detail
    );
    assert_eq!(
        s.evidence(&id).unwrap().len(),
        3,
        "one excerpt per report (each a minute apart here)"
    );
}

#[test]
fn a_resolved_incident_closes_its_detection_and_the_next_one_is_number_two() {
    let (_d, mut s) = open_temp();
    let b = WatchBatch {
        watcher: "default".into(),
        detections: vec![change(brute_facts(), "1.2.3.4", 11, true, &["a"])],
        ..WatchBatch::default()
    };
    let id = commit(&mut s, &b, t0()).opened[0].incident.clone().unwrap();
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
    let empty = WatchBatch {
        watcher: "default".into(),
        ..WatchBatch::default()
    };
    let out = commit(&mut s, &empty, t0() + Duration::hours(2));
    assert_eq!(
        out.closed,
        vec![("Multiple failed logins".into(), "1.2.3.4".into())]
    );
    assert!(s.detections(true).unwrap().is_empty());
    let out = commit(&mut s, &b, t0() + Duration::hours(3));
    let o = &out.opened[0];
    assert_eq!(o.number, 2);
    assert_ne!(o.incident.as_ref(), Some(&id));
    assert_eq!(
        o.alert.as_ref().map(|a| a.0.as_str()),
        Some("detect:Multiple failed logins:1.2.3.4:2")
    );
}

#[test]
fn replaying_the_same_detections_records_them_once_and_growth_once() {
    let (_d, mut s) = open_temp();
    let replay = |count: u64, lines: &[&str]| WatchBatch {
        watcher: "scan".into(),
        replay: true,
        detections: vec![change(brute_facts(), "1.2.3.4", count, true, lines)],
        ..WatchBatch::default()
    };
    let out = commit(&mut s, &replay(11, &["a", "b"]), t0());
    assert_eq!(out.opened.len(), 1);
    let out = commit(&mut s, &replay(11, &["a", "b"]), t0());
    assert!(out.opened.is_empty());
    assert_eq!(out.unchanged, 1);
    // The file grew: 4 more events, one more line.
    let out = commit(&mut s, &replay(15, &["a", "b", "c"]), t0());
    assert_eq!(out.attached, 4);
    let all = s.detections(false).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].count, 15);
    assert_eq!(all[0].lines, ["a", "b", "c"]);
    assert_eq!(all[0].origin, "scan");
    assert_eq!(s.incidents(true).unwrap().len(), 1);
    let out = commit(&mut s, &replay(15, &["a", "b", "c"]), t0());
    assert_eq!((out.opened.len(), out.attached, out.unchanged), (0, 0, 1));
}

#[test]
fn rules_without_incidents_alert_or_only_record_and_close_when_told() {
    let (_d, mut s) = open_temp();
    let mut notify_only = brute_facts();
    notify_only.rule = "Root login".into();
    notify_only.create_incident = false;
    notify_only.notify = vec!["oncall".into()];
    let mut record_only = notify_only.clone();
    record_only.rule = "Seen".into();
    record_only.notify.clear();
    record_only.alert = false;
    let mut quiet = change(record_only.clone(), "k", 1, true, &["x"]);
    quiet.closed_after = true;
    let b = WatchBatch {
        watcher: "default".into(),
        detections: vec![
            change(notify_only, "10.0.0.1", 1, true, &["root in"]),
            change(record_only.clone(), "k", 1, true, &["x"]),
        ],
        ..WatchBatch::default()
    };
    let before = s.verify_chain().unwrap().events;
    let out = commit(&mut s, &b, t0());
    assert_eq!(out.opened.len(), 2);
    assert!(out.opened.iter().all(|o| o.incident.is_none()));
    assert_eq!(
        out.opened[0].alert,
        Some(("detect:Root login:10.0.0.1:1".into(), true))
    );
    assert_eq!(out.opened[1].alert, None);
    assert!(s.incidents(true).unwrap().is_empty());
    // The alert and its detection are on the live chain; the record-only
    // detection is only a row.
    assert_eq!(s.verify_chain().unwrap().events, before + 2);

    // Closed by the engine (quiet), then seen again: a second detection.
    let b = WatchBatch {
        watcher: "default".into(),
        detections: vec![
            {
                let mut c = change(record_only.clone(), "k", 2, false, &[]);
                c.added = 1;
                c.closed_after = true;
                c
            },
            change(record_only, "k", 1, true, &["y"]),
        ],
        ..WatchBatch::default()
    };
    commit(&mut s, &b, t0());
    let seen: Vec<_> = s
        .detections(false)
        .unwrap()
        .into_iter()
        .filter(|d| d.rule == "Seen")
        .map(|d| (d.number, d.count, d.open))
        .collect();
    assert_eq!(seen, [(1, 2, false), (2, 1, true)]);
}

#[test]
fn a_key_from_a_log_line_never_breaks_the_incident_title() {
    let (_d, mut s) = open_temp();
    let key = "x".repeat(500);
    let b = WatchBatch {
        watcher: "default".into(),
        detections: vec![change(brute_facts(), &key, 11, true, &["a"])],
        ..WatchBatch::default()
    };
    let out = commit(&mut s, &b, t0());
    let id: IncidentId = out.opened[0].incident.clone().unwrap();
    assert_eq!(s.incident(&id).unwrap().title.chars().count(), 200);
    assert_eq!(
        s.detections(false).unwrap()[0].key,
        key,
        "the key itself is kept whole"
    );
}

#[test]
fn checkpoints_and_windows_are_replaced_and_dropped() {
    let (_d, mut s) = open_temp();
    let w = |state: &str| SavedWindow {
        rule: "r".into(),
        key: "k".into(),
        state: state.into(),
    };
    commit(
        &mut s,
        &WatchBatch {
            watcher: "default".into(),
            checkpoints: vec![checkpoint(10)],
            windows: vec![w("1")],
            ..WatchBatch::default()
        },
        t0(),
    );
    commit(
        &mut s,
        &WatchBatch {
            watcher: "default".into(),
            checkpoints: vec![checkpoint(20)],
            windows: vec![w("2")],
            ..WatchBatch::default()
        },
        t0(),
    );
    let st = s.load_watch_state("default").unwrap();
    assert_eq!(st.checkpoints[0].offset, 20);
    assert_eq!(st.windows, vec![w("2")]);
    commit(
        &mut s,
        &WatchBatch {
            watcher: "default".into(),
            forget_paths: vec!["/var/log/auth.log".into()],
            dropped_windows: vec![("r".into(), "k".into())],
            ..WatchBatch::default()
        },
        t0(),
    );
    let st = s.load_watch_state("default").unwrap();
    assert!(st.checkpoints.is_empty() && st.windows.is_empty());
}

fn term(actor: &str, token: &str) -> LeaseTerm {
    LeaseTerm {
        holder: crate::store::LeaseHolder {
            actor: actor.into(),
            host: "h1".into(),
            pid: 4242,
            token: token.into(),
        },
        ttl: std::time::Duration::from_secs(15),
    }
}

fn held(c: crate::store::LeaseClaim) -> crate::store::WatchLease {
    match c {
        crate::store::LeaseClaim::Held(l) => l,
        crate::store::LeaseClaim::Busy(l) => panic!("busy: held by {}", l.holder),
    }
}

#[test]
fn a_watcher_lease_is_held_by_one_run_until_given_back_or_run_out() {
    let (_dir, mut store) = open_temp();
    let (anna, ben) = (term("anna", "a1"), term("ben", "b1"));
    let alive = |_: &crate::store::LeaseHolder| false;
    let first = held(
        store
            .claim_watch_lease("console", &anna, t0(), alive)
            .unwrap(),
    );
    assert_eq!(first.expires_at, t0() + Duration::seconds(15));

    // Ben waits while anna's lease runs.
    let later = t0() + Duration::seconds(10);
    match store
        .claim_watch_lease("console", &ben, later, alive)
        .unwrap()
    {
        crate::store::LeaseClaim::Busy(l) => {
            assert_eq!(l.holder, anna.holder);
            assert_eq!(l.holder.to_string(), "anna on h1 (pid 4242)");
        }
        other => panic!("{other:?}"),
    }
    // Another name is free.
    held(
        store
            .claim_watch_lease("default", &ben, later, alive)
            .unwrap(),
    );
    // Anna renews: same lease, later expiry, acquisition time kept.
    let renewed = held(
        store
            .claim_watch_lease("console", &anna, later, alive)
            .unwrap(),
    );
    assert_eq!(renewed.acquired_at, t0());
    assert_eq!(renewed.expires_at, later + Duration::seconds(15));

    // Run out: ben takes over.
    let after = later + Duration::seconds(16);
    let taken = held(
        store
            .claim_watch_lease("console", &ben, after, alive)
            .unwrap(),
    );
    assert_eq!(
        (taken.holder.clone(), taken.acquired_at),
        (ben.holder.clone(), after)
    );
    // Anna is refused now, and her renewal says who has it.
    let e = store
        .renew_watch_lease("console", &anna, after)
        .unwrap_err();
    assert!(matches!(e, StoreError::LeaseLost { .. }), "{e}");
    assert!(e.to_string().contains("now run by ben on h1"), "{e}");

    // Given back: free at once, and giving back another's does nothing.
    store.release_watch_lease("console", &anna.holder).unwrap();
    assert_eq!(store.watch_leases().unwrap().len(), 2);
    store.release_watch_lease("console", &ben.holder).unwrap();
    held(
        store
            .claim_watch_lease("console", &anna, after, alive)
            .unwrap(),
    );

    // A holder known to be gone (its process ended) is replaced at once.
    let seen = std::cell::RefCell::new(Vec::new());
    held(
        store
            .claim_watch_lease("console", &ben, after, |h| {
                seen.borrow_mut().push(h.actor.clone());
                true
            })
            .unwrap(),
    );
    assert_eq!(*seen.borrow(), ["anna"]);
}

#[test]
fn a_commit_under_a_lost_lease_writes_nothing() {
    let (_dir, mut store) = open_temp();
    let pb = Playbook::builtin();
    let (anna, ben) = (term("anna", "a1"), term("ben", "b1"));
    held(
        store
            .claim_watch_lease("w", &anna, t0(), |_| false)
            .unwrap(),
    );
    let batch = |offset, lease: &LeaseTerm| WatchBatch {
        watcher: "w".into(),
        checkpoints: vec![checkpoint(offset)],
        detections: vec![change(brute_facts(), "10.0.0.1", 11, true, &["l1"])],
        lease: Some(lease.clone()),
        ..WatchBatch::default()
    };
    // Anna's commit renews her lease.
    let t1 = t0() + Duration::seconds(5);
    store
        .commit_watch_batch(&batch(100, &anna), &pb, "anna", "h1", t1)
        .unwrap();
    let lease = &store.watch_leases().unwrap()[0];
    assert_eq!(lease.expires_at, t1 + Duration::seconds(15));

    // Anna stalls past her lease; ben takes over and commits further.
    let t2 = t1 + Duration::seconds(20);
    held(store.claim_watch_lease("w", &ben, t2, |_| false).unwrap());
    store
        .commit_watch_batch(&batch(200, &ben), &pb, "ben", "h1", t2)
        .unwrap();
    // Anna wakes up with old lines: refused whole, ben's state stands.
    let before = store.detections(false).unwrap();
    let e = store
        .commit_watch_batch(&batch(150, &anna), &pb, "anna", "h1", t2)
        .unwrap_err();
    assert!(matches!(e, StoreError::LeaseLost { .. }), "{e}");
    let cps = store.watch_checkpoints("w").unwrap();
    assert_eq!(cps[0].offset, 200);
    assert_eq!(store.detections(false).unwrap(), before);
}

#[test]
fn a_rule_and_key_never_have_two_open_detections() {
    let (_d, mut s) = open_temp();
    let batch = WatchBatch {
        watcher: "default".into(),
        detections: vec![change(brute_facts(), "1.2.3.4", 11, true, &["a"])],
        ..WatchBatch::default()
    };
    commit(&mut s, &batch, t0());
    let insert = |s: &Store, number: i64, open: i64| {
        s.conn.execute(
            "INSERT INTO detections (rule, key, number, severity, group_by, count, first_seen,
                 last_seen, lines, origin, open, created_at, updated_at)
             SELECT rule, key, ?1, severity, group_by, count, first_seen, last_seen, lines,
                 origin, ?2, created_at, updated_at FROM detections WHERE number = 1",
            rusqlite::params![number, open],
        )
    };
    let err = insert(&s, 2, 1).unwrap_err().to_string();
    assert!(err.contains("one open detection per rule and key"), "{err}");
    // A closed one beside it is fine; reopening it while the first is open
    // is not; once the first is closed it is.
    insert(&s, 2, 0).unwrap();
    let reopen = |s: &Store, number: i64| {
        s.conn
            .execute("UPDATE detections SET open = 1 WHERE number = ?1", [number])
    };
    assert!(reopen(&s, 2).is_err());
    s.conn
        .execute("UPDATE detections SET open = 0 WHERE number = 1", [])
        .unwrap();
    reopen(&s, 2).unwrap();
    // Another key is another detection.
    s.conn
        .execute("UPDATE detections SET key = '5.6.7.8' WHERE number = 1", [])
        .unwrap();
    reopen(&s, 1).unwrap();
}
