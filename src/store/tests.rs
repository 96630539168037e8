//! Store tests on real SQLite files in temporary directories.

use std::os::unix::fs::PermissionsExt;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::test_fixtures::{open_temp, t0};
use super::*;
use crate::domain::playbook::ItemState;
use crate::domain::roles::{Person, Role};
use crate::domain::{IncidentId, Playbook, Severity, Status};

fn new(
    store: &mut Store,
    title: &str,
    sev: Severity,
    at: DateTime<Utc>,
) -> crate::domain::Incident {
    store
        .create_incident(
            &NewIncident::new(title, sev),
            &Playbook::builtin(),
            "alice",
            at,
        )
        .unwrap()
}

#[test]
fn ids_count_per_year_and_are_never_reused() {
    let (_d, mut s) = open_temp();
    assert_eq!(
        new(&mut s, "a", Severity::P1, t0()).id.as_str(),
        "INC-2026-001"
    );
    assert_eq!(
        new(&mut s, "b", Severity::P2, t0()).id.as_str(),
        "INC-2026-002"
    );
    let next_year = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 1).unwrap();
    assert_eq!(
        new(&mut s, "c", Severity::P3, next_year).id.as_str(),
        "INC-2027-001"
    );
    assert_eq!(
        new(&mut s, "d", Severity::P3, t0()).id.as_str(),
        "INC-2026-003"
    );
}

#[test]
fn new_database_and_directory_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/w.db");
    let mut s = Store::open(&path).unwrap();
    new(&mut s, "a", Severity::P1, t0());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.path().join("nested/deeper")), 0o700);
    let wal = path.with_extension("db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
}

#[test]
fn pragmas_follow_the_design() {
    let (_d, s) = open_temp();
    let q = |sql: &str| -> String {
        s.conn
            .query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| format!("{v:?}"))
            .unwrap()
    };
    assert!(q("PRAGMA journal_mode").contains("wal"));
    assert_eq!(q("PRAGMA synchronous"), "Integer(2)", "FULL");
    assert_eq!(q("PRAGMA foreign_keys"), "Integer(1)");
    assert_eq!(q("PRAGMA trusted_schema"), "Integer(0)");
    assert_eq!(q("PRAGMA busy_timeout"), "Integer(10000)");
    assert_eq!(
        q("PRAGMA application_id"),
        format!("Integer({APPLICATION_ID})")
    );
    let version: String = s
        .conn
        .query_row("SELECT sqlite_version()", [], |r| r.get(0))
        .unwrap();
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(
        parts >= vec![3, 51, 3],
        "bundled SQLite {version} has the WAL-reset bug"
    );
}

#[test]
fn creation_seeds_the_checklist_and_logs_the_event() {
    let (_d, mut s) = open_temp();
    let i = new(&mut s, "Login API down", Severity::P1, t0());
    let d = s.detail(&i.id, None).unwrap();
    assert_eq!(d.checklist.len(), Playbook::builtin().items.len());
    assert!(d.checklist.iter().all(|c| c.state == ItemState::Open));
    assert_eq!(d.timeline.len(), 1);
    assert_eq!(d.timeline[0].kind, "incident.created");
    assert_eq!(d.timeline[0].actor, "alice");
    assert_eq!(d.incident.status, Status::Investigating);
}

#[test]
fn patches_apply_on_top_of_current_state() {
    let (_d, mut s) = open_temp();
    let i = new(&mut s, "a", Severity::P3, t0());
    // Two writers each change a different field of the state they loaded.
    let p1 = IncidentPatch {
        severity: Some(Severity::P1),
        ..Default::default()
    };
    let p2 = IncidentPatch {
        status: Some(Status::Identified),
        ..Default::default()
    };
    s.update_incident(&i.id, &p1, "alice", t0() + Duration::minutes(1))
        .unwrap();
    let after = s
        .update_incident(&i.id, &p2, "bob", t0() + Duration::minutes(2))
        .unwrap();
    assert_eq!(
        after.severity,
        Severity::P1,
        "bob's write kept alice's change"
    );
    assert_eq!(after.status, Status::Identified);
    assert_eq!(after.acknowledged_at, Some(t0() + Duration::minutes(2)));
    let tl = s.timeline(i.id.as_str(), None).unwrap();
    // Moving past "investigating" acknowledges, and says so.
    assert_eq!(tl[0].kind, "incident.acknowledged");
    assert_eq!(tl[0].detail, "acknowledged by bob");
    assert_eq!(tl[1].detail, "status investigating \u{2192} identified");
    assert_eq!(tl[2].detail, "severity P3 \u{2192} P1");
    // A patch that changes nothing writes nothing.
    s.update_incident(&i.id, &p2, "bob", t0() + Duration::minutes(3))
        .unwrap();
    assert_eq!(s.timeline(i.id.as_str(), None).unwrap().len(), 4);
}

