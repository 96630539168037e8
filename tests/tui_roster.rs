//! The roster screen (`P`): snapshots at 80x24 and 120x40 with a fixed
//! clock (someone without a contact marked, a name carrying a terminal
//! escape shown inert), a refused edit end to end through the screen's
//! store work on two connections to one database (the dialog comes back
//! with the typed values and who changed the entry), and the built binary
//! in a pseudo-terminal adding someone from the board.

mod common;

use std::cell::RefCell;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::Env;
use warroom::domain::Policy;
use warroom::domain::roles::{Person, Role};
use warroom::store::Store;
use warroom::tui::action::{Action, Command};
use warroom::tui::effect::Effect;
use warroom::tui::reply::Reply;
use warroom::tui::screens::roster::io::run;
use warroom::tui::shell::app::{App, Modal};
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::update;
use warroom::tui::shell::stack::Screen;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).unwrap()
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

/// A roster of three written by alice: one on call with two roles, one
/// without a contact, one whose name carries a terminal escape.
fn roster(store: &mut Store) {
    let mut ada = Person::new("ada", "Ada Lovelace", "ada@example.org");
    ada.roles = vec![Role::Commander, Role::Security];
    ada.on_call = true;
    let bob = Person::new("bob", "Bob Byrne", "");
    let mal = Person::new("mal", "Mal\u{1b}]52;c;eA==\u{7}lory", "+1 555 0199");
    for p in [ada, bob, mal] {
        store.upsert_person(&p, "alice", now()).unwrap();
    }
}

/// Runs the console's effects as its store worker would (the roster's
/// through the screen's io), feeding the answers back.
fn work(app: &mut App, store: &mut Store, fx: Vec<Effect>) {
    let answers = RefCell::new(Vec::new());
    let send = |a: Action| answers.borrow_mut().push(a);
    let r = Reply {
        actor: "carol",
        include_closed: false,
        now: now(),
        timeline: 50,
        send: &send,
        base: None,
    };
    for e in fx {
        if let Effect::Records(e) = e {
            assert!(run(store, *e, &r).is_none(), "not the roster's work");
        }
    }
    for a in answers.take() {
        let more = update(app, a, now());
        assert!(more.is_empty(), "{more:?}");
    }
}

fn console(store: &mut Store) -> App {
    let mut app = App::new("carol", Policy::builtin(), true);
    update(&mut app, Action::BoardLoaded(Vec::new()), now());
    let fx = update(&mut app, Action::Command(Command::OpenRoster), now());
    assert_eq!(app.stack.screen(), Screen::Roster);
    work(&mut app, store, fx);
    app
}

fn key(app: &mut App, c: Command) -> Vec<Effect> {
    update(app, Action::Command(c), now())
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        let k = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
        update(app, Action::Input(k), now());
    }
}

#[test]
fn roster_at_80x24_and_120x40() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    roster(&mut store);
    let mut app = console(&mut store);
    key(&mut app, Command::Down);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = draw(&app, w, h);
        assert!(!screen.contains('\u{1b}'), "{screen}");
        assert!(screen.contains("NONE: not reachable"), "{screen}");
        assert!(
            screen.contains("1 without a contact: escalations cannot reach them"),
            "{screen}"
        );
        insta::assert_snapshot!(format!("roster_{w}x{h}"), screen);
    }
    // Small terminals draw without a panic.
    for w in 0..=40 {
        for h in 0..=12 {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| draw(&app, w, h)));
            assert!(r.is_ok(), "roster panicked at {w}x{h}");
        }
    }
    // Esc goes back to the board.
    key(&mut app, Command::Back);
    assert_eq!(app.stack.screen(), Screen::Board);
}

#[test]
fn an_edit_over_a_change_made_meanwhile_comes_back_with_the_typed_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut mine = Store::open(&db).unwrap();
    let mut theirs = Store::open(&db).unwrap();
    roster(&mut mine);
    let mut app = console(&mut mine);
    // Edit ada: a second contact typed after hers.
    let fx = key(&mut app, Command::Edit);
    assert!(fx.is_empty());
    assert!(matches!(app.modal, Some(Modal::Fields(_))));
    key(&mut app, Command::NextField);
    typed(&mut app, " / +44 20 7946 0000");
    // Meanwhile dan, in another console, takes her off call.
    let mut dans = theirs.people().unwrap()[0].clone();
    dans.on_call = false;
    theirs
        .upsert_person(&dans, "dan", now() - chrono::Duration::minutes(1))
        .unwrap();
    let fx = key(&mut app, Command::Submit);
    assert!(app.modal.is_none());
    work(&mut app, &mut mine, fx);
    // Refused: dan's change stands, and the dialog is back as typed.
    assert!(!mine.people().unwrap()[0].on_call);
    let Some(Modal::Fields(d)) = &app.modal else {
        panic!("the dialog did not come back");
    };
    assert_eq!(d.text(1), "ada@example.org / +44 20 7946 0000");
    let note = d.note.join("\n");
    assert!(note.contains("changed by dan"), "{note}");
    assert!(
        note.contains("Now: Ada Lovelace, ada@example.org, commander,security, not on call"),
        "{note}"
    );
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("roster_conflict_{w}x{h}"), draw(&app, w, h));
    }
    // Enter now saves the typed values over dan's, knowingly.
    let fx = key(&mut app, Command::Submit);
    work(&mut app, &mut mine, fx);
    assert!(app.modal.is_none());
    let ada = mine.people().unwrap()[0].clone();
    assert_eq!(ada.contact, "ada@example.org / +44 20 7946 0000");
    assert!(ada.on_call, "the dialog's on call, as typed");
    // The console's roster (the role pickers' too) is the stored one.
    assert_eq!(app.people, mine.people().unwrap());
}

