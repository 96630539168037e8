//! No lost update: for every editable thing, two connections read the same
//! version and both edit it; the second is refused with a conflict naming
//! the first's change, the first's value stays, nothing of the second is
//! written, and an edit of something else based on the same version goes
//! through.

use chrono::{Duration, NaiveDate};

use super::test_fixtures::{t0, with_incident};
use super::{IncidentPatch, NewAction, ReviewPatch, Store, StoreError};
use crate::domain::playbook::ItemState;
use crate::domain::review::ActionStatus;
use crate::domain::version::Version;
use crate::domain::{Cia, IncidentId, Phase, Playbook, Role, Severity, Source, Status};

type Edit = fn(&mut Store, &IncidentId, Option<Version>, &str, bool) -> super::Result<()>;
type Read = fn(&Store, &IncidentId) -> String;

/// One editable thing: how to edit it (the first editor's value or the
/// second's), how to read it back, and the words a conflict names it by.
struct Case {
    what: &'static str,
    edit: Edit,
    read: Read,
}

fn now() -> chrono::DateTime<chrono::Utc> {
    t0() + Duration::minutes(1)
}

fn patch(
    s: &mut Store,
    id: &IncidentId,
    base: Option<Version>,
    who: &str,
    p: IncidentPatch,
) -> super::Result<()> {
    s.update_incident_based(id, &p, base, who, now())
        .map(|_| ())
}

fn review(
    s: &mut Store,
    id: &IncidentId,
    base: Option<Version>,
    who: &str,
    p: ReviewPatch,
) -> super::Result<()> {
    s.update_review_based(id, &p, base, who, now()).map(|_| ())
}

fn pick(first: bool, a: &str, b: &str) -> String {
    if first { a } else { b }.to_string()
}

fn role(
    s: &mut Store,
    id: &IncidentId,
    base: Option<Version>,
    who: &str,
    first: bool,
    r: Role,
) -> super::Result<()> {
    let person = pick(first, "carol", "dave");
    s.assign_role_based(id, r, &person, base, who, now())
        .map(|_| ())
}

fn holder(s: &Store, id: &IncidentId, r: Role) -> String {
    s.assignments(id)
        .unwrap()
        .into_iter()
        .find(|a| a.role == r && a.until.is_none())
        .map(|a| a.person)
        .unwrap_or_default()
}

