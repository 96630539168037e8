//! Where a screen asks to go. A screen names the place and the shell opens
//! it, so no screen opens (or imports) another.

use crate::domain::IncidentId;

/// A screen to open over the one shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Incident(IncidentId),
    /// The incident's evidence and chain of custody.
    Evidence(IncidentId),
    Review(IncidentId),
    Messages(IncidentId),
    Metrics,
    /// The message composer over the incident shown.
    Compose,
    /// Every alert this console has seen, newest first.
    Alerts,
    /// The rule watcher, opened from the board wherever it was asked for.
    Watcher,
    /// The roster of people roles can be handed to.
    Roster,
    /// The roster with its add dialog filled in with a typed name.
    RosterAdd(String),
    /// The new-incident form, over whatever is shown (continuing a saved
    /// draft of it).
    NewIncident,
}

/// What a screen's key handling asks of the shell after its own changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Nav {
    #[default]
    Stay,
    Open(Target),
    /// Close this screen: back to the one under it.
    Back,
    /// Close every screen: back to the board.
    Home,
}
