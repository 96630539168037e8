//! The alert list: how keys change it.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::state::{AlertLog, AlertsState};
use crate::tui::command::{Command, Context};
use crate::tui::kit::cursor::move_cursor;
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::{Nav, Target};

impl Screen for AlertsState {
    type Feed = AlertLog;

    fn handle(&mut self, cmd: Command, ctx: &Ctx<AlertLog>) -> Outcome {
        let log = ctx.feed;
        match cmd {
            Command::Back => return Outcome::go(Nav::Back),
            Command::Up
            | Command::Down
            | Command::Top
            | Command::Bottom
            | Command::PageUp
            | Command::PageDown => self.cursor = move_cursor(self.cursor, log.len(), cmd),
            Command::Open => {
                let chosen = log.newest(self.cursor);
                match chosen.and_then(|a| a.alert.incident_id.as_deref()) {
                    Some(id) => match id.parse() {
                        Ok(id) => return Outcome::go(Nav::Open(Target::Incident(id))),
                        Err(e) => return Outcome::said(format!("cannot open {id}: {e}"), true),
                    },
                    None if chosen.is_some() => {
                        return Outcome::said("this alert names no incident", false);
                    }
                    None => {}
                }
            }
            _ => {}
        }
        Outcome::stay()
    }

    fn view(&self, ctx: &Ctx<AlertLog>, frame: &mut Frame, area: Rect) {
        super::view::render(self, ctx, frame, area)
    }

    fn context(&self) -> Context {
        Context::Alerts
    }
}
