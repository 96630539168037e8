//! No lost edit between two consoles: two consoles in pseudo-terminals on
//! one database both edit an incident's title; the second to save meets
//! the first's change in the conflict dialog, named with who made it, and
//! keeps either. A role handover over a holder changed meanwhile asks
//! first. And the dialog itself, drawn at 80x24 and 120x40.

mod common;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::Env;
use common::pty::Console;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use warroom::domain::roles::Role;
use warroom::domain::version::{Conflict, Theirs, Version};
use warroom::domain::{Playbook, Policy, Severity};
use warroom::store::{IncidentPatch, NewIncident, Store};
use warroom::tui::action::{Action, Command};
use warroom::tui::effect::Effect;
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::update;

const TITLE: &str = "Replica lag on the orders database";
const CTRL_U: &[u8] = b"\x15";

/// Both consoles on the incident, both in its title dialog (alice first).
fn two_consoles_editing_the_title(env: &Env) -> (Console, Console) {
    let mut alice = env.console_as("alice", 120, 40, &[]);
    alice.wait_then_open(TITLE);
    let mut bob = env.console_as("bob", 120, 40, &[]);
    bob.wait_then_open(TITLE);
    for c in [&mut alice, &mut bob] {
        c.send(b"t");
        c.wait_text("Edit title of");
        c.send(CTRL_U);
    }
    alice.type_text("Replica lag (alice)");
    alice.key_enter();
    alice.wait_text("updated");
    // Bob's view reloads under his dialog while he types; his edit is
    // still based on what he saw when he began.
    bob.type_text("Replica lag (bob)");
    bob.key_enter();
    bob.wait_text("title was changed by alice");
    (alice, bob)
}

/// Title changes in the incident's timeline, oldest first: (actor, to).
fn title_changes(env: &Env, id: &str) -> Vec<(String, String)> {
    let shown = env.show_json(id);
    let mut changes: Vec<(i64, String, String)> = shown["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "incident.updated")
        .filter_map(|e| {
            let to = e["data"]["changes"]["title"]["to"].as_str()?;
            Some((
                e["seq"].as_i64()?,
                e["actor"].as_str()?.to_string(),
                to.to_string(),
            ))
        })
        .collect();
    changes.sort();
    changes.into_iter().map(|(_, who, to)| (who, to)).collect()
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_second_save_meets_the_first_and_keep_mine_writes_mine_after_it() {
    let env = Env::new();
    let id = env.new_incident(TITLE, "P2");
    let (_alice, mut bob) = two_consoles_editing_the_title(&env);
    let screen = bob.screen();
    assert!(screen.contains("Replica lag (alice)"), "{screen}");
    assert!(screen.contains("Replica lag (bob)"), "{screen}");
    // Nothing of bob's was written yet.
    assert_eq!(env.show_json(&id)["title"], "Replica lag (alice)");
    bob.send(b"k");
    wait_until("bob's title", || {
        env.show_json(&id)["title"] == "Replica lag (bob)"
    });
    assert_eq!(
        title_changes(&env, &id),
        vec![
            ("alice".to_string(), "Replica lag (alice)".to_string()),
            ("bob".to_string(), "Replica lag (bob)".to_string()),
        ]
    );
}

#[test]
fn take_theirs_leaves_the_first_edit_and_writes_nothing() {
    let env = Env::new();
    let id = env.new_incident(TITLE, "P2");
    let (_alice, mut bob) = two_consoles_editing_the_title(&env);
    bob.send(b"t");
    bob.wait_text("title left as alice set it");
    assert_eq!(env.show_json(&id)["title"], "Replica lag (alice)");
    assert_eq!(
        title_changes(&env, &id),
        vec![("alice".to_string(), "Replica lag (alice)".to_string())]
    );
}

#[test]
fn merge_by_hand_writes_the_merged_title_after_theirs() {
    let env = Env::new();
    let id = env.new_incident(TITLE, "P2");
    let (_alice, mut bob) = two_consoles_editing_the_title(&env);
    bob.send(b"m");
    bob.wait_text("Merged");
    bob.type_text(" and alice");
    bob.key_enter();
    wait_until("the merged title", || {
        env.show_json(&id)["title"] == "Replica lag (bob) and alice"
    });
    assert_eq!(
        title_changes(&env, &id),
        vec![
            ("alice".to_string(), "Replica lag (alice)".to_string()),
            ("bob".to_string(), "Replica lag (bob) and alice".to_string()),
        ]
    );
}

#[test]
fn a_handover_over_a_holder_changed_meanwhile_asks_first() {
    let env = Env::new();
    let id = env.new_incident(TITLE, "P2");
    env.ok(&[
        "--as",
        "carol",
        "incident",
        "assign",
        &id,
        "commander",
        "carol",
    ]);
    let mut erin = env.console_as("erin", 120, 40, &[]);
    erin.wait_then_open(TITLE);
    erin.send(b"a");
    erin.wait_text("Now held by: carol");
    // Meanwhile carol hands it to bob from the command line.
    env.ok(&[
        "--as",
        "carol",
        "incident",
        "assign",
        &id,
        "commander",
        "bob",
    ]);
    erin.type_text("dave");
    erin.key_enter();
    // dave is not on the roster: assigned as typed, without adding.
    erin.wait_text("Not in the roster: add dave?");
    erin.send(b"n");
    erin.wait_text("commander was handed to bob by carol");
    erin.wait_text("hand it to dave anyway?");
    assert_eq!(env.show_json(&id)["roles"]["commander"]["person"], "bob");
    erin.send(b"k");
    wait_until("dave holds commander", || {
        env.show_json(&id)["roles"]["commander"]["person"] == "dave"
    });
}

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 12, 3, 10, 45, 0).unwrap();
    term.draw(|f| render(app, f, at)).unwrap();
    let buf = term.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An app with the incident open and `mine` refused over `theirs`.
fn refused(
    field: &str,
    what: &str,
    theirs: &str,
    mine: &str,
    effect: Effect,
) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 12, 3, 10, 30, 0).unwrap();
    let i = store
        .create_incident(
            &NewIncident::new(TITLE, Severity::P2),
            &Playbook::builtin(),
            "alice",
            at,
        )
        .unwrap();
    let mut app = App::new("bob", Policy::builtin(), true);
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        at,
    );
    update(&mut app, Action::Command(Command::Open), at);
    let d = store.detail(&i.id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(d)), at);
    let conflict = Conflict {
        incident: i.id.to_string(),
        field: field.into(),
        what: what.into(),
        base: Version(55),
        theirs: Theirs {
            seq: 57,
            actor: "alice".into(),
            at: Utc.with_ymd_and_hms(2026, 12, 3, 10, 42, 7).unwrap(),
            old: None,
            new: Some(theirs.into()),
        },
        mine: Some(mine.into()),
    };
    let _ = i;
    update(
        &mut app,
        Action::Conflict(Box::new(conflict), Box::new(effect)),
        at,
    );
    (app, dir)
}

