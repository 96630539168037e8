//! The records: how keys and the worker's answers change the app.

use chrono::{DateTime, Utc};

use crate::domain::{IncidentId, Status};
use crate::report::file::{ReportFormat, default_file_name};
use crate::tui::effect::Effect;
use crate::tui::effect::boxed;
use crate::tui::kit::cursor::clamp;
use crate::tui::kit::fields::state::{Field, FieldsDialog, Purpose};
use crate::tui::records::*;
use crate::tui::shell::app::say;
use crate::tui::shell::app::{App, Message, Modal};

// ---------------------------------------------------------------- update side

/// After the board reloads: which resolved incidents' reviews are done
/// (only they can be overdue).
pub fn board_loaded(app: &App) -> Option<Effect> {
    app.rows
        .iter()
        .any(|r| r.incident.status == Status::Resolved)
        .then(|| boxed(RecordsEffect::LoadReviewState))
}

/// Applies what the worker reported.
pub fn loaded(app: &mut App, r: RecordsLoaded, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    match r {
        RecordsLoaded::Evidence {
            id,
            items,
            custody,
            hold,
        } => {
            if let Some(e) = app.stack.evidence_mut().filter(|e| e.id == id) {
                e.loaded(items, custody, hold);
            }
        }
        RecordsLoaded::EvidenceFailed { id, message } => {
            if let Some(e) = app.stack.evidence_mut().filter(|e| e.id == id) {
                e.error = Some(message);
            }
        }
        RecordsLoaded::Review { id, review } => {
            if let Some(s) = app.stack.review_mut().filter(|s| s.id == id) {
                let rows = crate::tui::screens::review::state::rows(&review).len();
                s.cursor = clamp(s.cursor, rows);
                s.review = Some(review);
            }
        }
        RecordsLoaded::Metrics { incidents, reviews } => {
            let (stack, c) = crate::tui::shell::lend::split(app, now);
            if let Some(m) = stack.metrics_mut() {
                m.loaded(incidents, reviews, &c);
            }
        }
        RecordsLoaded::ReviewsComplete(set) => app.board_feed.complete_reviews = set,
        RecordsLoaded::Messages { id, list } => {
            if let Some(s) = app.stack.messages_mut().filter(|s| s.id == id) {
                s.loaded(list);
            }
        }
        RecordsLoaded::MessagesFailed { id, message } => {
            if let Some(s) = app.stack.messages_mut().filter(|s| s.id == id) {
                s.load_failed(message);
            }
        }
        RecordsLoaded::Retried {
            id,
            results,
            clipboard,
        } => {
            let state = app.stack.messages_mut().filter(|s| s.id == id);
            let out = crate::tui::screens::messages::handle::retried(state, results, clipboard);
            crate::tui::shell::lend::apply(app, out, fx);
        }
        RecordsLoaded::Done {
            message,
            error,
            drop_draft,
        } => {
            if let Some(key) = drop_draft {
                app.drafts.remove(&key);
            }
            say(app, message, error);
        }
        RecordsLoaded::Closed { id, message } => {
            let dialog = match &app.modal {
                Some(Modal::Fields(d)) => Some(d),
                _ => None,
            };
            if crate::tui::screens::review::handle::closed(dialog, &id) {
                app.modal = None;
            }
            say(app, message, false);
        }
        RecordsLoaded::GateRefused { id, message } => {
            if !crate::tui::screens::review::handle::override_failed(
                fields_dialog(app),
                &id,
                &message,
            ) {
                let d = crate::tui::screens::review::handle::gate_refused(
                    app.detail(),
                    &app.actor,
                    id,
                    message,
                );
                app.modal = Some(Modal::Fields(d));
            }
        }
        RecordsLoaded::CloseFailed { id, message } => {
            if !crate::tui::screens::review::handle::override_failed(
                fields_dialog(app),
                &id,
                &message,
            ) {
                say(app, message, true);
            }
        }
    }
}

/// The field dialog open over the screens, if one is.
fn fields_dialog(app: &mut App) -> Option<&mut FieldsDialog> {
    match app.modal.as_mut() {
        Some(Modal::Fields(d)) => Some(d),
        _ => None,
    }
}

/// The report dialog: a format and a file, named after the incident in
/// the current directory by default.
pub fn open_report(app: &mut App, id: IncidentId) {
    let name = default_file_name(&id, ReportFormat::Md);
    let formats: Vec<&str> = ReportFormat::ALL.iter().map(|f| f.label()).collect();
    let d = FieldsDialog::new(
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
    ]);
    app.modal = Some(Modal::Fields(d));
}

pub fn submit_report(app: &mut App, d: &FieldsDialog, fx: &mut Vec<Effect>) -> Result<(), String> {
    let format = ReportFormat::ALL
        .get(d.choice(0))
        .copied()
        .unwrap_or(ReportFormat::Md);
    let path = d.text(1).trim();
    if path.is_empty() {
        return Err("give a file to write the report to".into());
    }
    fx.push(boxed(RecordsEffect::WriteReport {
        id: d.id.clone(),
        format,
        path: expand_home(path),
        policy: Box::new(app.policy.clone()),
    }));
    app.message = Some(Message {
        text: format!("writing the {} report…", format.label()),
        error: false,
        age: 0,
    });
    Ok(())
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

#[cfg(test)]
#[path = "gate_tests.rs"]
mod gate_tests;
#[cfg(test)]
#[path = "tests.rs"]
mod tests;
