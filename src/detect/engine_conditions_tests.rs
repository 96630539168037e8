//! The engine's allowlists and its sequence and distinct-count
//! conditions, at their boundaries.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

use super::*;

fn engine(text: &str) -> Engine {
    let mut set = RuleSet::default();
    set.add_texts(&[(PathBuf::from("t.yml"), text.to_string())]);
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    Engine::new(Arc::new(set), 100)
}

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn feed(e: &mut Engine, line: &str, at: DateTime<Utc>) -> Vec<Change> {
    let mut out = Vec::new();
    e.process(line, line, 1, at, &mut out);
    out
}

fn opened(changes: &[Change]) -> Vec<(usize, String)> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Opened { rule, key } => Some((*rule, key.clone())),
            _ => None,
        })
        .collect()
}

const ALLOW: &str = r#"
events:
  fail:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+)'
ignore: [10.0.0.0/8, 'bastion.example.com']
ignore_lines: ['for nagios from']
rules:
  - rule: each
    condition: fail
  - rule: by user
    condition: fail
    group_by: user
    ignore: ['2001:db8::/32', deploy]
  - rule: burst
    condition: fail >= 2 in 1 minute
"#;

#[test]
fn allowlisted_hits_are_counted_and_open_nothing() {
    let mut e = engine(ALLOW);
    // Global range, both edges of 10/8, and the addresses just outside.
    for (src, ignored) in [
        ("10.0.0.0", true),
        ("10.255.255.255", true),
        ("9.255.255.255", false),
        ("11.0.0.0", false),
    ] {
        let ch = feed(
            &mut e,
            &format!("Failed password for root from {src}"),
            t(0),
        );
        assert_eq!(
            opened(&ch).iter().any(|(r, k)| *r == 0 && k == src),
            !ignored,
            "{src}: {ch:?}"
        );
    }
    assert_eq!(e.ignored[0], 2);
    assert_eq!(e.hits[0], 4, "ignored hits are hits too");
    // The burst rule saw only the two outside 10/8, from different keys.
    assert!(e.detection(2, "10.0.0.0").is_none());
    // An exact key, and a line regex.
    let ch = feed(
        &mut e,
        "Failed password for root from bastion.example.com",
        t(1),
    );
    assert!(opened(&ch).iter().all(|(r, _)| *r == 1), "{ch:?}");
    let ch = feed(&mut e, "Failed password for nagios from 8.8.8.8", t(2));
    assert!(opened(&ch).is_empty(), "{ch:?}");
    // The rule's own list: by user, keyed by user, skips its range (the
    // line's source address) and its user; the other rules do not.
    let ch = feed(&mut e, "Failed password for alice from 2001:db8::5", t(3));
    assert_eq!(opened(&ch), [(0, "2001:db8::5".to_string())]);
    let ch = feed(&mut e, "Failed password for deploy from 7.7.7.7", t(4));
    assert_eq!(opened(&ch), [(0, "7.7.7.7".to_string())]);
    let ch = feed(&mut e, "Failed password for bob from 7.7.7.8", t(5));
    assert!(opened(&ch).contains(&(1, "bob".to_string())), "{ch:?}");
    // Ignored hits never count toward a window: two from 10.x then one
    // from outside do not reach "2 in a minute" for anyone.
    let mut e = engine(ALLOW);
    feed(&mut e, "Failed password for root from 10.1.1.1", t(0));
    feed(&mut e, "Failed password for root from 10.1.1.1", t(1));
    assert!(e.detection(2, "10.1.1.1").is_none());
    assert!(
        e.window(2, "10.1.1.1").is_none(),
        "no state for ignored keys"
    );
}
