//! The console's state. Everything a view shows is here; only `update`
//! changes it, and nothing here does I/O or reads the clock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::keymap::Context;
use super::stack::Stack;
use crate::domain::Policy;
use crate::domain::playbook::ItemState;
use crate::domain::roles::Person;
use crate::store::{BoardRow, IncidentDetail};
use crate::tui::screens::board::state::BoardState;
use crate::tui::screens::ctx::Screen as _;
use crate::tui::screens::declare::state::NewIncidentForm;

/// The shell's overlays over any screen; one at a time. A screen's own
/// dialogs are part of its state.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Help {
        scroll: usize,
        under: Context,
    },
    /// A dialog of a few fields (evidence, review, report, closing gate),
    /// asked for through a screen's `Outcome`.
    Fields(crate::tui::kit::fields::state::FieldsDialog),
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
    pub alerts: crate::tui::shell::alerts::state::AlertState,
    pub quit: bool,
    /// The metrics screen's drill toggle and period, kept between visits.
    pub metrics_kept: (bool, crate::tui::screens::metrics::state::Window),
    /// The board's loaded flag and complete reviews (its feed).
    pub board_feed: crate::tui::screens::board::state::BoardFeed,
    /// The rule watcher the console runs (see `tui::watcher`).
    pub watcher: crate::tui::screens::watcher::state::WatcherState,
    /// The watcher screen's scroll, kept between visits.
    pub watcher_kept: crate::tui::screens::watcher::state::WatcherScreen,
    /// Every console open on this database, this one (`console_id`) too.
    pub present: Vec<crate::store::Presence>,
    pub console_id: String,
    /// Edits refused as conflicts, waiting for a choice (over any screen).
    pub conflict: crate::tui::kit::conflict::state::Conflicts,
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
            alerts: crate::tui::shell::alerts::state::AlertState::default(),
            quit: false,
            metrics_kept: (false, crate::tui::screens::metrics::state::Window::AllTime),
            board_feed: Default::default(),
            watcher: crate::tui::screens::watcher::state::WatcherState::default(),
            watcher_kept: Default::default(),
            present: Vec::new(),
            console_id: String::new(),
            conflict: Default::default(),
        }
    }

    /// Where keys go now.
    pub fn focus(&self) -> Context {
        if self.confirm_quit {
            return Context::Confirm;
        }
        if let Some(c) = self.conflict.shown() {
            return c.context();
        }
        match &self.modal {
            Some(Modal::Help { .. }) => return Context::Help,
            Some(Modal::Fields(f)) if f.focused_is_lines() => return Context::Lines,
            Some(Modal::Fields(_)) => return Context::Fields,
            None => {}
        }
        match self.stack.top() {
            Some(top) => top.context(),
            None => self.board.context(),
        }
    }

    /// Whether a dialog (the shell's, a screen's, or the new-incident
    /// form) is open: nothing else is opened over it unasked.
    pub fn dialog_open(&self) -> bool {
        self.modal.is_some()
            || self.stack.top().is_some_and(|s| s.floats())
            || self.stack.incident().is_some_and(|i| i.dialog.is_some())
    }

    pub fn selected_row(&self) -> Option<&BoardRow> {
        self.board.selected_row(&self.rows)
    }

    pub fn detail(&self) -> Option<&IncidentDetail> {
        self.stack.incident().and_then(|i| i.detail.as_ref())
    }

    /// Drafts of forms and edits that are open and changed since saved.
    pub fn has_unsaved_form(&self) -> bool {
        match &self.modal {
            Some(Modal::Fields(f)) => f.has_unsaved(),
            _ if self.stack.top().is_some_and(|s| s.unsaved()) => true,
            _ => self.stack.compose().is_some_and(|c| c.dirty),
        }
    }

    /// Recomputes the board's order after rows, filters or sort changed.
    pub fn rebuild_order(&mut self, now: DateTime<Utc>) {
        self.board.rebuild(&self.rows, &self.policy, now);
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

/// Shows `text` in the footer (an error in red and for longer).
pub fn say(app: &mut App, text: impl Into<String>, error: bool) {
    app.message = Some(Message {
        text: text.into(),
        error,
        age: 0,
    });
}
