//! Correcting the clocks' start from the incident view: the detection
//! time, with the reason the store records beside it.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::IncidentId;
use crate::domain::clock_history::parse_detected;
use crate::tui::effect::Effect;
use crate::tui::kit::fields::state::{Field, FieldsDialog, Purpose};

/// The detection-time dialog's tag: detection time, reason.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectedAsk;

impl Purpose for DetectedAsk {
    fn verb(&self) -> &'static str {
        "correct it"
    }
}

/// The dialog correcting `id`'s detection time, now `at`.
pub fn detected_dialog(id: IncidentId, at: DateTime<Utc>) -> FieldsDialog {
    let current = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    FieldsDialog::new(
        DetectedAsk,
        id.clone(),
        &format!("When was {id} detected?"),
        vec![
            Field::text("Detected", &current, "RFC 3339, or relative: -15m, -2h"),
            Field::text("Reason", "", "why the time changes (recorded)"),
        ],
    )
    .with_note(vec![
        "The clocks count from detection; a breach under the old time stays.".into(),
    ])
}

/// Checks the typed time (never in the future) and the reason; an error
/// keeps the dialog open with what was typed.
pub fn submit_detected(
    d: &FieldsDialog,
    base: Option<crate::domain::version::Version>,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let at = parse_detected(d.text(0), now)?;
    let reason = d.text(1).trim();
    if reason.is_empty() {
        return Err("say why the detection time changes".into());
    }
    let e = Effect::SetDetected {
        id: d.id.clone(),
        at,
        reason: reason.to_string(),
    };
    fx.push(Effect::based(base, e));
    Ok(())
}
