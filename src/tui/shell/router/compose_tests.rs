//! `update()` tests of the composer: keys in, state and effects out.

use crate::comms::Audience;
use crate::comms::{CommsConfig, PLACEHOLDER, SinkConfig, Templates};
use crate::comms::{MessageFields, SinkKind};
use crate::domain::IncidentId;
use crate::domain::{Policy, Severity};
use crate::store::{NewIncident, Store};
use crate::tui::action::Action;
use crate::tui::command::Command;
use crate::tui::command::Context;
use crate::tui::effect::Effect;
use crate::tui::kit::editor::Editor;
use crate::tui::screens::compose::state::*;
use crate::tui::shell::app::App;
use crate::tui::shell::router::update;
use crate::tui::shell::stack::Screen;
use crate::tui::testkit::{cmd, now, typed};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn env() -> ComposeEnv {
    let config = CommsConfig::builtin(std::path::Path::new("/nonexistent"));
    let mut sinks = config.effective_sinks(std::path::Path::new("/srv/w.db"));
    sinks.push(SinkConfig {
        name: "clipboard".into(),
        kind: SinkKind::Osc52 { max_bytes: 75_000 },
        audiences: None,
        default: false,
    });
    ComposeEnv {
        config,
        templates: Templates::builtin().list(),
        templates_error: None,
        sinks,
    }
}

/// An app with one P2 incident ("Login API down") open, and its store.
fn with_incident() -> (App, Store, IncidentId, tempfile::TempDir) {
    let mut new = NewIncident::new("Login API down", Severity::P2);
    new.summary = "500s on /login".into();
    let mut app = App::new("alice", Policy::builtin(), true);
    app.comms = env();
    crate::tui::testkit::with_incident(&new, now(), app)
}

/// What the store worker would answer to `Effect::ComposeLoad`.
fn answer(store: &Store, fx: &[Effect]) -> Action {
    let Some(Effect::ComposeLoad {
        id,
        audience,
        template,
    }) = fx.iter().find(|e| matches!(e, Effect::ComposeLoad { .. }))
    else {
        panic!("no ComposeLoad in {fx:?}")
    };
    let rendered = template.as_ref().map(|t| {
        let d = store.detail(id, None).unwrap();
        let f = MessageFields::for_config(&d, &Policy::builtin(), &env().config, now());
        Templates::builtin()
            .render(t, &f)
            .map_err(|e| e.to_string())
    });
    Action::ComposeLoaded(Box::new(ComposeLoaded {
        id: id.clone(),
        audience: *audience,
        rendered,
        last: store.last_message(id, *audience).map_err(|e| e.to_string()),
        internal: crate::tui::screens::compose::io::internal(store, id, *audience),
    }))
}

/// Opens the composer and loads its template into the editor, as the
/// store worker would answer.
fn open_editor(app: &mut App, store: &Store) {
    cmd(app, Command::Compose);
    let fx = cmd(app, Command::Submit);
    update(app, answer(store, &fx), now());
}

/// Types into the editor and lets two ticks pass: the draft is sent
/// to the store (a SaveDraft effect).
fn type_until_the_draft_is_sent(app: &mut App) {
    typed(app, "x");
    update(app, Action::Tick, now());
    let fx = update(app, Action::Tick, now());
    assert!(fx.iter().any(|e| matches!(e, Effect::SaveDraft { .. })));
}

fn composer(app: &App) -> &Composer {
    app.stack.compose().expect("composer open")
}

