//! The board's state: which incidents are shown, in what order, and
//! which is selected.

use chrono::{DateTime, Utc};

use crate::domain::sla::{clocks, most_urgent};
use crate::domain::{Policy, Severity, Status};
use crate::store::BoardRow;
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

/// What the app keeps for the board besides its state: whether the rows
/// have come, and the resolved incidents whose review is complete (the
/// others show overdue once past their review's due time).
#[derive(Debug, Clone, Default)]
pub struct BoardFeed {
    pub loaded: bool,
    pub complete_reviews: std::collections::HashSet<String>,
}

impl BoardState {
    pub fn selected_row<'a>(&self, rows: &'a [BoardRow]) -> Option<&'a BoardRow> {
        self.order.get(self.selected).and_then(|i| rows.get(*i))
    }

    /// Recomputes the board's order after rows, filters or sort changed,
    /// keeping the same incident selected. The urgency order depends only
    /// on due times (remaining = due - now), so it does not change as the
    /// clock ticks and need not be redone every second.
    pub fn rebuild(&mut self, rows: &[BoardRow], policy: &Policy, now: DateTime<Utc>) {
        let keep = self.selected_row(rows).map(|r| r.incident.id.clone());
        let needle = self.filter.text().trim().to_lowercase();
        let b = &*self;
        let mut order: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| b.show_closed || r.incident.status != Status::Closed)
            .filter(|(_, r)| b.severity_filter.is_none_or(|s| r.incident.severity == s))
            .filter(|(_, r)| b.status_filter.is_none_or(|s| r.incident.status == s))
            .filter(|(_, r)| {
                needle.is_empty()
                    || r.incident.title.to_lowercase().contains(&needle)
                    || r.incident.id.as_str().to_lowercase().contains(&needle)
                    || r.commander
                        .as_deref()
                        .is_some_and(|c| c.to_lowercase().contains(&needle))
            })
            .map(|(i, _)| i)
            .collect();
        match b.sort {
            SortKey::Urgency => {
                // (real before drills, no live clock last, earliest due,
                // most severe, oldest): an exercise never outranks a real
                // incident, however close its own clocks.
                let keys: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        let cs = clocks(&r.incident, policy, now);
                        let due = most_urgent(&cs).map(|c| c.due);
                        (r.incident.drill, due.is_none(), due, r.incident.severity)
                    })
                    .collect();
                order.sort_by(|a, b| keys[*a].cmp(&keys[*b]).then(a.cmp(b)));
            }
            SortKey::Severity => {
                order.sort_by_key(|i| {
                    let inc = &rows[*i].incident;
                    (inc.severity, inc.drill, *i)
                });
            }
            SortKey::Newest => order.sort_by(|a, b| b.cmp(a)),
            SortKey::Status => {
                order.sort_by_key(|i| {
                    let inc = &rows[*i].incident;
                    (inc.status, inc.severity, inc.drill, *i)
                });
            }
        }
        self.order = order;
        self.selected = keep
            .and_then(|id| self.order.iter().position(|i| rows[*i].incident.id == id))
            .unwrap_or(self.selected)
            .min(self.order.len().saturating_sub(1));
    }
}
