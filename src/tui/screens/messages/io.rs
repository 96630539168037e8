//! The messages screen's store work, run on the store worker: the list
//! `warroom notify list` prints, and the retry `warroom notify retry` runs.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::comms::CommsConfig;
use crate::domain::IncidentId;
use crate::store::Store;
use crate::tui::records::RecordsLoaded;

/// The incident's messages with their deliveries, or why not.
pub fn load(store: &Store, id: &IncidentId) -> RecordsLoaded {
    match store.messages(id) {
        Ok(list) => RecordsLoaded::Messages {
            id: id.clone(),
            list,
        },
        Err(e) => RecordsLoaded::MessagesFailed {
            id: id.clone(),
            message: e.to_string(),
        },
    }
}

/// Delivers the incident's failed deliveries again through `comms` (the
/// settings and the database path); the clipboard sink's sequences are
/// kept for the console to write. Also says whether anything was written.
pub fn retry(
    store: &mut Store,
    id: &IncidentId,
    comms: Option<&(CommsConfig, PathBuf)>,
    actor: &str,
    now: DateTime<Utc>,
) -> (RecordsLoaded, bool) {
    let mut clipboard = Vec::new();
    let results = match comms {
        Some((comms, db)) => {
            let mut terminal = |seq: &str| {
                clipboard.push(seq.to_string());
                Ok(())
            };
            crate::comms::sinks::retry(store, Some(id), comms, db, actor, now, &mut terminal)
                .map_err(|e| e.to_string())
        }
        None => Err("no comms settings to deliver with".to_string()),
    };
    let wrote = results.as_ref().is_ok_and(|r| !r.is_empty());
    let answer = RecordsLoaded::Retried {
        id: id.clone(),
        results,
        clipboard,
    };
    (answer, wrote)
}
