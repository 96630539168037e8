//! `update()` tests of the board, the incident view and its dialogs:
//! keys in, state and effects out.

use super::*;
use crate::domain::roles::Role;
use crate::domain::{Severity, Source};
use crate::store::NewIncident;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::declare::state::{FormField, NEW_INCIDENT_DRAFT, NewIncidentForm};
use crate::tui::screens::incident::state::IncidentDialog;
use crate::tui::shell::stack::Screen;

/// An app with one incident ("DB down", P2) open in the incident view.
fn with_incident_open() -> (App, tempfile::TempDir) {
    let new = NewIncident::new("DB down", Severity::P2);
    let app = App::new("alice", Policy::builtin(), true);
    let (app, _store, _id, dir) = crate::tui::testkit::with_incident(&new, now(), app);
    (app, dir)
}
use crate::domain::{Playbook, Policy};
use crate::store::Store;
use crate::tui::testkit::{cmd, dialog, form as open_form, now, typed, unbased};

#[test]
fn create_validates_inline_then_emits_create_and_drops_the_draft() {
    let mut app = App::new("alice", Policy::builtin(), true);
    update(&mut app, Action::BoardLoaded(Vec::new()), now());
    cmd(&mut app, Command::NewIncident);
    // Empty submit: errors on title and severity, nothing written.
    let fx = cmd(&mut app, Command::Submit);
    assert!(fx.is_empty());
    let Some(form) = open_form(&app) else {
        panic!("form closed")
    };
    assert!(form.error(FormField::Title).is_some());
    assert!(form.error(FormField::Severity).is_some());

    typed(&mut app, "Ransomware on ci-runner-07");
    // A tick autosaves the form as a draft.
    let fx = update(&mut app, Action::Tick, now());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveDraft { key, .. } if key == NEW_INCIDENT_DRAFT))
    );
    cmd(&mut app, Command::NextField);
    typed(&mut app, "1");
    cmd(&mut app, Command::NextField);
    typed(&mut app, "EDR flagged mass renames");
    cmd(&mut app, Command::NextField);
    typed(&mut app, "s"); // source: siem
    let fx = cmd(&mut app, Command::Submit);
    let created = fx.iter().find_map(|e| match e {
        Effect::Create(n) => Some(n),
        _ => None,
    });
    let new = created.expect("create effect");
    assert_eq!(new.title, "Ransomware on ci-runner-07");
    assert_eq!(new.severity, Severity::P1);
    assert_eq!(new.summary, "EDR flagged mass renames");
    assert_eq!(new.source, Source::Siem);
    assert!(app.modal.is_none() && open_form(&app).is_none());
    assert!(app.pending_form.is_some());

    // The store's answer opens the new incident.
    let mut incident = crate::store::NewIncident::new("x", Severity::P1);
    incident.drill = false;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let i = store
        .create_incident(&incident, &Playbook::builtin(), "alice", now())
        .unwrap();
    let fx = update(&mut app, Action::Created(Box::new(i.clone())), now());
    assert_eq!(app.stack.screen(), Screen::Incident);
    // Declared: the draft goes, and the new incident loads.
    assert!(matches!(&fx[..], [Effect::DeleteDraft { .. }, Effect::LoadDetail(id)] if *id == i.id));
}

#[test]
fn a_failed_declaration_brings_the_form_back() {
    let mut app = App::new("alice", Policy::builtin(), true);
    cmd(&mut app, Command::NewIncident);
    typed(&mut app, "Disk full on db-3");
    cmd(&mut app, Command::NextField);
    typed(&mut app, "2");
    let fx = cmd(&mut app, Command::Submit);
    assert!(fx.iter().any(|e| matches!(e, Effect::Create(_))));
    assert!(app.modal.is_none() && open_form(&app).is_none());
    update(
        &mut app,
        Action::StoreFailed("database is locked".into()),
        now(),
    );
    match open_form(&app) {
        Some(f) => assert_eq!(f.title.text(), "Disk full on db-3"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn space_ticks_the_selected_checklist_item() {
    let (mut app, _dir) = with_incident_open();
    assert_eq!(app.focus(), crate::tui::shell::keymap::Context::Checklist);
    cmd(&mut app, Command::Down);
    let fx = unbased(cmd(&mut app, Command::ToggleItem));
    let item = app.checklist_item(1).unwrap().clone();
    assert_eq!(item.state, ItemState::Done);
    assert_eq!(item.by.as_deref(), Some("alice"));
    assert!(matches!(
        &fx[..],
        [Effect::SetItem { item: id, state: ItemState::Done, reason: None, .. }] if *id == item.id
    ));
    // Again: open.
    let fx = unbased(cmd(&mut app, Command::ToggleItem));
    assert!(matches!(
        &fx[..],
        [Effect::SetItem {
            state: ItemState::Open,
            ..
        }]
    ));

    // Not applicable needs a reason.
    cmd(&mut app, Command::MarkNotApplicable);
    assert!(cmd(&mut app, Command::Submit).is_empty());
    typed(&mut app, "no SIEM here");
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::SetItem { state: ItemState::NotApplicable, reason: Some(r), .. } if r == "no SIEM here"
    )));
}

