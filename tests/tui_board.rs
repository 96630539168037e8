//! The board's order and columns: real incidents above drills, the header
//! counting drills apart, and titles kept readable at 80 columns.

use chrono::{DateTime, Duration, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

use warroom::domain::{Playbook, Policy, Severity};
use warroom::store::{NewIncident, Store};
use warroom::tui::action::{Action, Command};
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::update;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).unwrap()
}

const REAL_P1: &str = "Payment gateway refusing every card in eu-west-1 since the deploy";
const DRILL_P1: &str = "Tabletop: ransomware on the file servers";
const REAL_P2: &str = "Suspicious admin logins from a new country";
const DRILL_P2: &str = "Tabletop: leaked API key in a public repo";
const REAL_P3: &str = "Phishing mails to the finance team";

/// Two drills created first (so their clocks are the closest and their
/// rows come first in the store), then the real incidents; the P2 pair
/// at the same minute, so their urgency is equal.
fn fixture() -> (TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let pb = Playbook::builtin();
    let at = |m: i64| now() - Duration::minutes(m);
    for (title, sev, drill, minutes_ago) in [
        (DRILL_P1, Severity::P1, true, 40),
        (DRILL_P2, Severity::P2, true, 20),
        (REAL_P2, Severity::P2, false, 20),
        (REAL_P1, Severity::P1, false, 5),
        (REAL_P3, Severity::P3, false, 10),
    ] {
        let mut n = NewIncident::new(title, sev);
        n.drill = drill;
        store
            .create_incident(&n, &pb, "alice", at(minutes_ago))
            .unwrap();
    }
    let mut app = App::new("alice", Policy::builtin(), true);
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    (dir, app)
}

fn titles(app: &App) -> Vec<&str> {
    app.board
        .order
        .iter()
        .map(|i| app.rows[*i].incident.title.as_str())
        .collect()
}

fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, now())).unwrap();
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect()
}

#[test]
fn real_incidents_come_before_drills_however_close_the_drills_clocks() {
    let (_dir, app) = fixture();
    let order = titles(&app);
    let pos = |t: &str| order.iter().position(|o| *o == t).unwrap();
    // The drill P1's response clock is breached, the real P1's is not.
    assert!(pos(REAL_P1) < pos(DRILL_P1), "{order:?}");
    // Same severity, same minute: the real one first.
    assert!(pos(REAL_P2) < pos(DRILL_P2), "{order:?}");
    // Every real incident above every drill.
    assert!(
        pos(REAL_P3) < pos(DRILL_P1) && pos(REAL_P3) < pos(DRILL_P2),
        "{order:?}"
    );
    // Drills among themselves still by urgency.
    assert!(pos(DRILL_P1) < pos(DRILL_P2), "{order:?}");
}

#[test]
fn by_severity_and_by_status_a_real_incident_leads_its_drill_twin() {
    let (_dir, mut app) = fixture();
    update(&mut app, Action::Command(Command::CycleSort), now());
    let order = titles(&app);
    assert_eq!(&order[..4], [REAL_P1, DRILL_P1, REAL_P2, DRILL_P2]);
    update(&mut app, Action::Command(Command::CycleSort), now());
    update(&mut app, Action::Command(Command::CycleSort), now());
    let order = titles(&app);
    assert_eq!(&order[..4], [REAL_P1, DRILL_P1, REAL_P2, DRILL_P2]);
}

#[test]
fn the_header_counts_drills_apart() {
    let (_dir, app) = fixture();
    let top = &screen(&app, 80, 24)[0];
    assert!(top.contains(" 3 open incidents (+2 drills) "), "{top}");
}

#[test]
fn titles_keep_at_least_30_characters_at_80_columns_and_wider() {
    let (_dir, app) = fixture();
    assert!(REAL_P1.chars().count() > 30);
    for (w, h) in [
        (80, 24),
        (90, 24),
        (100, 30),
        (110, 30),
        (120, 40),
        (200, 50),
    ] {
        let lines = screen(&app, w, h);
        let row = lines
            .iter()
            .find(|l| l.contains("Payment gateway"))
            .unwrap_or_else(|| panic!("{w}x{h}: no row\n{}", lines.join("\n")));
        let start = row.find("Payment gateway").unwrap();
        let shown: String = row[start..].trim_end().to_string();
        let want: String = REAL_P1.chars().take(30).collect();
        assert!(
            shown.starts_with(&want),
            "{w}x{h}: the title shows only {shown:?}"
        );
    }
    // The clock column stays at 80.
    let lines = screen(&app, 80, 24);
    assert!(lines[3].contains("MOST URGENT CLOCK"), "{}", lines[3]);
}

#[test]
fn the_board_draws_at_every_small_size_without_panic() {
    let (_dir, app) = fixture();
    for w in [1, 2, 10, 40, 69, 70, 75, 79, 80, 81] {
        for h in [1, 2, 5, 20, 24] {
            screen(&app, w, h);
        }
    }
}
