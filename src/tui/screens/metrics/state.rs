//! The metrics screen: its state and pure helpers; nothing here imports the app.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

use crate::domain::review::Review;
use crate::domain::{Incident, Policy};
use crate::report::metrics::{Metrics, Period, compute};

/// How many days the "detected per day" sparkline covers.
pub const SPARK_DAYS: usize = 30;

/// The periods the metrics screen offers, in the order `p` cycles them.
/// Each is a [`Period`] of whole UTC days, so the same figures come from
/// `warroom metrics` with the bounds the title shows
/// ([`Window::cli_args`]): detected on or after `since`, before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    #[default]
    AllTime,
    /// Today and the 6 UTC days before it.
    Last7Days,
    Last30Days,
    Last90Days,
    /// The calendar quarter (UTC) holding `now`.
    ThisQuarter,
}

impl Window {
    pub const ALL: [Window; 5] = [
        Window::AllTime,
        Window::Last7Days,
        Window::Last30Days,
        Window::Last90Days,
        Window::ThisQuarter,
    ];

    pub fn next(self) -> Window {
        crate::tui::kit::cursor::step_in(&Window::ALL, self, true)
    }

    pub fn prev(self) -> Window {
        crate::tui::kit::cursor::step_in(&Window::ALL, self, false)
    }

    /// The first and last UTC day counted (`None`: unbounded).
    pub fn days(self, now: DateTime<Utc>) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let today = now.date_naive();
        let last_days = |n: i64| (Some(today - Duration::days(n - 1)), None);
        match self {
            Window::AllTime => (None, None),
            Window::Last7Days => last_days(7),
            Window::Last30Days => last_days(30),
            Window::Last90Days => last_days(90),
            Window::ThisQuarter => {
                let q = quarter(today);
                let first = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1);
                let start = first(today.year(), 3 * (q - 1) + 1);
                let next = if q == 4 {
                    first(today.year() + 1, 1)
                } else {
                    first(today.year(), 3 * q + 1)
                };
                (start, next.and_then(|d| d.pred_opt()))
            }
        }
    }

    /// The period `report::metrics::compute` is given: from the start of
    /// the first day to the end of the last, as `--since` and `--until`
    /// with dates mean.
    pub fn period(self, include_drills: bool, now: DateTime<Utc>) -> Period {
        let (first, last) = self.days(now);
        let start = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
        Period {
            since: first.map(start),
            until: last.and_then(|d| d.succ_opt()).map(start),
            include_drills,
        }
    }

    /// What the title says: the period's name and its days (UTC).
    pub fn label(self, now: DateTime<Utc>) -> String {
        let name = match self {
            Window::AllTime => return "all time".into(),
            Window::Last7Days => "last 7 days".to_string(),
            Window::Last30Days => "last 30 days".to_string(),
            Window::Last90Days => "last 90 days".to_string(),
            Window::ThisQuarter => {
                format!(
                    "this quarter ({} Q{})",
                    now.year(),
                    quarter(now.date_naive())
                )
            }
        };
        match self.days(now) {
            (Some(first), Some(last)) => format!("{name}, {first} to {last} UTC"),
            (Some(first), None) => format!("{name}, {first} to now UTC"),
            _ => name,
        }
    }

    /// The `warroom metrics` options that give the same figures.
    pub fn cli_args(self, include_drills: bool, now: DateTime<Utc>) -> String {
        let (first, last) = self.days(now);
        let mut out = Vec::new();
        if let Some(d) = first {
            out.push(format!("--since {d}"));
        }
        if let Some(d) = last {
            out.push(format!("--until {d}"));
        }
        if include_drills {
            out.push("--include-drills".into());
        }
        out.join(" ")
    }
}

/// 1 to 4.
pub(crate) fn quarter(d: NaiveDate) -> u32 {
    d.month0() / 3 + 1
}

#[derive(Debug, Clone, Default)]
pub struct MetricsState {
    pub include_drills: bool,
    pub window: Window,
    pub loaded: bool,
    pub incidents: Vec<Incident>,
    pub reviews: HashMap<String, Review>,
    pub metrics: Option<Metrics>,
    /// Incidents detected per UTC day, oldest first, the last being today.
    pub per_day: Vec<u64>,
}

impl MetricsState {
    /// Recomputes from what was loaded, at `now`.
    pub fn recompute(&mut self, policy: &Policy, now: DateTime<Utc>) {
        if !self.loaded {
            return;
        }
        let period = self.window.period(self.include_drills, now);
        self.metrics = Some(compute(&self.incidents, &self.reviews, policy, period, now));
        self.per_day = per_day(&self.incidents, self.include_drills, now);
    }
}

/// Incidents detected on each of the last [`SPARK_DAYS`] UTC days.
pub fn per_day(incidents: &[Incident], include_drills: bool, now: DateTime<Utc>) -> Vec<u64> {
    let today = now.date_naive();
    let first = today - Duration::days(SPARK_DAYS as i64 - 1);
    let mut days = vec![0u64; SPARK_DAYS];
    for i in incidents.iter().filter(|i| include_drills || !i.drill) {
        let d = i.detected_at.date_naive();
        if d < first || d > today {
            continue;
        }
        if let Ok(n) = usize::try_from((d - first).num_days())
            && let Some(slot) = days.get_mut(n)
        {
            *slot += 1;
        }
    }
    days
}
