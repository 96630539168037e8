//! The console's state. Everything a view shows is here; only `update`
//! changes it, and nothing here does I/O or reads the clock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::keymap::Context;
use super::kit::cursor::step_in;
use super::kit::input::LineInput;
pub use super::stack::{Screen, ScreenState, Stack};
use crate::domain::playbook::ItemState;
use crate::domain::roles::{Person, Role};
use crate::domain::sla::{clocks, most_urgent};
use crate::domain::{IncidentId, Policy, Severity, Source, Status};
use crate::store::{BoardRow, IncidentDetail};

/// Draft key of the new-incident form.
pub const NEW_INCIDENT_DRAFT: &str = "new-incident";

/// How many timeline events the incident view loads.
pub const TIMELINE_LIMIT: usize = 1000;

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
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    Title,
    Severity,
    Summary,
    Source,
}

impl FormField {
    pub const ALL: [FormField; 4] = [
        FormField::Title,
        FormField::Severity,
        FormField::Summary,
        FormField::Source,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FormField::Title => "Title",
            FormField::Severity => "Severity",
            FormField::Summary => "Summary",
            FormField::Source => "Source",
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
    NotApplicable { item: String, text: String },
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
        }
    }

    pub fn heading(&self) -> String {
        match &self.kind {
            TextKind::Title => format!("Edit title of {}", self.id),
            TextKind::Summary => format!("Edit summary of {}", self.id),
            TextKind::Note => format!("Add a note to {}", self.id),
            TextKind::NotApplicable { .. } => "Not applicable: why?".to_string(),
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

/// Dialogs over the board or incident view; one at a time.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Help {
        scroll: usize,
        under: Context,
    },
    NewIncident(NewIncidentForm),
    Picker(Picker),
    Text(TextDialog),
    Assign(AssignDialog),
    /// A dialog of a few fields (evidence, review, report, closing gate).
    Fields(crate::tui::fields::state::FieldsDialog),
}

/// A transient line in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub error: bool,
    /// Ticks it has been shown; it makes way for the key hints after a few.
    pub age: u8,
}

/// All of the console's state.
#[derive(Debug, Clone)]
pub struct App {
    pub actor: String,
    pub policy: Policy,
    /// NO_COLOR: state is shown by text and reverse/bold only.
    pub no_color: bool,
    /// Every incident loaded (closed ones too when shown).
    pub rows: Vec<BoardRow>,
    pub board: BoardState,
    /// The screens open over the board; the top one is shown.
    pub stack: Stack,
    pub modal: Option<Modal>,
    /// "Quit?" asked over whatever is open.
    pub confirm_quit: bool,
    pub people: Vec<Person>,
    /// Saved drafts by key, as loaded at start or last saved.
    pub drafts: HashMap<String, String>,
    pub message: Option<Message>,
    /// A submitted new-incident form waiting for the store: reopened if
    /// the write fails, so nothing typed is lost.
    pub pending_form: Option<NewIncidentForm>,
    /// Templates and sinks the composer offers.
    pub comms: crate::tui::screens::compose::state::ComposeEnv,
    /// Responder alerts: keys asked for, toasts to show.
    pub alerts: crate::tui::alerts::state::AlertState,
    pub loaded: bool,
    pub quit: bool,
    /// The metrics screen's drill toggle and period, kept between visits.
    pub metrics_kept: (bool, crate::tui::screens::metrics::state::Window),
    /// Resolved incidents whose review is complete: the others are
    /// overdue on the board once past their review's due time.
    pub complete_reviews: std::collections::HashSet<String>,
    /// The rule watcher the console runs (see `tui::watcher`).
    pub watcher: crate::tui::screens::watcher::state::WatcherState,
}

impl App {
    pub fn new(actor: &str, policy: Policy, no_color: bool) -> App {
        App {
            actor: actor.to_string(),
            policy,
            no_color,
            rows: Vec::new(),
            board: BoardState::default(),
            stack: Stack::default(),
            modal: None,
            confirm_quit: false,
            people: Vec::new(),
            drafts: HashMap::new(),
            message: None,
            pending_form: None,
            comms: crate::tui::screens::compose::state::ComposeEnv::default(),
            alerts: crate::tui::alerts::state::AlertState::default(),
            loaded: false,
            quit: false,
            metrics_kept: (false, crate::tui::screens::metrics::state::Window::AllTime),
            complete_reviews: std::collections::HashSet::new(),
            watcher: crate::tui::screens::watcher::state::WatcherState::default(),
        }
    }

