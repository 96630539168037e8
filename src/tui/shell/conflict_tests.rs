//! The conflict dialog in the console: a refused edit takes the focus over
//! any screen, and each choice sends what it says; a dialog's edit is
//! based on the version it was opened at, not on a view reloaded since.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::domain::Policy;
use crate::domain::Severity;
use crate::store::{IncidentPatch, NewIncident};
use crate::tui::action::Action;
use crate::tui::command::Context;
use crate::tui::shell::router::update;
use crate::tui::testkit::{cmd, now, typed};

fn opened() -> (App, crate::store::Store, IncidentId, tempfile::TempDir) {
    let new = NewIncident::new("DB down", Severity::P2);
    crate::tui::testkit::with_incident(&new, now(), App::new("bob", Policy::builtin(), true))
}

fn retitle(store: &mut crate::store::Store, id: &IncidentId, title: &str, by: &str) {
    let patch = IncidentPatch {
        title: Some(title.into()),
        ..IncidentPatch::default()
    };
    store.update_incident(id, &patch, by, now()).unwrap();
}

/// Bob's title edit, begun before alice's rename and sent after it.
fn bobs_late_title(app: &mut App, store: &mut crate::store::Store, id: &IncidentId) -> Effect {
    cmd(app, Command::EditTitle);
    retitle(store, id, "DB down (alice)", "alice");
    // The poll reloads the view while bob is still typing.
    let d = store.detail(id, None).unwrap();
    update(app, Action::DetailLoaded(Box::new(d)), now());
    typed(app, " (bob)");
    let mut fx = cmd(app, Command::Submit);
    fx.retain(|e| matches!(e, Effect::Based { .. }));
    assert_eq!(fx.len(), 1, "{fx:?}");
    fx.remove(0)
}

/// What the store says to `e`, as the worker would run it for bob.
fn refused(store: &mut crate::store::Store, e: Effect) -> (Conflict, Effect) {
    let (mine, base) = e.unbased();
    let Effect::Update(id, patch) = &mine else {
        panic!("{mine:?}")
    };
    match store.update_incident_based(id, patch, base, "bob", now()) {
        Err(crate::store::StoreError::Conflict(c)) => (*c, mine),
        other => panic!("expected a conflict: {other:?}"),
    }
}

#[test]
fn a_dialogs_edit_is_based_on_the_version_it_was_opened_at() {
    let (mut app, mut store, id, _dir) = opened();
    let before = store.version(&id).unwrap();
    let Effect::Based { base, .. } = bobs_late_title(&mut app, &mut store, &id) else {
        unreachable!()
    };
    assert_eq!(base, before);
    assert!(app.conflict.dialog_base.is_none(), "forgotten once closed");
}

#[test]
fn the_conflict_takes_the_focus_and_keep_mine_sends_mine_over_theirs() {
    let (mut app, mut store, id, _dir) = opened();
    let sent = bobs_late_title(&mut app, &mut store, &id);
    let (c, mine) = refused(&mut store, sent);
    let theirs = c.theirs.seq;
    update(
        &mut app,
        Action::Conflict(Box::new(c), Box::new(mine)),
        now(),
    );
    assert_eq!(app.focus(), Context::Conflict);
    // Keys never reach the screen under it.
    assert!(cmd(&mut app, Command::Up).is_empty());
    let fx = cmd(&mut app, Command::KeepMine);
    let (e, base) = fx[0].clone().unbased();
    assert_eq!(base, Some(Version(theirs)));
    assert!(matches!(e, Effect::Update(_, p) if p.title.as_deref() == Some("DB down (bob)")));
    assert!(matches!(&fx[1..], [Effect::LoadDetail(i)] if *i == id));
    assert_ne!(app.focus(), Context::Conflict);
}

#[test]
fn take_theirs_sends_no_edit_and_esc_means_take_theirs() {
    let (mut app, mut store, id, _dir) = opened();
    let sent = bobs_late_title(&mut app, &mut store, &id);
    let (c, mine) = refused(&mut store, sent);
    update(
        &mut app,
        Action::Conflict(Box::new(c), Box::new(mine)),
        now(),
    );
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    let action = crate::tui::action::resolve(app.focus(), esc).expect("Esc is bound");
    let fx = update(&mut app, action, now());
    assert!(matches!(&fx[..], [Effect::LoadDetail(_)]), "{fx:?}");
    assert!(app.conflict.shown().is_none());
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("alice"))
    );
}

#[test]
fn merging_by_hand_types_into_the_dialog_and_sends_the_merge() {
    let (mut app, mut store, id, _dir) = opened();
    let sent = bobs_late_title(&mut app, &mut store, &id);
    let (c, mine) = refused(&mut store, sent);
    update(
        &mut app,
        Action::Conflict(Box::new(c), Box::new(mine)),
        now(),
    );
    cmd(&mut app, Command::MergeByHand);
    assert_eq!(app.focus(), Context::ConflictMerge);
    // 'k' and 't' are text here, not keep/take.
    let k = KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE);
    assert!(matches!(
        crate::tui::action::resolve(app.focus(), k),
        Some(Action::Input(_))
    ));
    typed(&mut app, " + alice");
    update(&mut app, Action::Paste("\nok".into()), now());
    let fx = cmd(&mut app, Command::Submit);
    let (e, _) = fx[0].clone().unbased();
    assert!(
        matches!(&e, Effect::Update(_, p) if p.title.as_deref() == Some("DB down (bob) + alice ok")),
        "{e:?}"
    );
}

#[test]
fn a_review_edit_is_based_on_the_version_its_dialog_was_opened_at() {
    use crate::tui::records::{RecordsEffect, RecordsLoaded};
    let (mut app, mut store, id, _dir) = opened();
    cmd(&mut app, Command::OpenReview);
    let review = store.review(&id).unwrap();
    update(
        &mut app,
        Action::Records(Box::new(RecordsLoaded::Review {
            id: id.clone(),
            review,
        })),
        now(),
    );
    let before = store.version(&id).unwrap();
    cmd(&mut app, Command::Edit);
    // Someone renames the incident meanwhile; the view under the review
    // reloads.
    retitle(&mut store, &id, "DB down (alice)", "alice");
    let d = store.detail(&id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(d)), now());
    typed(&mut app, "Shell uploaded via plugin");
    let fx = cmd(&mut app, Command::Submit);
    let based: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Based { base, effect } => match effect.as_ref() {
                Effect::Records(r) => match r.as_ref() {
                    RecordsEffect::UpdateReview { patch, .. } => Some((*base, patch.clone())),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(based.len(), 1, "{fx:?}");
    assert_eq!(based[0].0, before);
    assert_eq!(
        based[0].1.statement.as_deref(),
        Some("Shell uploaded via plugin")
    );
}

#[test]
fn quitting_with_a_refused_edit_waiting_asks_first() {
    let (mut app, mut store, id, _dir) = opened();
    let sent = bobs_late_title(&mut app, &mut store, &id);
    let (c, mine) = refused(&mut store, sent);
    update(
        &mut app,
        Action::Conflict(Box::new(c), Box::new(mine)),
        now(),
    );
    assert!(cmd(&mut app, Command::Quit).is_empty());
    assert!(app.confirm_quit && !app.quit);
    assert!(unsaved(&app).is_some_and(|s| s.contains("title edit met alice's change")));
    // No: the dialog is still there.
    cmd(&mut app, Command::ConfirmNo);
    assert_eq!(app.focus(), Context::Conflict);
}