#[test]
fn assign_from_the_roster_or_by_typed_name() {
    let (mut app, _dir) = with_incident_open();
    app.people = vec![crate::domain::Person {
        handle: "bob".into(),
        name: "Bob Okafor".into(),
        contact: String::new(),
        roles: Vec::new(),
        on_call: false,
    }];
    cmd(&mut app, Command::Assign);
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(matches!(
        &fx[..],
        [Effect::Assign { role: Role::Commander, person, .. }] if person == "bob"
    ));
    assert_eq!(
        app.detail()
            .unwrap()
            .holder(Role::Commander)
            .unwrap()
            .person,
        "bob"
    );

    // Roles pane, third role (ops), typed name not on the roster.
    cmd(&mut app, Command::NextPane);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Assign);
    typed(&mut app, "Zoë External");
    // Not on the roster: asked first; n assigns the name as typed.
    assert!(cmd(&mut app, Command::Submit).is_empty());
    assert_eq!(app.focus(), crate::tui::command::Context::AssignAsk);
    let fx = unbased(cmd(&mut app, Command::ConfirmNo));
    assert!(matches!(
        &fx[..],
        [Effect::Assign { role: Role::Ops, person, .. }] if person == "Zoë External"
    ));
    // Handing off to the same holder is refused inline.
    cmd(&mut app, Command::PrevPane);
    cmd(&mut app, Command::Assign);
    assert!(cmd(&mut app, Command::Submit).is_empty());
    assert!(matches!(dialog(&app), Some(IncidentDialog::Assign(a)) if a.error.is_some()));
}

