//! What the console is asked to do: by a key (through the keymap) or by
//! the runtime (ticks, store results, signals).

use crossterm::event::KeyEvent;

use crate::domain::roles::Person;
use crate::domain::{Incident, IncidentId};
use crate::store::{BoardRow, Draft, IncidentDetail};
// Named here too for callers that drive the console (tests, benches).
pub use crate::tui::shell::keymap::{Command, Context, chain, help_for, hints};

/// Something the console was asked to do, by a key or by the runtime.
#[derive(Debug, Clone)]
pub enum Action {
    /// A command from the keymap.
    Command(Command),
    /// A key typed into a text field (not bound in its context).
    Input(KeyEvent),
    /// Text pasted into the focused text field.
    Paste(String),
    /// The once-a-second tick (clocks advance, drafts autosave, the store is polled).
    Tick,
    /// The terminal changed size (views re-lay themselves out).
    Resize,
    /// Results reported by the store worker.
    BoardLoaded(Vec<BoardRow>),
    DetailLoaded(Box<IncidentDetail>),
    /// Where an incident's detections came from (intake, keys).
    OriginsLoaded(
        IncidentId,
        Box<crate::tui::screens::incident::state::Origins>,
    ),
    PeopleLoaded(Vec<Person>),
    /// The consoles open on this database (this one is `me`), when changed.
    PresenceLoaded {
        me: String,
        present: Vec<crate::store::Presence>,
    },
    DraftsLoaded(Vec<Draft>),
    Created(Box<Incident>),
    Saved(String),
    StoreFailed(String),
    /// The store refused lowering the severity after a breach without a
    /// reason: the choice comes back in the reason dialog.
    DowngradeRefused {
        id: crate::domain::IncidentId,
        to: crate::domain::Severity,
        message: String,
    },
    /// The store refused an edit: the same thing was changed after the
    /// version it was based on. The refused effect (unwrapped) comes back
    /// so the user can keep it, drop it or merge.
    Conflict(
        Box<crate::domain::version::Conflict>,
        Box<crate::tui::effect::Effect>,
    ),
    /// Evidence, review, report and metrics results.
    Records(Box<crate::tui::records::RecordsLoaded>),
    /// An autosave of this draft key failed (the error is reported too):
    /// the draft is saved again on the next autosave.
    DraftNotSaved(String),
    /// The store worker committed this draft key's save made at this time.
    DraftSaved(String, chrono::DateTime<chrono::Utc>),
    /// The composer's template render and last message (store worker).
    ComposeLoaded(Box<crate::tui::screens::compose::state::ComposeLoaded>),
    /// A message recorded and delivered (or not) through its sinks;
    /// `retry` when it was a retry of failed deliveries.
    MessageSent {
        report: Box<crate::tui::screens::compose::state::SendReport>,
        retry: bool,
    },
    /// The store refused or failed a send.
    SendFailed(String),
    /// Open incidents with their role holders, for the alert check.
    AlertSubjectsLoaded(Vec<crate::store::AlertSubject>),
    /// Alerts read from the store's alert log by this console's cursor
    /// (whoever raised them), to list and, when new, to show.
    AlertFeed(Box<crate::tui::screens::alerts::io::FeedBatch>),
    /// Alert keys whose raise failed (e.g. the database was locked): to
    /// be tried again on a later tick.
    AlertsNotRaised(Vec<String>),
    /// From the console's rule watcher: its latest status, rule files it
    /// refused, or why it stopped.
    WatcherStatus(Box<crate::detect::follow::FollowStatus>),
    /// Alerts taken in per intake source and way in (listener, ingest,
    /// followed files), as last loaded.
    IntakeLoaded(Vec<crate::store::IntakeChannelStats>),
    WatcherProblems(Vec<String>),
    WatcherFailed(String),
    /// Another run holds the watcher's name (who), or None: following.
    WatcherStandby(Option<String>),
    /// SIGTERM / SIGHUP: save what is in progress and leave.
    Terminate,
}

/// The action a key means where `focus` has the focus: a command from the
/// keymap, else typed text in a text context, else nothing.
pub fn resolve(focus: Context, key: KeyEvent) -> Option<Action> {
    match crate::tui::shell::keymap::lookup(focus, &key) {
        Some(c) => Some(Action::Command(c)),
        None => focus.takes_text().then_some(Action::Input(key)),
    }
}