#[test]
fn status_moves_set_lifecycle_times() {
    let (_d, mut s) = open_temp();
    let i = new(&mut s, "a", Severity::P2, t0());
    let set = |s: &mut Store, st, m| {
        let p = IncidentPatch {
            status: Some(st),
            ..Default::default()
        };
        s.update_incident(&i.id, &p, "alice", t0() + Duration::minutes(m))
            .unwrap()
    };
    let c = set(&mut s, Status::Contained, 10);
    assert_eq!(c.contained_at, Some(t0() + Duration::minutes(10)));
    let r = set(&mut s, Status::Resolved, 20);
    assert_eq!(r.resolved_at, Some(t0() + Duration::minutes(20)));
    // The closing gate wants a finished review.
    let review = ReviewPatch {
        root_cause: Some("expired certificate".into()),
        no_action_reason: Some(Some("vendor fault, fixed upstream".into())),
        ..Default::default()
    };
    s.update_review(&i.id, &review, "alice", t0() + Duration::minutes(25))
        .unwrap();
    // ...and every checklist item settled.
    super::test_fixtures::settle_checklist(&mut s, &i.id, t0() + Duration::minutes(26));
    let closed = set(&mut s, Status::Closed, 30);
    assert_eq!(closed.closed_at, Some(t0() + Duration::minutes(30)));
    assert!(
        s.board(false).unwrap().is_empty(),
        "closed incidents are hidden by default"
    );
    assert_eq!(s.board(true).unwrap().len(), 1);
    let reopened = set(&mut s, Status::Investigating, 40);
    assert_eq!(reopened.resolved_at, None);
    assert_eq!(reopened.closed_at, None);
    assert_eq!(reopened.contained_at, Some(t0() + Duration::minutes(10)));
}

#[test]
fn roles_hand_off_with_history_and_commander_acknowledges() {
    let (_d, mut s) = open_temp();
    let i = new(&mut s, "a", Severity::P1, t0());
    s.assign_role(
        &i.id,
        Role::Commander,
        "alice",
        "alice",
        t0() + Duration::minutes(5),
    )
    .unwrap();
    s.assign_role(
        &i.id,
        Role::Commander,
        "bob",
        "alice",
        t0() + Duration::minutes(9),
    )
    .unwrap();
    s.assign_role(
        &i.id,
        Role::Legal,
        "Erin Walsh",
        "bob",
        t0() + Duration::minutes(10),
    )
    .unwrap();
    let d = s.detail(&i.id, None).unwrap();
    assert_eq!(d.holder(Role::Commander).unwrap().person, "bob");
    assert_eq!(d.holder(Role::Legal).unwrap().person, "Erin Walsh");
    assert!(d.holder(Role::Ops).is_none());
    let alice = &d.assignments[0];
    assert_eq!(
        (alice.person.as_str(), alice.until),
        ("alice", Some(t0() + Duration::minutes(9)))
    );
    assert_eq!(
        d.incident.acknowledged_at,
        Some(t0() + Duration::minutes(5))
    );
    assert_eq!(s.board(false).unwrap()[0].commander.as_deref(), Some("bob"));
    assert!(
        d.timeline
            .iter()
            .any(|e| e.detail == "commander handed off: alice \u{2192} bob")
    );
    let again = s.assign_role(
        &i.id,
        Role::Commander,
        "bob",
        "bob",
        t0() + Duration::minutes(11),
    );
    assert!(matches!(again, Err(StoreError::Invalid(_))));
}

