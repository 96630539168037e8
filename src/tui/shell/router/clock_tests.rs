//! `update()` tests of the clock keys: acknowledging, and lowering the
//! severity after a breach (the reason dialog, and the store's refusal
//! bringing the choice back).

use chrono::Duration;

use super::*;
use crate::domain::{Policy, Severity};
use crate::store::NewIncident;
use crate::tui::screens::incident::state::TextKind;
use crate::tui::testkit::{cmd, now, typed};

/// A P1 declared two hours before `now()` (its response clock breached),
/// open in the incident view.
fn breached_p1() -> (App, tempfile::TempDir) {
    let new = NewIncident::new("DB down", Severity::P1);
    let app = App::new("alice", Policy::builtin(), true);
    let (app, _store, _id, dir) =
        crate::tui::testkit::with_incident(&new, now() - Duration::hours(2), app);
    (app, dir)
}

fn choose_severity(app: &mut App, downs: usize) -> Vec<Effect> {
    cmd(app, Command::SetSeverity);
    for _ in 0..downs {
        cmd(app, Command::Down);
    }
    cmd(app, Command::Submit)
}

#[test]
fn ack_key_asks_the_store_from_the_board_and_the_incident_view() {
    let (mut app, _dir) = breached_p1();
    let id = app.detail().unwrap().incident.id.clone();
    let fx = cmd(&mut app, Command::Acknowledge);
    assert!(
        matches!(&fx[..], [Effect::Acknowledge(i)] if *i == id),
        "{fx:?}"
    );
    cmd(&mut app, Command::Back);
    let fx = cmd(&mut app, Command::Acknowledge);
    assert!(
        matches!(&fx[..], [Effect::Acknowledge(i)] if *i == id),
        "{fx:?}"
    );
}

#[test]
fn lowering_after_a_breach_asks_why_and_sends_the_reason() {
    let (mut app, _dir) = breached_p1();
    // P1 -> P3: nothing is written yet, the reason dialog opens.
    let fx = choose_severity(&mut app, 2);
    assert!(fx.is_empty(), "{fx:?}");
    let Some(Modal::Text(t)) = &app.modal else {
        panic!("no reason dialog: {:?}", app.modal)
    };
    assert_eq!(t.kind, TextKind::DowngradeReason { to: Severity::P3 });
    assert_eq!(app.detail().unwrap().incident.severity, Severity::P1);

    // An empty reason is refused in the dialog, which stays open.
    let fx = cmd(&mut app, Command::Submit);
    assert!(fx.is_empty());
    assert!(matches!(&app.modal, Some(Modal::Text(t)) if t.error.is_some()));

    typed(&mut app, "scope was one test host");
    let fx = cmd(&mut app, Command::Submit);
    let patch = fx
        .iter()
        .find_map(|e| match e {
            Effect::Update(_, p) => Some(p),
            _ => None,
        })
        .expect("update effect");
    assert_eq!(patch.severity, Some(Severity::P3));
    assert_eq!(patch.reason.as_deref(), Some("scope was one test host"));
    assert_eq!(app.detail().unwrap().incident.severity, Severity::P3);
}

#[test]
fn raising_after_a_breach_needs_no_reason() {
    let new = NewIncident::new("DB down", Severity::P2);
    let (mut app, _store, _id, _dir) = crate::tui::testkit::with_incident(
        &new,
        now() - Duration::hours(5),
        App::new("alice", Policy::builtin(), true),
    );
    cmd(&mut app, Command::SetSeverity);
    cmd(&mut app, Command::Up);
    let fx = cmd(&mut app, Command::Submit);
    assert!(
        matches!(&fx[..], [Effect::Update(_, p)] if p.severity == Some(Severity::P1) && p.reason.is_none()),
        "{fx:?}"
    );
    assert!(app.modal.is_none());
}

#[test]
fn a_refused_downgrade_comes_back_in_the_reason_dialog() {
    let (mut app, _dir) = breached_p1();
    let id = app.detail().unwrap().incident.id.clone();
    update(
        &mut app,
        Action::DowngradeRefused {
            id: id.clone(),
            to: Severity::P4,
            message: "lowering needs a reason".into(),
        },
        now(),
    );
    let Some(Modal::Text(t)) = &app.modal else {
        panic!("choice lost: {:?}", app.modal)
    };
    assert_eq!(t.kind, TextKind::DowngradeReason { to: Severity::P4 });
    assert_eq!(t.id, id);
    assert_eq!(t.error.as_deref(), Some("lowering needs a reason"));
    typed(&mut app, "false positive");
    let fx = cmd(&mut app, Command::Submit);
    assert!(fx.iter().any(|e| matches!(e, Effect::Update(_, p)
        if p.severity == Some(Severity::P4) && p.reason.as_deref() == Some("false positive"))));
}
