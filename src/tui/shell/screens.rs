//! The one list of the screens: for each kind of state on the stack,
//! where its keys, its view, its opening and its closing go (its focus
//! is `ScreenState::context`, beside the states). Adding a screen means a
//! folder in `screens`, a variant in `stack`, a `Target`, and arms here.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::app::App;
use super::stack::{Screen, ScreenState};
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::screens::board::handle::board_command;
use crate::tui::screens::compose::handle as compose;
use crate::tui::screens::incident::handle::incident_command;
use crate::tui::screens::incident::state::IncidentState;
use crate::tui::screens::nav::{Nav, Target};

/// A command for the screen on top.
pub fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> Nav {
    match app.stack.screen() {
        Screen::Compose => {
            compose::command(app, cmd, now, fx);
            Nav::Stay
        }
        Screen::Incident => incident_command(app, cmd, now, fx),
        Screen::Board => board_command(app, cmd, now, fx),
        Screen::Evidence => crate::tui::screens::evidence::handle::command(app, cmd, now, fx),
        Screen::Review => crate::tui::screens::review::handle::command(app, cmd, now, fx),
        Screen::Metrics => crate::tui::screens::metrics::handle::command(app, cmd, now, fx),
        Screen::Messages => crate::tui::screens::messages::handle::command(app, cmd, now, fx),
        Screen::Watcher => crate::tui::screens::watcher::handle::command(app, cmd, now, fx),
        Screen::Alerts => crate::tui::screens::alerts::handle::command(app, cmd, now, fx),
    }
}

/// Carries out a screen's [`Nav`], so no screen opens or closes another.
pub fn go(app: &mut App, nav: Nav, fx: &mut Vec<Effect>) {
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

/// Draws the screen on top (the board when none is).
pub fn render(app: &App, frame: &mut Frame, body: Rect, now: DateTime<Utc>) {
    match app.stack.top() {
        Some(ScreenState::Compose(c)) => {
            crate::tui::screens::compose::view::render(app, c, frame, body, now)
        }
        Some(ScreenState::Incident(state)) => {
            crate::tui::screens::incident::view::render(app, state, frame, body, now)
        }
        Some(ScreenState::Evidence(_)) => {
            crate::tui::screens::evidence::view::render(app, frame, body, now)
        }
        Some(ScreenState::Review(_)) => {
            crate::tui::screens::review::view::render(app, frame, body, now)
        }
        Some(ScreenState::Metrics(_)) => {
            crate::tui::screens::metrics::view::render(app, frame, body, now)
        }
        Some(ScreenState::Messages(_)) => {
            crate::tui::screens::messages::view::render(app, frame, body, now)
        }
        Some(ScreenState::Watcher) => {
            crate::tui::screens::watcher::view::render(app, frame, body, now)
        }
        Some(ScreenState::Alerts(_)) => {
            crate::tui::screens::alerts::view::render(app, frame, body, now)
        }
        None => crate::tui::screens::board::view::render(app, frame, body, now),
    }
}

pub fn open(app: &mut App, target: Target, fx: &mut Vec<Effect>) {
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
        // Over whatever is shown (Esc goes back to it); never twice.
        Target::Alerts if app.stack.screen() == crate::tui::shell::stack::Screen::Alerts => return,
        Target::Alerts => {
            app.alerts.unseen = 0;
            ScreenState::Alerts(Default::default())
        }
    };
    app.stack.push(state);
}