#[test]
fn the_conflict_dialog_at_80x24_and_120x40() {
    let id: warroom::domain::IncidentId = "INC-2026-001".parse().unwrap();
    let title = Effect::Update(
        id.clone(),
        Box::new(IncidentPatch {
            title: Some("Replica lag (bob)".into()),
            ..IncidentPatch::default()
        }),
    );
    let (app, _dir) = refused(
        "title",
        "title",
        "Replica lag (alice)",
        "Replica lag (bob)",
        title,
    );
    let handover = Effect::Assign {
        id,
        role: Role::Commander,
        person: "dave".into(),
    };
    let (role, _dir2) = refused("role:commander", "role commander", "bob", "dave", handover);
    let (mut merging, _dir3) = refused(
        "title",
        "title",
        "Replica lag (alice)",
        "Replica lag (bob)",
        Effect::Update(
            "INC-2026-001".parse().unwrap(),
            Box::new(IncidentPatch {
                title: Some("Replica lag (bob)".into()),
                ..IncidentPatch::default()
            }),
        ),
    );
    let at = Utc.with_ymd_and_hms(2026, 12, 3, 10, 45, 0).unwrap();
    update(&mut merging, Action::Command(Command::MergeByHand), at);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("conflict_title_{w}x{h}"), draw(&app, w, h));
        insta::assert_snapshot!(format!("conflict_handover_{w}x{h}"), draw(&role, w, h));
    }
    insta::assert_snapshot!("conflict_merge_80x24", draw(&merging, 80, 24));
    // A summary is merged in the editor of several lines.
    let (mut summary, _dir4) = refused(
        "summary",
        "summary",
        "Lag since 10:05.",
        "Lag since 10:05.\nFailover to replica-2 started.",
        Effect::Update(
            "INC-2026-001".parse().unwrap(),
            Box::new(IncidentPatch {
                summary: Some("Lag since 10:05.\nFailover to replica-2 started.".into()),
                ..IncidentPatch::default()
            }),
        ),
    );
    update(&mut summary, Action::Command(Command::MergeByHand), at);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("conflict_merge_lines_{w}x{h}"),
            draw(&summary, w, h)
        );
    }
}
