//! `update()` tests of the incident's fields edited in the field dialog:
//! impact (with the personal-data confirmation) and the customer-facing
//! summary.

use super::*;
use crate::domain::incident::Impact;
use crate::domain::{Policy, Severity};
use crate::store::NewIncident;
use crate::tui::testkit::{cmd, now, typed, unbased};

fn open() -> (App, tempfile::TempDir) {
    let new = NewIncident::new("Customer DB exfiltration", Severity::P1);
    let app = App::new("alice", Policy::builtin(), true);
    let (app, _store, _id, dir) = crate::tui::testkit::with_incident(&new, now(), app);
    (app, dir)
}

fn update_of(fx: &[Effect]) -> Option<&crate::store::IncidentPatch> {
    fx.iter().find_map(|e| match e {
        Effect::Update(_, p) => Some(&**p),
        _ => None,
    })
}

fn dialog_note(app: &App) -> String {
    match &app.modal {
        Some(Modal::Fields(d)) => d.note.join(" "),
        _ => String::new(),
    }
}

#[test]
fn the_impact_dialog_sends_only_what_changed() {
    let (mut app, _dir) = open();
    cmd(&mut app, Command::EditImpact);
    assert_eq!(app.focus(), crate::tui::command::Context::Fields);
    typed(&mut app, "db-prod-2");
    cmd(&mut app, Command::NextField);
    cmd(&mut app, Command::ChoiceNext);
    cmd(&mut app, Command::ChoiceNext);
    let fx = unbased(cmd(&mut app, Command::Submit));
    let patch = update_of(&fx).expect("an update");
    assert_eq!(patch.affected.as_deref(), Some("db-prod-2"));
    let cia = patch.cia.expect("cia");
    assert_eq!(cia.confidentiality, Impact::High);
    assert_eq!(cia.integrity, Impact::None);
    assert!(patch.customer_impact.is_none() && patch.personal_data_breach.is_none());
    assert!(app.modal.is_none());
    // Opened again and saved as it is: nothing is written.
    cmd(&mut app, Command::EditImpact);
    if let Some(Modal::Fields(d)) = &mut app.modal {
        *d.input_mut(0).expect("text") = crate::tui::kit::input::LineInput::new("");
    }
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(update_of(&fx).is_none(), "{fx:?}");
    let said = app.message.as_ref().map(|m| m.text.as_str());
    assert_eq!(said, Some("nothing changed"));
}

#[test]
fn marking_personal_data_asks_first_since_it_starts_the_regulatory_clocks() {
    let (mut app, _dir) = open();
    cmd(&mut app, Command::EditImpact);
    for _ in 0..5 {
        cmd(&mut app, Command::NextField);
    }
    cmd(&mut app, Command::ChoiceNext);
    // The first Enter only says what it starts.
    let fx = unbased(cmd(&mut app, Command::Submit));
    assert!(update_of(&fx).is_none(), "{fx:?}");
    assert!(
        dialog_note(&app).contains("regulatory clocks"),
        "{:?}",
        app.modal
    );
    assert!(dialog_note(&app).contains("Enter to confirm"));
    // Esc there writes nothing.
    let mut asked = app.clone();
    assert!(update_of(&cmd(&mut asked, Command::Cancel)).is_none());
    // Enter again confirms.
    let fx = unbased(cmd(&mut app, Command::Submit));
    let patch = update_of(&fx).expect("an update");
    assert_eq!(patch.personal_data_breach, Some(true));
    assert!(app.modal.is_none());
}

#[test]
fn the_customer_summary_is_edited_apart_from_the_internal_one() {
    let (mut app, _dir) = open();
    cmd(&mut app, Command::EditCustomerSummary);
    typed(&mut app, "Some customers could not log in.");
    let fx = unbased(cmd(&mut app, Command::Submit));
    let patch = update_of(&fx).expect("an update");
    assert_eq!(
        patch.customer_summary.as_deref(),
        Some("Some customers could not log in.")
    );
    assert!(patch.summary.is_none());
}
