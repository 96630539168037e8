//! Snapshots of how the console shows clock history: "due now" inside the
//! immediate grace (not BREACHED), and a breach under an earlier severity
//! kept in sight after a downgrade, on the board and in the clocks pane.

use chrono::{DateTime, Duration, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

use warroom::domain::{Playbook, Policy, Severity};
use warroom::store::{IncidentPatch, NewIncident, Store};
use warroom::tui::action::{Action, Command};
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::update;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).unwrap()
}

/// A P1 lowered to P3 after both its early clocks breached, and a P1
/// declared a minute ago whose customer notice is due now.
fn fixture() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let pb = Playbook::builtin();
    let at = |m: i64| now() - Duration::minutes(m);
    let old = store
        .create_incident(
            &NewIncident::new("Scanner hits on the VPN gateway", Severity::P1),
            &pb,
            "alice",
            at(40),
        )
        .unwrap();
    store
        .update_incident(
            &old.id,
            &IncidentPatch {
                severity: Some(Severity::P3),
                reason: Some("blocked at the edge; no login succeeded".into()),
                ..IncidentPatch::default()
            },
            "alice",
            at(5),
        )
        .unwrap();
    store
        .create_incident(
            &NewIncident::new("Ransom note on a file share", Severity::P1),
            &pb,
            "bob",
            at(1),
        )
        .unwrap();
    (dir, store)
}

fn board_app(store: &Store) -> App {
    let mut app = App::new("alice", Policy::builtin(), true);
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    app
}

fn incident_app(store: &Store, title: &str) -> App {
    let mut app = board_app(store);
    let pos = app
        .board
        .order
        .iter()
        .position(|i| app.rows[*i].incident.title == title)
        .unwrap();
    app.board.selected = pos;
    update(&mut app, Action::Command(Command::Open), now());
    let id = app.stack.incident().unwrap().id.clone();
    let detail = store.detail(&id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(detail)), now());
    app
}

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, now())).unwrap();
    t.backend().to_string()
}

#[test]
fn clock_history_at_80x24_and_120x40() {
    let (_dir, store) = fixture();
    let views = [
        ("clocks_board", board_app(&store)),
        (
            "clocks_downgraded_after_breach",
            incident_app(&store, "Scanner hits on the VPN gateway"),
        ),
        (
            "clocks_due_now",
            incident_app(&store, "Ransom note on a file share"),
        ),
    ];
    for (name, app) in &views {
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = draw(app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
        }
    }
}

#[test]
fn due_now_is_not_breached_and_an_old_breach_stays_said() {
    let (_dir, store) = fixture();
    let fresh = draw(
        &incident_app(&store, "Ransom note on a file share"),
        120,
        40,
    );
    let notice = fresh
        .lines()
        .find(|l| l.contains("Customer notice"))
        .unwrap();
    assert!(notice.contains("due now"), "{notice}");
    assert!(!notice.contains("BREACHED"), "{notice}");

    let lowered = draw(
        &incident_app(&store, "Scanner hits on the VPN gateway"),
        120,
        40,
    );
    assert!(lowered.contains("breached at 17:55 under P1"), "{lowered}");
    assert!(lowered.contains("breached at 18:05 under P1"), "{lowered}");
    let board = draw(&board_app(&store), 120, 40);
    let row = board.lines().find(|l| l.contains("Scanner hits")).unwrap();
    assert!(row.contains("BREACHED P1"), "{row}");
}
