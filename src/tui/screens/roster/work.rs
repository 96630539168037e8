//! The roster's store work and the store worker's answers: the words
//! `records` carries between the screen and its `io`. Only domain types,
//! so `records` can name them without importing the screen's state.

use crate::domain::roles::Person;

/// The roster's store work (run by `io` on the store worker).
#[derive(Debug, Clone, PartialEq)]
pub enum RosterEffect {
    /// Reads the roster unless the database is unchanged since `since`.
    Load { since: Option<i64> },
    /// Saves `person` based on the entry shown (`None`: an addition);
    /// `typed`: it came from the dialog, whose values a refusal returns.
    Save {
        person: Person,
        based_on: Option<Person>,
        typed: bool,
    },
}

/// What the store worker answers (the roster itself goes to the whole
/// console as `Action::PeopleLoaded`, before these).
#[derive(Debug, Clone, PartialEq)]
pub enum RosterLoaded {
    /// The roster was read at this `data_version`.
    Read {
        version: Option<i64>,
    },
    Saved {
        handle: String,
        typed: bool,
    },
    /// Someone else changed the entry: the store's words, and the entry
    /// as it is now.
    Conflict {
        message: String,
        current: Option<Person>,
        typed: bool,
    },
    Failed {
        message: String,
        typed: bool,
    },
}
