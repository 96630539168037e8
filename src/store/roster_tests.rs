//! The roster's edits from two consoles on one database file: an edit
//! based on an entry someone else changed (or an addition of a handle
//! someone else just added) is refused with a conflict naming them, and
//! nothing of theirs is lost.

use chrono::Duration;

use super::test_fixtures::t0;
use super::{Store, StoreError};
use crate::domain::roles::{Person, Role};

fn two_consoles() -> (tempfile::TempDir, Store, Store) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let a = Store::open(&db).unwrap();
    let b = Store::open(&db).unwrap();
    (dir, a, b)
}

fn grace() -> Person {
    Person::new("grace", "Grace Hopper", "grace@example.org")
}

fn entry(store: &Store, handle: &str) -> Option<Person> {
    store
        .people()
        .unwrap()
        .into_iter()
        .find(|p| p.handle == handle)
}

fn roster_events(dir: &tempfile::TempDir) -> i64 {
    rusqlite::Connection::open(dir.path().join("w.db"))
        .unwrap()
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 'roster.changed'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_stale_roster_edit_is_refused_naming_who_changed_it_and_theirs_stays() {
    let (dir, mut a, mut b) = two_consoles();
    a.upsert_person_based(&grace(), None, "alice", t0())
        .unwrap();
    // Both consoles show the entry as it is now.
    let seen_by_a = entry(&a, "grace").unwrap();
    let seen_by_b = entry(&b, "grace").unwrap();
    // Alice puts grace on call with a new contact...
    let mut alices = seen_by_a.clone();
    alices.contact = "+1 555 0100".into();
    alices.on_call = true;
    a.upsert_person_based(
        &alices,
        Some(&seen_by_a),
        "alice",
        t0() + Duration::minutes(1),
    )
    .unwrap();
    // ... then bob, from his older view, gives her the commander role.
    let mut bobs = seen_by_b.clone();
    bobs.roles = vec![Role::Commander];
    let e = b
        .upsert_person_based(&bobs, Some(&seen_by_b), "bob", t0() + Duration::minutes(2))
        .unwrap_err();
    let StoreError::Conflict(c) = &e else {
        panic!("expected a conflict, got {e}");
    };
    assert_eq!(c.theirs.actor, "alice");
    assert_eq!(c.theirs.at, t0() + Duration::minutes(1));
    assert_eq!(c.field, "roster:grace");
    assert_eq!(
        c.theirs.new.as_deref(),
        Some("Grace Hopper, +1 555 0100, any role, on call")
    );
    assert_eq!(
        c.theirs.old.as_deref(),
        Some("Grace Hopper, grace@example.org, any role, not on call")
    );
    assert_eq!(
        c.mine.as_deref(),
        Some("Grace Hopper, grace@example.org, commander, not on call")
    );
    // The base is the event that wrote what bob saw, before alice's.
    assert!(c.base.0 > 0 && c.base.0 < c.theirs.seq, "{c:?}");
    assert!(e.to_string().contains("changed by alice"), "{e}");
    // Nothing of bob's was written; alice's stays.
    assert_eq!(entry(&b, "grace").unwrap(), alices);
    assert_eq!(roster_events(&dir), 2);
    // Bob, having seen hers, keeps her change and adds his.
    let mut merged = alices.clone();
    merged.roles = vec![Role::Commander];
    b.upsert_person_based(&merged, Some(&alices), "bob", t0() + Duration::minutes(3))
        .unwrap();
    assert_eq!(entry(&a, "grace").unwrap(), merged);
    assert_eq!(roster_events(&dir), 3);
}

#[test]
fn adding_a_handle_someone_else_just_added_is_a_conflict() {
    let (_dir, mut a, mut b) = two_consoles();
    a.upsert_person_based(&grace(), None, "alice", t0())
        .unwrap();
    let mut bobs = Person::new("grace", "Grace B. Murray", "");
    bobs.on_call = true;
    let e = b
        .upsert_person_based(&bobs, None, "bob", t0() + Duration::minutes(1))
        .unwrap_err();
    let StoreError::Conflict(c) = &e else {
        panic!("expected a conflict, got {e}");
    };
    assert_eq!(c.theirs.actor, "alice");
    assert!(c.what.contains("added meanwhile"), "{}", c.what);
    assert_eq!(c.base.0, 0);
    assert_eq!(entry(&a, "grace").unwrap(), grace());
}

#[test]
fn an_edit_of_an_entry_that_is_not_there_or_another_handle_is_refused() {
    let (_dir, mut a, _b) = two_consoles();
    // Based on an entry never stored: refused, nothing written.
    let e = a
        .upsert_person_based(&grace(), Some(&grace()), "alice", t0())
        .unwrap_err();
    assert!(e.to_string().contains("grace"), "{e}");
    assert!(entry(&a, "grace").is_none());
    a.upsert_person_based(&grace(), None, "alice", t0())
        .unwrap();
    let mut renamed = grace();
    renamed.handle = "ghopper".into();
    let e = a
        .upsert_person_based(&renamed, Some(&grace()), "alice", t0())
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert!(e.to_string().contains("ghopper"), "{e}");
    assert!(entry(&a, "ghopper").is_none());
}

#[test]
fn an_edit_that_wants_what_is_stored_succeeds_and_writes_nothing() {
    let (dir, mut a, mut b) = two_consoles();
    a.upsert_person_based(&grace(), None, "alice", t0())
        .unwrap();
    let seen = entry(&b, "grace").unwrap();
    let mut on_call = seen.clone();
    on_call.on_call = true;
    a.upsert_person_based(&on_call, Some(&seen), "alice", t0())
        .unwrap();
    // Bob, from the older view, wants the same: nothing to refuse.
    let saved = b
        .upsert_person_based(&on_call, Some(&seen), "bob", t0())
        .unwrap();
    assert_eq!(saved, on_call);
    assert_eq!(roster_events(&dir), 2);
    // Text is trimmed and roles sorted before comparing and storing.
    let mut typed = on_call.clone();
    typed.name = "  Grace Hopper ".into();
    typed.roles = vec![Role::Legal, Role::Commander, Role::Legal];
    let saved = b
        .upsert_person_based(&typed, Some(&on_call), "bob", t0())
        .unwrap();
    assert_eq!(saved.roles, [Role::Commander, Role::Legal]);
    assert_eq!(saved.name, "Grace Hopper");
}
