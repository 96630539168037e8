//! The alert list driven through `update`: it opens once over whatever
//! is shown, Enter opens the chosen alert's incident and Esc comes back.

use chrono::{DateTime, Utc};

use crate::domain::Policy;
use crate::store::{NewAlert, RaisedAlert};
use crate::tui::action::Action;
use crate::tui::command::Command;
use crate::tui::screens::alerts::io::FeedBatch;
use crate::tui::screens::alerts::state::AlertsState;
use crate::tui::shell::app::App;
use crate::tui::shell::router::update;
use crate::tui::shell::stack::Screen;

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
