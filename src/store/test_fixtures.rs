//! Fixtures the store's tests (and the comms room's) share: a fixed
//! morning, a store on a fresh temporary file, and one with an incident.

use chrono::{DateTime, TimeZone, Utc};

use super::{NewIncident, Store};
use crate::domain::{Incident, Playbook, Severity};

/// 2026-03-01 10:00 UTC: the morning the tests' incidents open.
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap()
}

/// A store on a new file in a temporary directory (kept alive by the
/// returned handle).
pub(crate) fn open_temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("w.db")).unwrap();
    (dir, store)
}

/// [`open_temp`] with one incident declared by alice at [`t0`].
pub(crate) fn with_incident(
    title: &str,
    severity: Severity,
) -> (tempfile::TempDir, Store, Incident) {
    let (dir, mut store) = open_temp();
    let incident = store
        .create_incident(
            &NewIncident::new(title, severity),
            &Playbook::builtin(),
            "alice",
            t0(),
        )
        .unwrap();
    (dir, store, incident)
}

/// Marks every checklist item of `id` done by alice at `at`: the closing
/// gate wants the checklist settled as well as the review.
pub(crate) fn settle_checklist(
    store: &mut Store,
    id: &crate::domain::IncidentId,
    at: DateTime<Utc>,
) {
    for item in store.checklist(id).unwrap() {
        store
            .set_checklist_item(
                id,
                &item.id,
                crate::domain::playbook::ItemState::Done,
                None,
                "alice",
                at,
            )
            .unwrap();
    }
}
