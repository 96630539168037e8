//! Metrics on a fixed set of incidents with known answers, built through
//! the store at fixed times, with drills excluded and included; and the
//! CLI's `metrics`.

mod common;

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use common::{Env, assert_fails};
use warroom::domain::{IncidentId, Playbook, Policy, Role, Severity, Source, Status};
use warroom::report::metrics::{Compliance, Metrics, Period, compute, parse_bound};
use warroom::store::{IncidentPatch, NewAction, NewIncident, ReviewPatch, Store};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 8, 0, 0).unwrap()
}

fn at(min: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(min)
}

fn status(store: &mut Store, id: &IncidentId, s: Status, min: i64) {
    let p = IncidentPatch {
        status: Some(s),
        ..Default::default()
    };
    store.update_incident(id, &p, "ic", at(min)).unwrap();
}

fn open(
    store: &mut Store,
    title: &str,
    sev: Severity,
    source: Source,
    drill: bool,
    detected: i64,
) -> IncidentId {
    let mut n = NewIncident::new(title, sev);
    n.source = source;
    n.drill = drill;
    n.detected_at = Some(at(detected));
    store
        .create_incident(&n, &Playbook::builtin(), "ic", at(detected))
        .unwrap()
        .id
}

/// Four incidents and a drill:
/// - A P1 (siem): acknowledged at +10 (response met), customers told at
///   +30 (breached: P1 notice is immediate), contained +60, resolved +120.
/// - B P1 (siem): commander at +20 (response breached), contained +40,
///   resolved +200; review complete with an open, overdue action.
/// - C P2 (customer-report): acknowledged +50 (met), customers told +100
///   (met), never contained.
/// - D P3 (manual) on 5 April, outside an "1-3 April" period.
/// - E P2 drill: acknowledged +5, contained +10, resolved +15.
fn fixture() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let a = open(&mut s, "A", Severity::P1, Source::Siem, false, 0);
    s.acknowledge(&a, "ic", at(10)).unwrap();
    s.record_customer_notice(&a, "ic", at(30)).unwrap();
    status(&mut s, &a, Status::Contained, 60);
    status(&mut s, &a, Status::Resolved, 120);

    let b = open(&mut s, "B", Severity::P1, Source::Siem, false, 0);
    s.assign_role(&b, Role::Commander, "ic", "ic", at(20))
        .unwrap();
    status(&mut s, &b, Status::Contained, 40);
    status(&mut s, &b, Status::Resolved, 200);
    s.update_review(
        &b,
        &ReviewPatch {
            root_cause: Some("r".into()),
            ..Default::default()
        },
        "ic",
        at(210),
    )
    .unwrap();
    s.add_action(
        &b,
        &NewAction {
            description: "fix".into(),
            owner: "ops".into(),
            due: NaiveDate::from_ymd_opt(2026, 4, 2),
        },
        "ic",
        at(211),
    )
    .unwrap();

    let c = open(&mut s, "C", Severity::P2, Source::CustomerReport, false, 0);
    s.acknowledge(&c, "ic", at(50)).unwrap();
    s.record_customer_notice(&c, "ic", at(100)).unwrap();

    let d = open(
        &mut s,
        "D",
        Severity::P3,
        Source::Manual,
        false,
        4 * 24 * 60,
    );
    s.acknowledge(&d, "ic", at(4 * 24 * 60 + 30)).unwrap();

    let e = open(&mut s, "E", Severity::P2, Source::Manual, true, 0);
    s.acknowledge(&e, "ic", at(5)).unwrap();
    status(&mut s, &e, Status::Contained, 10);
    status(&mut s, &e, Status::Resolved, 15);
    (dir, s)
}

fn metrics(store: &Store, period: Period, now: DateTime<Utc>) -> Metrics {
    let incidents = store.incidents(true).unwrap();
    let reviews: HashMap<_, _> = store.reviews().unwrap().into_iter().collect();
    compute(&incidents, &reviews, &Policy::builtin(), period, now)
}