#[test]
fn pick_render_edit_autosave_leave_and_continue_where_left() {
    let (mut app, store, id, _dir) = with_incident();
    assert!(cmd(&mut app, Command::Compose).is_empty());
    assert_eq!(app.focus(), Context::ComposePick);
    assert_eq!(composer(&app).audience, Audience::Customers);
    // Down to the internal update: the audience follows the template.
    cmd(&mut app, Command::Down);
    assert_eq!(composer(&app).audience, Audience::Internal);
    let fx = cmd(&mut app, Command::Submit);
    assert!(matches!(
        &fx[..],
        [Effect::ComposeLoad { audience: Audience::Internal, template: Some(t), .. }] if t == "internal"
    ));
    assert_eq!(composer(&app).stage, Stage::Loading);
    update(&mut app, answer(&store, &fx), now());
    let c = composer(&app);
    assert_eq!(c.stage, Stage::Edit);
    assert_eq!(app.focus(), Context::ComposeEdit);
    assert!(c.editor.text().contains(id.as_str()));
    assert_eq!(c.last, LastSent::Nothing);
    // The internal update has no placeholder (the summary is known):
    // the cursor starts at the top.
    assert_eq!(first_placeholder(c.editor.lines()), None);
    let (row, col) = c.editor.cursor();
    assert_eq!((row, col), (0, 0));
    assert!(!c.dirty);

    // Typing (letters that are commands elsewhere are text here).
    typed(&mut app, "q?c");
    assert!(composer(&app).dirty);
    assert!(app.has_unsaved_form());
    // One tick is not yet an autosave; the second is.
    assert!(
        !update(&mut app, Action::Tick, now())
            .iter()
            .any(|e| matches!(e, Effect::SaveDraft { .. }))
    );
    let fx = update(&mut app, Action::Tick, now());
    let body = fx
        .iter()
        .find_map(|e| match e {
            Effect::SaveDraft { key, body } if *key == draft_key(id.as_str(), "internal") => {
                Some(body.clone())
            }
            _ => None,
        })
        .expect("autosave");
    let saved = DraftBody::from_json(&body).unwrap();
    assert!(saved.text.contains("q?c"));
    assert_eq!(saved.cursor, (row, col + 3));
    assert_eq!(saved.template.as_deref(), Some("internal"));
    assert_eq!(saved.audience, "internal");
    assert_eq!(saved.saved_at, Some(now()));

    // Move the cursor, leave: saved on leaving, with a note.
    for k in [KeyCode::Down, KeyCode::Down, KeyCode::End] {
        update(&mut app, Action::Input(KeyEvent::from(k)), now());
    }
    let left_at = composer(&app).editor.cursor();
    assert!(left_at.0 == 2 && left_at.1 > 0, "{left_at:?}");
    let fx = cmd(&mut app, Command::Back);
    assert!(matches!(&fx[..], [Effect::SaveDraft { .. }]));
    assert!(app.stack.compose().is_none());
    assert_eq!(app.stack.screen(), Screen::Incident);
    assert!(
        app.message
            .as_ref()
            .unwrap()
            .text
            .contains("kept as a draft")
    );

    // Back in: the picker starts on the draft's audience; Enter
    // continues it, cursor included, and only loads the last message.
    cmd(&mut app, Command::Compose);
    assert_eq!(composer(&app).audience, Audience::Internal);
    let fx = cmd(&mut app, Command::Submit);
    assert!(matches!(
        &fx[..],
        [Effect::ComposeLoad { template: None, .. }]
    ));
    let c = composer(&app);
    assert_eq!(c.stage, Stage::Edit);
    assert!(c.editor.text().contains("q?c"));
    assert_eq!(c.editor.cursor(), left_at);
    assert!(
        c.notice
            .as_deref()
            .unwrap()
            .starts_with("continuing your draft")
    );

    // Undo/redo are commands; preview and diff by Tab; Esc steps back.
    cmd(&mut app, Command::NextView);
    assert_eq!(app.focus(), Context::ComposeView);
    typed(&mut app, "zz"); // not text in the preview
    assert!(!composer(&app).editor.text().contains("zz"));
    cmd(&mut app, Command::Back);
    assert_eq!(composer(&app).view, View::Edit);
    assert!(app.stack.compose().is_some());

    // d in the picker discards the draft.
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::Compose);
    let fx = cmd(&mut app, Command::DiscardDraft);
    assert!(
        matches!(&fx[..], [Effect::DeleteDraft { key }] if *key == draft_key(id.as_str(), "internal"))
    );
    assert!(!app.drafts.contains_key(&draft_key(id.as_str(), "internal")));
}

#[test]
fn a_template_that_fails_to_render_shows_its_error_in_the_picker() {
    let (mut app, store, id, _dir) = with_incident();
    cmd(&mut app, Command::Compose);
    cmd(&mut app, Command::Submit);
    let d = store.detail(&id, None).unwrap();
    let broken = crate::comms::templates::render_source(
        "/home/alice/.config/warroom/templates/customer.txt",
        "Hello {{ nope }",
        &MessageFields::for_config(&d, &Policy::builtin(), &env().config, now()),
    )
    .unwrap_err()
    .to_string();
    update(
        &mut app,
        Action::ComposeLoaded(Box::new(ComposeLoaded {
            id,
            audience: Audience::Customers,
            rendered: Some(Err(broken.clone())),
            last: Ok(None),
            internal: Ok(Vec::new()),
        })),
        now(),
    );
    let c = composer(&app);
    assert_eq!(c.stage, Stage::Pick);
    assert_eq!(c.error.as_deref(), Some(broken.as_str()));
    assert!(
        broken.starts_with("/home/alice/.config/warroom/templates/customer.txt:1:"),
        "{broken}"
    );
}

