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

const SEQUENCE: &str = r#"
events:
  fail:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+)'
  accepted:
    match: 'Accepted password for (?P<user>\S+) from (?P<src>\S+)'
rules:
  - rule: worked
    condition: fail >= 5 in 10 minutes then accepted within 10 minutes
    severity: critical
"#;

const FAIL: &str = "Failed password for root from 1.2.3.4";
const OK: &str = "Accepted password for root from 1.2.3.4";

/// `fails` failures a second apart from 0 s, then the login at `login_at`.
fn sequence(fails: i64, login_at: i64) -> (Engine, Vec<Change>) {
    let mut e = engine(SEQUENCE);
    for s in 0..fails {
        let ch = feed(&mut e, FAIL, t(s));
        assert!(opened(&ch).is_empty(), "failures alone never fire");
    }
    let ch = feed(&mut e, OK, t(login_at));
    (e, ch)
}

#[test]
fn exactly_n_failures_then_success_within_the_time_fires() {
    let (e, ch) = sequence(5, 4 + 600);
    assert_eq!(opened(&ch), [(0, "1.2.3.4".to_string())]);
    let d = e.detection(0, "1.2.3.4").unwrap();
    assert_eq!((d.count, d.first_seen, d.last_seen), (6, t(0), t(604)));
    assert_eq!(d.lines.last().map(String::as_str), Some(OK));
    assert_eq!(d.lines.len(), 6);
    assert_eq!(e.rule(0).severity, crate::domain::Severity::P1);
}

#[test]
fn one_failure_short_then_success_does_not_fire() {
    let (e, ch) = sequence(4, 10);
    assert!(opened(&ch).is_empty(), "{ch:?}");
    assert!(e.detection(0, "1.2.3.4").is_none());
    // The login explained the failures: one more failure does not make five.
    let mut e = e;
    feed(&mut e, FAIL, t(11));
    assert!(opened(&feed(&mut e, OK, t(12))).is_empty());
}

#[test]
fn success_after_the_time_does_not_fire() {
    let (_, ch) = sequence(5, 4 + 601);
    assert!(opened(&ch).is_empty(), "{ch:?}");
}

#[test]
fn success_before_the_failures_does_not_fire() {
    let mut e = engine(SEQUENCE);
    assert!(opened(&feed(&mut e, OK, t(0))).is_empty());
    for s in 1..=10 {
        assert!(opened(&feed(&mut e, FAIL, t(s))).is_empty());
    }
    assert!(e.detection(0, "1.2.3.4").is_none());
}

#[test]
fn failures_must_fall_within_their_window_and_come_from_the_same_key() {
    // Five failures spread over more than 10 minutes never arm.
    let mut e = engine(SEQUENCE);
    for s in [0, 200, 400, 601, 602] {
        feed(&mut e, FAIL, t(s));
    }
    assert!(opened(&feed(&mut e, OK, t(603))).is_empty());
    // Five failures from one address, a login from another.
    let mut e = engine(SEQUENCE);
    for s in 0..5 {
        feed(&mut e, FAIL, t(s));
    }
    let ch = feed(&mut e, "Accepted password for root from 5.6.7.8", t(6));
    assert!(opened(&ch).is_empty());
    // The first address is still armed.
    assert_eq!(opened(&feed(&mut e, OK, t(7))).len(), 1);
}

