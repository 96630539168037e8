//! `update()` tests of the evidence, review, closing gate, report and
//! metrics screens: keys in, state and effects out, with a fixed clock and
//! data read from a real SQLite file.

use chrono::{Duration, FixedOffset};
use crossterm::event::{KeyCode, KeyEvent};

use super::*;
use crate::domain::evidence::EvidenceKind;
use crate::domain::review::ActionStatus;
use crate::domain::{Policy, Severity};
use crate::store::{NewIncident, Store};
use crate::tui::action::Action;
use crate::tui::kit::fields::state::FieldsDialog;
use crate::tui::records::*;
use crate::tui::screens::evidence::state::EvidenceAsk;
use crate::tui::screens::review::state::ReviewAsk;
use crate::tui::screens::review::state::{self as review, ReviewField};
use crate::tui::shell::app::{App, Modal};
use crate::tui::shell::keymap::{Command, Context};
use crate::tui::shell::router::{Effect, update};
use crate::tui::shell::stack::Screen;
use crate::tui::testkit::{cmd, now, typed};

pub(super) fn records(app: &mut App, r: RecordsLoaded) -> Vec<Effect> {
    update(app, Action::Records(Box::new(r)), now())
}

/// The records effects among `fx` (a review edit's base taken off).
pub(super) fn recs(fx: &[Effect]) -> Vec<&RecordsEffect> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Records(r) => Some(r.as_ref()),
            Effect::Based { effect, .. } => match effect.as_ref() {
                Effect::Records(r) => Some(r.as_ref()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

pub(super) fn dialog(app: &App) -> &FieldsDialog {
    match &app.modal {
        Some(Modal::Fields(d)) => d,
        other => panic!("no dialog: {other:?}"),
    }
}

/// A store with one P2 ("Web shell", declared an hour ago) and an app
/// (acting as alice) with it open.
pub(super) fn with_incident() -> (App, Store, IncidentId, tempfile::TempDir) {
    let new = NewIncident::new("Web shell", Severity::P2);
    let app = App::new("alice", Policy::builtin(), true);
    crate::tui::testkit::with_incident(&new, now() - Duration::hours(1), app)
}

pub(super) fn evidence_loaded(store: &Store, id: &IncidentId) -> RecordsLoaded {
    RecordsLoaded::Evidence {
        id: id.clone(),
        items: store.evidence(id).unwrap(),
        custody: store.custody(id).unwrap(),
        hold: store.legal_hold(id).unwrap(),
    }
}

#[test]
fn opening_the_evidence_list_records_one_access_and_ticks_only_poll() {
    let (mut app, mut store, id, _dir) = with_incident();
    let fx = cmd(&mut app, Command::OpenEvidence);
    assert_eq!(app.stack.screen(), Screen::Evidence);
    assert_eq!(app.focus(), Context::Evidence);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::LoadEvidence { access: true, .. }]
    ));
    store
        .add_evidence(
            &id,
            &crate::store::NewEvidence {
                content: crate::store::EvidenceContent::Note("seen".into()),
                description: String::new(),
                source_host: "h".into(),
                tz: FixedOffset::east_opt(0).unwrap(),
            },
            "bob",
            now(),
        )
        .unwrap();
    records(&mut app, evidence_loaded(&store, &id));
    assert_eq!(
        app.stack
            .evidence()
            .unwrap()
            .data
            .as_ref()
            .unwrap()
            .items
            .len(),
        1
    );
    // Redraws and ticks never record another access: they only poll.
    for _ in 0..3 {
        let fx = update(&mut app, Action::Tick, now());
        for r in recs(&fx) {
            assert!(
                matches!(
                    r,
                    RecordsEffect::Poll {
                        evidence: Some(_),
                        ..
                    }
                ),
                "{r:?}"
            );
        }
    }
    // Esc goes back to the incident; opening again is a new access.
    cmd(&mut app, Command::Back);
    assert_eq!(app.stack.screen(), Screen::Incident);
    assert!(app.stack.evidence().is_none());
    let fx = cmd(&mut app, Command::OpenEvidence);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::LoadEvidence { access: true, .. }]
    ));
}