#[test]
fn severity_change_patches_only_severity_and_updates_the_board_row() {
    let (mut app, _dir) = with_incident_open();
    cmd(&mut app, Command::SetSeverity);
    // P2 is preselected; one up is P1.
    cmd(&mut app, Command::Up);
    let fx = unbased(cmd(&mut app, Command::Submit));
    match &fx[..] {
        [Effect::Update(_, patch)] => {
            assert_eq!(patch.severity, Some(Severity::P1));
            assert!(patch.status.is_none() && patch.title.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.detail().unwrap().incident.severity, Severity::P1);
    assert_eq!(app.rows[0].incident.severity, Severity::P1);
    // Choosing the current severity writes nothing.
    cmd(&mut app, Command::SetSeverity);
    assert!(cmd(&mut app, Command::Submit).is_empty());
}

#[test]
fn quit_asks_when_a_form_is_unsaved_and_keeps_it_as_a_draft() {
    let mut app = App::new("alice", Policy::builtin(), true);
    assert!(matches!(&cmd(&mut app, Command::Quit)[..], [Effect::Quit]));
    let mut app = App::new("alice", Policy::builtin(), true);
    cmd(&mut app, Command::NewIncident);
    typed(&mut app, "half typed");
    assert!(cmd(&mut app, Command::Quit).is_empty());
    assert!(app.confirm_quit);
    let fx = cmd(&mut app, Command::ConfirmYes);
    assert!(matches!(&fx[..], [Effect::SaveDraft { .. }, Effect::Quit]));
    assert!(app.quit);
}

#[test]
fn a_saved_draft_reopens_the_form_at_start() {
    let mut app = App::new("alice", Policy::builtin(), true);
    let form = NewIncidentForm {
        title: LineInput::new("from last time"),
        severity: Some(Severity::P3),
        ..NewIncidentForm::default()
    };
    let draft = crate::store::Draft {
        owner: "alice".into(),
        key: NEW_INCIDENT_DRAFT.into(),
        body: form.to_draft(),
        updated_at: now(),
    };
    update(&mut app, Action::DraftsLoaded(vec![draft]), now());
    match open_form(&app) {
        Some(f) => {
            assert_eq!(f.title.text(), "from last time");
            assert_eq!(f.severity, Some(Severity::P3));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn board_sorts_by_urgency_and_filters_by_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let pb = Playbook::builtin();
    // P4 declared long ago (its 24h response is breached), a fresh P1
    // (15 min left) and a fresh P3 (4 h left).
    let old = now() - chrono::Duration::hours(30);
    store
        .create_incident(&NewIncident::new("old low", Severity::P4), &pb, "a", old)
        .unwrap();
    store
        .create_incident(
            &NewIncident::new("fresh critical", Severity::P1),
            &pb,
            "a",
            now(),
        )
        .unwrap();
    store
        .create_incident(
            &NewIncident::new("fresh medium", Severity::P3),
            &pb,
            "a",
            now(),
        )
        .unwrap();
    let mut app = App::new("alice", Policy::builtin(), true);
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    let titles: Vec<&str> = app
        .board
        .order
        .iter()
        .map(|i| app.rows[*i].incident.title.as_str())
        .collect();
    // The P4's response is 6 h overdue; the P1's customer notice was
    // due at once (overdue by 0 s); the P3 has hours left.
    assert_eq!(titles, ["old low", "fresh critical", "fresh medium"]);
    cmd(&mut app, Command::Filter);
    typed(&mut app, "MEDIUM");
    assert_eq!(app.board.order.len(), 1);
    cmd(&mut app, Command::Cancel);
    assert_eq!(app.board.order.len(), 3);
    cmd(&mut app, Command::CycleSeverityFilter);
    assert_eq!(app.board.order.len(), 1);
}

#[test]
fn n_on_the_watcher_continues_the_saved_draft_over_the_watcher() {
    let mut app = App::new("alice", Policy::builtin(), true);
    update(&mut app, Action::BoardLoaded(Vec::new()), now());
    let draft = NewIncidentForm {
        title: LineInput::new("half-typed title"),
        ..NewIncidentForm::default()
    };
    app.drafts
        .insert(NEW_INCIDENT_DRAFT.to_string(), draft.to_draft());
    cmd(&mut app, Command::OpenWatcher);
    cmd(&mut app, Command::NewIncident);
    // A blank form here would autosave over the draft.
    let Some(form) = open_form(&app) else {
        panic!("no form")
    };
    assert_eq!(form.title.text(), "half-typed title");
    // Over the watcher, which stays in view under it.
    assert_eq!(
        app.stack.under_top().map(|s| s.kind()),
        Some(Screen::Watcher)
    );
}

#[test]
fn back_closes_the_top_screen_only_and_the_watcher_opens_from_the_board() {
    let (mut app, _dir) = with_incident_open();
    let id = app.stack.incident().map(|i| i.id.clone()).unwrap();
    let fx = cmd(&mut app, Command::OpenEvidence);
    assert_eq!(app.stack.screen(), Screen::Evidence);
    assert!(fx.iter().any(|e| matches!(e, Effect::Records(_))));
    cmd(&mut app, Command::Back);
    assert_eq!(app.stack.screen(), Screen::Incident);
    assert_eq!(app.stack.incident().map(|i| i.id.clone()), Some(id));
    cmd(&mut app, Command::OpenWatcher);
    cmd(&mut app, Command::Back);
    assert_eq!(app.stack.screen(), Screen::Board);
    assert!(app.stack.incident().is_none());
}

fn person(handle: &str, name: &str) -> crate::domain::Person {
    crate::domain::Person {
        handle: handle.into(),
        name: name.into(),
        contact: String::new(),
        roles: Vec::new(),
        on_call: false,
    }
}

#[test]
fn the_role_picker_offers_me_first_when_i_am_on_the_roster() {
    let (mut app, _dir) = with_incident_open();
    app.people = vec![
        person("alex", "Alex Park"),
        person("alice", "Alice Chen"),
        person("bob", "Bob Okafor"),
    ];
    cmd(&mut app, Command::Assign);
    // Enter at once takes the first offered: alice, the console's user.
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(
        matches!(&fx[..], [Effect::Assign { person, .. }] if person == "alice"),
        "{fx:?}"
    );
    // Not on the roster: the roster's order.
    app.actor = "zed".into();
    cmd(&mut app, Command::NextPane);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Assign);
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(
        matches!(&fx[..], [Effect::Assign { person, .. }] if person == "alex"),
        "{fx:?}"
    );
}

#[test]
fn a_typed_name_not_on_the_roster_can_be_added_with_no_contact() {
    let (mut app, _dir) = with_incident_open();
    app.people = vec![person("bob", "Bob Okafor")];
    cmd(&mut app, Command::Assign);
    typed(&mut app, "Zoë External");
    assert!(cmd(&mut app, Command::Submit).is_empty());
    // Esc goes back to the name, as typed; asked again on Enter.
    cmd(&mut app, Command::Cancel);
    assert_eq!(app.focus(), crate::tui::command::Context::AssignDialog);
    assert!(cmd(&mut app, Command::Submit).is_empty());
    let fx = unbased(cmd(&mut app, Command::ConfirmYes));
    match &fx[..] {
        [
            Effect::Assign { person: held, .. },
            Effect::AddPerson { person, said },
        ] => {
            assert_eq!(held, "zoë.external");
            assert_eq!(person.handle, "zoë.external");
            assert_eq!(person.name, "Zoë External");
            assert!(person.contact.is_empty());
            assert!(said.contains("escalations cannot reach"), "{said}");
        }
        other => panic!("{other:?}"),
    }
    let said = app
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(said.contains("no contact"), "{said}");
    assert!(dialog(&app).is_none());
    // A roster name typed in full is not asked about.
    cmd(&mut app, Command::NextPane);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Assign);
    typed(&mut app, "Bob Okafor");
    cmd(&mut app, Command::Up);
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(
        matches!(&fx[..], [Effect::Assign { person, .. }] if person == "Bob Okafor"),
        "{fx:?}"
    );
}
