use super::*;
use std::path::PathBuf;

fn engine(text: &str, cap: usize) -> Engine {
    let mut set = RuleSet::default();
    set.add_texts(&[(PathBuf::from("t.yml"), text.to_string())]);
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    Engine::new(Arc::new(set), cap)
}

const RULES: &str = r#"
events:
  fail:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+)'
rules:
  - rule: brute
    condition: fail > 3 in 1 minute
  - rule: each
    condition: fail
    group_by: user
"#;

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn feed(e: &mut Engine, line: &str, n: u32, at: DateTime<Utc>) -> Vec<Change> {
    let mut out = Vec::new();
    e.process(line, line, n, at, &mut out);
    out
}

#[test]
fn fires_once_past_the_threshold_then_attaches() {
    let mut e = engine(RULES, 100);
    for i in 0..3 {
        let ch = feed(
            &mut e,
            "Failed password for root from 1.2.3.4",
            1,
            t(i * 10),
        );
        assert!(
            !ch.iter()
                .any(|c| matches!(c, Change::Opened { rule: 0, .. }))
        );
    }
    let ch = feed(&mut e, "Failed password for root from 1.2.3.4", 1, t(30));
    assert!(ch.contains(&Change::Opened {
        rule: 0,
        key: "1.2.3.4".into()
    }));
    let d = e.detection(0, "1.2.3.4").unwrap();
    assert_eq!((d.count, d.first_seen, d.last_seen), (4, t(0), t(30)));
    assert_eq!(d.lines.len(), 4);
    let ch = feed(&mut e, "Failed password for root from 1.2.3.4", 1, t(500));
    assert!(ch.contains(&Change::Attached {
        rule: 0,
        key: "1.2.3.4".into(),
        added: 1
    }));
    assert_eq!(e.detection(0, "1.2.3.4").unwrap().count, 5);
}

#[test]
fn events_outside_the_window_do_not_count() {
    let mut e = engine(RULES, 100);
    for i in 0..10 {
        // One every 25 s: never more than 3 within a minute.
        feed(
            &mut e,
            "Failed password for root from 5.5.5.5",
            1,
            t(i * 25),
        );
    }
    assert!(e.detection(0, "5.5.5.5").is_none());
    // The window is inclusive: 4 events spanning exactly 60 s fire.
    let mut e = engine(RULES, 100);
    for s in [0, 20, 40, 60] {
        feed(&mut e, "Failed password for root from 6.6.6.6", 1, t(s));
    }
    assert!(e.detection(0, "6.6.6.6").is_some());
}

#[test]
fn keys_are_counted_apart_and_repeats_weigh_n() {
    let mut e = engine(RULES, 100);
    feed(&mut e, "Failed password for root from 1.1.1.1", 1, t(0));
    feed(&mut e, "Failed password for root from 2.2.2.2", 1, t(1));
    assert!(e.detection(0, "1.1.1.1").is_none());
    let ch = feed(&mut e, "Failed password for root from 1.1.1.1", 3, t(2));
    assert!(ch.contains(&Change::Opened {
        rule: 0,
        key: "1.1.1.1".into()
    }));
    assert_eq!(e.detection(0, "1.1.1.1").unwrap().count, 4);
    assert!(e.detection(0, "2.2.2.2").is_none());
}

#[test]
fn single_event_rules_fire_per_key_once_while_open() {
    let mut e = engine(RULES, 100);
    let ch = feed(&mut e, "Failed password for alice from 1.1.1.1", 1, t(0));
    assert!(ch.contains(&Change::Opened {
        rule: 1,
        key: "alice".into()
    }));
    let ch = feed(&mut e, "Failed password for alice from 9.9.9.9", 1, t(1));
    assert!(ch.contains(&Change::Attached {
        rule: 1,
        key: "alice".into(),
        added: 1
    }));
    e.close(1, "alice");
    let ch = feed(&mut e, "Failed password for alice from 9.9.9.9", 1, t(2));
    assert!(
        ch.contains(&Change::Opened {
            rule: 1,
            key: "alice".into()
        }),
        "after close, a new one"
    );
}