    /// Where keys go now.
    pub fn focus(&self) -> Context {
        if self.confirm_quit {
            return Context::Confirm;
        }
        match &self.modal {
            Some(Modal::Help { .. }) => return Context::Help,
            Some(Modal::NewIncident(_)) => return Context::Form,
            Some(Modal::Picker(_)) => return Context::Picker,
            Some(Modal::Text(_)) => return Context::TextDialog,
            Some(Modal::Assign(_)) => return Context::AssignDialog,
            Some(Modal::Fields(_)) => return Context::Fields,
            None => {}
        }
        match self.stack.top() {
            Some(ScreenState::Compose(c)) => c.focus(),
            Some(ScreenState::Incident(i)) => match i.pane {
                Pane::Checklist => Context::Checklist,
                Pane::Roles => Context::Roles,
                Pane::Timeline => Context::Timeline,
                Pane::Summary | Pane::Clocks => Context::Incident,
            },
            Some(ScreenState::Evidence(_)) => Context::Evidence,
            Some(ScreenState::Review(_)) => Context::Review,
            Some(ScreenState::Metrics(_)) => Context::Metrics,
            Some(ScreenState::Messages(_)) => Context::Messages,
            Some(ScreenState::Watcher) => Context::Watcher,
            None if self.board.filtering => Context::FilterInput,
            None => Context::Board,
        }
    }

    pub fn selected_row(&self) -> Option<&BoardRow> {
        self.board
            .order
            .get(self.board.selected)
            .and_then(|i| self.rows.get(*i))
    }

    pub fn detail(&self) -> Option<&IncidentDetail> {
        self.stack.incident().and_then(|i| i.detail.as_ref())
    }

    /// Drafts of forms and edits that are open and changed since saved.
    pub fn has_unsaved_form(&self) -> bool {
        match &self.modal {
            Some(Modal::NewIncident(f)) => !f.is_blank(),
            Some(Modal::Text(t)) => !t.input.is_blank() && t.dirty,
            Some(Modal::Fields(f)) => f.has_unsaved(),
            _ => self.stack.compose().is_some_and(|c| c.dirty),
        }
    }

    /// Recomputes the board's order after rows, filters or sort changed,
    /// keeping the same incident selected. The urgency order depends only
    /// on due times (remaining = due - now), so it does not change as the
    /// clock ticks and need not be redone every second.
    pub fn rebuild_order(&mut self, now: DateTime<Utc>) {
        let keep = self.selected_row().map(|r| r.incident.id.clone());
        let needle = self.board.filter.text().trim().to_lowercase();
        let b = &self.board;
        let mut order: Vec<usize> = self
            .rows
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
                // (no live clock last, earliest due, most severe, oldest)
                let keys: Vec<_> = self
                    .rows
                    .iter()
                    .map(|r| {
                        let cs = clocks(&r.incident, &self.policy, now);
                        let due = most_urgent(&cs).map(|c| c.due);
                        (due.is_none(), due, r.incident.severity)
                    })
                    .collect();
                order.sort_by(|a, b| keys[*a].cmp(&keys[*b]).then(a.cmp(b)));
            }
            SortKey::Severity => {
                order.sort_by_key(|i| (self.rows[*i].incident.severity, *i));
            }
            SortKey::Newest => order.sort_by(|a, b| b.cmp(a)),
            SortKey::Status => {
                order.sort_by_key(|i| {
                    let inc = &self.rows[*i].incident;
                    (inc.status, inc.severity, *i)
                });
            }
        }
        self.board.order = order;
        self.board.selected = keep
            .and_then(|id| {
                self.board
                    .order
                    .iter()
                    .position(|i| self.rows[*i].incident.id == id)
            })
            .unwrap_or(self.board.selected)
            .min(self.board.order.len().saturating_sub(1));
    }

    /// Checklist items in display order (by phase, as the playbook lists them).
    pub fn checklist_item(&self, cursor: usize) -> Option<&crate::domain::ChecklistItem> {
        self.detail().and_then(|d| d.checklist.get(cursor))
    }

    pub fn count_state(&self, state: ItemState) -> usize {
        self.detail().map_or(0, |d| {
            d.checklist.iter().filter(|c| c.state == state).count()
        })
    }
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

/// Shows `text` in the footer (an error in red and for longer).
pub fn say(app: &mut App, text: impl Into<String>, error: bool) {
    app.message = Some(Message {
        text: text.into(),
        error,
        age: 0,
    });
}

/// The new-incident form, continuing a saved draft when there is one.
pub fn new_incident_form(app: &App) -> NewIncidentForm {
    match app.drafts.get(NEW_INCIDENT_DRAFT) {
        Some(body) => {
            let mut f = NewIncidentForm::from_draft(body);
            f.restored = Some("continuing your saved draft".into());
            f
        }
        None => NewIncidentForm::default(),
    }
}
