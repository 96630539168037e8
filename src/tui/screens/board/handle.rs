//! Keys on the board: moving, filtering, sorting, opening.

use chrono::{DateTime, Utc};

use crate::domain::{Severity, Status};
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::kit::cursor::move_cursor;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::nav::{Nav, Target};
use crate::tui::shell::app::{App, say};

pub fn board_command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> Nav {
    if app.board.filtering {
        match cmd {
            Command::Submit => app.board.filtering = false,
            Command::Cancel => {
                app.board.filtering = false;
                app.board.filter = LineInput::default();
                app.rebuild_order(now);
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
            app.board.selected = move_cursor(app.board.selected, app.board.order.len(), cmd);
        }
        Command::Open => {
            if let Some(row) = app.selected_row() {
                return Nav::Open(Target::Incident(row.incident.id.clone()));
            }
        }
        Command::Filter => app.board.filtering = true,
        Command::Back => {
            app.board.filter = LineInput::default();
            app.board.severity_filter = None;
            app.board.status_filter = None;
            app.rebuild_order(now);
        }
        Command::CycleSort => {
            app.board.sort = app.board.sort.next();
            app.rebuild_order(now);
            say(app, format!("sorted by {}", app.board.sort.label()), false);
        }
        Command::CycleSeverityFilter => {
            app.board.severity_filter = match app.board.severity_filter {
                None => Some(Severity::P1),
                Some(Severity::P1) => Some(Severity::P2),
                Some(Severity::P2) => Some(Severity::P3),
                Some(Severity::P3) => Some(Severity::P4),
                Some(Severity::P4) => None,
            };
            app.board.selected = 0;
            app.rebuild_order(now);
        }
        Command::CycleStatusFilter => {
            let all = Status::ALL;
            app.board.status_filter = match app.board.status_filter {
                None => all.first().copied(),
                Some(s) => all
                    .iter()
                    .position(|x| *x == s)
                    .and_then(|i| all.get(i + 1))
                    .copied(),
            };
            if app.board.status_filter == Some(Status::Closed) {
                app.board.show_closed = true;
                fx.push(Effect::LoadBoard {
                    include_closed: true,
                });
            }
            app.board.selected = 0;
            app.rebuild_order(now);
        }
        Command::ToggleClosed => {
            app.board.show_closed = !app.board.show_closed;
            fx.push(Effect::LoadBoard {
                include_closed: app.board.show_closed,
            });
            app.rebuild_order(now);
            let shown = if app.board.show_closed {
                "shown"
            } else {
                "hidden"
            };
            say(app, format!("closed incidents {shown}"), false);
        }
        Command::OpenMetrics => return Nav::Open(Target::Metrics),
        Command::Acknowledge => match app.selected_row() {
            Some(row) => fx.push(Effect::Acknowledge(row.incident.id.clone())),
            None => say(app, "no incident selected", true),
        },
        _ => {}
    }
    Nav::Stay
}