#[test]
fn a_typed_name_opens_the_roster_with_it_in_the_add_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    roster(&mut store);
    let mut app = App::new("carol", Policy::builtin(), true);
    let mut fx = Vec::new();
    let target = warroom::tui::screens::nav::Target::RosterAdd("Grace Hopper".into());
    warroom::tui::shell::screens::open(&mut app, target, now(), &mut fx);
    assert_eq!(app.stack.screen(), Screen::Roster);
    work(&mut app, &mut store, fx);
    let Some(Modal::Fields(d)) = &app.modal else {
        panic!("no add dialog");
    };
    assert_eq!((d.text(0), d.text(1)), ("grace.hopper", "Grace Hopper"));
    // The contact is typed; on call and roles left as they are.
    typed(&mut app, "grace@example.org");
    let fx = key(&mut app, Command::Submit);
    work(&mut app, &mut store, fx);
    assert!(app.modal.is_none());
    let grace = store
        .people()
        .unwrap()
        .into_iter()
        .find(|p| p.handle == "grace.hopper")
        .unwrap();
    assert_eq!(grace.contact, "grace@example.org");
    assert!(grace.roles.is_empty() && !grace.on_call);
    // The cursor is on them.
    assert!(draw(&app, 80, 24).contains("▶ grace.hopper"));
}

#[test]
fn the_roster_opens_from_the_board_and_adds_someone_with_a_contact() {
    let sb = Env::new();
    sb.ok(&["roster", "add", "ada", "--name", "Ada Lovelace"]);
    let mut c = sb.console(100, 30, &[]);
    c.wait_text("No incidents yet");
    c.type_text("P");
    c.wait_text("without a contact");
    c.type_text("a");
    c.wait_text("Add to the roster");
    c.type_text("grace");
    c.key_tab();
    c.type_text("Grace Hopper");
    c.key_tab();
    c.type_text("grace@example.org");
    c.key_tab();
    c.type_text("commander,ops");
    c.key_tab();
    c.send(b"\x1b[C"); // Right: on call yes
    c.key_enter();
    c.wait_text("grace saved");
    let screen = c.wait_text("grace@example.org");
    assert!(screen.contains("ON CALL"), "{screen}");
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
    let list = sb.json(&["roster", "list"]);
    let grace = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["handle"] == "grace")
        .unwrap_or_else(|| panic!("grace not stored: {list}"));
    assert_eq!(grace["name"], "Grace Hopper");
    assert_eq!(grace["contact"], "grace@example.org");
    assert_eq!(grace["roles"], serde_json::json!(["commander", "ops"]));
    assert_eq!(grace["on_call"], true);
}

#[test]
fn p_opens_the_roster_from_the_board_and_the_incident_view_and_esc_goes_back() {
    use crossterm::event::{KeyCode, KeyEvent};
    use warroom::domain::{Playbook, Severity};
    use warroom::store::NewIncident;
    use warroom::tui::action::{Context, resolve};
    let p = KeyEvent::from(KeyCode::Char('P'));
    for ctx in [
        Context::Board,
        Context::Incident,
        Context::Checklist,
        Context::Roles,
        Context::Timeline,
    ] {
        assert!(
            matches!(resolve(ctx, p), Some(Action::Command(Command::OpenRoster))),
            "P in {ctx:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let i = store
        .create_incident(
            &NewIncident::new("Phishing wave", Severity::P2),
            &Playbook::builtin(),
            "alice",
            now(),
        )
        .unwrap();
    let mut app = App::new("carol", Policy::builtin(), true);
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    key(&mut app, Command::Open);
    let detail = store.detail(&i.id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(detail)), now());
    assert_eq!(app.stack.screen(), Screen::Incident);
    let fx = key(&mut app, Command::OpenRoster);
    assert_eq!(app.stack.screen(), Screen::Roster);
    work(&mut app, &mut store, fx);
    key(&mut app, Command::Back);
    assert_eq!(app.stack.screen(), Screen::Incident);
}
