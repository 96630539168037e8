//! `update()` tests of the clock keys: acknowledging, and lowering the
//! severity after a breach (the reason dialog, and the store's refusal
//! bringing the choice back).

use chrono::Duration;

use super::*;
use crate::domain::{Policy, Severity};
use crate::store::NewIncident;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::declare::state::FormField;
use crate::tui::screens::incident::state::{IncidentDialog, TextKind};
use crate::tui::testkit::{cmd, dialog, form as open_form, now, typed, unbased};

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
    let Some(IncidentDialog::Text(t)) = dialog(&app) else {
        panic!("no reason dialog: {:?}", dialog(&app))
    };
    assert_eq!(t.kind, TextKind::DowngradeReason { to: Severity::P3 });
    assert_eq!(app.detail().unwrap().incident.severity, Severity::P1);

    // An empty reason is refused in the dialog, which stays open.
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(fx.is_empty());
    assert!(matches!(dialog(&app), Some(IncidentDialog::Text(t)) if t.error.is_some()));

    typed(&mut app, "scope was one test host");
    let fx = unbased(cmd(&mut app, Command::Submit));
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
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(
        matches!(&fx[..], [Effect::Update(_, p)] if p.severity == Some(Severity::P1) && p.reason.is_none()),
        "{fx:?}"
    );
    assert!(app.modal.is_none() && dialog(&app).is_none());
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
    let Some(IncidentDialog::Text(t)) = dialog(&app) else {
        panic!("choice lost: {:?}", dialog(&app))
    };
    assert_eq!(t.kind, TextKind::DowngradeReason { to: Severity::P4 });
    assert_eq!(t.id, id);
    assert_eq!(t.error.as_deref(), Some("lowering needs a reason"));
    typed(&mut app, "false positive");
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(fx.iter().any(|e| matches!(e, Effect::Update(_, p)
        if p.severity == Some(Severity::P4) && p.reason.as_deref() == Some("false positive"))));
}

/// The new-incident form filled in, with `detected` typed in its last field.
fn form_with_detected(app: &mut App, detected: &str) -> Vec<Effect> {
    cmd(app, Command::NewIncident);
    typed(app, "Phishing wave");
    cmd(app, Command::NextField);
    typed(app, "2");
    while !open_form(app).is_some_and(|f| f.focus == FormField::Detected) {
        cmd(app, Command::NextField);
    }
    typed(app, detected);
    cmd(app, Command::Submit)
}

#[test]
fn the_form_takes_a_relative_detection_time() {
    let mut app = App::new("alice", Policy::builtin(), true);
    update(&mut app, Action::BoardLoaded(Vec::new()), now());
    let fx = form_with_detected(&mut app, "-15m");
    let new = fx
        .iter()
        .find_map(|e| match e {
            Effect::Create(n) => Some(n),
            _ => None,
        })
        .expect("create effect");
    assert_eq!(new.detected_at, Some(now() - Duration::minutes(15)));
}

#[test]
fn a_future_or_unreadable_detection_time_keeps_the_form_open() {
    for typed_time in ["2099-01-01T00:00:00Z", "yesterday", "-15 parsecs"] {
        let mut app = App::new("alice", Policy::builtin(), true);
        update(&mut app, Action::BoardLoaded(Vec::new()), now());
        let fx = form_with_detected(&mut app, typed_time);
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::Create(_))),
            "{typed_time}: {fx:?}"
        );
        let Some(form) = open_form(&app) else {
            panic!("{typed_time}: form closed")
        };
        assert!(form.error(FormField::Detected).is_some(), "{typed_time}");
        assert_eq!(form.detected.text(), typed_time, "what was typed stays");
        assert_eq!(form.title.text(), "Phishing wave");
    }
}

#[test]
fn correcting_the_detection_time_needs_a_valid_time_and_a_reason() {
    let (mut app, _dir) = breached_p1();
    let id = app.detail().unwrap().incident.id.clone();
    cmd(&mut app, Command::SetDetected);
    let set = |app: &mut App, i: usize, text: &str| {
        if let Some(Modal::Fields(d)) = &mut app.modal {
            *d.input_mut(i).expect("text field") = LineInput::new(text);
        }
    };
    // The current time is offered; no reason: refused, dialog kept.
    set(&mut app, 0, "-3h");
    assert!(cmd(&mut app, Command::Submit).is_empty());
    assert!(matches!(&app.modal, Some(Modal::Fields(d)) if d.error.is_some()));
    // In the future: refused.
    set(&mut app, 1, "the SIEM alert came earlier");
    set(&mut app, 0, "2099-01-01T00:00:00Z");
    assert!(cmd(&mut app, Command::Submit).is_empty());
    assert!(matches!(&app.modal, Some(Modal::Fields(d)) if d.error.is_some()));
    set(&mut app, 0, "-3h");
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(
        matches!(&fx[..], [.., Effect::SetDetected { id: i, at, reason }]
            if *i == id && *at == now() - Duration::hours(3) && reason == "the SIEM alert came earlier"),
        "{fx:?}"
    );
    assert!(app.modal.is_none());
}
