//! Based edits on the store worker: one console's edit over a version
//! another connection has moved past comes back as a conflict, not a
//! silent overwrite; keeping mine over their version then goes through.

use std::path::{Path, PathBuf};

use super::*;
use crate::domain::Severity;
use crate::domain::roles::Role;
use crate::domain::version::Version;
use crate::store::{IncidentPatch, NewIncident};
use crate::tui::testkit::now;

/// Runs `effects` on a worker acting as `actor` over `db`, to the end,
/// and returns what it answered.
fn run(dir: &Path, db: &Path, actor: &str, effects: Vec<Effect>) -> Vec<Action> {
    let store = Store::open(db).unwrap();
    let env = WorkerEnv {
        playbook: Playbook::builtin(),
        policy: Policy::builtin(),
        templates: Arc::new(Templates::builtin()),
        comms: CommsConfig::builtin(dir),
        db: db.to_path_buf(),
        actor: actor.to_string(),
    };
    let (tx, rx) = std_mpsc::channel();
    let (to_ui, mut from_worker) = mpsc::unbounded_channel();
    for e in effects {
        tx.send(e).unwrap();
    }
    tx.send(Effect::Quit).unwrap();
    worker_loop(store, env, false, rx, to_ui);
    let mut out = Vec::new();
    while let Ok(a) = from_worker.try_recv() {
        out.push(a);
    }
    out
}

/// A P2 "DB down" declared by `by` in a new database file: its directory,
/// its path, `by`'s connection and the incident.
fn declared(by: &str) -> (tempfile::TempDir, PathBuf, Store, crate::domain::Incident) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut store = Store::open(&db).unwrap();
    let i = store
        .create_incident(
            &NewIncident::new("DB down", Severity::P2),
            &Playbook::builtin(),
            by,
            now(),
        )
        .unwrap();
    (dir, db, store, i)
}

fn title(id: &IncidentId, t: &str) -> Effect {
    Effect::Update(
        id.clone(),
        Box::new(IncidentPatch {
            title: Some(t.into()),
            ..IncidentPatch::default()
        }),
    )
}