#[test]
fn adding_evidence_validates_keeps_a_draft_and_drops_it_once_stored() {
    let (mut app, store, id, _dir) = with_incident();
    cmd(&mut app, Command::OpenEvidence);
    records(&mut app, evidence_loaded(&store, &id));
    cmd(&mut app, Command::AddEvidence);
    assert_eq!(app.focus(), Context::Fields);
    // Nothing typed: refused in the dialog.
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    assert!(dialog(&app).error.as_deref().unwrap().contains("required"));
    // An excerpt: kind chosen by its initial, lines pasted with newlines.
    cmd(&mut app, Command::PrevField);
    typed(&mut app, "e");
    assert_eq!(dialog(&app).fields[1].label, "Log lines");
    cmd(&mut app, Command::NextField);
    update(
        &mut app,
        Action::Paste("line one\nline two\n".into()),
        now(),
    );
    cmd(&mut app, Command::NextField);
    typed(&mut app, "/var/log/auth.log");
    // The tick saves the draft.
    let fx = update(&mut app, Action::Tick, now());
    let key = format!("evidence:{id}:add");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveDraft { key: k, .. } if *k == key))
    );
    let fx = cmd(&mut app, Command::Submit);
    assert!(app.modal.is_none());
    match recs(&fx)[..] {
        [RecordsEffect::AddEvidence { spec, draft, .. }] => {
            assert_eq!(spec.kind, EvidenceKind::Excerpt);
            assert_eq!(spec.content, "line one\nline two\n");
            assert_eq!(spec.source_path.as_deref(), Some("/var/log/auth.log"));
            assert_eq!(draft.as_deref(), Some(key.as_str()));
        }
        ref other => panic!("{other:?}"),
    }
    // Until the store confirms, the draft stays (a failed write loses nothing).
    assert!(app.drafts.contains_key(&key));
    records(
        &mut app,
        RecordsLoaded::Done {
            message: "stored".into(),
            error: false,
            drop_draft: Some(key.clone()),
        },
    );
    assert!(!app.drafts.contains_key(&key));
}

#[test]
fn transfer_hold_and_export_need_their_fields() {
    let (mut app, mut store, id, _dir) = with_incident();
    store
        .add_evidence(
            &id,
            &crate::store::NewEvidence {
                content: crate::store::EvidenceContent::Note("n".into()),
                description: String::new(),
                source_host: "h".into(),
                tz: FixedOffset::east_opt(0).unwrap(),
            },
            "bob",
            now(),
        )
        .unwrap();
    cmd(&mut app, Command::OpenEvidence);
    records(&mut app, evidence_loaded(&store, &id));

    cmd(&mut app, Command::TransferEvidence);
    typed(&mut app, "forensics-lab");
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    assert!(dialog(&app).error.as_deref().unwrap().contains("purpose"));
    cmd(&mut app, Command::NextField);
    typed(&mut app, "imaging");
    let fx = cmd(&mut app, Command::Submit);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::TransferEvidence { item: 1, to, purpose, .. }] if to == "forensics-lab" && purpose == "imaging"
    ));

    // No hold yet: h sets one, and a reason is required.
    cmd(&mut app, Command::LegalHold);
    assert_eq!(
        dialog(&app).purpose::<EvidenceAsk>(),
        Some(&EvidenceAsk::SetHold)
    );
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    typed(&mut app, "litigation");
    let fx = cmd(&mut app, Command::Submit);
    assert!(
        matches!(recs(&fx)[..], [RecordsEffect::SetHold { reason, .. }] if reason == "litigation")
    );
    // Held: h lifts it.
    store
        .set_legal_hold(&id, "litigation", "alice", now())
        .unwrap();
    records(&mut app, evidence_loaded(&store, &id));
    cmd(&mut app, Command::LegalHold);
    assert_eq!(
        dialog(&app).purpose::<EvidenceAsk>(),
        Some(&EvidenceAsk::ReleaseHold)
    );
    assert!(dialog(&app).note[0].contains("litigation"));
    cmd(&mut app, Command::Cancel);

    // Export proposes a directory named after the incident.
    cmd(&mut app, Command::ExportEvidence);
    assert_eq!(dialog(&app).text(0), format!("{id}-evidence"));
    assert!(dialog(&app).note.iter().any(|n| n.contains("LEGAL HOLD")));
    let fx = cmd(&mut app, Command::Submit);
    assert!(
        matches!(recs(&fx)[..], [RecordsEffect::ExportEvidence { out, .. }] if out.ends_with(format!("{id}-evidence")))
    );

    let fx = cmd(&mut app, Command::VerifyEvidence);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::VerifyEvidence { .. }]
    ));
}