#[test]
fn window_state_stays_under_the_cap() {
    let mut e = engine(RULES, 1000);
    for i in 0..20_000 {
        let line = format!("Failed password for root from 10.0.{}.{}", i / 256, i % 256);
        feed(&mut e, &line, 1, t(i / 100));
    }
    assert!(e.tracked_keys() <= 1000, "{}", e.tracked_keys());
}

#[test]
fn shipped_rules_take_the_real_source_not_one_hidden_in_the_user_name() {
    let mut e = Engine::new(Arc::new(RuleSet::builtin()), 100);
    let rule = e.rule_index("Multiple failed logins").unwrap();
    for s in 0..11 {
        let line = "Dec 10 08:24:35 h sshd[1]: Failed password for invalid user x from 6.6.6.6 port 1 from 10.1.1.1 port 36279 ssh2";
        feed(&mut e, line, 1, t(s));
        // An empty or space-holding user name is still a failure.
        feed(
            &mut e,
            "Dec 10 08:24:35 h sshd[1]: Failed password for invalid user  0101 from 10.2.2.2 port 1 ssh2",
            1,
            t(s),
        );
    }
    assert!(e.detection(rule, "10.1.1.1").is_some());
    assert!(e.detection(rule, "6.6.6.6").is_none());
    assert!(e.detection(rule, "10.2.2.2").is_some());
}

#[test]
fn detections_without_incident_close_when_quiet_and_start_afresh() {
    let rules = r#"
events:
  fail:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+)'
rules:
  - rule: note
    condition: fail
    action: notify
    notify: [oncall]
  - rule: brute
    condition: fail > 1 in 1 hour
"#;
    let mut e = engine(rules, 100);
    let line = "Failed password for root from 1.2.3.4";
    feed(&mut e, line, 1, t(0));
    feed(&mut e, line, 1, t(600));
    // Ten minutes apart: still one detection.
    assert_eq!(e.detection(0, "1.2.3.4").unwrap().count, 2);
    let ch = feed(&mut e, line, 1, t(600 + 15 * 60 + 1));
    let closed = ch.iter().find_map(|c| match c {
        Change::Closed { rule: 0, detection } => Some(detection.count),
        _ => None,
    });
    assert_eq!(closed, Some(2), "{ch:?}");
    assert!(ch.contains(&Change::Opened {
        rule: 0,
        key: "1.2.3.4".into()
    }));
    assert_eq!(e.detection(0, "1.2.3.4").unwrap().count, 1);
    // The incident rule never closes by itself.
    assert_eq!(e.detection(1, "1.2.3.4").unwrap().count, 3);
    let mut out = Vec::new();
    e.close_quiet(t(10_000), &mut out);
    assert_eq!(out.len(), 1);
    assert!(e.detection(0, "1.2.3.4").is_none());
    assert!(e.detection(1, "1.2.3.4").is_some());
}

#[test]
fn the_store_keeps_as_many_lines_as_the_engine() {
    assert_eq!(MAX_EVIDENCE_LINES, crate::store::MAX_DETECTION_LINES);
}

#[test]
fn dirty_windows_are_reported_once() {
    let mut e = engine(RULES, 100);
    feed(&mut e, "Failed password for root from 1.1.1.1", 1, t(0));
    let d = e.take_dirty();
    assert!(d.windows.contains(&(0, "1.1.1.1".to_string())));
    assert!(e.take_dirty().windows.is_empty());
    for s in 1..4 {
        feed(&mut e, "Failed password for root from 1.1.1.1", 1, t(s));
    }
    let d = e.take_dirty();
    assert!(
        d.dropped.contains(&(0, "1.1.1.1".to_string())),
        "window consumed by the detection"
    );
}
