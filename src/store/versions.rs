//! No lost update: an incident's version (its newest event's `seq`) and the
//! check every based edit makes inside its write transaction before it
//! writes anything. The rule of what conflicts is the domain's
//! (`domain::version`); this only reads the events after the base.

use std::collections::HashMap;

use rusqlite::{Transaction, params};

use super::timeline::event_from_row;
use super::{Result, Store, StoreError, WriteError};
use crate::domain::IncidentId;
use crate::domain::version::{Target, Version, find_conflict};

const VERSION_SQL: &str = "SELECT coalesce(max(seq), 0) FROM events WHERE incident_id = ?1";

/// Refuses an edit of `target` based on `base` when an event after `base`
/// changed the same thing. `None` (scripts without --if-version, the
/// watcher) checks nothing. `mine` is the value the edit wants, for the
/// conflict's report.
pub(super) fn check(
    tx: &Transaction<'_>,
    incident: &str,
    base: Option<Version>,
    target: Target<'_>,
    mine: Option<&str>,
) -> Result<(), WriteError> {
    let Some(base) = base else {
        return Ok(());
    };
    let current: i64 = tx.query_row(VERSION_SQL, [incident], |r| r.get(0))?;
    if base.0 > current {
        return Err(StoreError::Invalid(format!(
            "version {base} is newer than {incident}'s version {current}"
        ))
        .into());
    }
    if base.0 == current {
        return Ok(());
    }
    let after = tx
        .prepare_cached(
            "SELECT seq, at, actor, incident_id, kind, detail, data, prev_hash, hash
             FROM events WHERE incident_id = ?1 AND seq > ?2 ORDER BY seq",
        )?
        .query_map(params![incident, base.0], event_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    match find_conflict(incident, base, &after, target, mine) {
        Some(c) => Err(StoreError::Conflict(Box::new(c)).into()),
        None => Ok(()),
    }
}

impl Store {
    /// The incident's version: the `seq` of its newest timeline event. An
    /// edit based on a view passes the version the view was read at.
    pub fn version(&self, id: &IncidentId) -> Result<Version> {
        self.incident(id)?;
        self.conn
            .prepare_cached(VERSION_SQL)
            .and_then(|mut s| s.query_row([id.as_str()], |r| r.get(0)))
            .map(Version)
            .map_err(|e| self.err(e))
    }

    /// Every incident's version, by id (for lists). One index seek per
    /// incident: a GROUP BY over every event took four times as long at
    /// 10,000 incidents and 200,000 events (BENCHMARKS.md).
    pub fn versions(&self) -> Result<HashMap<String, Version>> {
        self.query_all(
            "SELECT i.id, coalesce((SELECT max(e.seq) FROM events e WHERE e.incident_id = i.id), 0)
             FROM incidents i",
            [],
            |r| Ok((r.get(0)?, Version(r.get(1)?))),
        )
    }
}