pub(super) fn review_app() -> (App, Store, IncidentId, tempfile::TempDir) {
    let (mut app, store, id, dir) = with_incident();
    let fx = cmd(&mut app, Command::OpenReview);
    assert!(matches!(recs(&fx)[..], [RecordsEffect::LoadReview { .. }]));
    assert_eq!(app.focus(), Context::Review);
    records(
        &mut app,
        RecordsLoaded::Review {
            id: id.clone(),
            review: store.review(&id).unwrap(),
        },
    );
    (app, store, id, dir)
}

pub(super) fn patch_of(fx: &[Effect]) -> crate::store::ReviewPatch {
    match recs(fx)[..] {
        [RecordsEffect::UpdateReview { patch, .. }] => patch.clone(),
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn the_five_whys_are_edited_one_field_at_a_time() {
    let (mut app, _store, id, _dir) = review_app();
    // Statement first.
    cmd(&mut app, Command::Edit);
    typed(&mut app, "Shell uploaded via plugin");
    let fx = cmd(&mut app, Command::Submit);
    assert_eq!(
        patch_of(&fx).statement.as_deref(),
        Some("Shell uploaded via plugin")
    );
    // Edits show at once.
    let r = app.stack.review().unwrap().review.clone().unwrap();
    assert_eq!(r.statement, "Shell uploaded via plugin");
    // The empty "Why 1" slot appends a why; a second slot appears.
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Edit);
    typed(&mut app, "plugin unpatched");
    let fx = cmd(&mut app, Command::Submit);
    assert_eq!(
        patch_of(&fx).whys,
        Some(vec!["plugin unpatched".to_string()])
    );
    let r = app.stack.review().unwrap().review.clone().unwrap();
    assert_eq!(review::rows(&r).len(), 1 + 2 + 4 + 1);
    // Emptying a why removes it.
    cmd(&mut app, Command::Edit);
    for _ in "plugin unpatched".chars() {
        update(
            &mut app,
            Action::Input(KeyEvent::from(KeyCode::Backspace)),
            now(),
        );
    }
    let fx = cmd(&mut app, Command::Submit);
    assert_eq!(patch_of(&fx).whys, Some(vec![]));
    // "No action" (the last row): empty clears it, text sets it.
    cmd(&mut app, Command::Bottom);
    cmd(&mut app, Command::Edit);
    assert!(matches!(
        dialog(&app).purpose::<ReviewAsk>(),
        Some(ReviewAsk::ReviewText {
            field: ReviewField::NoAction
        })
    ));
    typed(&mut app, "one-off misconfiguration, fixed");
    let fx = cmd(&mut app, Command::Submit);
    assert_eq!(
        patch_of(&fx).no_action_reason,
        Some(Some("one-off misconfiguration, fixed".into()))
    );
    let _ = id;
}

/// A key as the console resolves it: through the keymap where the focus is.
fn press(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    match crate::tui::action::resolve(app.focus(), key) {
        Some(a) => update(app, a, now()),
        None => Vec::new(),
    }
}

#[test]
fn a_review_text_takes_several_lines_enter_a_newline_ctrl_s_saves() {
    let (mut app, _store, id, _dir) = review_app();
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down); // Root cause
    cmd(&mut app, Command::Edit);
    assert_eq!(app.focus(), Context::Lines);
    typed(&mut app, "no limit");
    assert!(press(&mut app, KeyEvent::from(KeyCode::Enter)).is_empty());
    typed(&mut app, "no alert");
    assert_eq!(
        dialog(&app).text(0),
        "no limit\nno alert",
        "Enter made a line"
    );
    // Esc keeps the draft, newlines and all; it comes back whole.
    let fx = press(&mut app, KeyEvent::from(KeyCode::Esc));
    let key = format!("review:{id}:root-cause");
    assert!(fx.iter().any(
        |e| matches!(e, Effect::SaveDraft { key: k, body } if *k == key && body.contains("no limit\\nno alert"))
    ));
    assert!(app.modal.is_none());
    cmd(&mut app, Command::Edit);
    assert_eq!(dialog(&app).text(0), "no limit\nno alert");
    typed(&mut app, ".");
    let ctrl_s = KeyEvent::new(KeyCode::Char('s'), crossterm::event::KeyModifiers::CONTROL);
    let fx = press(&mut app, ctrl_s);
    assert_eq!(
        patch_of(&fx).root_cause.as_deref(),
        Some("no limit\nno alert."),
        "Ctrl-S saved the text with its newline"
    );
    assert!(app.modal.is_none());
}

