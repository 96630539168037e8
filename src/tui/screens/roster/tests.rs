//! Keys on the roster screen: adding, editing, on call, a role not known,
//! and a refused save that brings the typed values back.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};

use super::handle::{loaded, submit};
use super::state::*;
use super::work::{RosterEffect, RosterLoaded};
use crate::domain::Policy;
use crate::domain::roles::{Person, Role};
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::kit::fields::state::FieldsDialog;
use crate::tui::kit::input::LineInput;
use crate::tui::records::RecordsEffect;
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::{Nav, Target};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 0, 0).unwrap()
}

fn people() -> Vec<Person> {
    let mut ada = Person::new("ada", "Ada Lovelace", "ada@example.org");
    ada.roles = vec![Role::Commander, Role::Security];
    ada.on_call = true;
    let bob = Person::new("bob", "Bob Nocontact", "");
    vec![ada, bob]
}

fn with_ctx<T>(people: &[Person], f: impl FnOnce(&Ctx) -> T) -> T {
    let policy = Policy::builtin();
    let drafts = HashMap::new();
    let ctx = Ctx {
        now: now(),
        actor: "carol",
        policy: &policy,
        no_color: true,
        rows: &[],
        people,
        drafts: &drafts,
        detail: None,
        present: &[],
        console: "",
        feed: &(),
    };
    f(&ctx)
}

fn key(s: &mut RosterState, people: &[Person], cmd: Command) -> Outcome {
    with_ctx(people, |c| s.handle(cmd, c))
}

fn set(d: &mut FieldsDialog, i: usize, text: &str) {
    *d.input_mut(i).unwrap() = LineInput::new(text);
}

/// The one save an outcome asks for.
fn save_of(out: &Outcome) -> (Person, Option<Person>, bool) {
    match &out.effects[..] {
        [Effect::Records(r)] => match &**r {
            RecordsEffect::Roster(RosterEffect::Save {
                person,
                based_on,
                typed,
            }) => (person.clone(), based_on.clone(), *typed),
            other => panic!("not a save: {other:?}"),
        },
        other => panic!("expected one save, got {other:?}"),
    }
}

#[test]
fn a_adds_someone_with_the_typed_values_as_a_new_entry() {
    let ps = people();
    let mut s = RosterState::default();
    let mut d = key(&mut s, &ps, Command::AddPerson).dialog.unwrap();
    assert_eq!(d.purpose::<RosterAsk>(), Some(&RosterAsk::Add));
    set(&mut d, 0, "grace");
    set(&mut d, 1, "Grace Hopper");
    set(&mut d, 2, "+1 555 0100");
    set(&mut d, 3, "Ops, comms");
    d.focus = 4;
    assert!(d.navigate(Command::ChoiceNext));
    let out = with_ctx(&ps, |c| submit(Some(&mut s), &d, c)).unwrap();
    let (person, base, typed) = save_of(&out);
    assert_eq!(person.handle, "grace");
    assert_eq!(person.name, "Grace Hopper");
    assert_eq!(person.contact, "+1 555 0100");
    assert_eq!(person.roles, [Role::Ops, Role::Comms]);
    assert!(person.on_call);
    assert_eq!(base, None);
    assert!(typed);
    assert_eq!(s.pending.as_ref(), Some(&d));
    // Stored: the dialog is no longer needed and the cursor is on them.
    let mut after = ps.clone();
    after.push(person);
    let out = with_ctx(&after, |c| {
        loaded(
            Some(&mut s),
            RosterLoaded::Saved {
                handle: "grace".into(),
                typed: true,
            },
            c,
            true,
        )
    });
    assert!(s.pending.is_none());
    assert_eq!(s.cursor, 2);
    assert_eq!(out.message, Some(("grace saved".into(), false)));
}

#[test]
fn adding_a_handle_already_listed_is_refused_in_the_dialog() {
    let ps = people();
    let mut s = RosterState::default();
    let mut d = key(&mut s, &ps, Command::AddPerson).dialog.unwrap();
    set(&mut d, 0, "ada");
    set(&mut d, 1, "Another Ada");
    let e = with_ctx(&ps, |c| submit(Some(&mut s), &d, c)).unwrap_err();
    assert!(e.contains("ada is already on the roster"), "{e}");
    assert!(s.pending.is_none());
}

