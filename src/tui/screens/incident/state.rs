//! The incident view's state and its dialogs' (pickers, one-field edits,
//! role assignment); nothing here does I/O.

use crate::domain::roles::Role;
use crate::domain::{IncidentId, Severity, Status};
use crate::store::IncidentDetail;
use crate::tui::kit::cursor::step_in;
use crate::tui::kit::fields::lines::Lines;
use crate::tui::kit::input::LineInput;

/// How many timeline events the incident view loads.
pub const TIMELINE_LIMIT: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Summary,
    Checklist,
    Roles,
    Clocks,
    Timeline,
    /// A campaign's sources table, beside the timeline; skipped when the
    /// incident has fewer than two sources.
    Sources,
}

impl Pane {
    pub const ALL: [Pane; 6] = [
        Pane::Summary,
        Pane::Checklist,
        Pane::Roles,
        Pane::Clocks,
        Pane::Timeline,
        Pane::Sources,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Summary => "Summary",
            Pane::Checklist => "Checklist",
            Pane::Roles => "Roles",
            Pane::Clocks => "Clocks",
            Pane::Timeline => "Timeline",
            Pane::Sources => "Sources",
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
    /// The first row of the sources table shown.
    pub sources_scroll: usize,
    /// Where its detections came from: the tools whose alerts opened or
    /// joined it, and the keys (addresses, users) of its detections.
    pub origins: Origins,
    /// The dialog open over the view, which has the keys while open.
    pub dialog: Option<IncidentDialog>,
}

/// The incident view's own dialogs (the field dialogs, such as the
/// detection time and the report, are the shell's, through `Outcome`).
#[derive(Debug, Clone, PartialEq)]
pub enum IncidentDialog {
    /// Severity or status.
    Picker(Picker),
    /// A text: title, note or downgrade reason (one line), summary or
    /// N/A reason (several lines).
    Text(TextDialog),
    Assign(AssignDialog),
}

/// An incident's origins, loaded beside its detail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    pub intake: Vec<crate::store::IncidentIntake>,
    /// Busiest first.
    pub sources: Vec<crate::store::IncidentSource>,
    /// When customers were last told (the detail's timeline is cut, so
    /// it is read apart).
    pub last_customer_update: Option<chrono::DateTime<chrono::Utc>>,
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
            sources_scroll: 0,
            origins: Origins::default(),
            dialog: None,
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
    /// The text of a one-line edit (title, note, downgrade reason).
    pub input: LineInput,
    /// The text when it takes several lines (summary, not-applicable
    /// reason); then `input` is unused.
    pub lines: Option<Lines>,
    pub error: Option<String>,
    pub dirty: bool,
    pub restored: bool,
}

impl TextDialog {
    /// Whether `kind` is written over several lines.
    pub fn takes_lines(kind: &TextKind) -> bool {
        matches!(kind, TextKind::Summary | TextKind::NotApplicable { .. })
    }

    /// The text typed, one line or several.
    pub fn text(&self) -> &str {
        match &self.lines {
            Some(l) => l.text(),
            None => self.input.text(),
        }
    }

    pub fn is_blank(&self) -> bool {
        self.text().trim().is_empty()
    }

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
    /// A typed name that is not on the roster, asked whether to add it
    /// (its handle, its name) before it is assigned.
    pub ask_add: Option<(String, String)>,
}

/// Roster entries matching the typed text (handle or name, any case),
/// `me` (the console's user) first when on the roster.
pub fn roster_matches<'a>(
    people: &'a [crate::domain::Person],
    typed: &str,
    me: &str,
) -> Vec<&'a crate::domain::Person> {
    let t = typed.trim().to_lowercase();
    let mut found: Vec<&crate::domain::Person> = people
        .iter()
        .filter(|p| {
            t.is_empty()
                || p.handle.to_lowercase().contains(&t)
                || p.name.to_lowercase().contains(&t)
        })
        .collect();
    // Stable: the rest keep the roster's order.
    found.sort_by_key(|p| p.handle != me);
    found
}

/// The roster entry a typed name is, by handle or name (any case).
pub fn on_roster<'a>(
    people: &'a [crate::domain::Person],
    typed: &str,
) -> Option<&'a crate::domain::Person> {
    let t = typed.trim().to_lowercase();
    people
        .iter()
        .find(|p| p.handle.to_lowercase() == t || p.name.to_lowercase() == t)
}

/// A roster handle for a typed name: itself when it is a valid handle,
/// else lower case with runs of other characters as one '.'.
pub fn handle_for(name: &str) -> String {
    let mut h = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || matches!(c, '-' | '_' | '@') {
            h.push(c);
        } else if !h.is_empty() && !h.ends_with('.') {
            h.push('.');
        }
    }
    let h = h.trim_end_matches('.');
    h.chars().take(64).collect()
}
