//! The alert list screen (`A`): snapshots at 80x24 and 120x40 with a fixed
//! clock, over alerts raised in a real store and read through a console's
//! feed, one of them naming an incident whose title carries a terminal
//! escape (shown made safe), one incident acknowledged and one not.

use chrono::{DateTime, Duration, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use warroom::comms::CommsConfig;
use warroom::domain::roles::Role;
use warroom::domain::{Playbook, Policy, Severity};
use warroom::store::{NewAlert, NewIncident, Store};
use warroom::tui::action::{Action, Command};
use warroom::tui::screens::alerts::io::Feed;
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::update;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).unwrap()
}

fn alert(id: &str, kind: &str, text: &str, at: DateTime<Utc>) -> NewAlert {
    NewAlert {
        key: format!("{id}:{kind}:{at}"),
        incident_id: Some(id.to_string()),
        kind: kind.into(),
        text: text.into(),
        recipient: None,
        raised_by: "watcher".into(),
        raised_at: at,
    }
}

/// A console (as alice) that has read three alerts raised by another
/// process after it opened, with the alert list open.
fn alert_list_app(dir: &tempfile::TempDir) -> App {
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let pb = Playbook::builtin();
    let at = |m: i64| now() - Duration::minutes(m);
    let p1 = store
        .create_incident(
            &NewIncident::new("Login \u{1b}]52;c;eA==\u{7}storm", Severity::P1),
            &pb,
            "bob",
            at(20),
        )
        .unwrap();
    let p2 = store
        .create_incident(
            &NewIncident::new("Phishing wave", Severity::P2),
            &pb,
            "bob",
            at(15),
        )
        .unwrap();
    let mut app = App::new("alice", Policy::builtin(), true);
    let (mut feed, earlier) = Feed::start(&store, "alice", "alice").unwrap();
    update(&mut app, Action::AlertFeed(Box::new(earlier)), now());
    let config = CommsConfig::builtin(std::path::Path::new("/nonexistent"));
    let raised = vec![
        alert(
            p1.id.as_str(),
            "incident-new",
            &format!(
                "{} P1 Login \u{1b}]52;c;eA==\u{7}storm: new incident",
                p1.id
            ),
            at(20),
        ),
        alert(
            p2.id.as_str(),
            "incident-new",
            &format!("{} P2 Phishing wave: new incident", p2.id),
            at(15),
        ),
        alert(
            p1.id.as_str(),
            "clock-breached",
            &format!(
                "{} P1 Login storm: Response clock BREACHED (due 18:25 UTC)",
                p1.id
            ),
            at(5),
        ),
    ];
    warroom::comms::alerts::raise_due(&mut store, raised, &config, "watcher", at(5)).unwrap();
    // The P2 is acknowledged (its commander assigned) before the poll.
    store
        .assign_role(&p2.id, Role::Commander, "bob", "bob", at(4))
        .unwrap();
    let batch = feed.poll(&mut store, now()).unwrap().unwrap();
    update(&mut app, Action::AlertFeed(Box::new(batch)), now());
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    // Past the toasts: the list keeps them.
    for _ in 0..30 {
        update(&mut app, Action::Tick, now());
    }
    assert!(app.alerts.current().is_none());
    // The footer says there is something to catch up on...
    let board = draw(&app, 80, 24);
    assert!(board.contains("! 3 new alerts"), "{board}");
    update(&mut app, Action::Command(Command::OpenAlerts), now());
    // ... until the list is opened.
    assert_eq!(app.alerts.unseen, 0);
    update(&mut app, Action::Command(Command::Down), now());
    app
}

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, now())).unwrap();
    // TestBackend's own Display cannot show a zero-width buffer.
    if w == 0 {
        return String::new();
    }
    t.backend().to_string()
}

#[test]
fn alert_list_at_80x24_and_120x40() {
    let dir = tempfile::tempdir().unwrap();
    let app = alert_list_app(&dir);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = draw(&app, w, h);
        // Made safe: no escape reaches the terminal.
        assert!(!screen.contains('\u{1b}'), "{screen}");
        insta::assert_snapshot!(format!("alert_list_{w}x{h}"), screen);
    }
}

#[test]
fn the_empty_alert_list_says_where_alerts_come_from() {
    let mut app = App::new("alice", Policy::builtin(), true);
    update(&mut app, Action::Command(Command::OpenAlerts), now());
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("No alert raised yet"), "{screen}");
}

#[test]
fn the_alert_list_draws_at_every_small_size_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    let app = alert_list_app(&dir);
    for w in 0..=50 {
        for h in 0..=20 {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| draw(&app, w, h)));
            assert!(result.is_ok(), "alert list panicked at {w}x{h}");
        }
    }
}
