//! Keys on the board: moving, filtering, sorting, opening.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::state::{BoardFeed, BoardState};
use crate::domain::{Severity, Status};
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::kit::cursor::move_cursor;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::{Nav, Target};

/// The board is the stack's floor: the app holds its state beside the
/// rows it orders and lends it like any listed screen's.
impl Screen for BoardState {
    type Feed = BoardFeed;

    fn handle(&mut self, cmd: Command, ctx: &Ctx<BoardFeed>) -> Outcome {
        let mut out = Outcome::stay();
        out.nav = board_command(self, ctx, cmd, &mut out);
        out
    }

    fn view(&self, ctx: &Ctx<BoardFeed>, frame: &mut Frame, area: Rect) {
        super::view::render(self, ctx, frame, area, ctx.now)
    }

    fn context(&self) -> Context {
        if self.filtering {
            Context::FilterInput
        } else {
            Context::Board
        }
    }
}

fn board_command(b: &mut BoardState, ctx: &Ctx<BoardFeed>, cmd: Command, out: &mut Outcome) -> Nav {
    let (rows, policy, now) = (ctx.rows, ctx.policy, ctx.now);
    if b.filtering {
        match cmd {
            Command::Submit => b.filtering = false,
            Command::Cancel => {
                b.filtering = false;
                b.filter = LineInput::default();
                b.rebuild(rows, policy, now);
            }
            _ => {}
        }
        return Nav::Stay;
    }
    match cmd {
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => {
            b.selected = move_cursor(b.selected, b.order.len(), cmd);
        }
        Command::Open => {
            if let Some(row) = b.selected_row(rows) {
                return Nav::Open(Target::Incident(row.incident.id.clone()));
            }
        }
        Command::Filter => b.filtering = true,
        Command::Back => {
            b.filter = LineInput::default();
            b.severity_filter = None;
            b.status_filter = None;
            b.rebuild(rows, policy, now);
        }
        Command::CycleSort => {
            b.sort = b.sort.next();
            b.rebuild(rows, policy, now);
            out.say(format!("sorted by {}", b.sort.label()), false);
        }
        Command::CycleSeverityFilter => {
            b.severity_filter = match b.severity_filter {
                None => Some(Severity::P1),
                Some(Severity::P1) => Some(Severity::P2),
                Some(Severity::P2) => Some(Severity::P3),
                Some(Severity::P3) => Some(Severity::P4),
                Some(Severity::P4) => None,
            };
            b.selected = 0;
            b.rebuild(rows, policy, now);
        }
        Command::CycleStatusFilter => {
            let all = Status::ALL;
            b.status_filter = match b.status_filter {
                None => all.first().copied(),
                Some(s) => all
                    .iter()
                    .position(|x| *x == s)
                    .and_then(|i| all.get(i + 1))
                    .copied(),
            };
            if b.status_filter == Some(Status::Closed) {
                b.show_closed = true;
                out.push(Effect::LoadBoard {
                    include_closed: true,
                });
            }
            b.selected = 0;
            b.rebuild(rows, policy, now);
        }
        Command::ToggleClosed => {
            b.show_closed = !b.show_closed;
            out.push(Effect::LoadBoard {
                include_closed: b.show_closed,
            });
            b.rebuild(rows, policy, now);
            let shown = if b.show_closed { "shown" } else { "hidden" };
            out.say(format!("closed incidents {shown}"), false);
        }
        Command::OpenMetrics => return Nav::Open(Target::Metrics),
        Command::Acknowledge => match b.selected_row(rows) {
            Some(row) => out.push(Effect::Acknowledge(row.incident.id.clone())),
            None => out.say("no incident selected", true),
        },
        _ => {}
    }
    Nav::Stay
}
