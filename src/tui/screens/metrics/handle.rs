//! The metrics screen: how keys, ticks and the worker's answers change it.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::state::*;
use crate::domain::Incident;
use crate::domain::review::Review;
use crate::tui::command::{Command, Context};
use crate::tui::effect::{Effect, effect};
use crate::tui::records::RecordsEffect;
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::Nav;

/// The metrics screen, with the drill toggle and period it was left with.
pub fn open((include_drills, window): (bool, Window), fx: &mut Vec<Effect>) -> MetricsState {
    fx.push(effect(RecordsEffect::LoadMetrics));
    MetricsState {
        include_drills,
        window,
        ..MetricsState::default()
    }
}

impl MetricsState {
    /// The worker loaded every incident and review.
    pub fn loaded(
        &mut self,
        incidents: Vec<Incident>,
        reviews: HashMap<String, Review>,
        ctx: &Ctx,
    ) {
        self.incidents = incidents;
        self.reviews = reviews;
        self.loaded = true;
        self.recompute(ctx.policy, ctx.now);
    }
}

impl Screen for MetricsState {
    type Feed = ();

    fn handle(&mut self, cmd: Command, ctx: &Ctx) -> Outcome {
        let now = ctx.now;
        match cmd {
            Command::Back => return Outcome::go(Nav::Back),
            Command::ToggleDrills => {
                self.include_drills = !self.include_drills;
                self.recompute(ctx.policy, now);
                let text = if self.include_drills {
                    "drills included"
                } else {
                    "drills excluded"
                };
                return Outcome::said(text, false);
            }
            Command::NextPeriod | Command::PrevPeriod => {
                self.window = if cmd == Command::NextPeriod {
                    self.window.next()
                } else {
                    self.window.prev()
                };
                self.recompute(ctx.policy, now);
                return Outcome::said(format!("metrics over {}", self.window.label(now)), false);
            }
            _ => {}
        }
        Outcome::stay()
    }

    fn view(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        super::view::render(self, ctx, frame, area)
    }

    fn context(&self) -> Context {
        Context::Metrics
    }

    /// Clocks move: recompute; and reload if another process wrote.
    fn tick(&mut self, ctx: &Ctx) -> Outcome {
        self.recompute(ctx.policy, ctx.now);
        let mut out = Outcome::stay();
        out.push(effect(RecordsEffect::Poll {
            evidence: None,
            review: None,
            metrics: true,
            messages: None,
        }));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::metrics::parse_bound;
    use chrono::{DateTime, Utc};
    use chrono::{NaiveDate, TimeZone};

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
