//! The board's state: which incidents are shown, in what order, and
//! which is selected.

use crate::domain::{Severity, Status};
use crate::tui::kit::input::LineInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Urgency,
    Severity,
    Newest,
    Status,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Urgency => SortKey::Severity,
            SortKey::Severity => SortKey::Newest,
            SortKey::Newest => SortKey::Status,
            SortKey::Status => SortKey::Urgency,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Urgency => "urgency",
            SortKey::Severity => "severity",
            SortKey::Newest => "newest",
            SortKey::Status => "status",
        }
    }
}

/// The board's view of the rows: which are shown, in what order, and which
/// is selected.
#[derive(Debug, Clone)]
pub struct BoardState {
    /// Indices into `App::rows`, filtered and sorted.
    pub order: Vec<usize>,
    /// Position in `order`.
    pub selected: usize,
    pub filter: LineInput,
    pub filtering: bool,
    pub sort: SortKey,
    pub severity_filter: Option<Severity>,
    pub status_filter: Option<Status>,
    pub show_closed: bool,
}

impl Default for BoardState {
    fn default() -> Self {
        BoardState {
            order: Vec::new(),
            selected: 0,
            filter: LineInput::default(),
            filtering: false,
            sort: SortKey::Urgency,
            severity_filter: None,
            status_filter: None,
            show_closed: false,
        }
    }
}
