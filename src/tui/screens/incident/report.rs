//! The report dialog opened from the incident view: a format and a file,
//! and what its submit asks the store worker to write.

use crate::domain::{IncidentId, Policy};
use crate::report::file::{ReportFormat, default_file_name};
use crate::tui::effect::boxed;
use crate::tui::kit::fields::state::{Field, FieldsDialog, Purpose};
use crate::tui::records::{RecordsEffect, expand_home};
use crate::tui::screens::ctx::Outcome;

/// The report dialog: a format and a file, named after the incident in
/// the current directory by default.
pub fn dialog(id: IncidentId) -> FieldsDialog {
    let name = default_file_name(&id, ReportFormat::Md);
    let formats: Vec<&str> = ReportFormat::ALL.iter().map(|f| f.label()).collect();
    FieldsDialog::new(
        ReportAsk,
        id.clone(),
        &format!("Write the report of {id}"),
        vec![
            Field::choice("Format", &formats, 0),
            Field::text("File", &name, "a file path"),
        ],
    )
    .with_note(vec![
        "Summary, clocks, roles, evidence with custody, review, full timeline.".into(),
        "A relative path is taken from where warroom was started; an older".into(),
        "file there is replaced. Including evidence is recorded as an access.".into(),
    ])
}

/// The dialog submitted: the report to write, with the policy in force.
pub fn submit(d: &FieldsDialog, policy: &Policy) -> Result<Outcome, String> {
    let format = ReportFormat::ALL
        .get(d.choice(0))
        .copied()
        .unwrap_or(ReportFormat::Md);
    let path = d.text(1).trim();
    if path.is_empty() {
        return Err("give a file to write the report to".into());
    }
    let mut out = Outcome::said(format!("writing the {} report…", format.label()), false);
    out.push(boxed(RecordsEffect::WriteReport {
        id: d.id.clone(),
        format,
        path: expand_home(path),
        policy: Box::new(policy.clone()),
    }));
    Ok(out)
}

/// The report dialog's tag: format, file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportAsk;

impl Purpose for ReportAsk {
    fn verb(&self) -> &'static str {
        "write"
    }

    fn after_choice(&self, d: &mut FieldsDialog) {
        report_path_follows_format(d);
    }
}

/// When the format changes, a file name still at its default follows it.
pub fn report_path_follows_format(d: &mut FieldsDialog) {
    let format = ReportFormat::ALL
        .get(d.choice(0))
        .copied()
        .unwrap_or(ReportFormat::Md);
    let current = d.text(1).to_string();
    let is_default = ReportFormat::ALL
        .iter()
        .any(|f| current == default_file_name(&d.id, *f));
    let name = default_file_name(&d.id, format);
    if is_default && let Some(input) = d.input_mut(1) {
        *input = crate::tui::kit::input::LineInput::new(&name);
    }
}