#[test]
fn checklist_items_record_who_when_and_why() {
    let (_d, mut s) = open_temp();
    let i = new(&mut s, "a", Severity::P2, t0());
    let at = t0() + Duration::minutes(3);
    let done = s
        .set_checklist_item(&i.id, "contain.isolate", ItemState::Done, None, "carol", at)
        .unwrap();
    assert_eq!((done.by.as_deref(), done.at), (Some("carol"), Some(at)));
    let na = s.set_checklist_item(
        &i.id,
        "detect.reports",
        ItemState::NotApplicable,
        Some(""),
        "carol",
        at,
    );
    assert!(matches!(na, Err(StoreError::Invalid(m)) if m.contains("reason")));
    let na = s
        .set_checklist_item(
            &i.id,
            "detect.reports",
            ItemState::NotApplicable,
            Some("internal only"),
            "carol",
            at,
        )
        .unwrap();
    assert_eq!(na.reason.as_deref(), Some("internal only"));
    let unknown = s.set_checklist_item(&i.id, "nope", ItemState::Done, None, "carol", at);
    assert!(matches!(unknown, Err(StoreError::Invalid(m)) if m.contains("contain.isolate")));
    let list = s.checklist(&i.id).unwrap();
    assert_eq!(
        list.iter().filter(|c| c.state != ItemState::Open).count(),
        2
    );
}

#[test]
fn unknown_incident_is_a_clear_error() {
    let (_d, mut s) = open_temp();
    let id: IncidentId = "INC-2026-404".parse().unwrap();
    assert!(matches!(
        s.incident(&id),
        Err(StoreError::IncidentNotFound(_))
    ));
    let r = s.acknowledge(&id, "a", t0());
    assert_eq!(r.unwrap_err().to_string(), "no incident INC-2026-404");
}

#[test]
fn timeline_is_append_only() {
    let (_d, mut s) = open_temp();
    new(&mut s, "a", Severity::P1, t0());
    let upd = s.conn.execute("UPDATE events SET actor = 'mallory'", []);
    assert!(upd.unwrap_err().to_string().contains("append-only"));
    let del = s.conn.execute("DELETE FROM events", []);
    assert!(del.unwrap_err().to_string().contains("append-only"));
}

#[test]
fn chain_verifies_and_drills_have_their_own_chain() {
    let (_d, mut s) = open_temp();
    let live = new(&mut s, "a", Severity::P1, t0());
    let mut drill = NewIncident::new("exercise", Severity::P2);
    drill.drill = true;
    let d = s
        .create_incident(&drill, &Playbook::builtin(), "alice", t0())
        .unwrap();
    s.add_note(&live.id, "first", "alice", t0()).unwrap();
    s.add_note(&d.id, "drill note", "alice", t0()).unwrap();
    s.upsert_person(
        &Person {
            handle: "bob".into(),
            name: "Bob".into(),
            contact: String::new(),
            roles: Vec::new(),
            on_call: false,
        },
        "alice",
        t0(),
    )
    .unwrap();
    let r = s.verify_chain().unwrap();
    assert_eq!(r.failure, None);
    assert_eq!(r.events, 5);
    let heads: Vec<(String, i64)> = r
        .heads
        .iter()
        .map(|h| (h.chain.clone(), h.chain_seq))
        .collect();
    assert_eq!(heads, vec![("drill".into(), 2), ("live".into(), 3)]);
}

#[test]
fn data_version_moves_when_another_connection_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let watcher = Store::open(&path).unwrap();
    let mut writer = Store::open(&path).unwrap();
    let before = watcher.data_version().unwrap();
    assert_eq!(
        watcher.data_version().unwrap(),
        before,
        "stable while nothing happens"
    );
    new(&mut writer, "a", Severity::P1, t0());
    assert_ne!(watcher.data_version().unwrap(), before);
}

#[test]
fn drafts_save_replace_and_delete() {
    let (_d, mut s) = open_temp();
    s.save_draft("alice", "new-incident", "{\"title\":\"D\"}", t0())
        .unwrap();
    s.save_draft("alice", "new-incident", "{\"title\":\"DB\"}", t0())
        .unwrap();
    s.save_draft("alice", "compose:INC-2026-001:customers", "Hello", t0())
        .unwrap();
    assert_eq!(
        s.load_draft("alice", "new-incident").unwrap().unwrap().body,
        "{\"title\":\"DB\"}"
    );
    assert!(s.load_draft("bob", "new-incident").unwrap().is_none());
    assert_eq!(s.drafts("alice", "compose:").unwrap().len(), 1);
    s.delete_draft("alice", "new-incident").unwrap();
    assert!(s.load_draft("alice", "new-incident").unwrap().is_none());
}

