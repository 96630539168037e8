//! The closing gate on open checklist items: held in the store's closing
//! write, so the CLI and the console meet the same refusal.

use super::test_fixtures::{settle_checklist, t0, with_incident};
use super::*;
use crate::domain::playbook::ItemState;
use crate::domain::{Phase, Role, Severity, Status};

fn close() -> IncidentPatch {
    IncidentPatch {
        status: Some(Status::Closed),
        ..Default::default()
    }
}

fn complete_review(s: &mut Store, id: &crate::domain::IncidentId) {
    let review = ReviewPatch {
        root_cause: Some("expired certificate".into()),
        no_action_reason: Some(Some("renewal automated since".into())),
        ..Default::default()
    };
    s.update_review(id, &review, "alice", t0()).unwrap();
}

#[test]
fn open_items_block_closing_and_the_refusal_names_how_many_and_which() {
    // As measured: phase 2 of 6, 14 of 18 items open, a finished review.
    let (_d, mut s, i) = with_incident("db-3 brute force", Severity::P2);
    let phase = IncidentPatch {
        phase: Some(Phase::Triage),
        ..Default::default()
    };
    s.update_incident(&i.id, &phase, "alice", t0()).unwrap();
    complete_review(&mut s, &i.id);
    let all = s.checklist(&i.id).unwrap();
    assert_eq!(all.len(), 18);
    for item in all.iter().take(4) {
        s.set_checklist_item(&i.id, &item.id, ItemState::Done, None, "alice", t0())
            .unwrap();
    }
    let events = s.timeline(i.id.as_str(), None).unwrap().len();

    let err = s
        .update_incident(&i.id, &close(), "alice", t0())
        .unwrap_err();
    let StoreError::Invalid(m) = &err else {
        panic!("not a refusal: {err}")
    };
    assert!(m.contains("cannot be closed"), "{m}");
    assert!(m.contains("14 of 18 checklist items are open"), "{m}");
    for open in &all[4..] {
        assert!(m.contains(&open.id), "{} not named: {m}", open.id);
    }
    assert!(!m.contains(&all[0].id), "a done item is named: {m}");
    assert!(!m.contains("the review"), "the review is complete: {m}");
    // Nothing written.
    assert_eq!(s.incident(&i.id).unwrap().status, Status::Investigating);
    assert_eq!(s.timeline(i.id.as_str(), None).unwrap().len(), events);
    let b = s.close_blockers(&i.id).unwrap();
    assert_eq!((b.open_items.len(), b.items, b.is_clear()), (14, 18, false));
}

#[test]
fn done_or_not_applicable_with_a_reason_settles_every_item() {
    let (_d, mut s, i) = with_incident("phishing", Severity::P3);
    complete_review(&mut s, &i.id);
    let items = s.checklist(&i.id).unwrap();
    // Not applicable needs its reason; without one the item stays open.
    assert!(
        s.set_checklist_item(
            &i.id,
            &items[0].id,
            ItemState::NotApplicable,
            Some(" "),
            "alice",
            t0()
        )
        .is_err()
    );
    s.set_checklist_item(
        &i.id,
        &items[0].id,
        ItemState::NotApplicable,
        Some("no SIEM in this estate"),
        "alice",
        t0(),
    )
    .unwrap();
    for item in &items[1..items.len() - 1] {
        s.set_checklist_item(&i.id, &item.id, ItemState::Done, None, "alice", t0())
            .unwrap();
    }
    let last = &items[items.len() - 1].id;
    let err = s
        .update_incident(&i.id, &close(), "alice", t0())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("1 of 18 checklist items is open: {last}")),
        "{err}"
    );
    s.set_checklist_item(&i.id, last, ItemState::Done, None, "alice", t0())
        .unwrap();
    assert!(s.close_blockers(&i.id).unwrap().is_clear());
    let closed = s.update_incident(&i.id, &close(), "alice", t0()).unwrap();
    assert_eq!(closed.status, Status::Closed);
}

#[test]
fn the_commanders_override_with_a_reason_still_closes_over_open_items() {
    let (_d, mut s, i) = with_incident("lost laptop", Severity::P3);
    complete_review(&mut s, &i.id);
    let mut over = close();
    over.close_override = Some("handed to the insurer's team".into());
    s.assign_role(&i.id, Role::Commander, "carol", "alice", t0())
        .unwrap();
    let err = s.update_incident(&i.id, &over, "alice", t0()).unwrap_err();
    assert!(
        err.to_string()
            .contains("only the commander (carol) may override the checklist gate, not alice"),
        "{err}"
    );
    let closed = s.update_incident(&i.id, &over, "carol", t0()).unwrap();
    assert_eq!(closed.status, Status::Closed);
    let tl = s.timeline(i.id.as_str(), Some(2)).unwrap();
    assert_eq!(tl[1].kind, "review.gate_overridden");
    assert!(
        tl[1].detail.contains("checklist gate overridden"),
        "{}",
        tl[1].detail
    );
    assert!(tl[1].detail.contains("18 of 18 checklist items are open"));
    let data: serde_json::Value = serde_json::from_str(&tl[1].data).unwrap();
    assert_eq!(data["open_items"].as_array().unwrap().len(), 18);
    assert!(s.verify_chain().unwrap().failure.is_none());
}

#[test]
fn settled_items_and_a_complete_review_close_without_an_override() {
    let (_d, mut s, i) = with_incident("tls expiry", Severity::P4);
    complete_review(&mut s, &i.id);
    settle_checklist(&mut s, &i.id, t0());
    let closed = s.update_incident(&i.id, &close(), "bob", t0()).unwrap();
    assert_eq!(closed.status, Status::Closed);
    let kinds: Vec<String> = s
        .timeline(i.id.as_str(), None)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(!kinds.iter().any(|k| k == "review.gate_overridden"));
}