#[test]
fn e_edits_the_selected_entry_based_on_it_as_shown() {
    let ps = people();
    let mut s = RosterState::default();
    key(&mut s, &ps, Command::Down);
    let mut d = key(&mut s, &ps, Command::Edit).dialog.unwrap();
    assert_eq!(
        d.purpose::<RosterAsk>(),
        Some(&RosterAsk::Edit {
            based_on: ps[1].clone()
        })
    );
    assert_eq!(d.title, "Edit bob");
    assert_eq!(d.text(0), "Bob Nocontact");
    assert_eq!(d.text(1), "");
    set(&mut d, 1, "bob@example.org");
    let out = with_ctx(&ps, |c| submit(Some(&mut s), &d, c)).unwrap();
    let (person, base, _) = save_of(&out);
    assert_eq!(base.as_ref(), Some(&ps[1]));
    assert_eq!(person.handle, "bob");
    assert_eq!(person.contact, "bob@example.org");
    assert!(person.roles.is_empty() && !person.on_call);
    // Enter edits too; Esc goes back.
    s.cursor = 0;
    let d = key(&mut s, &ps, Command::Open).dialog.unwrap();
    assert_eq!(d.text(2), "commander,security");
    assert_eq!(d.choice(3), 1);
    assert_eq!(key(&mut s, &ps, Command::Back).nav, Nav::Back);
}

#[test]
fn o_puts_the_selected_person_on_or_off_call() {
    let ps = people();
    let mut s = RosterState::default();
    let out = key(&mut s, &ps, Command::ToggleOnCall);
    let (person, base, typed) = save_of(&out);
    assert!(!person.on_call, "ada was on call");
    assert_eq!(base.as_ref(), Some(&ps[0]));
    assert!(!typed);
    key(&mut s, &ps, Command::Bottom);
    let (person, _, _) = save_of(&key(&mut s, &ps, Command::ToggleOnCall));
    assert_eq!(person.handle, "bob");
    assert!(person.on_call);
    // Stored: said as what it is now.
    let mut after = ps.clone();
    after[1].on_call = true;
    let out = with_ctx(&after, |c| {
        loaded(
            Some(&mut s),
            RosterLoaded::Saved {
                handle: "bob".into(),
                typed: false,
            },
            c,
            true,
        )
    });
    assert_eq!(out.message, Some(("bob is on call".into(), false)));
    // Nothing to toggle on an empty roster.
    let mut empty = RosterState::default();
    assert!(
        key(&mut empty, &[], Command::ToggleOnCall)
            .effects
            .is_empty()
    );
}

#[test]
fn a_role_not_known_is_refused_naming_it_and_every_valid_role() {
    let ps = people();
    let mut s = RosterState::default();
    let mut d = key(&mut s, &ps, Command::AddPerson).dialog.unwrap();
    set(&mut d, 0, "grace");
    set(&mut d, 1, "Grace Hopper");
    set(&mut d, 3, "commander, janitor");
    let e = with_ctx(&ps, |c| submit(Some(&mut s), &d, c)).unwrap_err();
    assert!(e.contains("'janitor' is not a role"), "{e}");
    for r in Role::ALL {
        assert!(e.contains(r.as_str()), "{e} names {r}");
    }
    assert!(s.pending.is_none());
    // A blank name and a bad handle are said too.
    set(&mut d, 3, "");
    set(&mut d, 1, " ");
    let e = with_ctx(&ps, |c| submit(Some(&mut s), &d, c)).unwrap_err();
    assert!(e.contains("name"), "{e}");
    set(&mut d, 1, "Grace");
    set(&mut d, 0, "grace hopper");
    let e = with_ctx(&ps, |c| submit(Some(&mut s), &d, c)).unwrap_err();
    assert!(e.contains("grace hopper"), "{e}");
}

#[test]
fn a_conflict_brings_the_dialog_back_with_the_typed_values_based_on_theirs() {
    let ps = people();
    let mut s = RosterState::default();
    let mut d = key(&mut s, &ps, Command::Edit).dialog.unwrap();
    set(&mut d, 1, "+44 20 7946 0000");
    set(&mut d, 2, "commander");
    with_ctx(&ps, |c| submit(Some(&mut s), &d, c)).unwrap();
    // Meanwhile dan took ada off call and changed her mail.
    let mut theirs = ps[0].clone();
    theirs.on_call = false;
    theirs.contact = "ada@lovelace.example".into();
    let now_ps = vec![theirs.clone(), ps[1].clone()];
    let message =
        "conflict: roster entry ada was changed by dan at 2026-11-22T17:59:00Z".to_string();
    let out = with_ctx(&now_ps, |c| {
        loaded(
            Some(&mut s),
            RosterLoaded::Conflict {
                message: message.clone(),
                current: Some(theirs.clone()),
                typed: true,
            },
            c,
            true,
        )
    });
    let back = out.dialog.expect("the dialog comes back");
    // Typed values kept, the choice too...
    assert_eq!(back.text(0), "Ada Lovelace");
    assert_eq!(back.text(1), "+44 20 7946 0000");
    assert_eq!(back.text(2), "commander");
    assert_eq!(back.choice(3), 1);
    // ... now based on theirs, saying who changed it and what it is now.
    assert_eq!(
        back.purpose::<RosterAsk>(),
        Some(&RosterAsk::Edit {
            based_on: theirs.clone()
        })
    );
    let note = back.note.join("\n");
    assert!(note.contains("changed by dan"), "{note}");
    assert!(note.contains("ada@lovelace.example"), "{note}");
    assert!(
        out.message
            .as_ref()
            .is_some_and(|(m, err)| *err && m.contains("dan"))
    );
    assert!(s.pending.is_none());
    // Saving again is based on theirs.
    let out = with_ctx(&now_ps, |c| submit(Some(&mut s), &back, c)).unwrap();
    assert_eq!(save_of(&out).1, Some(theirs));
}