#[test]
fn send_asks_with_sinks_then_records_and_drops_the_draft() {
    let (mut app, mut store, id, _dir) = with_incident();
    open_editor(&mut app, &store);
    // The cursor waits on the first placeholder (the customer notice
    // has some: no actions recorded, no contact configured).
    let c = composer(&app);
    let (row, col) = c.editor.cursor();
    let rest: String = c.editor.lines()[row].chars().skip(col).collect();
    assert!(rest.starts_with(PLACEHOLDER), "{rest}");
    // Placeholders left: refused before asking.
    assert!(cmd(&mut app, Command::Send).is_empty());
    assert!(
        composer(&app)
            .error
            .as_deref()
            .unwrap()
            .contains("placeholder")
    );
    assert_eq!(composer(&app).stage, Stage::Edit);

    // Replace the text (select all is not needed: paste over a clean slate).
    let c = app.stack.compose_mut().unwrap();
    c.editor = Editor::new("", (0, 0));
    update(
        &mut app,
        Action::Paste("We are on it.\r\nMore soon \u{1b}[2J".into()),
        now(),
    );
    assert_eq!(
        composer(&app).editor.text(),
        "We are on it.\nMore soon ␛[2J"
    );
    assert!(cmd(&mut app, Command::Send).is_empty());
    let c = composer(&app);
    assert_eq!(c.stage, Stage::Confirm);
    // The default outbox is chosen; the clipboard is offered, not chosen.
    let chosen: Vec<(&str, bool)> = c
        .sinks
        .iter()
        .map(|s| (s.name.as_str(), s.chosen))
        .collect();
    assert_eq!(chosen, [("outbox", true), ("clipboard", false)]);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::ToggleItem);
    let fx = cmd(&mut app, Command::Submit);
    // Saved first, then sent.
    assert!(matches!(&fx[0], Effect::SaveDraft { .. }));
    let Effect::SendMessage { message, sinks } = &fx[1] else {
        panic!("{fx:?}")
    };
    assert_eq!(sinks, &["outbox".to_string(), "clipboard".to_string()]);
    assert_eq!(message.author, "alice");
    assert_eq!(message.audience, Audience::Customers);
    assert_eq!(message.template.as_deref(), Some("customer"));
    assert_eq!(composer(&app).stage, Stage::Sending);

    // The store records it; the clipboard sequence comes back for the
    // runtime to write; the draft goes; the composer closes.
    let mut sent = store.send_message(message, sinks, now()).unwrap();
    use crate::domain::comms::Handover;
    store
        .record_delivery_via(
            sent.id,
            "outbox",
            Ok("wrote x"),
            Handover::Outbox,
            "alice",
            now(),
        )
        .unwrap();
    store
        .record_delivery_via(
            sent.id,
            "clipboard",
            Ok("copied"),
            Handover::Clipboard,
            "alice",
            now(),
        )
        .unwrap();
    sent = store.message(sent.id).unwrap().unwrap();
    let seq = crate::comms::sinks::osc52_sequence(&sent.body);
    let fx = update(
        &mut app,
        Action::MessageSent {
            report: Box::new(SendReport {
                message: sent,
                clipboard: vec![seq.clone()],
            }),
            retry: false,
        },
        now(),
    );
    assert!(
        matches!(&fx[..], [Effect::Clipboard(s), Effect::DeleteDraft { key }]
        if *s == seq && *key == draft_key(id.as_str(), "customers"))
    );
    assert!(app.stack.compose().is_none());
    assert!(app.drafts.is_empty());
    // A clipboard copy and an outbox file reach nobody: said so, as a warning.
    let said = app.message.as_ref().unwrap();
    assert!(
        said.text
            .contains("written to outbox, not sent (clipboard, outbox): nobody has received it"),
        "{}",
        said.text
    );
    assert!(said.error);
}

