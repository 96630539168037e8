//! The watcher screen: how keys and the worker's answers change the app.

use chrono::{DateTime, Utc};

use crate::tui::app::App;
use crate::tui::effect::Effect;
use crate::tui::keymap::Command;

/// Keys on the watcher screen.
pub fn command(app: &mut App, cmd: Command, _now: DateTime<Utc>, _fx: &mut Vec<Effect>) {
    let len = app.watcher.status.as_ref().map_or(0, |s| s.recent.len());
    let w = &mut app.watcher;
    match cmd {
        Command::Back => app.stack.clear(),
        Command::Up
        | Command::Down
        | Command::PageUp
        | Command::PageDown
        | Command::Top
        | Command::Bottom => w.scroll = crate::tui::kit::cursor::move_cursor(w.scroll, len, cmd),
        Command::Help => {
            app.modal = Some(crate::tui::app::Modal::Help {
                scroll: 0,
                under: app.focus(),
            })
        }
        Command::NewIncident => {
            app.stack.clear();
            app.modal = Some(crate::tui::app::Modal::NewIncident(
                crate::tui::app::NewIncidentForm::default(),
            ));
        }
        _ => {}
    }
}
