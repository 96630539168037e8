//! The composer's own state: the warning that a customer message quotes
//! internal-only text, and the send question saying plainly when nobody
//! would receive the message.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::handle::{self, Cx};
use super::state::*;
use crate::comms::{Audience, CommsConfig, SinkConfig, SinkKind, Templates};
use crate::domain::{Policy, Severity};
use crate::store::test_fixtures::{t0, with_incident};
use crate::store::{IncidentDetail, IncidentPatch, Store};
use crate::tui::command::Command;
use crate::tui::screens::ctx::{Ctx, Screen};

const SUMMARY: &str = "Session store primary in eu-west-1 lost its disk; logins fail.";
/// A customer message that repeats the internal summary on its line 3.
const QUOTING: &str = "Dear customer,\n\nSession store primary in eu-west-1 lost its disk; logins fail.\nWe are working on it.";
const CLEAN: &str = "Dear customer,\n\nSome of you cannot log in. We are working on it.";

/// The outbox (a default sink) and the clipboard: nothing that sends.
fn env(command: bool) -> ComposeEnv {
    let config = CommsConfig::builtin(std::path::Path::new("/etc/warroom"));
    let mut sinks = config.effective_sinks(std::path::Path::new("/srv/warroom/warroom.db"));
    sinks.push(SinkConfig {
        name: "clipboard".into(),
        kind: SinkKind::Osc52 { max_bytes: 75_000 },
        audiences: None,
        default: false,
    });
    if command {
        sinks.push(SinkConfig {
            name: "mail".into(),
            kind: SinkKind::Command {
                argv: vec!["sendmail".into(), "-t".into()],
                timeout: std::time::Duration::from_secs(30),
            },
            audiences: None,
            default: true,
        });
    }
    ComposeEnv {
        config,
        templates: Templates::builtin().list(),
        templates_error: None,
        sinks,
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    detail: IncidentDetail,
    policy: Policy,
    drafts: HashMap<String, String>,
}

fn fixture() -> Fixture {
    let (dir, mut store, i) = with_incident("Login API down", Severity::P2);
    let patch = IncidentPatch {
        summary: Some(SUMMARY.into()),
        ..IncidentPatch::default()
    };
    store.update_incident(&i.id, &patch, "alice", t0()).unwrap();
    let detail = store.detail(&i.id, None).unwrap();
    Fixture {
        _dir: dir,
        store,
        detail,
        policy: Policy::builtin(),
        drafts: HashMap::new(),
    }
}

fn ctx<'a>(f: &'a Fixture, env: &'a ComposeEnv) -> Cx<'a> {
    Ctx {
        now: t0(),
        actor: "alice",
        policy: &f.policy,
        no_color: true,
        rows: &[],
        people: &[],
        drafts: &f.drafts,
        detail: Some(&f.detail),
        present: &[],
        console: "",
        feed: env,
    }
}

/// The composer to `audience` with `body` loaded as the store worker
/// would answer (the internal texts read by `io::internal`).
fn editing(f: &Fixture, env: &ComposeEnv, audience: Audience, body: &str) -> Composer {
    let cx = ctx(f, env);
    let (Some(mut c), _) = handle::open(&cx) else {
        panic!("the composer did not open")
    };
    c.audience = audience;
    c.handle(Command::Submit, &cx);
    assert_eq!(c.stage, Stage::Loading);
    let id = f.detail.incident.id.clone();
    handle::loaded(
        &mut c,
        ComposeLoaded {
            internal: super::io::internal(&f.store, &id, audience),
            id,
            audience,
            rendered: Some(Ok(body.into())),
            last: Ok(None),
        },
    );
    assert_eq!(c.stage, Stage::Edit);
    *c
}

#[test]
fn a_customer_message_quoting_the_internal_summary_is_warned_about() {
    let (f, env) = (fixture(), env(false));
    let c = editing(&f, &env, Audience::Customers, QUOTING);
    let w = c.leak.as_deref().expect("a warning");
    assert!(w.contains("internal-only text (1 passage)"), "{w}");
    assert!(w.contains("line 3"), "{w}");
    assert!(w.contains("internal summary"), "{w}");

    let c = editing(&f, &env, Audience::Customers, CLEAN);
    assert_eq!(c.leak, None);
}

#[test]
fn an_internal_message_may_quote_internal_text() {
    let (f, env) = (fixture(), env(false));
    let mut c = editing(&f, &env, Audience::Internal, QUOTING);
    assert_eq!(c.leak, None);
    // Even with the texts at hand, only a customer message is checked.
    c.internal = Ok(crate::comms::leak::internal_texts(&f.detail, &[]));
    c.check_leak();
    assert_eq!(c.leak, None);
}

#[test]
fn the_warning_follows_the_body_on_the_tick_not_on_each_key() {
    let (f, env) = (fixture(), env(false));
    let mut c = editing(&f, &env, Audience::Customers, "");
    assert_eq!(c.leak, None);
    handle::paste(&mut c, SUMMARY);
    assert_eq!(c.leak, None, "not yet: checked on the tick");
    assert!(c.leak_stale);
    handle::tick(&mut c, t0());
    assert!(c.leak.is_some());
    assert!(!c.leak_stale);

    // A key marks the body stale; the warning stays until the tick.
    c.editor = crate::tui::kit::editor::Editor::new(
        "Session store primary, we think, lost a disk in eu-west-1.",
        (0, 0),
    );
    handle::input(&mut c, KeyEvent::from(KeyCode::Char('x')));
    assert!(c.leak.is_some());
    assert!(c.leak_stale);
    handle::tick(&mut c, t0());
    assert_eq!(c.leak, None);
}

#[test]
fn internal_texts_that_cannot_be_read_are_said_not_hidden() {
    let (f, env) = (fixture(), env(false));
    let mut c = editing(&f, &env, Audience::Customers, CLEAN);
    c.internal = Err("database is locked".into());
    c.check_leak();
    let w = c.leak.as_deref().unwrap();
    assert!(w.contains("could not be checked"), "{w}");
    assert!(w.contains("database is locked"), "{w}");
}

fn drawn(f: &Fixture, env: &ComposeEnv, c: &Composer, w: u16, h: u16) -> String {
    let cx = ctx(f, env);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|fr| c.view(&cx, fr, fr.area())).unwrap();
    t.backend().to_string()
}