fn conflicts(actions: &[Action]) -> Vec<(&crate::domain::version::Conflict, &Effect)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Conflict(c, mine) => Some((c.as_ref(), mine.as_ref())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_based_edit_over_a_stale_version_comes_back_as_a_conflict_and_keep_mine_wins() {
    let (dir, db, mut alice, i) = declared("alice");
    // Bob's console read the incident here...
    let seen = alice.version(&i.id).unwrap();
    // ...then alice renamed it from another connection.
    let patch = IncidentPatch {
        title: Some("DB down (alice)".into()),
        ..IncidentPatch::default()
    };
    alice
        .update_incident(&i.id, &patch, "alice", now())
        .unwrap();

    let answered = run(
        dir.path(),
        &db,
        "bob",
        vec![Effect::based(seen, title(&i.id, "DB down (bob)"))],
    );
    let found = conflicts(&answered);
    assert_eq!(found.len(), 1, "{answered:?}");
    let (c, mine) = found[0];
    assert_eq!(c.field, "title");
    assert_eq!(c.theirs.actor, "alice");
    assert_eq!(c.theirs.new.as_deref(), Some("DB down (alice)"));
    assert_eq!(c.mine.as_deref(), Some("DB down (bob)"));
    assert!(matches!(mine, Effect::Update(_, p) if p.title.as_deref() == Some("DB down (bob)")));
    // Refused: nothing written, and the view is reloaded with theirs.
    assert!(!answered.iter().any(|a| matches!(a, Action::Saved(_))));
    assert!(
        answered
            .iter()
            .any(|a| matches!(a, Action::DetailLoaded(d) if d.incident.title == "DB down (alice)"))
    );
    assert_eq!(alice.incident(&i.id).unwrap().title, "DB down (alice)");

    // Keep mine: the same edit based on their change goes through.
    let keep = Effect::based(Version(c.theirs.seq), mine.clone());
    let answered = run(dir.path(), &db, "bob", vec![keep]);
    assert!(conflicts(&answered).is_empty(), "{answered:?}");
    assert!(answered.iter().any(|a| matches!(a, Action::Saved(_))));
    assert_eq!(alice.incident(&i.id).unwrap().title, "DB down (bob)");
}

#[test]
fn a_based_edit_of_something_else_changed_meanwhile_goes_through() {
    let (dir, db, mut alice, i) = declared("alice");
    let seen = alice.version(&i.id).unwrap();
    let patch = IncidentPatch {
        severity: Some(Severity::P1),
        ..IncidentPatch::default()
    };
    alice
        .update_incident(&i.id, &patch, "alice", now())
        .unwrap();
    let answered = run(
        dir.path(),
        &db,
        "bob",
        vec![Effect::based(seen, title(&i.id, "DB down (bob)"))],
    );
    assert!(conflicts(&answered).is_empty(), "{answered:?}");
    let i = alice.incident(&i.id).unwrap();
    assert_eq!(
        (i.title.as_str(), i.severity),
        ("DB down (bob)", Severity::P1)
    );
}

#[test]
fn a_handover_over_a_holder_changed_meanwhile_is_asked_about_first() {
    let (dir, db, mut carol, i) = declared("carol");
    carol
        .assign_role(&i.id, Role::Commander, "carol", "carol", now())
        .unwrap();
    let seen = carol.version(&i.id).unwrap();
    carol
        .assign_role(&i.id, Role::Commander, "bob", "carol", now())
        .unwrap();
    let to_dave = Effect::Assign {
        id: i.id.clone(),
        role: Role::Commander,
        person: "dave".into(),
    };
    let answered = run(dir.path(), &db, "erin", vec![Effect::based(seen, to_dave)]);
    let found = conflicts(&answered);
    assert_eq!(found.len(), 1, "{answered:?}");
    let (c, _) = found[0];
    assert_eq!(c.field, "role:commander");
    assert_eq!(c.theirs.new.as_deref(), Some("bob"));
    assert_eq!(c.theirs.actor, "carol");
    assert_eq!(c.mine.as_deref(), Some("dave"));
    let d = carol.detail(&i.id, None).unwrap();
    assert_eq!(
        d.holder(Role::Commander).map(|h| h.person.as_str()),
        Some("bob")
    );
}

#[test]
fn a_second_key_sent_before_the_first_reload_follows_this_consoles_own_edit() {
    let (dir, db, mut other, i) = declared("bob");
    let seen = other.version(&i.id).unwrap();
    let item = |state| Effect::SetItem {
        id: i.id.clone(),
        item: "detect.siem".into(),
        state,
        reason: None,
    };
    // Space twice: both built on the same view.
    let answered = run(
        dir.path(),
        &db,
        "bob",
        vec![
            Effect::based(seen, item(crate::domain::playbook::ItemState::Done)),
            Effect::based(seen, item(crate::domain::playbook::ItemState::Open)),
        ],
    );
    assert!(conflicts(&answered).is_empty(), "{answered:?}");
    let d = other.detail(&i.id, None).unwrap();
    let siem = d.checklist.iter().find(|c| c.id == "detect.siem").unwrap();
    assert_eq!(siem.state, crate::domain::playbook::ItemState::Open);

    // The same user's change from another console is still a conflict.
    let seen = other.version(&i.id).unwrap();
    let patch = IncidentPatch {
        title: Some("DB down (bob, laptop)".into()),
        ..IncidentPatch::default()
    };
    other.update_incident(&i.id, &patch, "bob", now()).unwrap();
    let answered = run(
        dir.path(),
        &db,
        "bob",
        vec![Effect::based(seen, title(&i.id, "DB down (bob, desk)"))],
    );
    assert_eq!(conflicts(&answered).len(), 1, "{answered:?}");
}

#[test]
fn a_review_text_changed_meanwhile_comes_back_as_a_conflict_with_its_draft() {
    use crate::store::ReviewPatch;
    use crate::tui::records::RecordsEffect;
    let (dir, db, mut alice, i) = declared("alice");
    let seen = alice.version(&i.id).unwrap();
    let theirs = ReviewPatch {
        root_cause: Some("expired certificate".into()),
        ..ReviewPatch::default()
    };
    alice.update_review(&i.id, &theirs, "alice", now()).unwrap();
    let mine = RecordsEffect::UpdateReview {
        id: i.id.clone(),
        patch: ReviewPatch {
            root_cause: Some("a full disk".into()),
            ..ReviewPatch::default()
        },
        draft: Some("review:root_cause".into()),
    };
    let answered = run(
        dir.path(),
        &db,
        "bob",
        vec![Effect::based(seen, crate::tui::effect::boxed(mine))],
    );
    let found = conflicts(&answered);
    assert_eq!(found.len(), 1, "{answered:?}");
    let (c, back) = found[0];
    assert_eq!(c.field, "review:root_cause");
    assert_eq!(c.theirs.actor, "alice");
    assert!(matches!(back, Effect::Records(r) if matches!(r.as_ref(),
        RecordsEffect::UpdateReview { draft: Some(d), .. } if d == "review:root_cause")));
    assert!(!answered.iter().any(|a| matches!(a, Action::Records(r)
        if matches!(r.as_ref(), crate::tui::records::RecordsLoaded::Done { .. }))));
    let review = alice.review(&i.id).unwrap();
    assert_eq!(review.root_cause, "expired certificate");
}

#[test]
fn closing_over_a_status_changed_meanwhile_comes_back_as_a_conflict() {
    use crate::domain::Status;
    let (dir, db, mut alice, i) = declared("alice");
    // Bob commands: his override passes the gate; the status check remains.
    alice
        .assign_role(&i.id, Role::Commander, "bob", "alice", now())
        .unwrap();
    let seen = alice.version(&i.id).unwrap();
    let patch = IncidentPatch {
        status: Some(Status::Contained),
        ..IncidentPatch::default()
    };
    alice
        .update_incident(&i.id, &patch, "alice", now())
        .unwrap();
    let close = crate::tui::effect::close(i.id.clone(), Some("drill, nothing to review".into()));
    let answered = run(dir.path(), &db, "bob", vec![Effect::based(seen, close)]);
    let found = conflicts(&answered);
    assert_eq!(found.len(), 1, "{answered:?}");
    assert_eq!(found[0].0.field, "status");
    assert_eq!(alice.incident(&i.id).unwrap().status, Status::Contained);
}