#[test]
fn a_review_edit_closed_with_esc_is_kept_and_restored() {
    let (mut app, _store, id, _dir) = review_app();
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down); // Root cause (no whys yet: one slot)
    cmd(&mut app, Command::Edit);
    typed(&mut app, "no per-account limit");
    let fx = cmd(&mut app, Command::Cancel);
    let key = format!("review:{id}:root-cause");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveDraft { key: k, .. } if *k == key))
    );
    assert!(app.modal.is_none());
    // Quitting now asks (a draft is saved); staying, the edit comes back.
    assert!(cmd(&mut app, Command::Quit).is_empty());
    assert!(app.confirm_quit);
    cmd(&mut app, Command::ConfirmNo);
    cmd(&mut app, Command::Edit);
    assert_eq!(dialog(&app).text(0), "no per-account limit");
    assert!(dialog(&app).restored);
}

#[test]
fn corrective_actions_are_added_done_and_dropped_with_a_reason() {
    let (mut app, mut store, id, _dir) = review_app();
    cmd(&mut app, Command::AddAction);
    typed(&mut app, "Patch plugins weekly");
    cmd(&mut app, Command::NextField);
    typed(&mut app, "ops");
    cmd(&mut app, Command::NextField);
    typed(&mut app, "2026-02-30");
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    assert!(
        dialog(&app)
            .error
            .as_deref()
            .unwrap()
            .contains("not a date")
    );
    for _ in 0..2 {
        update(
            &mut app,
            Action::Input(KeyEvent::from(KeyCode::Backspace)),
            now(),
        );
    }
    typed(&mut app, "28");
    let fx = cmd(&mut app, Command::Submit);
    match recs(&fx)[..] {
        [RecordsEffect::AddAction { new, draft, .. }] => {
            assert_eq!(new.description, "Patch plugins weekly");
            assert_eq!(new.owner, "ops");
            assert_eq!(new.due, chrono::NaiveDate::from_ymd_opt(2026, 2, 28));
            assert_eq!(
                draft.as_deref(),
                Some(format!("review:{id}:new-action").as_str())
            );
        }
        ref other => panic!("{other:?}"),
    }
    // The store's answer lists it; select it (after the learning rows).
    let new = crate::store::NewAction {
        description: "Patch plugins weekly".into(),
        owner: "ops".into(),
        due: None,
    };
    store.add_action(&id, &new, "alice", now()).unwrap();
    records(
        &mut app,
        RecordsLoaded::Review {
            id: id.clone(),
            review: store.review(&id).unwrap(),
        },
    );
    // d on a field row asks for an action.
    cmd(&mut app, Command::Top);
    assert!(recs(&cmd(&mut app, Command::ActionDone)).is_empty());
    assert!(app.message.as_ref().unwrap().error);
    cmd(&mut app, Command::Bottom);
    cmd(&mut app, Command::Up);
    let fx = cmd(&mut app, Command::ActionDone);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::SetActionStatus {
            action: 1,
            status: ActionStatus::Done,
            reason: None,
            ..
        }]
    ));
    let r = app.stack.review().unwrap().review.as_ref().unwrap();
    assert_eq!(r.actions[0].status, ActionStatus::Done);
    // Dropping asks why.
    cmd(&mut app, Command::ActionDrop);
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    typed(&mut app, "superseded by WAF rule");
    let fx = cmd(&mut app, Command::Submit);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::SetActionStatus { status: ActionStatus::Dropped, reason: Some(r), .. }] if r == "superseded by WAF rule"
    ));
}
