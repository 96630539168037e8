//! How a record screen's store work answers, on the store worker: the
//! screens' `io.rs` files run their own `RecordsEffect`s through a
//! [`Reply`] and share these few ways of reporting back, so none imports
//! the shell that runs them (or another screen).

use chrono::{DateTime, Utc};

use crate::domain::IncidentId;
use crate::store::{Store, StoreError};
use crate::tui::action::Action;
use crate::tui::records::{RecordsEffect, RecordsLoaded};

/// Who acts, when, the board's closed setting and the timeline's length
/// (for the reload after a write), and where answers go.
pub struct Reply<'a> {
    pub actor: &'a str,
    pub include_closed: bool,
    pub now: DateTime<Utc>,
    /// How much of the timeline an incident's reload reads.
    pub timeline: usize,
    pub send: &'a dyn Fn(Action),
    /// The version the effect was based on (a view's edit), if any.
    pub base: Option<crate::domain::version::Version>,
}

impl Reply<'_> {
    pub fn out(&self, r: RecordsLoaded) {
        (self.send)(Action::Records(Box::new(r)));
    }

    pub fn fail(&self, e: &StoreError) {
        (self.send)(Action::StoreFailed(e.to_string()));
    }

    /// A write done: its message, and the draft it no longer needs.
    pub fn done(&self, message: String, drop_draft: Option<String>) {
        self.out(RecordsLoaded::Done {
            message,
            error: false,
            drop_draft,
        })
    }

    /// A write refused: the error, saying the typed text is still there.
    pub fn kept(&self, e: &StoreError, has_draft: bool) {
        let text = if has_draft {
            format!("{e} (your text is kept as a draft)")
        } else {
            e.to_string()
        };
        (self.send)(Action::StoreFailed(text));
    }

    /// A based write refused as a conflict: `mine` goes back to the
    /// console's conflict dialog (its draft, if any, stays).
    pub fn conflict(&self, c: Box<crate::domain::version::Conflict>, mine: RecordsEffect) {
        let mine = crate::tui::effect::Effect::Records(Box::new(mine));
        (self.send)(Action::Conflict(c, Box::new(mine)));
    }

    pub fn drop_draft(&self, store: &mut Store, key: Option<&str>) {
        if let Some(key) = key
            && let Err(e) = store.delete_draft(self.actor, key)
        {
            tracing::warn!("draft {key} not deleted: {e}");
        }
    }

    /// The board and the incident, after a write that changed it.
    pub fn reload_incident(&self, store: &Store, id: &IncidentId) {
        match store.board(self.include_closed) {
            Ok(rows) => (self.send)(Action::BoardLoaded(rows)),
            Err(e) => self.fail(&e),
        }
        match store.detail(id, Some(self.timeline)) {
            Ok(d) => (self.send)(Action::DetailLoaded(Box::new(d))),
            Err(e) => self.fail(&e),
        }
    }
}