#[test]
fn a_failed_delivery_stays_on_screen_ready_to_retry_and_a_refused_send_keeps_the_text() {
    let (mut app, mut store, id, _dir) = with_incident();
    open_editor(&mut app, &store);
    app.stack.compose_mut().unwrap().editor = Editor::new("Update: contained.", (0, 0));
    typed(&mut app, "!");
    cmd(&mut app, Command::Send);
    let fx = cmd(&mut app, Command::ConfirmYes);
    assert!(fx.iter().any(|e| matches!(e, Effect::SendMessage { .. })));
    // The store refuses (e.g. locked): back to the editor, text kept.
    update(
        &mut app,
        Action::SendFailed("database is locked".into()),
        now(),
    );
    let c = composer(&app);
    assert_eq!(c.stage, Stage::Edit);
    assert_eq!(c.editor.text(), "!Update: contained.");
    assert!(c.error.as_deref().unwrap().contains("database is locked"));
    assert!(
        app.drafts
            .contains_key(&draft_key(id.as_str(), "customers"))
    );

    cmd(&mut app, Command::Send);
    let fx = cmd(&mut app, Command::Submit);
    let Some(Effect::SendMessage { message, sinks }) =
        fx.iter().find(|e| matches!(e, Effect::SendMessage { .. }))
    else {
        panic!()
    };
    let sent = store.send_message(message, sinks, now()).unwrap();
    store
        .record_delivery(sent.id, "outbox", Err("disk full"), "alice", now())
        .unwrap();
    let sent = store.message(sent.id).unwrap().unwrap();
    update(
        &mut app,
        Action::MessageSent {
            report: Box::new(SendReport {
                message: sent.clone(),
                clipboard: vec![],
            }),
            retry: false,
        },
        now(),
    );
    let c = composer(&app);
    assert_eq!(c.stage, Stage::Sent);
    assert_eq!(app.focus(), Context::ComposeSent);
    assert!(app.message.as_ref().unwrap().error);
    // Nothing more to save: the draft is gone and stays gone.
    assert!(
        !app.drafts
            .contains_key(&draft_key(id.as_str(), "customers"))
    );
    assert!(
        update(&mut app, Action::Tick, now())
            .iter()
            .all(|e| !matches!(e, Effect::SaveDraft { .. }))
    );
    let fx = cmd(&mut app, Command::Retry);
    assert!(matches!(&fx[..], [Effect::RetryDeliveries { message_id }] if *message_id == sent.id));
    // Retried and delivered: closes.
    assert!(
        store
            .claim_delivery(sent.id, "outbox", now(), now())
            .unwrap()
    );
    store
        .record_delivery(sent.id, "outbox", Ok("wrote y"), "alice", now())
        .unwrap();
    let sent = store.message(sent.id).unwrap().unwrap();
    let fx = update(
        &mut app,
        Action::MessageSent {
            report: Box::new(SendReport {
                message: sent,
                clipboard: vec![],
            }),
            retry: true,
        },
        now(),
    );
    assert!(fx.is_empty(), "a retry deletes no draft: {fx:?}");
    assert!(app.stack.compose().is_none());
}

#[test]
fn draft_saved_is_said_only_once_the_store_has_it() {
    let (mut app, store, id, _dir) = with_incident();
    open_editor(&mut app, &store);
    type_until_the_draft_is_sent(&mut app);
    // On its way to the store: a SIGKILL now could still lose it.
    assert_eq!(composer(&app).saved_at, None);
    let key = draft_key(id.as_str(), "customers");
    update(&mut app, Action::DraftSaved("other".into(), now()), now());
    assert_eq!(composer(&app).saved_at, None);
    update(&mut app, Action::DraftSaved(key, now()), now());
    assert_eq!(composer(&app).saved_at, Some(now()));
}

#[test]
fn a_draft_the_store_could_not_save_is_saved_again() {
    let (mut app, store, id, _dir) = with_incident();
    open_editor(&mut app, &store);
    type_until_the_draft_is_sent(&mut app);
    assert!(!composer(&app).dirty);
    let key = draft_key(id.as_str(), "customers");
    update(
        &mut app,
        Action::StoreFailed("draft not saved: disk full".into()),
        now(),
    );
    update(&mut app, Action::DraftNotSaved(key.clone()), now());
    assert!(composer(&app).dirty);
    update(&mut app, Action::Tick, now());
    let fx = update(&mut app, Action::Tick, now());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveDraft { key: k, .. } if *k == key))
    );
    // The failure was said, and the text never left the editor.
    assert!(app.message.as_ref().unwrap().error);
    assert!(composer(&app).editor.text().contains('x'));
}

