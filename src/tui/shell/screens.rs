//! Where the keys, views, ticks, openings and closings of the screens go.
//! The screens in `stack::screen_list` are lent a `Ctx` (taken off the
//! stack meanwhile) and their `Outcome` is applied here; their arms are
//! made from that list. The board (the floor, held by the app) is lent
//! its own state.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::app::App;
use super::lend::{apply, ctx};
use super::stack::{Screen, ScreenState};
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::screens::compose::state::{ComposeEnv, Composer};
use crate::tui::screens::ctx::{Ctx, Outcome, Screen as _};
use crate::tui::screens::nav::{Nav, Target};

/// A command for the screen on top.
pub fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> Nav {
    // Bound on the board and the incident view alike.
    if cmd == Command::OpenRoster {
        return Nav::Open(Target::Roster);
    }
    match app.stack.screen() {
        Screen::Board => {
            let (board, c) = super::lend::board(app, now);
            let out = board.handle(cmd, &c);
            apply(app, out, fx)
        }
        _ => on_top(app, fx, |top, app| listed::handle(top, app, cmd, now)),
    }
}

/// Carries out a screen's [`Nav`], so no screen opens or closes another.
pub fn go(app: &mut App, nav: Nav, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    match nav {
        Nav::Stay => {}
        Nav::Back => match app.stack.pop() {
            // The drill toggle and period stay as they were left.
            Some(ScreenState::Metrics(m)) => app.metrics_kept = (m.include_drills, m.window),
            // A declaration waits for the store, to come back if it fails.
            Some(ScreenState::Declare(f)) if f.submitted => app.pending_form = Some(f),
            _ => {}
        },
        Nav::Home => home(app),
        Nav::Open(target) => open(app, target, now, fx),
    }
}

/// Draws the screen on top (the board when none is); a floating top is
/// drawn by [`render_dialog`], over the screen under it drawn here.
pub fn render(app: &App, frame: &mut Frame, body: Rect, now: DateTime<Utc>) {
    let shown = match app.stack.top() {
        Some(top) if top.floats() => app.stack.under_top(),
        top => top,
    };
    match shown {
        Some(s) => listed::view(s, app, frame, body, now),
        None => app
            .board
            .view(&ctx(app, now).with(&app.board_feed), frame, body),
    }
}

/// The top screen's open dialog (or the floating screen itself), over
/// the body and its toasts.
pub fn render_dialog(app: &App, frame: &mut Frame, body: Rect, now: DateTime<Utc>) {
    if let Some(top) = app.stack.top() {
        listed::dialog_view(top, app, frame, body, now);
    }
}

pub fn open(app: &mut App, target: Target, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    use crate::tui::screens::{evidence, messages, metrics, review};
    let state = match target {
        // Opening the evidence is recorded as an access.
        Target::Evidence(id) => ScreenState::Evidence(evidence::handle::open(id, fx)),
        Target::Review(id) => ScreenState::Review(review::handle::open(id, fx)),
        Target::Messages(id) => ScreenState::Messages(messages::handle::open(id, fx)),
        Target::Metrics => ScreenState::Metrics(metrics::handle::open(app.metrics_kept, fx)),
        Target::Watcher => {
            home(app);
            ScreenState::Watcher(app.watcher_kept)
        }
        // Over whatever is shown (Esc goes back to it); never twice.
        Target::Alerts if app.stack.screen() == Screen::Alerts => return,
        Target::Alerts => {
            app.alerts.unseen = 0;
            ScreenState::Alerts(Default::default())
        }
        // A listed screen that knows the target opens itself.
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

/// Lends the rest of the app to the screen on top, taken off the stack
/// meanwhile, and applies what it asks; returns where it asked to go.
fn on_top(
    app: &mut App,
    fx: &mut Vec<Effect>,
    f: impl FnOnce(&mut ScreenState, &App) -> Outcome,
) -> Nav {
    let Some(mut top) = app.stack.pop() else {
        return Nav::Stay;
    };
    let out = f(&mut top, app);
    app.stack.push(top);
    apply(app, out, fx)
}

/// A typed key for the screen on top; false when the board has the keys.
pub fn input(app: &mut App, key: KeyEvent, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> bool {
    if app.stack.top().is_none() {
        return false;
    }
    let nav = on_top(app, fx, |top, app| listed::input(top, app, key, now));
    go(app, nav, now, fx);
    true
}

/// Pasted text for the screen on top; false when the board has the keys.
pub fn paste(app: &mut App, text: &str, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> bool {
    if app.stack.top().is_none() {
        return false;
    }
    let nav = on_top(app, fx, |top, app| listed::paste(top, app, text, now));
    go(app, nav, now, fx);
    true
}

/// The draft save of what the screen on top is typing, if it changed.
pub fn autosave(app: &mut App, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    on_top(app, fx, |top, app| listed::autosave(top, app, now));
}

/// The tick for the screen on top, and for the one under a floating top
/// (it stays in view, so its clocks and polls go on).
pub fn tick(app: &mut App, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    let Some(mut top) = app.stack.pop() else {
        return;
    };
    if top.floats() {
        on_top(app, fx, |under, app| listed::tick(under, app, now));
    }
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

/// The arms of the listed screens: each lent the context with its feed.
macro_rules! listed_arms {
    ($($(#[$doc:meta])* $v:ident($t:ty) $(feed($($f:ident).+))?;)*) => {
        mod listed {
            use super::*;
            use crate::tui::screens::ctx::Screen;

            pub fn handle(top: &mut ScreenState, app: &App, cmd: Command, now: DateTime<Utc>) -> Outcome {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.handle(cmd, &c.with(feed!(app $(, $($f).+)?))),)*
                }
            }

            pub fn tick(top: &mut ScreenState, app: &App, now: DateTime<Utc>) -> Outcome {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.tick(&c.with(feed!(app $(, $($f).+)?))),)*
                }
            }

            pub fn input(top: &mut ScreenState, app: &App, key: KeyEvent, now: DateTime<Utc>) -> Outcome {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.input(key, &c.with(feed!(app $(, $($f).+)?))),)*
                }
            }

            pub fn paste(top: &mut ScreenState, app: &App, text: &str, now: DateTime<Utc>) -> Outcome {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.paste(text, &c.with(feed!(app $(, $($f).+)?))),)*
                }
            }

            pub fn autosave(top: &mut ScreenState, app: &App, now: DateTime<Utc>) -> Outcome {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.autosave(&c.with(feed!(app $(, $($f).+)?))),)*
                }
            }

            pub fn view(top: &ScreenState, app: &App, frame: &mut Frame, body: Rect, now: DateTime<Utc>) {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.view(&c.with(feed!(app $(, $($f).+)?)), frame, body),)*
                }
            }

            pub fn dialog_view(top: &ScreenState, app: &App, frame: &mut Frame, body: Rect, now: DateTime<Utc>) {
                let c = ctx(app, now);
                match top {
                    $(ScreenState::$v(s) => s.dialog_view(&c.with(feed!(app $(, $($f).+)?)), frame, body),)*
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