#[test]
fn known_answers_with_drills_excluded() {
    let (_d, store) = fixture();
    // Ten days on: both P1 reviews were due 3 days after resolution.
    let now = t0() + Duration::days(10);
    let m = metrics(&store, Period::default(), now);
    assert_eq!(m.incidents, 4);
    assert_eq!(m.drills, 0);
    assert_eq!(
        (
            m.by_severity["P1"],
            m.by_severity["P2"],
            m.by_severity["P3"],
            m.by_severity["P4"]
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(m.by_source["siem"], 2);
    assert_eq!(m.by_source["customer-report"], 1);
    assert_eq!(m.by_source["manual"], 1);
    // Acknowledge: 10, 20 (the first commander, or moving past
    // investigating: B's commander came first), 50, 30 minutes.
    assert_eq!(m.time_to_acknowledge.count, 4);
    assert_eq!(m.time_to_acknowledge.mean_seconds, Some(1650)); // 27.5 min
    assert_eq!(m.time_to_acknowledge.median_seconds, Some(1500)); // (20+30)/2
    // Contain: 60 and 40 minutes.
    assert_eq!(m.time_to_contain.mean_seconds, Some(3000));
    assert_eq!(m.time_to_contain.median_seconds, Some(3000));
    // Resolve: 120 and 200 minutes.
    assert_eq!(m.time_to_resolve.mean_seconds, Some(9600));
    assert_eq!(m.time_to_resolve.median_seconds, Some(9600));
    let p1 = &m.sla[0];
    assert_eq!(
        p1.response,
        Compliance {
            met: 1,
            breached: 1,
            running: 0
        }
    );
    assert_eq!(p1.customer_notice.breached, 2);
    let p2 = &m.sla[1];
    assert_eq!(p2.response.met, 1);
    assert_eq!(p2.customer_notice.met, 1);
    let p3 = &m.sla[2];
    assert_eq!(p3.response.met, 1);
    assert_eq!(p3.customer_notice.breached, 1, "24h passed without notice");
    assert_eq!(m.open_corrective_actions, 1);
    assert_eq!(m.overdue_corrective_actions, 1);
    let overdue: Vec<&str> = m
        .overdue_reviews
        .iter()
        .map(|o| o.incident.as_str())
        .collect();
    assert_eq!(overdue, ["INC-2026-001"], "B's review is complete");
    assert_eq!(m.overdue_reviews[0].due, "2026-04-04T10:00:00.000Z");
}

#[test]
fn known_answers_with_drills_included_and_a_period() {
    let (_d, store) = fixture();
    let now = t0() + Duration::days(10);
    let with = Period {
        include_drills: true,
        ..Period::default()
    };
    let m = metrics(&store, with, now);
    assert_eq!(m.incidents, 5);
    assert_eq!(m.drills, 1);
    assert_eq!(m.by_severity["P2"], 2);
    // Acknowledge: 5, 10, 20, 30, 50 minutes.
    assert_eq!(m.time_to_acknowledge.mean_seconds, Some(1380));
    assert_eq!(m.time_to_acknowledge.median_seconds, Some(1200));
    // Contain: 10, 40, 60.
    assert_eq!(m.time_to_contain.median_seconds, Some(2400));
    assert_eq!(
        m.overdue_reviews.len(),
        2,
        "the drill's review is overdue too"
    );

    let april_1_to_3 = Period {
        since: Some(parse_bound("2026-04-01", false).unwrap()),
        until: Some(parse_bound("2026-04-03", true).unwrap()),
        include_drills: false,
    };
    let m = metrics(&store, april_1_to_3, now);
    assert_eq!(m.incidents, 3);
    assert_eq!(m.by_severity["P3"], 0);
}

#[test]
fn the_cli_reports_metrics_and_leaves_drills_out_unless_asked() {
    let env = Env::new();
    let a = env.new_incident("Live", "P1");
    env.ok(&["incident", "ack", &a]);
    env.ok(&[
        "incident",
        "new",
        "--title",
        "Drill",
        "--severity",
        "P4",
        "--drill",
    ]);
    let m = env.json(&["metrics"]);
    assert_eq!(m["incidents"], 1);
    assert_eq!(m["by_severity"]["P1"], 1);
    assert_eq!(m["by_severity"]["P4"], 0);
    assert_eq!(m["time_to_acknowledge"]["count"], 1);
    assert_eq!(m["sla"][0]["response"]["met"], 1);
    let m = env.json(&["metrics", "--include-drills"]);
    assert_eq!(m["incidents"], 2);
    assert_eq!(m["drills"], 1);
    let m = env.json(&["metrics", "--since", "2000-01-01", "--until", "2000-12-31"]);
    assert_eq!(m["incidents"], 0);
    assert!(m["time_to_acknowledge"]["mean_seconds"].is_null());
    let text = env.ok(&["metrics"]);
    assert!(text.contains("By severity: P1 1"), "{text}");
    assert_fails(
        &env.run(&["metrics", "--since", "last week"]),
        2,
        "not a date",
    );
}
