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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Policy;
    use crate::store::{NewAlert, RaisedAlert};
    use crate::tui::action::Action;
    use crate::tui::screens::alerts::io::FeedBatch;
    use crate::tui::screens::alerts::state::AlertsState;
    use crate::tui::shell::app::App;
    use crate::tui::shell::router::update;
    use crate::tui::shell::stack::Screen;
    use chrono::{DateTime, Utc};

    fn raised(id: i64, incident: &str) -> RaisedAlert {
        RaisedAlert {
            id,
            alert: NewAlert {
                key: format!("k{id}"),
                incident_id: Some(incident.into()),
                kind: "clock-due".into(),
                text: format!("alert {id}"),
                recipient: None,
                raised_by: "bob".into(),
                raised_at: "2026-11-22T18:00:00Z".parse().unwrap(),
            },
            acknowledged_at: None,
        }
    }

    #[test]
    fn enter_opens_the_selected_alerts_incident_and_esc_comes_back() {
        let now: DateTime<Utc> = "2026-11-22T18:00:00Z".parse().unwrap();
        let mut app = App::new("alice", Policy::builtin(), true);
        let batch = FeedBatch {
            alerts: vec![raised(1, "INC-2026-001"), raised(2, "INC-2026-002")],
            earlier: false,
            desktop: Vec::new(),
        };
        update(&mut app, Action::AlertFeed(Box::new(batch)), now);
        update(&mut app, Action::Command(Command::OpenAlerts), now);
        assert_eq!(app.stack.screen(), Screen::Alerts);
        // Asked again while open: still one list.
        update(&mut app, Action::Command(Command::OpenAlerts), now);
        update(&mut app, Action::Command(Command::Back), now);
        assert_eq!(app.stack.screen(), Screen::Board);
        update(&mut app, Action::Command(Command::OpenAlerts), now);
        // Newest first: the second one down is the first raised.
        update(&mut app, Action::Command(Command::Down), now);
        update(&mut app, Action::Command(Command::Open), now);
        assert_eq!(app.stack.screen(), Screen::Incident);
        assert_eq!(app.stack.incident().unwrap().id.to_string(), "INC-2026-001");
        update(&mut app, Action::Command(Command::Back), now);
        assert_eq!(app.stack.screen(), Screen::Alerts);
        assert_eq!(app.stack.alerts().unwrap(), &AlertsState { cursor: 1 });
    }
}
