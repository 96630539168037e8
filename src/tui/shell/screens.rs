//! Where the keys, views, ticks, openings and closings of the screens go.
//! The screens in `stack::screen_list` are lent a `Ctx` (taken off the
//! stack meanwhile) and their `Outcome` is applied here; their arms are
//! made from that list. The board (the floor, held by the app) is lent
//! its own state; the incident screen still takes the app; the composer
//! has an arm to open.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::app::App;
use super::lend::{apply, ctx};
use super::stack::{Screen, ScreenState};
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::screens::compose::handle as compose;
use crate::tui::screens::compose::state::{ComposeEnv, Composer};
use crate::tui::screens::ctx::{Ctx, Outcome, Screen as _};
use crate::tui::screens::incident::handle::incident_command;
use crate::tui::screens::incident::state::IncidentState;
use crate::tui::screens::nav::{Nav, Target};

/// A command for the screen on top.
pub fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> Nav {
    // Bound on the board and the incident view alike.
    if cmd == Command::OpenRoster {
        return Nav::Open(Target::Roster);
    }
    match app.stack.screen() {
        Screen::Incident => incident_command(app, cmd, now, fx),
        Screen::Board => {
            let (board, c) = super::lend::board(app, now);
            let out = board.handle(cmd, &c);
            apply(app, out, fx)
        }
        _ => handle_top(app, cmd, now, fx),
    }
}

/// Carries out a screen's [`Nav`], so no screen opens or closes another.
pub fn go(app: &mut App, nav: Nav, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    match nav {
        Nav::Stay => {}
        Nav::Back => {
            // The drill toggle and period stay as they were left.
            if let Some(ScreenState::Metrics(m)) = app.stack.pop() {
                app.metrics_kept = (m.include_drills, m.window);
            }
        }
        Nav::Home => home(app),
        Nav::Open(target) => open(app, target, now, fx),
    }
}

/// Draws the screen on top (the board when none is).
pub fn render(app: &App, frame: &mut Frame, body: Rect, now: DateTime<Utc>) {
    match app.stack.top() {
        Some(ScreenState::Incident(state)) => {
            crate::tui::screens::incident::view::render(app, state, frame, body, now)
        }
        Some(top) => listed::view(top, app, frame, body, now),
        None => app
            .board
            .view(&ctx(app, now).with(&app.board_feed), frame, body),
    }
}

pub fn open(app: &mut App, target: Target, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
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
        // Opens nothing (and says why) while the incident loads.
        Target::Compose => match compose::open(&ctx(app, now).with(&app.comms)) {
            (Some(c), _) => ScreenState::Compose(c),
            (None, out) => {
                let nav = apply(app, out, fx);
                go(app, nav, now, fx);
                return;
            }
        },
        Target::Watcher => {
            home(app);
            ScreenState::Watcher(app.watcher_kept)
        }
        // Over whatever is shown (Esc goes back to it); never twice.
        Target::Alerts if app.stack.screen() == crate::tui::shell::stack::Screen::Alerts => return,
        Target::Alerts => {
            app.alerts.unseen = 0;
            ScreenState::Alerts(Default::default())
        }
        // A listed screen that knows the target opens itself.
        #[allow(unreachable_patterns)]
        target => match listed::open(&target, app, now) {
            Some((state, out)) => {
                app.stack.push(state);
                let nav = apply(app, out, fx);
                go(app, nav, now, fx);
                return;
            }
            None => return,
        },
    };
    app.stack.push(state);
}

/// Closes every screen: back to the board. The watcher's scroll is kept
/// for its next opening.
pub fn home(app: &mut App) {
    for s in app.stack.clear() {
        if let ScreenState::Watcher(w) = s {
            app.watcher_kept = w;
        }
    }
}

/// A command for the screen on top, taken off the stack while it handles
/// it so the rest of the app can be lent to it.
fn handle_top(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> Nav {
    let Some(mut top) = app.stack.pop() else {
        return Nav::Stay;
    };
    let out = listed::handle(&mut top, app, cmd, now);
    app.stack.push(top);
    apply(app, out, fx)
}

/// The tick for the screen on top.
pub fn tick(app: &mut App, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    let Some(mut top) = app.stack.pop() else {
        return;
    };
    let out = listed::tick(&mut top, app, now);
    app.stack.push(top);
    apply(app, out, fx);
}

/// What the app lends a listed screen as its feed.
macro_rules! feed {
    ($app:ident) => {
        &()
    };
    ($app:ident, $($f:ident).+) => {
        &$app.$($f).+
    };
}

/// The arms of the listed screens.
macro_rules! listed_arms {
    ($($(#[$doc:meta])* $v:ident($t:ty) $(feed($($f:ident).+))?;)*) => {
        mod listed {
            use super::*;
            #[allow(unused_imports)]
            use crate::tui::screens::ctx::Screen;
            #[allow(unused_imports)]
            use crate::tui::screens::{alerts::state::*, compose::state::*, evidence::state::*, messages::state::*, metrics::state::*, review::state::*, roster::state::*, watcher::state::*};

            pub fn handle(top: &mut ScreenState, app: &App, cmd: Command, now: DateTime<Utc>) -> Outcome {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.handle(cmd, &c.with(feed!(app $(, $($f).+)?))),)*
                    _ => Outcome::stay(),
                }
            }

            pub fn tick(top: &mut ScreenState, app: &App, now: DateTime<Utc>) -> Outcome {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.tick(&c.with(feed!(app $(, $($f).+)?))),)*
                    _ => Outcome::stay(),
                }
            }

            pub fn view(top: &ScreenState, app: &App, frame: &mut Frame, body: Rect, now: DateTime<Utc>) {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.view(&c.with(feed!(app $(, $($f).+)?)), frame, body),)*
                    _ => {}
                }
            }

            /// The first listed screen that opens for `target`.
            pub fn open(target: &Target, app: &App, now: DateTime<Utc>) -> Option<(ScreenState, Outcome)> {
                let c = ctx(app, now);
                $(
                    if let Some((s, out)) = <$t>::open(target, &c.with(feed!(app $(, $($f).+)?))) {
                        return Some((ScreenState::$v(s), out));
                    }
                )*
                None
            }
        }
    };
}

super::stack::screen_list!(listed_arms);

/// A worker's answer (or a tick, a key, a paste) for the composer
/// wherever it is on the stack: it is lent the context with its feed, and
/// its `Back` closes it only when it is on top.
pub fn composer(
    app: &mut App,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
    f: impl FnOnce(Option<&mut Composer>, &Ctx<ComposeEnv>) -> Outcome,
) {
    let on_top = app.stack.screen() == Screen::Compose;
    let (stack, c) = super::lend::split_compose(app, now);
    let out = f(stack.compose_mut(), &c);
    if apply(app, out, fx) == Nav::Back && on_top {
        app.stack.pop();
    }
}
