//! The composer's store reads on the store worker (its `ComposeLoad`):
//! the internal-only texts a customer message is checked against.

use crate::comms::Audience;
use crate::comms::leak::{InternalText, internal_texts};
use crate::domain::IncidentId;
use crate::store::{IncidentDetail, Store};

/// The internal-only texts of incident `id` when the message is to
/// customers (none otherwise), read with the whole timeline: an internal
/// note may be older than the part the incident view loads.
pub fn internal(
    store: &Store,
    id: &IncidentId,
    audience: Audience,
) -> Result<Vec<InternalText>, String> {
    if audience != Audience::Customers {
        return Ok(Vec::new());
    }
    let detail = store.detail(id, None).map_err(|e| e.to_string())?;
    internal_of(store, &detail, audience)
}

/// [`internal`] for a detail already read with its whole timeline.
pub fn internal_of(
    store: &Store,
    detail: &IncidentDetail,
    audience: Audience,
) -> Result<Vec<InternalText>, String> {
    if audience != Audience::Customers {
        return Ok(Vec::new());
    }
    let evidence = store
        .evidence(&detail.incident.id)
        .map_err(|e| format!("evidence of {}: {e}", detail.incident.id))?;
    Ok(internal_texts(detail, &evidence))
}
