//! The metrics screen's store work, run on the store worker: every
//! incident and review, which the screen computes its metrics from.

use crate::store::{Store, StoreError};
use crate::tui::records::RecordsLoaded;

/// Every incident (closed ones too) and every review.
pub fn load(store: &Store) -> Result<RecordsLoaded, StoreError> {
    Ok(RecordsLoaded::Metrics {
        incidents: store.incidents(true)?,
        reviews: store.reviews()?.into_iter().collect(),
    })
}