#[test]
fn foreign_and_corrupt_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE invoices (id INTEGER)")
        .unwrap();
    let e = Store::open(&other).err().expect("refused");
    assert!(matches!(e, StoreError::NotWarroom { .. }), "{e}");
    assert!(e.to_string().contains("not a warroom database"));

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x42u8; 8192]).unwrap();
    let e = Store::open(&junk).err().expect("refused");
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
}

#[test]
fn a_newer_schema_is_refused_not_downgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    drop(Store::open(&path).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(c);
    let e = Store::open(&path).err().expect("refused");
    assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e}");
}

#[test]
fn a_full_disk_is_a_clear_error_and_keeps_what_was_committed() {
    let (_d, mut s) = open_temp();
    let first = new(
        &mut s,
        "committed before the disk filled",
        Severity::P1,
        t0(),
    );
    // SQLite reports a database that cannot grow exactly as it reports a
    // full disk (SQLITE_FULL); cap the file at its current size.
    let pages: i64 = s
        .conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    s.conn
        .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    let big = "x".repeat(64 * 1024);
    let mut failure = None;
    for i in 0..64 {
        if let Err(e) = s.add_note(&first.id, &format!("{i} {big}"), "alice", t0()) {
            failure = Some(e);
            break;
        }
    }
    let e = failure.expect("the capped database filled up");
    assert!(matches!(e, StoreError::DiskFull { .. }), "{e}");
    assert!(e.to_string().contains("disk is full; nothing was changed"));
    let still = s.incident(&first.id).unwrap();
    assert_eq!(still.title, "committed before the disk filled");
    assert_eq!(s.verify_chain().unwrap().failure, None);
}

#[test]
fn many_connections_opening_one_fresh_file_at_once_all_succeed() {
    // A watcher and a console started together on a new database: each
    // open must either migrate or wait for the one migrating, never take
    // the half-built file for a foreign one. Openers keep opening while the
    // first migrates, so some check the file as the migration commits.
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fresh.db");
        let gate = std::sync::Arc::new(std::sync::Barrier::new(4));
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let (path, gate) = (path.clone(), std::sync::Arc::clone(&gate));
                std::thread::spawn(move || {
                    gate.wait();
                    (0..40)
                        .map(|_| Store::open(&path).map(|s| s.user_version().unwrap()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for opener in openers {
            for version in opener.join().unwrap() {
                assert!(version.is_ok(), "round {round}: {}", version.unwrap_err());
            }
        }
    }
}

#[test]
fn the_roster_keeps_the_roles_each_person_may_hold_and_who_is_on_call() {
    use crate::domain::Role;
    let (_d, mut s) = open_temp();
    let mut dana = Person::new("dana", "Dana Scully", "dana@example.com");
    dana.roles = vec![Role::Security, Role::Commander, Role::Security];
    dana.on_call = true;
    s.upsert_person(&dana, "alice", t0()).unwrap();
    s.upsert_person(&Person::new("fox", "Fox Mulder", ""), "alice", t0())
        .unwrap();
    let people = s.people().unwrap();
    assert_eq!(people[0].handle, "dana");
    // Kept once each, in the roles' own order.
    assert_eq!(people[0].roles, [Role::Commander, Role::Security]);
    assert!(people[0].on_call);
    assert!(people[0].can_hold(Role::Commander) && !people[0].can_hold(Role::Legal));
    assert!(people[1].roles.is_empty() && !people[1].on_call);
    assert!(people[1].can_hold(Role::Legal), "no roles listed: any role");
    // An update replaces them, and the change is on the record.
    dana.roles = vec![Role::Legal];
    dana.on_call = false;
    s.upsert_person(&dana, "alice", t0()).unwrap();
    let again = &s.people().unwrap()[0];
    assert_eq!(again.roles, [Role::Legal]);
    assert!(!again.on_call);
    assert_eq!(s.verify_chain().unwrap().failure, None);
}
