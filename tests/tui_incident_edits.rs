//! Snapshots of the incident view's edits beyond the one-line ones: the
//! assign dialog asking to add a typed name to the roster, the impact
//! dialog confirming personal data, and the customer-facing summary (its
//! dialog, and the incident view showing it apart from the internal one).

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

use warroom::domain::{Person, Playbook, Policy, Severity};
use warroom::store::{IncidentPatch, NewIncident, Store};
use warroom::tui::action::{Action, Command};
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::update;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).unwrap()
}

/// A P1 declared ten minutes ago, and a roster of two.
fn fixture() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let at = now() - Duration::minutes(10);
    for (handle, name) in [("alice", "Alice Chen"), ("bob", "Bob Okafor")] {
        let p = Person {
            handle: handle.into(),
            name: name.into(),
            contact: String::new(),
            roles: Vec::new(),
            on_call: false,
        };
        store.upsert_person(&p, "setup", at).unwrap();
    }
    let new = NewIncident::new("Customer database exfiltration", Severity::P1);
    store
        .create_incident(&new, &Playbook::builtin(), "alice", at)
        .unwrap();
    (dir, store)
}

/// The console as alice, the incident open.
fn incident_app(store: &Store) -> App {
    let mut app = App::new("alice", Policy::builtin(), true);
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    update(
        &mut app,
        Action::PeopleLoaded(store.people().unwrap()),
        now(),
    );
    cmd(&mut app, Command::Open);
    let id = app.stack.incident().unwrap().id.clone();
    let detail = store.detail(&id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(detail)), now());
    app
}

fn cmd(app: &mut App, c: Command) {
    update(app, Action::Command(c), now());
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        update(app, Action::Input(KeyEvent::from(KeyCode::Char(c))), now());
    }
}

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, now())).unwrap();
    t.backend().to_string()
}

#[test]
fn a_name_not_on_the_roster_is_asked_about_at_80x24_and_120x40() {
    let (_dir, store) = fixture();
    let mut app = incident_app(&store);
    cmd(&mut app, Command::Assign);
    typed(&mut app, "Zoë External");
    cmd(&mut app, Command::Submit);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = draw(&app, w, h);
        assert!(
            screen.contains("Not in the roster: add Zoë External?"),
            "{screen}"
        );
        insta::assert_snapshot!(format!("assign_add_to_roster_{w}x{h}"), screen);
    }
}

#[test]
fn the_impact_and_customer_summary_dialogs_at_80x24_and_120x40() {
    let (_dir, store) = fixture();
    let mut impact = incident_app(&store);
    cmd(&mut impact, Command::EditImpact);
    typed(&mut impact, "customer-db (eu-west-1)");
    for _ in 0..5 {
        cmd(&mut impact, Command::NextField);
    }
    cmd(&mut impact, Command::ChoiceNext);
    cmd(&mut impact, Command::Submit);
    let mut summary = incident_app(&store);
    cmd(&mut summary, Command::EditCustomerSummary);
    typed(&mut summary, "Some customer records may have been copied.");
    for (name, app, expect) in [
        ("impact_personal_data", &impact, "Enter to confirm"),
        ("customer_summary", &summary, "For customers"),
    ] {
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = draw(app, w, h);
            assert!(screen.contains(expect), "{name}: {screen}");
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
        }
    }
}

#[test]
fn the_customer_summary_is_shown_apart_at_80x24_and_120x40() {
    let (_dir, mut store) = fixture();
    let id = store.board(false).unwrap()[0].incident.id.clone();
    let patch = IncidentPatch {
        summary: Some("Egress of 40 GB from replica db-7 to AS64500.".into()),
        customer_summary: Some("Some customer records may have been copied.".into()),
        ..IncidentPatch::default()
    };
    store.update_incident(&id, &patch, "alice", now()).unwrap();
    let app = incident_app(&store);
    // At 80x24 the summary pane is scrolled to it.
    let mut scrolled = app.clone();
    cmd(&mut scrolled, Command::PrevPane);
    for _ in 0..8 {
        cmd(&mut scrolled, Command::Down);
    }
    for (w, h, app) in [(80, 24, &scrolled), (120, 40, &app)] {
        let screen = draw(app, w, h);
        assert!(screen.contains("For customers"), "{screen}");
        insta::assert_snapshot!(format!("incident_customer_summary_{w}x{h}"), screen);
    }
}
