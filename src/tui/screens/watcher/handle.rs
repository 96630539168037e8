//! The watcher screen: how keys change it.

use chrono::{DateTime, Utc};

use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::screens::nav::Nav;
use crate::tui::shell::app::App;

/// Keys on the watcher screen.
pub fn command(app: &mut App, cmd: Command, _now: DateTime<Utc>, _fx: &mut Vec<Effect>) -> Nav {
    let len = app.watcher.status.as_ref().map_or(0, |s| s.recent.len());
    let w = &mut app.watcher;
    match cmd {
        Command::Back => return Nav::Home,
        Command::Up
        | Command::Down
        | Command::PageUp
        | Command::PageDown
        | Command::Top
        | Command::Bottom => w.scroll = crate::tui::kit::cursor::move_cursor(w.scroll, len, cmd),
        _ => {}
    }
    Nav::Stay
}
