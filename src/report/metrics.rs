//! Metrics over a period: counts by severity and source, mean and median
//! time to acknowledge, contain and resolve, SLA compliance per severity,
//! open corrective actions and overdue reviews. Pure: the incidents, their
//! reviews, the policy and `now` are parameters.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

use crate::domain::event::format_time;
use crate::domain::review::{Review, review_overdue};
use crate::domain::sla::{ClockKind, ClockState, clocks};
use crate::domain::{Incident, Policy, Severity, Source};

/// Which incidents count: detected in `[since, until)`, drills only when
/// asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Period {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub include_drills: bool,
}

/// Mean and median of a set of durations, in whole seconds. The mean is
/// rounded to the nearest second; the median of an even count is the mean
/// of the middle two, rounded down. Both are null when `count` is 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stat {
    pub count: usize,
    pub mean_seconds: Option<i64>,
    pub median_seconds: Option<i64>,
}

impl Stat {
    pub fn of(mut values: Vec<i64>) -> Stat {
        values.sort_unstable();
        let n = values.len();
        if n == 0 {
            return Stat {
                count: 0,
                mean_seconds: None,
                median_seconds: None,
            };
        }
        let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
        let n128 = n as i128;
        let mean = (2 * sum + n128).div_euclid(2 * n128);
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]).div_euclid(2)
        };
        Stat {
            count: n,
            mean_seconds: Some(i64::try_from(mean).unwrap_or(i64::MAX)),
            median_seconds: Some(median),
        }
    }
}

/// Outcomes of one kind of clock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Compliance {
    pub met: usize,
    pub breached: usize,
    /// Not yet met and not breached (running, due now within the grace,
    /// or paused).
    pub running: usize,
}

