//! The pure domain: types and rules with no I/O and no clock reads (any
//! function that needs "now" takes it as a parameter).

pub mod campaign;
pub mod clock_history;
pub mod comms;
pub mod escalation;
pub mod event;
pub mod evidence;
pub mod incident;
pub mod playbook;
pub mod policy;
pub mod replay;
pub mod review;
pub mod roles;
pub mod sla;
pub mod version;

pub use incident::{Cia, Impact, Incident, IncidentId, Phase, Severity, Source, Status};
pub use playbook::{ChecklistItem, ItemState, Playbook};
pub use policy::Policy;
pub use roles::{Assignment, Person, Role};
pub use sla::{Clock, ClockKind, ClockState};

/// An error in a file a person wrote (policy, playbook, rules), with the
/// byte offset of the problem when known, so the edge can say file:line:col.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub message: String,
    pub offset: Option<usize>,
}

impl SourceError {
    pub fn new(message: String, offset: Option<usize>) -> SourceError {
        SourceError { message, offset }
    }

    pub fn from_toml(e: toml::de::Error) -> SourceError {
        SourceError {
            message: e.message().trim().to_string(),
            offset: e.span().map(|s| s.start),
        }
    }

    /// 1-based line and column (in characters) of the offset within `text`.
    pub fn line_col(&self, text: &str) -> Option<(usize, usize)> {
        let offset = self.offset?.min(text.len());
        let before = text.get(..offset)?;
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        Some((line, col))
    }

    /// `file:line:col: message` (or `file: message` when no position is known).
    pub fn located(&self, file: &std::path::Path, text: &str) -> String {
        match self.line_col(text) {
            Some((l, c)) => format!("{}:{l}:{c}: {}", file.display(), self.message),
            None => format!("{}: {}", file.display(), self.message),
        }
    }
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SourceError {}
