//! The metrics screen's state: every incident and review as loaded, and
//! the metrics computed from them by `report::metrics::compute` (the same
//! code as `warroom metrics`) with the time passed in, over a period
//! chosen with `p` (all time, the last 7, 30 or 90 days, this quarter).
//! Drills are left out unless toggled in.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

use super::app::say;
use super::app::{App, Modal, Screen};
use super::effect::Effect;
use super::keymap::Command;
use super::records::{RecordsEffect, effect};
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
        super::kit::cursor::step_in(&Window::ALL, self, true)
    }

    pub fn prev(self) -> Window {
        super::kit::cursor::step_in(&Window::ALL, self, false)
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
fn quarter(d: NaiveDate) -> u32 {
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

pub fn open(app: &mut App, _now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    app.screen = Screen::Metrics;
    // The drill toggle and the period stay as they were left.
    let (include_drills, window) = app
        .metrics
        .as_ref()
        .map_or((false, Window::AllTime), |m| (m.include_drills, m.window));
    app.metrics = Some(MetricsState {
        include_drills,
        window,
        ..MetricsState::default()
    });
    fx.push(effect(RecordsEffect::LoadMetrics));
}

pub fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, _fx: &mut Vec<Effect>) {
    match cmd {
        Command::Back => app.screen = Screen::Board,
        Command::Help => {
            let under = app.focus();
            app.modal = Some(Modal::Help { scroll: 0, under });
        }
        Command::ToggleDrills => {
            let Some(m) = app.metrics.as_mut() else {
                return;
            };
            m.include_drills = !m.include_drills;
            m.recompute(&app.policy, now);
            let text = if m.include_drills {
                "drills included"
            } else {
                "drills excluded"
            };
            say(app, text.into(), false);
        }
        Command::NextPeriod | Command::PrevPeriod => {
            let Some(m) = app.metrics.as_mut() else {
                return;
            };
            m.window = if cmd == Command::NextPeriod {
                m.window.next()
            } else {
                m.window.prev()
            };
            m.recompute(&app.policy, now);
            let text = format!("metrics over {}", m.window.label(now));
            say(app, text, false);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::metrics::parse_bound;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 30, 0).unwrap()
    }

    #[test]
    fn windows_are_whole_utc_days_ending_today_or_the_quarter() {
        let now = at(2026, 11, 22, 18);
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(Window::AllTime.days(now), (None, None));
        assert_eq!(Window::Last7Days.days(now), (Some(day("2026-11-16")), None));
        assert_eq!(
            Window::Last30Days.days(now),
            (Some(day("2026-10-24")), None)
        );
        assert_eq!(
            Window::Last90Days.days(now),
            (Some(day("2026-08-25")), None)
        );
        assert_eq!(
            Window::ThisQuarter.days(now),
            (Some(day("2026-10-01")), Some(day("2026-12-31")))
        );
        // First and last day of a quarter, and a leap-year February.
        assert_eq!(
            Window::ThisQuarter.days(at(2028, 1, 1, 0)),
            (Some(day("2028-01-01")), Some(day("2028-03-31")))
        );
        assert_eq!(
            Window::ThisQuarter.days(at(2028, 6, 30, 23)),
            (Some(day("2028-04-01")), Some(day("2028-06-30")))
        );
        let p = Window::ThisQuarter.period(true, now);
        assert_eq!(
            p.since,
            Some(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap())
        );
        assert_eq!(
            p.until,
            Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap())
        );
        assert!(p.include_drills);
        assert_eq!(
            Window::Last7Days.label(now),
            "last 7 days, 2026-11-16 to now UTC"
        );
        assert_eq!(
            Window::ThisQuarter.label(now),
            "this quarter (2026 Q4), 2026-10-01 to 2026-12-31 UTC"
        );
        // p goes round, P goes back.
        let mut w = Window::AllTime;
        for _ in 0..Window::ALL.len() {
            assert_eq!(w.next().prev(), w);
            w = w.next();
        }
        assert_eq!(w, Window::AllTime);
    }

    #[test]
    fn each_window_is_the_period_the_cli_parses_from_its_own_options() {
        let now = at(2026, 2, 3, 1);
        for w in Window::ALL {
            let args = w.cli_args(false, now);
            let mut words = args.split_whitespace();
            let (mut since, mut until) = (None, None);
            while let Some(opt) = words.next() {
                let value = words.next().unwrap();
                match opt {
                    "--since" => since = Some(parse_bound(value, false).unwrap()),
                    "--until" => until = Some(parse_bound(value, true).unwrap()),
                    other => panic!("{other}"),
                }
            }
            let p = w.period(false, now);
            assert_eq!((p.since, p.until), (since, until), "{w:?}: {args}");
        }
        assert_eq!(
            Window::ThisQuarter.cli_args(true, now),
            "--since 2026-01-01 --until 2026-03-31 --include-drills"
        );
    }
}