impl Compliance {
    fn add(&mut self, state: ClockState) {
        match state {
            ClockState::Met => self.met += 1,
            ClockState::Breached => self.breached += 1,
            ClockState::Running | ClockState::DueNow | ClockState::Paused => self.running += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlaRow {
    pub severity: &'static str,
    pub incidents: usize,
    pub response: Compliance,
    /// Zero everywhere for a level whose customer notice is "as needed".
    pub customer_notice: Compliance,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueReview {
    pub incident: String,
    pub due: String,
}

/// The metrics document (`metrics --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Metrics {
    pub generated_at: String,
    pub since: Option<String>,
    pub until: Option<String>,
    pub include_drills: bool,
    pub incidents: usize,
    /// How many of `incidents` are drills (0 unless included).
    pub drills: usize,
    /// Every severity, zero included.
    pub by_severity: BTreeMap<&'static str, usize>,
    /// Every source, zero included.
    pub by_source: BTreeMap<&'static str, usize>,
    /// From detection to acknowledgement.
    pub time_to_acknowledge: Stat,
    /// From detection to containment.
    pub time_to_contain: Stat,
    /// From detection to resolution.
    pub time_to_resolve: Stat,
    pub sla: Vec<SlaRow>,
    pub open_corrective_actions: usize,
    pub overdue_corrective_actions: usize,
    pub overdue_reviews: Vec<OverdueReview>,
}

/// Computes the metrics of `incidents` (with their reviews, by incident id)
/// over `period`, at `now`.
pub fn compute(
    incidents: &[Incident],
    reviews: &HashMap<String, Review>,
    policy: &Policy,
    period: Period,
    now: DateTime<Utc>,
) -> Metrics {
    let chosen: Vec<&Incident> = incidents
        .iter()
        .filter(|i| period.include_drills || !i.drill)
        .filter(|i| period.since.is_none_or(|s| i.detected_at >= s))
        .filter(|i| period.until.is_none_or(|u| i.detected_at < u))
        .collect();
    let mut by_severity: BTreeMap<&'static str, usize> =
        Severity::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut by_source: BTreeMap<&'static str, usize> =
        Source::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut sla: Vec<SlaRow> = Severity::ALL
        .iter()
        .map(|s| SlaRow {
            severity: s.as_str(),
            incidents: 0,
            response: Compliance::default(),
            customer_notice: Compliance::default(),
        })
        .collect();
    let (mut ack, mut contain, mut resolve) = (Vec::new(), Vec::new(), Vec::new());
    let (mut open_actions, mut overdue_actions) = (0, 0);
    let mut overdue_reviews = Vec::new();
    let empty = Review::default();
    for i in &chosen {
        *by_severity.entry(i.severity.as_str()).or_default() += 1;
        *by_source.entry(i.source.as_str()).or_default() += 1;
        let since = |t: Option<DateTime<Utc>>| t.map(|t| (t - i.detected_at).num_seconds());
        ack.extend(since(i.acknowledged_at));
        contain.extend(since(i.contained_at));
        resolve.extend(since(i.resolved_at));
        if let Some(row) = sla.iter_mut().find(|r| r.severity == i.severity.as_str()) {
            row.incidents += 1;
        }
        // Each clock counts under the severity it was measured at (in force
        // at its breach, or when it was met): a P1 breach lowered to P3
        // later is still a P1 breach.
        for c in clocks(i, policy, now) {
            let Some(row) = sla.iter_mut().find(|r| r.severity == c.severity.as_str()) else {
                continue;
            };
            match c.kind {
                ClockKind::Response => row.response.add(c.state),
                ClockKind::CustomerNotice => row.customer_notice.add(c.state),
                _ => {}
            }
        }
        let review = reviews.get(i.id.as_str()).unwrap_or(&empty);
        open_actions += review.open_actions();
        overdue_actions += review.actions.iter().filter(|a| a.is_overdue(now)).count();
        if review_overdue(i, review.is_complete(), policy, now) {
            overdue_reviews.push(OverdueReview {
                incident: i.id.to_string(),
                due: crate::domain::review::review_due(i, policy)
                    .map(format_time)
                    .unwrap_or_default(),
            });
        }
    }
    Metrics {
        generated_at: format_time(now),
        since: period.since.map(format_time),
        until: period.until.map(format_time),
        include_drills: period.include_drills,
        incidents: chosen.len(),
        drills: chosen.iter().filter(|i| i.drill).count(),
        by_severity,
        by_source,
        time_to_acknowledge: Stat::of(ack),
        time_to_contain: Stat::of(contain),
        time_to_resolve: Stat::of(resolve),
        sla,
        open_corrective_actions: open_actions,
        overdue_corrective_actions: overdue_actions,
        overdue_reviews,
    }
}

/// Parses a period bound: `YYYY-MM-DD` (a whole day: `since` from its
/// start, `until` through its end) or an RFC 3339 time.
pub fn parse_bound(s: &str, end_of_day: bool) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let day = if end_of_day {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        return Ok(day.and_time(NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("'{s}' is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::review::{ActionStatus, CorrectiveAction};
    use crate::domain::{IncidentId, Phase, Status};
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    fn min(m: i64) -> DateTime<Utc> {
        t0() + Duration::minutes(m)
    }

    #[allow(clippy::too_many_arguments)]
    fn inc(
        n: u32,
        sev: Severity,
        source: Source,
        drill: bool,
        detected: i64,
        ack: Option<i64>,
        contain: Option<i64>,
        resolve: Option<i64>,
    ) -> Incident {
        Incident {
            id: IncidentId::new(2026, n),
            title: format!("i{n}"),
            summary: String::new(),
            severity: sev,
            status: if resolve.is_some() {
                Status::Resolved
            } else {
                Status::Investigating
            },
            phase: Phase::Detection,
            source,
            affected: String::new(),
            cia: Default::default(),
            customer_impact: String::new(),
            customer_summary: String::new(),
            personal_data_breach: false,
            drill,
            detected_at: min(detected),
            declared_at: min(detected),
            acknowledged_at: ack.map(min),
            contained_at: contain.map(min),
            resolved_at: resolve.map(min),
            closed_at: None,
            customer_notified_at: None,
            regulator_notified_at: None,
            last_update_at: None,
            updated_at: min(detected),
            clock_history: Default::default(),
        }
    }

    fn fixture() -> (Vec<Incident>, HashMap<String, Review>) {
        let incidents = vec![
            // P1, acked after 10 min (response 15 m: met), contained 60, resolved 120.
            inc(
                1,
                Severity::P1,
                Source::Siem,
                false,
                0,
                Some(10),
                Some(60),
                Some(120),
            ),
            // P1, acked after 20 min (breached), contained 30, resolved 240.
            inc(
                2,
                Severity::P1,
                Source::Siem,
                false,
                0,
                Some(20),
                Some(30),
                Some(240),
            ),
            // P2, acked after 30 min (met), not contained.
            inc(
                3,
                Severity::P2,
                Source::CustomerReport,
                false,
                0,
                Some(30),
                None,
                None,
            ),
            // A drill P3, acked after 100 min.
            inc(
                4,
                Severity::P3,
                Source::Manual,
                true,
                0,
                Some(100),
                Some(200),
                Some(300),
            ),
        ];
        let mut reviews = HashMap::new();
        let action = |status, due: Option<NaiveDate>| CorrectiveAction {
            id: 1,
            incident: "x".into(),
            description: "d".into(),
            owner: "o".into(),
            due,
            status,
            reason: None,
            created_by: "a".into(),
            created_at: t0(),
            updated_at: t0(),
        };
        reviews.insert(
            "INC-2026-002".to_string(),
            Review {
                root_cause: "r".into(),
                actions: vec![
                    action(ActionStatus::Open, NaiveDate::from_ymd_opt(2026, 3, 2)),
                    action(ActionStatus::Open, None),
                    action(ActionStatus::Done, None),
                ],
                ..Review::default()
            },
        );
        reviews.insert(
            "INC-2026-004".to_string(),
            Review {
                actions: vec![action(ActionStatus::Open, None)],
                ..Review::default()
            },
        );
        (incidents, reviews)
    }

    #[test]
    fn stats_have_known_answers() {
        assert_eq!(Stat::of(vec![]).mean_seconds, None);
        let s = Stat::of(vec![600, 1200, 1800]);
        assert_eq!((s.mean_seconds, s.median_seconds), (Some(1200), Some(1200)));
        let s = Stat::of(vec![1, 2]);
        assert_eq!((s.mean_seconds, s.median_seconds), (Some(2), Some(1)));
    }

    #[test]
    fn metrics_on_a_fixed_set_exclude_drills_unless_asked() {
        let (incidents, reviews) = fixture();
        let p = Policy::builtin();
        // Ten days later: P1 reviews (due 3 days after resolution) are overdue.
        let now = t0() + Duration::days(10);
        let m = compute(&incidents, &reviews, &p, Period::default(), now);
        assert_eq!(m.incidents, 3);
        assert_eq!(m.drills, 0);
        assert_eq!(m.by_severity["P1"], 2);
        assert_eq!(m.by_severity["P2"], 1);
        assert_eq!(m.by_severity["P3"], 0);
        assert_eq!(m.by_source["siem"], 2);
        assert_eq!(m.by_source["customer-report"], 1);
        assert_eq!(m.time_to_acknowledge.count, 3);
        assert_eq!(m.time_to_acknowledge.mean_seconds, Some(1200));
        assert_eq!(m.time_to_acknowledge.median_seconds, Some(1200));
        assert_eq!(m.time_to_contain.mean_seconds, Some(2700));
        assert_eq!(m.time_to_contain.median_seconds, Some(2700));
        assert_eq!(m.time_to_resolve.mean_seconds, Some(10800));
        let p1 = &m.sla[0];
        assert_eq!(
            p1.response,
            Compliance {
                met: 1,
                breached: 1,
                running: 0
            }
        );
        assert_eq!(
            p1.customer_notice.breached, 2,
            "P1 notice is due immediately"
        );
        let p2 = &m.sla[1];
        assert_eq!(p2.response.met, 1);
        assert_eq!(p2.customer_notice.breached, 1);
        assert_eq!(m.open_corrective_actions, 2);
        assert_eq!(m.overdue_corrective_actions, 1);
        // #1 has no review; #2 has a root cause and an open action: complete.
        let overdue: Vec<&str> = m
            .overdue_reviews
            .iter()
            .map(|o| o.incident.as_str())
            .collect();
        assert_eq!(overdue, ["INC-2026-001"]);

        let all = Period {
            include_drills: true,
            ..Period::default()
        };
        let m = compute(&incidents, &reviews, &p, all, now);
        assert_eq!(m.incidents, 4);
        assert_eq!(m.drills, 1);
        assert_eq!(m.by_severity["P3"], 1);
        assert_eq!(m.time_to_acknowledge.mean_seconds, Some(2400));
        assert_eq!(m.time_to_acknowledge.median_seconds, Some(1500));
        assert_eq!(m.open_corrective_actions, 3);
        assert_eq!(
            m.overdue_reviews.len(),
            2,
            "the drill's review is overdue too"
        );
    }

    #[test]
    fn periods_filter_on_detection() {
        let (incidents, reviews) = fixture();
        let p = Policy::builtin();
        let period = Period {
            since: Some(parse_bound("2026-03-02", false).unwrap()),
            until: None,
            include_drills: false,
        };
        let m = compute(&incidents, &reviews, &p, period, t0());
        assert_eq!(m.incidents, 0);
        let period = Period {
            since: Some(parse_bound("2026-03-01", false).unwrap()),
            until: Some(parse_bound("2026-03-01", true).unwrap()),
            include_drills: false,
        };
        assert_eq!(compute(&incidents, &reviews, &p, period, t0()).incidents, 3);
        assert!(parse_bound("yesterday", false).is_err());
        assert_eq!(
            parse_bound("2026-03-01T12:00:00+02:00", false).unwrap(),
            t0() + Duration::hours(10)
        );
    }
}
