//! Carries out a screen's [`Nav`]: the one place screens are opened and
//! closed, so no screen opens another.

use super::*;
use crate::tui::screens::nav::{Nav, Target};

pub(super) fn go(app: &mut App, nav: Nav, fx: &mut Vec<Effect>) {
    match nav {
        Nav::Stay => {}
        Nav::Back => {
            // The drill toggle and period stay as they were left.
            if let Some(ScreenState::Metrics(m)) = app.stack.pop() {
                app.metrics_kept = (m.include_drills, m.window);
            }
        }
        Nav::Home => app.stack.clear(),
        Nav::Open(target) => open(app, target, fx),
    }
}

pub(super) fn open(app: &mut App, target: Target, fx: &mut Vec<Effect>) {
    use crate::tui::screens::{evidence, messages, metrics, review};
    let state = match target {
        Target::Incident(id) => {
            fx.push(Effect::LoadDetail(id.clone()));
            ScreenState::Incident(IncidentState::new(id))
        }
        // Opening the evidence is recorded as an access.
        Target::Evidence(id) => ScreenState::Evidence(evidence::handle::open(id, fx)),
        Target::Review(id) => ScreenState::Review(review::handle::open(id, fx)),
        Target::Messages(id) => ScreenState::Messages(messages::handle::open(id, fx)),
        Target::Metrics => ScreenState::Metrics(metrics::handle::open(app.metrics_kept, fx)),
        Target::Compose => match compose::open(app) {
            Some(c) => ScreenState::Compose(c),
            None => return,
        },
        Target::Watcher => {
            app.stack.clear();
            ScreenState::Watcher
        }
    };
    app.stack.push(state);
}