#[test]
fn the_send_question_says_when_only_an_outbox_would_get_it() {
    let (f, env) = (fixture(), env(false));
    let mut c = editing(&f, &env, Audience::Customers, CLEAN);
    c.handle(Command::Send, &ctx(&f, &env));
    assert_eq!(c.stage, Stage::Confirm);
    let w = c.reach_warning(&env).expect("a reach warning");
    assert!(w.starts_with("NOT SENT to customers"), "{w}");
    assert!(w.contains("written to the outbox (outbox)"), "{w}");
    let screen = drawn(&f, &env, &c, 120, 40);
    assert!(screen.contains("⚠ NOT SENT to customers"), "{screen}");

    // Nothing chosen: only recorded.
    c.sinks.iter_mut().for_each(|s| s.chosen = false);
    let w = c.reach_warning(&env).unwrap();
    assert!(
        w.contains("no sink is chosen, so it is only recorded"),
        "{w}"
    );
}

#[test]
fn a_command_sink_reaches_someone_and_the_question_has_no_warning() {
    let (f, env) = (fixture(), env(true));
    let mut c = editing(&f, &env, Audience::Internal, CLEAN);
    c.handle(Command::Send, &ctx(&f, &env));
    assert!(c.sinks.iter().any(|s| s.name == "mail" && s.chosen));
    assert_eq!(c.reach_warning(&env), None);
    let screen = drawn(&f, &env, &c, 120, 40);
    assert!(!screen.contains("NOT SENT"), "{screen}");
    // Unchoosing the command leaves the outbox alone: said again.
    for s in c.sinks.iter_mut().filter(|s| s.name == "mail") {
        s.chosen = false;
    }
    assert!(c.reach_warning(&env).is_some());

    // To customers with none named in comms.toml: the command gets the
    // text without a To address, and the question says so.
    let mut c = editing(&f, &env, Audience::Customers, CLEAN);
    c.handle(Command::Send, &ctx(&f, &env));
    let w = c.reach_warning(&env).unwrap();
    assert!(
        w.starts_with("No recipients are configured for customers"),
        "{w}"
    );
}

#[test]
fn composer_warning_snapshots_at_80x24_and_120x40() {
    let (f, env) = (fixture(), env(false));
    let mut c = editing(&f, &env, Audience::Customers, QUOTING);
    insta::assert_snapshot!("compose_leak_80x24", drawn(&f, &env, &c, 80, 24));
    insta::assert_snapshot!("compose_leak_120x40", drawn(&f, &env, &c, 120, 40));
    c.handle(Command::Send, &ctx(&f, &env));
    insta::assert_snapshot!("compose_leak_confirm_80x24", drawn(&f, &env, &c, 80, 24));
    insta::assert_snapshot!("compose_leak_confirm_120x40", drawn(&f, &env, &c, 120, 40));
}
