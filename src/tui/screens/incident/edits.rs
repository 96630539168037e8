//! The incident's other fields, edited in the field dialog: its impact
//! (affected services, C/I/A, customer impact, personal data) and what
//! customers are told (the customer-facing summary, kept apart from the
//! internal one). Marking personal data asks once more: it starts the
//! regulatory clocks.

use crate::domain::incident::{Cia, Impact, Incident};
use crate::store::IncidentPatch;
use crate::tui::effect::Effect;
use crate::tui::kit::fields::state::{Field, FieldsDialog, Purpose, Tag};
use crate::tui::screens::ctx::Outcome;

/// The edit dialogs' tag.
#[derive(Debug, Clone, PartialEq)]
pub enum EditAsk {
    /// `confirmed`: personal data was marked and the clocks it starts were
    /// shown; Enter now saves.
    Impact {
        confirmed: bool,
    },
    CustomerSummary,
}

impl Purpose for EditAsk {
    fn verb(&self) -> &'static str {
        match self {
            EditAsk::Impact { confirmed: true } => "confirm and save",
            _ => "save",
        }
    }
}

const YES_NO: [&str; 2] = ["no", "yes"];
const AFFECTED: usize = 0;
const CIA: [usize; 3] = [1, 2, 3];
const CUSTOMER_IMPACT: usize = 4;
const PERSONAL: usize = 5;

fn impacts() -> Vec<&'static str> {
    Impact::ALL.iter().map(|i| i.as_str()).collect()
}

fn at(i: Impact) -> usize {
    Impact::ALL.iter().position(|x| *x == i).unwrap_or(0)
}

/// The impact dialog, filled in with `i`'s values.
pub fn impact_dialog(i: &Incident) -> FieldsDialog {
    let levels = impacts();
    FieldsDialog::new(
        EditAsk::Impact { confirmed: false },
        i.id.clone(),
        &format!("Impact of {}", i.id),
        vec![
            Field::text("Affected", &i.affected, "services and systems hit"),
            Field::choice("Confidentiality", &levels, at(i.cia.confidentiality)),
            Field::choice("Integrity", &levels, at(i.cia.integrity)),
            Field::choice("Availability", &levels, at(i.cia.availability)),
            Field::text("Customers", &i.customer_impact, "what customers notice"),
            Field::choice(
                "Personal data",
                &YES_NO,
                usize::from(i.personal_data_breach),
            ),
        ],
    )
    .with_note(vec![
        "Personal data affected starts the regulatory clocks (asked first).".into(),
    ])
}

/// The customer-facing summary dialog, with `i`'s.
pub fn customer_summary_dialog(i: &Incident) -> FieldsDialog {
    FieldsDialog::new(
        EditAsk::CustomerSummary,
        i.id.clone(),
        &format!("What customers are told of {}", i.id),
        vec![Field::text(
            "For customers",
            &i.customer_summary,
            "plain words, nothing internal",
        )],
    )
    .with_note(vec![
        "Customer messages use this, never the internal summary.".into(),
    ])
}

/// The dialog submitted against `current` (the incident as shown): the
/// changed fields as one update. Marking personal data the first time
/// reopens the dialog to confirm.
pub fn submit(
    ask: &EditAsk,
    d: &FieldsDialog,
    current: Option<&Incident>,
) -> Result<Outcome, String> {
    let Some(i) = current else {
        return Err("the incident is still loading".into());
    };
    let mut patch = IncidentPatch::default();
    match ask {
        EditAsk::CustomerSummary => {
            let text = d.text(0).trim();
            check_length("the customer summary", text)?;
            if text != i.customer_summary {
                patch.customer_summary = Some(text.to_string());
            }
        }
        EditAsk::Impact { confirmed } => {
            let affected = d.text(AFFECTED).trim();
            let customers = d.text(CUSTOMER_IMPACT).trim();
            check_length("affected", affected)?;
            check_length("the customer impact", customers)?;
            let level = |f: usize| {
                Impact::ALL
                    .get(d.choice(f))
                    .copied()
                    .unwrap_or(Impact::None)
            };
            let cia = Cia {
                confidentiality: level(CIA[0]),
                integrity: level(CIA[1]),
                availability: level(CIA[2]),
            };
            let personal = d.choice(PERSONAL) == 1;
            if personal && !i.personal_data_breach && !confirmed {
                let mut again = d.clone().with_note(vec![
                    "Personal data affected: this starts the regulatory clocks".into(),
                    "(e.g. the GDPR's 72 hours from detection). Enter to confirm.".into(),
                ]);
                again.purpose = Tag(Box::new(EditAsk::Impact { confirmed: true }));
                return Ok(Outcome::dialog(again));
            }
            if affected != i.affected {
                patch.affected = Some(affected.to_string());
            }
            if cia != i.cia {
                patch.cia = Some(cia);
            }
            if customers != i.customer_impact {
                patch.customer_impact = Some(customers.to_string());
            }
            if personal != i.personal_data_breach {
                patch.personal_data_breach = Some(personal);
            }
        }
    }
    if patch.is_empty() {
        return Ok(Outcome::said("nothing changed", false));
    }
    let mut out = Outcome::stay();
    out.push(Effect::Update(i.id.clone(), Box::new(patch)));
    Ok(out)
}

fn check_length(what: &str, text: &str) -> Result<(), String> {
    if text.chars().count() > 4000 {
        return Err(format!("{what} is over 4000 characters"));
    }
    Ok(())
}