#[test]
fn sequence_state_is_bounded_and_survives_a_restart() {
    let mut e = engine(SEQUENCE);
    for s in 0..1000 {
        feed(&mut e, FAIL, t(s / 10));
    }
    assert!(e.window(0, "1.2.3.4").unwrap().entries.len() <= 5);
    // What a watcher commits (the window as JSON) restores the armed state.
    let json = serde_json::to_string(e.window(0, "1.2.3.4").unwrap()).unwrap();
    let mut again = engine(SEQUENCE);
    again.restore_window(0, "1.2.3.4".into(), serde_json::from_str(&json).unwrap());
    assert_eq!(opened(&feed(&mut again, OK, t(200))).len(), 1);
    // A window saved before these fields existed still loads.
    let old: Window =
        serde_json::from_str(r#"{"entries":[{"at_ms":1,"count":1,"line":"x"}],"total":1}"#)
            .unwrap();
    assert_eq!((old.armed_ms, old.entries[0].value.clone()), (None, None));
}

#[test]
fn expired_windows_are_dropped_only_when_nothing_in_them_can_count() {
    let reach = 600 + EXPIRY_GRACE.as_secs() as i64;
    // Armed at 4 s; a login up to 604 s fires, even one that comes in
    // behind a sweep at the newest time read (a lagging source).
    let mut e = engine(SEQUENCE);
    for s in 0..5 {
        feed(&mut e, FAIL, t(s));
    }
    e.take_dirty();
    e.drop_expired(t(4 + reach));
    assert!(e.window(0, "1.2.3.4").is_some());
    assert!(e.take_dirty().dropped.is_empty());
    assert_eq!(opened(&feed(&mut e, OK, t(604))).len(), 1);
    // A second later it is gone, and its saved row goes with the commit.
    let mut e = engine(SEQUENCE);
    for s in 0..5 {
        feed(&mut e, FAIL, t(s));
    }
    e.drop_expired(t(5 + reach));
    assert!(e.window(0, "1.2.3.4").is_none());
    let dirty = e.take_dirty();
    assert!(dirty.windows.is_empty(), "{:?}", dirty.windows);
    assert_eq!(
        dirty.dropped.into_iter().collect::<Vec<_>>(),
        [(0, "1.2.3.4".to_string())]
    );
    // A key seen again starts afresh, and is saved again.
    feed(&mut e, FAIL, t(6 + reach));
    assert_eq!(e.window(0, "1.2.3.4").unwrap().total, 1);
    assert_eq!(e.take_dirty().windows, [(0, "1.2.3.4".to_string())]);
}

#[test]
fn windows_expire_by_their_own_sources_clock() {
    let reach = 600 + EXPIRY_GRACE.as_secs() as i64;
    let mut e = engine(SEQUENCE);
    // Source 0 (a host whose clock runs an hour behind) arms the window.
    e.set_source(0);
    for s in 0..5 {
        feed(&mut e, FAIL, t(s));
    }
    // Source 1 is far ahead: the newest time read is no reason to drop it.
    e.set_source(1);
    feed(&mut e, "unrelated", t(3600));
    e.drop_expired(t(3600));
    assert!(e.window(0, "1.2.3.4").is_some());
    e.set_source(0);
    assert_eq!(opened(&feed(&mut e, OK, t(604))).len(), 1);
    // Its own lines moving past it do.
    let mut e = engine(SEQUENCE);
    e.set_source(0);
    for s in 0..5 {
        feed(&mut e, FAIL, t(s));
    }
    feed(&mut e, "unrelated", t(5 + reach));
    e.drop_expired(t(5 + reach));
    assert!(e.window(0, "1.2.3.4").is_none());
    // A restored window (its source unknown) goes by the oldest source
    // read since the restart.
    let saved = {
        let mut e = engine(SEQUENCE);
        for s in 0..5 {
            feed(&mut e, FAIL, t(s));
        }
        e.window(0, "1.2.3.4").unwrap().clone()
    };
    let mut e = engine(SEQUENCE);
    e.by_source();
    e.restore_window(0, "1.2.3.4".into(), saved);
    e.drop_expired(t(3600));
    assert!(e.window(0, "1.2.3.4").is_some(), "no source read yet");
    e.set_source(0);
    feed(&mut e, "unrelated", t(3600));
    e.set_source(1);
    feed(&mut e, "unrelated", t(10));
    e.drop_expired(t(3600));
    assert!(e.window(0, "1.2.3.4").is_some(), "source 1 is not past it");
    feed(&mut e, "unrelated", t(5 + reach));
    e.drop_expired(t(3600));
    assert!(e.window(0, "1.2.3.4").is_none());
}

const DISTINCT: &str = r#"
events:
  fail:
    match: 'Failed password for (?:invalid user )?(?P<user>\S*) from (?P<src>\S+)'
rules:
  - rule: many users
    condition: fail distinct(user) >= 10 in 10 minutes
"#;

fn users(e: &mut Engine, names: &[String], from: i64) -> Vec<Change> {
    let mut all = Vec::new();
    for (i, u) in names.iter().enumerate() {
        let line = format!("Failed password for invalid user {u} from 9.9.9.9");
        all.extend(feed(e, &line, t(from + i as i64)));
    }
    all
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user{i}")).collect()
}

#[test]
fn distinct_values_fire_at_n_not_at_n_minus_one() {
    let mut e = engine(DISTINCT);
    // Nine names, each tried many times: nine distinct, no fire.
    for _ in 0..5 {
        assert!(opened(&users(&mut e, &names(9), 0)).is_empty());
    }
    assert_eq!(e.window(0, "9.9.9.9").unwrap().entries.len(), 9);
    // The tenth name fires; the count is every attempt in the window.
    let ch = users(&mut e, &["user9".to_string()], 20);
    assert_eq!(opened(&ch), [(0, "9.9.9.9".to_string())]);
    let d = e.detection(0, "9.9.9.9").unwrap();
    assert_eq!(d.count, 46);
    assert_eq!(d.lines.len(), 10, "one line per name");
}

#[test]
fn distinct_values_must_fall_within_the_window() {
    let mut e = engine(DISTINCT);
    // Ten names, one a minute and a half: never ten within ten minutes.
    for (i, u) in names(10).iter().enumerate() {
        let line = format!("Failed password for invalid user {u} from 9.9.9.9");
        assert!(opened(&feed(&mut e, &line, t(i as i64 * 90))).is_empty());
    }
    // Ten names spanning exactly ten minutes fire (the window is inclusive).
    let mut e = engine(DISTINCT);
    let mut ch = Vec::new();
    for (i, u) in names(10).iter().enumerate() {
        let line = format!("Failed password for invalid user {u} from 9.9.9.9");
        let at = if i == 9 { 600 } else { i as i64 };
        ch.extend(feed(&mut e, &line, t(at)));
    }
    assert_eq!(opened(&ch).len(), 1);
    // Another address's names do not add up with these.
    let mut e = engine(DISTINCT);
    users(&mut e, &names(5), 0);
    let line = |u: usize| format!("Failed password for invalid user x{u} from 8.8.8.8");
    for u in 0..5 {
        assert!(opened(&feed(&mut e, &line(u), t(10))).is_empty());
    }
}
