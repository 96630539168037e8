//! Digests of a campaign's new keys on real SQLite files, with a fixed
//! clock: when they come, what they list, and that each window is sent
//! once across restarts and two watchers.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::DigestRule;
use crate::domain::campaign::{DEFAULT_EVIDENCE_LINES, IncidentGrouping};
use crate::domain::{Playbook, Severity};
use crate::store::watch_batch::{DetectionChange, RuleFacts};
use crate::store::watcher::WatchBatch;
use crate::store::{NewAlert, Store};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap()
}

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
        evidence_lines: DEFAULT_EVIDENCE_LINES,
    }
}

fn digest_rule() -> DigestRule {
    DigestRule {
        rule: "SSH brute force".into(),
        every: Duration::minutes(10),
        severity: Severity::P2,
        notify: vec!["oncall".into()],
    }
}

fn new_key(f: &RuleFacts, key: &str, at: DateTime<Utc>) -> DetectionChange {
    let line = format!("Mar  1 10:00:00 h sshd[1]: Failed password for root from {key}");
    DetectionChange {
        facts: f.clone().into(),
        key: key.into(),
        count: 4,
        first_seen: at,
        last_seen: at,
        added: 4,
        new: true,
        new_lines: vec![line.clone()],
        latest_lines: vec![line],
        host: Some("h".into()),
        lines_before: 0,
        sources: vec!["/var/log/auth.log".into()],
        closed_after: false,
    }
}

/// Keys `from..to` (10.0.0.N) join at `now`.
fn join(s: &mut Store, f: &RuleFacts, from: usize, to: usize, now: DateTime<Utc>) {
    let b = WatchBatch {
        watcher: "default".into(),
        detections: (from..to)
            .map(|i| new_key(f, &format!("10.0.{}.{}", i / 250, i % 250), now))
            .collect(),
        notify_sinks: vec!["mail".into()],
        ..WatchBatch::default()
    };
    s.commit_watch_batch(&b, &Playbook::builtin(), "rule-watcher", "host1", now)
        .unwrap();
}

fn digests(s: &mut Store, at: DateTime<Utc>) -> Vec<NewAlert> {
    s.send_campaign_digests(&[digest_rule()], &["mail".into()], "rule-watcher", at)
        .unwrap()
}

fn digest_alerts(s: &Store) -> Vec<NewAlert> {
    s.alerts_since(DateTime::UNIX_EPOCH)
        .unwrap()
        .into_iter()
        .filter(|a| a.key.starts_with("digest:"))
        .collect()
}

#[test]
fn new_keys_come_as_one_bounded_digest_per_period_never_one_alert_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut s = Store::open(&db).unwrap();
    let f = facts(IncidentGrouping::PerRule);
    // The campaign opens with key 0 (its own alert); 44 more join within
    // the first five minutes.
    join(&mut s, &f, 0, 1, t0());
    join(&mut s, &f, 1, 30, t0() + Duration::minutes(2));
    join(&mut s, &f, 30, 45, t0() + Duration::minutes(5));
    assert_eq!(s.alerts_since(DateTime::UNIX_EPOCH).unwrap().len(), 1);
    // Not ten minutes since the opening yet: nothing.
    assert!(digests(&mut s, t0() + Duration::minutes(9)).is_empty());
    assert!(digest_alerts(&s).is_empty());

    let sent = digests(&mut s, t0() + Duration::minutes(10));
    assert_eq!(sent.len(), 1, "one digest for 44 keys");
    let d = &sent[0];
    assert!(d.text.contains("44 new addresses joined"), "{}", d.text);
    assert!(d.text.contains("10.0.0.1, 10.0.0.2,"), "{}", d.text);
    assert!(d.text.contains("10.0.0.20 and 24 more"), "{}", d.text);
    assert!(!d.text.contains("10.0.0.21"), "{}", d.text);
    assert!(
        !d.text.contains("10.0.0.0,"),
        "the opening key had its own alert"
    );
    assert_eq!(d.recipient.as_deref(), Some("oncall"));
    let incident = d.incident_id.clone().unwrap();
    let id: crate::domain::IncidentId = incident.parse().unwrap();
    let timeline = s.timeline(&incident, None).unwrap();
    assert_eq!(
        timeline.iter().filter(|e| e.kind == super::DIGEST).count(),
        1
    );
    assert!(s.incident_sources(&id).unwrap().len() == 45);

    // Nothing new: no digest, however late.
    assert!(digests(&mut s, t0() + Duration::minutes(30)).is_empty());
    // Three keys join; ten minutes after the last digest they come.
    join(&mut s, &f, 45, 48, t0() + Duration::minutes(12));
    assert!(digests(&mut s, t0() + Duration::minutes(19)).is_empty());
    let next = digests(&mut s, t0() + Duration::minutes(20));
    assert_eq!(next.len(), 1);
    assert!(
        next[0].text.contains("3 new addresses joined"),
        "{}",
        next[0].text
    );
    assert!(!next[0].text.contains("more"), "{}", next[0].text);
    assert_ne!(next[0].key, d.key, "a key per window");
    assert_eq!(digest_alerts(&s).len(), 2);
    assert!(s.verify(None).unwrap().failure.is_none());
}

#[test]
fn a_window_is_sent_once_across_restarts_and_two_watchers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let f = facts(IncidentGrouping::PerRule);
    {
        let mut s = Store::open(&db).unwrap();
        join(&mut s, &f, 0, 5, t0());
    }
    // Two processes, each with its own connection, at the same moment.
    let mut a = Store::open(&db).unwrap();
    let mut b = Store::open(&db).unwrap();
    let at = t0() + Duration::minutes(10);
    let from_a = digests(&mut a, at);
    let from_b = digests(&mut b, at);
    assert_eq!(from_a.len() + from_b.len(), 1, "{from_a:?} {from_b:?}");
    // Restarted: the window was sent; nothing again.
    drop(a);
    let mut c = Store::open(&db).unwrap();
    assert!(digests(&mut c, at + Duration::minutes(10)).is_empty());
    assert_eq!(digest_alerts(&c).len(), 1);
    // Its delivery waits pending with it (one queue for every alert).
    let key = &digest_alerts(&c)[0].key;
    let deliveries = c.alert_deliveries(key).unwrap();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].sink, "mail");
}

#[test]
fn per_key_incidents_and_rules_without_digest_send_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    // Per key: every key is its own incident with its own alert.
    let f = facts(IncidentGrouping::PerKey);
    join(&mut s, &f, 0, 5, t0());
    assert!(digests(&mut s, t0() + Duration::hours(1)).is_empty());
    // A campaign whose rule asks for no digest.
    let mut g = facts(IncidentGrouping::PerRule);
    g.rule = "Other".into();
    join(&mut s, &g, 0, 5, t0());
    assert!(digests(&mut s, t0() + Duration::hours(1)).is_empty());
    assert!(digest_alerts(&s).is_empty());
    // The same campaign, asked for: one digest.
    let mut other = digest_rule();
    other.rule = "Other".into();
    let sent = s
        .send_campaign_digests(&[other], &[], "w", t0() + Duration::hours(1))
        .unwrap();
    assert!(sent.is_empty(), "no sinks: raised, nothing to deliver");
    assert_eq!(digest_alerts(&s).len(), 1);
}
