//! The incident view's state and its dialogs' (the new-incident form,
//! pickers, one-field edits, role assignment); nothing here does I/O.

use crate::domain::roles::Role;
use crate::domain::{IncidentId, Severity, Source, Status};
use crate::store::IncidentDetail;
use crate::tui::kit::cursor::step_in;
use crate::tui::kit::input::LineInput;

/// Draft key of the new-incident form.
pub const NEW_INCIDENT_DRAFT: &str = "new-incident";

/// How many timeline events the incident view loads.
pub const TIMELINE_LIMIT: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Summary,
    Checklist,
    Roles,
    Clocks,
    Timeline,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::Summary,
        Pane::Checklist,
        Pane::Roles,
        Pane::Clocks,
        Pane::Timeline,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Summary => "Summary",
            Pane::Checklist => "Checklist",
            Pane::Roles => "Roles",
            Pane::Clocks => "Clocks",
            Pane::Timeline => "Timeline",
        }
    }

    pub fn next(self) -> Pane {
        step_in(&Pane::ALL, self, true)
    }

    pub fn prev(self) -> Pane {
        step_in(&Pane::ALL, self, false)
    }
}

/// The open incident: its detail once loaded, and where the cursors are.
#[derive(Debug, Clone)]
pub struct IncidentState {
    pub id: IncidentId,
    pub detail: Option<IncidentDetail>,
    pub pane: Pane,
    pub checklist_cursor: usize,
    pub role_cursor: usize,
    pub timeline_scroll: usize,
    pub summary_scroll: usize,
    /// Where its detections came from: the tools whose alerts opened or
    /// joined it, and the keys (addresses, users) of its detections.
    pub origins: Origins,
}

/// An incident's origins, loaded beside its detail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    pub intake: Vec<crate::store::IncidentIntake>,
    /// Busiest first.
    pub sources: Vec<crate::store::IncidentSource>,
}

impl IncidentState {
    pub fn new(id: IncidentId) -> IncidentState {
        IncidentState {
            id,
            detail: None,
            pane: Pane::Checklist,
            checklist_cursor: 0,
            role_cursor: 0,
            timeline_scroll: 0,
            summary_scroll: 0,
            origins: Origins::default(),
        }
    }
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    Severity,
    Status,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub kind: PickerKind,
    pub selected: usize,
}

impl Picker {
    pub fn len(&self) -> usize {
        match self.kind {
            PickerKind::Severity => Severity::ALL.len(),
            PickerKind::Status => Status::ALL.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextKind {
    Title,
    Summary,
    Note,
    NotApplicable {
        item: String,
        text: String,
    },
    /// Lowering the severity after a clock breached: the store wants why.
    DowngradeReason {
        to: crate::domain::Severity,
    },
}

/// A one-field edit (title, summary, note, not-applicable reason).
#[derive(Debug, Clone, PartialEq)]
pub struct TextDialog {
    pub kind: TextKind,
    pub id: IncidentId,
    pub input: LineInput,
    pub error: Option<String>,
    pub dirty: bool,
    pub restored: bool,
}

impl TextDialog {
    pub fn draft_key(&self) -> String {
        match &self.kind {
            TextKind::Title => format!("edit:{}:title", self.id),
            TextKind::Summary => format!("edit:{}:summary", self.id),
            TextKind::Note => format!("note:{}", self.id),
            TextKind::NotApplicable { item, .. } => format!("na:{}:{item}", self.id),
            TextKind::DowngradeReason { to } => format!("downgrade:{}:{to}", self.id),
        }
    }

    pub fn heading(&self) -> String {
        match &self.kind {
            TextKind::Title => format!("Edit title of {}", self.id),
            TextKind::Summary => format!("Edit summary of {}", self.id),
            TextKind::Note => format!("Add a note to {}", self.id),
            TextKind::NotApplicable { .. } => "Not applicable: why?".to_string(),
            TextKind::DowngradeReason { to } => {
                format!("Lower {} to {to} after a breach: why?", self.id)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssignDialog {
    pub id: IncidentId,
    pub role: Role,
    /// Typed name, also filtering the roster.
    pub input: LineInput,
    /// Position among the roster matches; `None` = use the typed name.
    pub selected: Option<usize>,
    pub error: Option<String>,
}

/// Roster entries matching the typed text (handle or name, any case).
pub fn roster_matches<'a>(
    people: &'a [crate::domain::Person],
    typed: &str,
) -> Vec<&'a crate::domain::Person> {
    let t = typed.trim().to_lowercase();
    people
        .iter()
        .filter(|p| {
            t.is_empty()
                || p.handle.to_lowercase().contains(&t)
                || p.name.to_lowercase().contains(&t)
        })
        .collect()
}
