//! The metrics screen's state: every incident and review as loaded, and
//! the metrics computed from them by `report::metrics::compute` (the same
//! code as `warroom metrics`) with the time passed in. Drills are left out
//! unless toggled in.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::action::Command;
use super::app::{App, Modal, Screen};
use super::records::{RecordsEffect, effect};
use super::update::{Effect, say};
use crate::domain::review::Review;
use crate::domain::{Incident, Policy};
use crate::report::metrics::{Metrics, Period, compute};

/// How many days the "detected per day" sparkline covers.
pub const SPARK_DAYS: usize = 30;

#[derive(Debug, Clone, Default)]
pub struct MetricsState {
    pub include_drills: bool,
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
        let period = Period {
            since: None,
            until: None,
            include_drills: self.include_drills,
        };
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
    let include_drills = app.metrics.as_ref().is_some_and(|m| m.include_drills);
    app.metrics = Some(MetricsState {
        include_drills,
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
        _ => {}
    }
}
