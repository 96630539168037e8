//! The watcher screen: how keys change it.

use super::state::{WatcherScreen, WatcherState};
use crate::tui::command::{Command, Context};
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::Nav;

impl Screen for WatcherScreen {
    type Feed = WatcherState;

    fn handle(&mut self, cmd: Command, ctx: &Ctx<WatcherState>) -> Outcome {
        let len = ctx.feed.status.as_ref().map_or(0, |s| s.recent.len());
        match cmd {
            Command::Back => return Outcome::go(Nav::Home),
            Command::Up
            | Command::Down
            | Command::PageUp
            | Command::PageDown
            | Command::Top
            | Command::Bottom => {
                self.scroll = crate::tui::kit::cursor::move_cursor(self.scroll(len), len, cmd)
            }
            _ => {}
        }
        Outcome::stay()
    }

    fn view(
        &self,
        ctx: &Ctx<WatcherState>,
        frame: &mut ratatui::Frame,
        area: ratatui::layout::Rect,
    ) {
        super::view::render(self, ctx, frame, area)
    }

    fn context(&self) -> Context {
        Context::Watcher
    }
}
