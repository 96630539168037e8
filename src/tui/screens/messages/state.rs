//! The messages screen: its state and pure helpers; nothing here imports the app.

use crate::domain::IncidentId;
use crate::store::{DeliveryState, SentMessage};

#[derive(Debug, Clone, PartialEq)]
pub struct MessagesState {
    pub id: IncidentId,
    /// Oldest first; `None` until loaded.
    pub list: Option<Vec<SentMessage>>,
    /// Position in `list`.
    pub cursor: usize,
    /// The list could not be loaded.
    pub error: Option<String>,
    /// A retry is running on the store worker.
    pub retrying: bool,
    /// First line of the selected message's text shown (wrapped lines).
    pub text_scroll: usize,
    /// The selected message fills the screen (the list is hidden).
    pub reading: bool,
}

impl MessagesState {
    pub fn new(id: IncidentId) -> MessagesState {
        MessagesState {
            id,
            list: None,
            cursor: 0,
            error: None,
            retrying: false,
            text_scroll: 0,
            reading: false,
        }
    }

    pub fn selected(&self) -> Option<&SentMessage> {
        self.list.as_ref().and_then(|l| l.get(self.cursor))
    }

    /// Deliveries not delivered: (failed, pending).
    pub fn undelivered(&self) -> (usize, usize) {
        let all = self.list.iter().flatten().flat_map(|m| &m.deliveries);
        all.fold((0, 0), |(f, p), d| match d.state {
            DeliveryState::Failed => (f + 1, p),
            DeliveryState::Pending => (f, p + 1),
            DeliveryState::Delivered => (f, p),
        })
    }
}
