//! The new-incident form's state; nothing here does I/O.

use crate::domain::{Severity, Source};
use crate::tui::kit::input::LineInput;

/// Draft key of the new-incident form.
pub const NEW_INCIDENT_DRAFT: &str = "new-incident";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    Title,
    Severity,
    Summary,
    Source,
    /// When it was detected (empty: now).
    Detected,
}

impl FormField {
    pub const ALL: [FormField; 5] = [
        FormField::Title,
        FormField::Severity,
        FormField::Summary,
        FormField::Source,
        FormField::Detected,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FormField::Title => "Title",
            FormField::Severity => "Severity",
            FormField::Summary => "Summary",
            FormField::Source => "Source",
            FormField::Detected => "Detected",
        }
    }
}

/// The new-incident form. Errors are shown inline once the user tries to
/// submit (or leaves a field that is wrong).
#[derive(Debug, Clone, PartialEq)]
pub struct NewIncidentForm {
    pub title: LineInput,
    pub severity: Option<Severity>,
    pub summary: LineInput,
    pub source: Source,
    /// As typed: RFC 3339 or relative (`-15m`); empty means now.
    pub detected: LineInput,
    pub focus: FormField,
    pub errors: Vec<(FormField, String)>,
    /// Changed since the last autosave.
    pub dirty: bool,
    /// Restored from a draft saved at this time.
    pub restored: Option<String>,
    /// Handed to the store: kept by the shell until the store answers,
    /// and reopened if the write fails.
    pub submitted: bool,
}

impl Default for NewIncidentForm {
    fn default() -> Self {
        NewIncidentForm {
            title: LineInput::default(),
            severity: None,
            summary: LineInput::default(),
            source: Source::Manual,
            detected: LineInput::default(),
            focus: FormField::Title,
            errors: Vec::new(),
            dirty: false,
            restored: None,
            submitted: false,
        }
    }
}

impl NewIncidentForm {
    pub fn is_blank(&self) -> bool {
        self.title.is_blank()
            && self.summary.is_blank()
            && self.severity.is_none()
            && self.source == Source::Manual
            && self.detected.is_blank()
    }

    /// The text field with the focus; a choice field has none (typing
    /// there picks by first letter or digit).
    pub fn focused_input(&mut self) -> Option<&mut LineInput> {
        match self.focus {
            FormField::Title => Some(&mut self.title),
            FormField::Summary => Some(&mut self.summary),
            FormField::Detected => Some(&mut self.detected),
            FormField::Severity | FormField::Source => None,
        }
    }

    /// Marks it changed and clears the focused field's error as soon as
    /// it is being fixed.
    pub fn text_changed(&mut self) {
        self.dirty = true;
        let focus = self.focus;
        self.errors.retain(|(field, _)| *field != focus);
    }

    pub fn error(&self, field: FormField) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, e)| e.as_str())
    }

    pub fn to_draft(&self) -> String {
        serde_json::json!({
            "title": self.title.text(),
            "severity": self.severity.map(|s| s.as_str()),
            "summary": self.summary.text(),
            "source": self.source.as_str(),
            "detected": self.detected.text(),
        })
        .to_string()
    }

    /// A form from a saved draft; a damaged draft gives an empty form.
    pub fn from_draft(body: &str) -> NewIncidentForm {
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        NewIncidentForm {
            title: LineInput::new(&text("title")),
            severity: text("severity").parse().ok(),
            summary: LineInput::new(&text("summary")),
            source: text("source").parse().unwrap_or(Source::Manual),
            detected: LineInput::new(&text("detected")),
            ..NewIncidentForm::default()
        }
    }
}