#[test]
fn quitting_mid_edit_saves_the_draft_and_the_keys_are_the_editors() {
    let (mut app, store, _id, _dir) = with_incident();
    open_editor(&mut app, &store);
    typed(&mut app, "x");
    // Ctrl-C asks; yes saves the draft and quits.
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let Some(Action::Command(c)) = crate::tui::action::resolve(app.focus(), ctrl_c) else {
        panic!()
    };
    assert!(cmd(&mut app, c).is_empty());
    assert!(app.confirm_quit);
    let fx = cmd(&mut app, Command::ConfirmYes);
    assert!(matches!(&fx[..], [Effect::SaveDraft { .. }, Effect::Quit]));
    // A signal saves too.
    let (mut app, store, _id, _dir) = with_incident();
    open_editor(&mut app, &store);
    typed(&mut app, "y");
    let fx = update(&mut app, Action::Terminate, now());
    assert!(matches!(&fx[..], [Effect::SaveDraft { .. }, Effect::Quit]));
}

#[test]
fn line_diff_marks_added_and_removed_lines() {
    let d = line_diff("a\nb\nc\n", "a\nB\nc\nd");
    let tags: Vec<(DiffTag, &str)> = d.iter().map(|l| (l.tag, l.text.as_str())).collect();
    assert_eq!(
        tags,
        [
            (DiffTag::Same, "a"),
            (DiffTag::Removed, "b"),
            (DiffTag::Added, "B"),
            (DiffTag::Same, "c"),
            (DiffTag::Added, "d"),
        ]
    );
    assert!(line_diff("", "x").iter().all(|l| l.tag == DiffTag::Added));
}

#[test]
fn draft_bodies_round_trip_and_damage_is_detected() {
    let d = DraftBody {
        text: "Hello\nworld".into(),
        cursor: (1, 3),
        template: Some("customer".into()),
        audience: "customers".into(),
        saved_at: None,
    };
    assert_eq!(DraftBody::from_json(&d.to_json()), Some(d));
    assert_eq!(DraftBody::from_json("{not json"), None);
    assert_eq!(
        draft_key("INC-2026-001", "customers"),
        "compose:INC-2026-001:customers"
    );
}

#[test]
fn ctrl_n_and_ctrl_p_go_round_the_placeholders_and_say_when_none_is_left() {
    let (mut app, store, _id, _dir) = with_incident();
    open_editor(&mut app, &store);
    let at = |app: &App| {
        let c = composer(app);
        let (row, col) = c.editor.cursor();
        let line: String = c.editor.lines()[row].chars().skip(col).collect();
        ((row, col), line.starts_with(PLACEHOLDER))
    };
    let (first, on_one) = at(&app);
    assert!(on_one, "the editor opens on the first placeholder");
    let mut seen = vec![first];
    loop {
        cmd(&mut app, Command::NextPlaceholder);
        let (pos, on_one) = at(&app);
        assert!(on_one);
        if composer(&app).notice.is_some() {
            assert_eq!(pos, first);
            break;
        }
        assert!(pos > *seen.last().unwrap());
        seen.push(pos);
    }
    assert!(seen.len() >= 2, "{seen:?}");
    let notice = composer(&app).notice.clone().unwrap_or_default();
    assert!(notice.contains("first"), "{notice}");
    cmd(&mut app, Command::PrevPlaceholder);
    assert_eq!(at(&app).0, *seen.last().unwrap());
    // From the preview, back in the editor on the placeholder.
    cmd(&mut app, Command::NextView);
    assert_eq!(composer(&app).view, View::Preview);
    cmd(&mut app, Command::NextPlaceholder);
    assert_eq!(composer(&app).view, View::Edit);
    assert!(at(&app).1);
    if let Some(c) = app.stack.compose_mut() {
        c.editor = Editor::new("all filled in", (0, 3));
    }
    cmd(&mut app, Command::NextPlaceholder);
    let c = composer(&app);
    assert_eq!(c.editor.cursor(), (0, 3));
    assert_eq!(
        c.notice.as_deref(),
        Some("no [FILL IN: ...] left to complete")
    );
}