#[test]
fn an_added_handle_someone_else_took_comes_back_as_an_edit_of_theirs() {
    let ps = people();
    let mut s = RosterState::default();
    let mut d = key(&mut s, &ps, Command::AddPerson).dialog.unwrap();
    set(&mut d, 0, "grace");
    set(&mut d, 1, "Grace Hopper");
    set(&mut d, 2, "grace@navy.example");
    with_ctx(&ps, |c| submit(Some(&mut s), &d, c)).unwrap();
    let theirs = Person::new("grace", "Grace B. Murray", "");
    // Another dialog is open: kept until a or e.
    let out = with_ctx(&ps, |c| {
        loaded(
            Some(&mut s),
            RosterLoaded::Conflict {
                message: "conflict: roster entry grace (added meanwhile) was changed by dan".into(),
                current: Some(theirs.clone()),
                typed: true,
            },
            c,
            false,
        )
    });
    assert!(out.dialog.is_none());
    assert!(
        out.message
            .as_ref()
            .is_some_and(|(m, _)| m.contains("brings your values back"))
    );
    let back = key(&mut s, &ps, Command::AddPerson).dialog.unwrap();
    assert_eq!(
        back.purpose::<RosterAsk>(),
        Some(&RosterAsk::Edit { based_on: theirs })
    );
    assert_eq!(back.text(0), "Grace Hopper");
    assert_eq!(back.text(1), "grace@navy.example");
    assert!(s.kept.is_none());
}

#[test]
fn a_failed_save_brings_the_dialog_back_with_the_error_and_a_toggle_only_says_it() {
    let ps = people();
    let mut s = RosterState::default();
    let mut d = key(&mut s, &ps, Command::Edit).dialog.unwrap();
    set(&mut d, 1, "new@example.org");
    with_ctx(&ps, |c| submit(Some(&mut s), &d, c)).unwrap();
    let out = with_ctx(&ps, |c| {
        loaded(
            Some(&mut s),
            RosterLoaded::Failed {
                message: "the database is locked".into(),
                typed: true,
            },
            c,
            true,
        )
    });
    let back = out.dialog.unwrap();
    assert_eq!(back.text(1), "new@example.org");
    assert_eq!(back.error.as_deref(), Some("the database is locked"));
    // A refused toggle has no dialog to bring back.
    let out = with_ctx(&ps, |c| {
        loaded(
            Some(&mut s),
            RosterLoaded::Conflict {
                message: "conflict: changed by dan".into(),
                current: Some(ps[0].clone()),
                typed: false,
            },
            c,
            true,
        )
    });
    assert!(out.dialog.is_none());
    assert!(out.message.is_some_and(|(m, err)| err && m.contains("dan")));
}

#[test]
fn the_roster_opens_with_a_typed_name_in_the_add_dialog_and_loads() {
    let ps = people();
    let (s, out) = with_ctx(&ps, |c| {
        RosterState::open(&Target::RosterAdd("Grace Hopper".into()), c)
    })
    .unwrap();
    assert_eq!(s, RosterState::default());
    let d = out.dialog.unwrap();
    assert_eq!(d.text(0), "grace.hopper");
    assert_eq!(d.text(1), "Grace Hopper");
    assert_eq!(d.focus, 2, "the contact is what is missing");
    assert!(matches!(
        &out.effects[..],
        [Effect::Records(r)] if matches!(**r, RecordsEffect::Roster(RosterEffect::Load { since: None }))
    ));
    let (_, out) = with_ctx(&ps, |c| RosterState::open(&Target::Roster, c)).unwrap();
    assert!(out.dialog.is_none());
    assert!(with_ctx(&ps, |c| RosterState::open(&Target::Metrics, c)).is_none());
    assert_eq!(handle_from("  Jean-Luc  Picard! "), "jean-luc.picard");
}