fn first_item() -> String {
    Playbook::builtin().items[0].id.clone()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "title",
            edit: |s, id, b, w, f| {
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        title: Some(pick(f, "Title A", "Title B")),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().title,
        },
        Case {
            what: "summary",
            edit: |s, id, b, w, f| {
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        summary: Some(pick(f, "sum A", "sum B")),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().summary,
        },
        Case {
            what: "severity",
            edit: |s, id, b, w, f| {
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        severity: Some(if f { Severity::P1 } else { Severity::P3 }),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().severity.to_string(),
        },
        Case {
            what: "status",
            edit: |s, id, b, w, f| {
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        status: Some(if f {
                            Status::Identified
                        } else {
                            Status::Contained
                        }),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().status.to_string(),
        },
        Case {
            what: "phase",
            edit: |s, id, b, w, f| {
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        phase: Some(if f { Phase::Triage } else { Phase::Containment }),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().phase.to_string(),
        },
        Case {
            what: "source",
            edit: |s, id, b, w, f| {
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        source: Some(if f {
                            Source::Siem
                        } else {
                            Source::CustomerReport
                        }),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().source.to_string(),
        },
        Case {
            what: "affected",
            edit: |s, id, b, w, f| {
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        affected: Some(pick(f, "eu-west", "us-east")),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().affected,
        },
        Case {
            what: "cia",
            edit: |s, id, b, w, f| {
                let cia: Cia = pick(f, "high/none/none", "low/low/low").parse().unwrap();
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        cia: Some(cia),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().cia.to_string(),
        },
        Case {
            what: "customer impact",
            edit: |s, id, b, w, f| {
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        customer_impact: Some(pick(f, "logins slow", "logins down")),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().customer_impact,
        },
        Case {
            what: "personal data breach",
            // The second editor wants the value the incident had: still a
            // change over the first's, so still a conflict.
            edit: |s, id, b, w, f| {
                patch(
                    s,
                    id,
                    b,
                    w,
                    IncidentPatch {
                        personal_data_breach: Some(f),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.incident(id).unwrap().personal_data_breach.to_string(),
        },
        Case {
            what: "detected at",
            edit: |s, id, b, w, f| {
                let at = t0() - Duration::minutes(if f { 10 } else { 20 });
                s.set_detected_based(id, at, "log says so", b, w, now())
                    .map(|_| ())
            },
            read: |s, id| s.incident(id).unwrap().detected_at.to_rfc3339(),
        },
        Case {
            what: "role commander",
            edit: |s, id, b, w, f| role(s, id, b, w, f, Role::Commander),
            read: |s, id| holder(s, id, Role::Commander),
        },
        Case {
            what: "role security",
            edit: |s, id, b, w, f| role(s, id, b, w, f, Role::Security),
            read: |s, id| holder(s, id, Role::Security),
        },
        Case {
            what: "role ops",
            edit: |s, id, b, w, f| role(s, id, b, w, f, Role::Ops),
            read: |s, id| holder(s, id, Role::Ops),
        },
        Case {
            what: "role comms",
            edit: |s, id, b, w, f| role(s, id, b, w, f, Role::Comms),
            read: |s, id| holder(s, id, Role::Comms),
        },
        Case {
            what: "role legal",
            edit: |s, id, b, w, f| role(s, id, b, w, f, Role::Legal),
            read: |s, id| holder(s, id, Role::Legal),
        },
        Case {
            what: "checklist item",
            edit: |s, id, b, w, f| {
                let (state, reason) = if f {
                    (ItemState::Done, None)
                } else {
                    (ItemState::NotApplicable, Some("no such host"))
                };
                s.set_checklist_item_based(id, &first_item(), state, reason, b, w, now())
                    .map(|_| ())
            },
            read: |s, id| s.checklist(id).unwrap()[0].state.as_str().to_string(),
        },
        Case {
            what: "review statement",
            edit: |s, id, b, w, f| {
                review(
                    s,
                    id,
                    b,
                    w,
                    ReviewPatch {
                        statement: Some(pick(f, "st A", "st B")),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.review(id).unwrap().statement,
        },
        Case {
            what: "review whys",
            edit: |s, id, b, w, f| {
                review(
                    s,
                    id,
                    b,
                    w,
                    ReviewPatch {
                        whys: Some(vec![pick(f, "why A", "why B")]),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.review(id).unwrap().whys.join("|"),
        },
        Case {
            what: "review root cause",
            edit: |s, id, b, w, f| {
                review(
                    s,
                    id,
                    b,
                    w,
                    ReviewPatch {
                        root_cause: Some(pick(f, "rc A", "rc B")),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.review(id).unwrap().root_cause,
        },
        Case {
            what: "review lessons",
            edit: |s, id, b, w, f| {
                review(
                    s,
                    id,
                    b,
                    w,
                    ReviewPatch {
                        lessons: Some(pick(f, "l A", "l B")),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.review(id).unwrap().lessons,
        },
        Case {
            what: "review went well",
            edit: |s, id, b, w, f| {
                review(
                    s,
                    id,
                    b,
                    w,
                    ReviewPatch {
                        went_well: Some(pick(f, "ww A", "ww B")),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.review(id).unwrap().went_well,
        },
        Case {
            what: "review went badly",
            edit: |s, id, b, w, f| {
                review(
                    s,
                    id,
                    b,
                    w,
                    ReviewPatch {
                        went_badly: Some(pick(f, "wb A", "wb B")),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.review(id).unwrap().went_badly,
        },
        Case {
            what: "review no action reason",
            edit: |s, id, b, w, f| {
                review(
                    s,
                    id,
                    b,
                    w,
                    ReviewPatch {
                        no_action_reason: Some(Some(pick(f, "na A", "na B"))),
                        ..Default::default()
                    },
                )
            },
            read: |s, id| s.review(id).unwrap().no_action_reason.unwrap_or_default(),
        },
        Case {
            what: "corrective action #1",
            edit: |s, id, b, w, f| {
                let (status, reason) = if f {
                    (ActionStatus::Done, None)
                } else {
                    (ActionStatus::Dropped, Some("moot"))
                };
                s.set_action_status_based(id, 1, status, reason, b, w, now())
                    .map(|_| ())
            },
            read: |s, id| s.review(id).unwrap().actions[0].status.as_str().to_string(),
        },
    ]
}

#[test]
fn a_stale_edit_of_each_field_is_refused_and_nothing_is_lost() {
    let all = cases();
    for (n, case) in all.iter().enumerate() {
        let (dir, mut a, inc) = with_incident("Phishing", Severity::P2);
        let id = inc.id.clone();
        // The action the last case edits exists before anyone reads.
        let due = NaiveDate::from_ymd_opt(2026, 4, 1);
        let new = NewAction {
            description: "rotate keys".into(),
            owner: "erin".into(),
            due,
        };
        a.add_action(&id, &new, "alice", t0()).unwrap();
        let mut b = Store::open(&dir.path().join("w.db")).unwrap();
        let v = a.version(&id).unwrap();
        assert_eq!(b.version(&id).unwrap(), v, "{}", case.what);

        (case.edit)(&mut a, &id, Some(v), "alice", true).unwrap();
        let first_value = (case.read)(&a, &id);
        let after_first = a.version(&id).unwrap();
        assert!(
            after_first > v,
            "{}: the first edit wrote an event",
            case.what
        );

        let e = (case.edit)(&mut b, &id, Some(v), "bob", false).unwrap_err();
        let StoreError::Conflict(c) = &e else {
            panic!("{}: expected a conflict, got {e}", case.what);
        };
        assert!(
            c.what.starts_with(case.what),
            "{} named {}",
            case.what,
            c.what
        );
        assert_eq!(c.theirs.actor, "alice", "{}", case.what);
        assert!(
            c.theirs.seq > v.0 && c.theirs.seq <= after_first.0,
            "{}",
            case.what
        );
        assert_eq!(c.base, v);
        assert!(e.to_string().contains("changed by alice"), "{e}");
        // The first's value stays and the refused edit wrote nothing.
        assert_eq!((case.read)(&b, &id), first_value, "{}", case.what);
        assert_eq!(b.version(&id).unwrap(), after_first, "{}", case.what);

        // Something else, edited from the same stale view, goes through.
        let other = &all[(n + 1) % all.len()];
        (other.edit)(&mut b, &id, Some(v), "bob", true).unwrap();
        assert!(
            b.version(&id).unwrap() > after_first,
            "{} then {}",
            case.what,
            other.what
        );
        assert_eq!((case.read)(&a, &id), first_value, "{}", case.what);
    }
}

#[test]
fn the_same_value_is_no_conflict_and_no_base_checks_nothing() {
    let (dir, mut a, inc) = with_incident("Phishing", Severity::P2);
    let id = inc.id;
    let mut b = Store::open(&dir.path().join("w.db")).unwrap();
    let v = a.version(&id).unwrap();
    let title = |t: &str| IncidentPatch {
        title: Some(t.into()),
        ..Default::default()
    };
    a.update_incident_based(&id, &title("Same"), Some(v), "alice", now())
        .unwrap();
    let after = a.version(&id).unwrap();
    // Both wanted the same title: nothing to refuse, nothing written.
    b.update_incident_based(&id, &title("Same"), Some(v), "bob", now())
        .unwrap();
    assert_eq!(b.version(&id).unwrap(), after);
    // Both handed the same role to the same person: the same.
    a.assign_role_based(&id, Role::Ops, "carol", Some(after), "alice", now())
        .unwrap();
    let after = a.version(&id).unwrap();
    let (term, acknowledged) = b
        .assign_role_based(&id, Role::Ops, "carol", Some(v), "bob", now())
        .unwrap();
    assert_eq!(
        (
            term.person.as_str(),
            term.assigned_by.as_str(),
            acknowledged
        ),
        ("carol", "alice", false)
    );
    assert_eq!(b.version(&id).unwrap(), after);
    // Without a base (a script, the watcher) the last write wins, as before.
    b.update_incident(&id, &title("Other"), "bob", now())
        .unwrap();
    assert_eq!(a.incident(&id).unwrap().title, "Other");
}

#[test]
fn a_handover_over_a_changed_holder_names_the_new_holder() {
    let (dir, mut a, inc) = with_incident("Phishing", Severity::P2);
    let id = inc.id;
    a.assign_role(&id, Role::Commander, "alice", "alice", now())
        .unwrap();
    let v = a.version(&id).unwrap();
    let mut b = Store::open(&dir.path().join("w.db")).unwrap();
    a.assign_role_based(&id, Role::Commander, "frank", Some(v), "alice", now())
        .unwrap();
    let e = b
        .assign_role_based(&id, Role::Commander, "grace", Some(v), "bob", now())
        .unwrap_err();
    let StoreError::Conflict(c) = &e else {
        panic!("expected a conflict, got {e}")
    };
    assert_eq!(c.theirs.old.as_deref(), Some("alice"));
    assert_eq!(c.theirs.new.as_deref(), Some("frank"));
    assert!(e.to_string().contains("now \"frank\""), "{e}");
    assert_eq!(holder(&b, &id, Role::Commander), "frank");
}

#[test]
fn a_base_from_the_future_is_refused_and_versions_are_listed() {
    let (_dir, mut a, inc) = with_incident("Phishing", Severity::P2);
    let id = inc.id;
    let v = a.version(&id).unwrap();
    let p = IncidentPatch {
        title: Some("X".into()),
        ..Default::default()
    };
    let e = a
        .update_incident_based(&id, &p, Some(Version(v.0 + 5)), "alice", now())
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref m) if m.contains("newer")),
        "{e}"
    );
    assert_eq!(a.incident(&id).unwrap().title, "Phishing");
    assert_eq!(a.versions().unwrap().get(id.as_str()), Some(&v));
    assert!(matches!(
        a.version(&"INC-2026-999".parse().unwrap()),
        Err(StoreError::IncidentNotFound(_))
    ));
}

#[test]
fn the_detail_carries_the_version_it_was_read_at() {
    let (_dir, mut a, inc) = with_incident("Phishing", Severity::P2);
    let id = inc.id;
    assert_eq!(
        a.detail(&id, Some(1)).unwrap().version,
        a.version(&id).unwrap()
    );
    a.add_note(&id, "looking", "alice", now()).unwrap();
    let d = a.detail(&id, Some(1)).unwrap();
    assert_eq!(
        d.version.0, d.timeline[0].seq,
        "the newest event is the version"
    );
}
