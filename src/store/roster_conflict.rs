//! What a refused roster edit reports: the change that came in between,
//! read from the timeline (the handle's newest `roster.changed` event), so
//! the console can say who changed the entry and when. The roster's
//! "version" of an entry is the `seq` of the event that wrote it.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::rows::parse_time;
use super::{StoreError, WriteError};
use crate::domain::event::kinds;
use crate::domain::roles::Person;
use crate::domain::version::{Conflict, Theirs, Version};

/// One recorded change of an entry: who, when, and what it wrote.
struct Written {
    seq: i64,
    at: DateTime<Utc>,
    actor: String,
    person: Option<Person>,
}

/// The refusal of an edit of `mine` that expected `expected` (`None`: an
/// addition) where `stored` is there now.
pub(super) fn refuse(
    tx: &Transaction<'_>,
    mine: &Person,
    expected: Option<&Person>,
    stored: Option<&Person>,
) -> WriteError {
    let history = match history(tx, &mine.handle) {
        Ok(h) => h,
        Err(e) => return e.into(),
    };
    let Some(last) = history.first() else {
        // Not written through the store (no event): nothing to name.
        return StoreError::Invalid(format!(
            "{}'s roster entry changed after it was read; reload and try again",
            mine.handle
        ))
        .into();
    };
    let base = expected
        .and_then(|e| history.iter().find(|w| w.person.as_ref() == Some(e)))
        .map_or(0, |w| w.seq);
    let what = if expected.is_none() {
        format!("roster entry {} (added meanwhile)", mine.handle)
    } else {
        format!("roster entry {}", mine.handle)
    };
    let conflict = Conflict {
        incident: String::new(),
        field: format!("roster:{}", mine.handle),
        what,
        base: Version(base),
        theirs: Theirs {
            seq: last.seq,
            actor: last.actor.clone(),
            at: last.at,
            old: history
                .get(1)
                .and_then(|w| w.person.as_ref())
                .map(Person::summary),
            new: stored.or(last.person.as_ref()).map(Person::summary),
        },
        mine: Some(mine.summary()),
    };
    StoreError::Conflict(Box::new(conflict)).into()
}

/// Every recorded change of `handle`'s entry, newest first.
fn history(tx: &Transaction<'_>, handle: &str) -> rusqlite::Result<Vec<Written>> {
    let mut stmt = tx.prepare_cached(
        "SELECT seq, at, actor, data FROM events
         WHERE incident_id IS NULL AND kind = ?1 AND json_extract(data, '$.handle') = ?2
         ORDER BY seq DESC",
    )?;
    stmt.query_map(params![kinds::ROSTER_CHANGED, handle], |r| {
        let data: String = r.get(3)?;
        Ok(Written {
            seq: r.get(0)?,
            at: parse_time(r, 1)?,
            actor: r.get(2)?,
            person: serde_json::from_str(&data).ok(),
        })
    })?
    .collect()
}
