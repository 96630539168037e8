//! The metrics screen: how keys and the worker's answers change the app.

use chrono::{DateTime, Utc};

use super::state::*;
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::effect::effect;
use crate::tui::screens::nav::Nav;
use crate::tui::shell::app::App;
use crate::tui::shell::app::say;
use crate::tui::shell::records::effects::RecordsEffect;

/// The metrics screen, with the drill toggle and period it was left with.
pub fn open((include_drills, window): (bool, Window), fx: &mut Vec<Effect>) -> MetricsState {
    fx.push(effect(RecordsEffect::LoadMetrics));
    MetricsState {
        include_drills,
        window,
        ..MetricsState::default()
    }
}

pub fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, _fx: &mut Vec<Effect>) -> Nav {
    match cmd {
        Command::Back => return Nav::Back,
        Command::ToggleDrills => {
            let Some(m) = app.stack.metrics_mut() else {
                return Nav::Stay;
            };
            m.include_drills = !m.include_drills;
            m.recompute(&app.policy, now);
            let text = if m.include_drills {
                "drills included"
            } else {
                "drills excluded"
            };
            say(app, text, false);
        }
        Command::NextPeriod | Command::PrevPeriod => {
            let Some(m) = app.stack.metrics_mut() else {
                return Nav::Stay;
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
    Nav::Stay
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::metrics::parse_bound;
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
