//! What a batch's hits add to the watcher's incidents, added up in memory
//! and written once per incident when the batch's detections are applied.
//! In a flood, thousands of detections of one campaign change in a batch:
//! one read and one write of the campaign's row, not one per detection.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::watch_batch::{exec, one, to_i64};
use crate::domain::event::format_time;

/// Keys named in one `detect.updated` event, at most (the rest counted).
pub(super) const MAX_NEW_KEYS: usize = 50;
/// Source files named per incident, at most.
pub(super) const MAX_SOURCES: usize = 20;

/// `sources` JSON with `more` added (bounded, no repeats); None if unchanged.
pub(super) fn merge_sources<'a>(
    json: &str,
    more: impl IntoIterator<Item = &'a String>,
) -> Option<String> {
    let mut list: Vec<String> = serde_json::from_str(json).unwrap_or_default();
    let before = list.len();
    for m in more {
        if list.len() < MAX_SOURCES && !list.contains(m) {
            list.push(m.clone());
        }
    }
    (list.len() != before).then(|| serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
}

/// Hits to report on one incident, added up.
#[derive(Debug)]
struct Sum {
    added: u64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    /// Keys that joined its campaign, in order (the first
    /// [`MAX_NEW_KEYS`]; no more can be named).
    keys: Vec<String>,
    joined: u64,
    /// Files its lines came from, in order, no repeats (bounded).
    sources: Vec<String>,
}

/// Hits per incident, in the order incidents were first touched.
#[derive(Debug, Default)]
pub(super) struct Tally {
    sums: Vec<(String, Sum)>,
    at: HashMap<String, usize>,
}

impl Tally {
    /// `added` events between `first` and `last` on `incident`, and
    /// `new_key` when a key joined its campaign.
    pub(super) fn add(
        &mut self,
        incident: &str,
        added: u64,
        first: DateTime<Utc>,
        last: DateTime<Utc>,
        new_key: Option<&str>,
        sources: &[String],
    ) {
        let i = match self.at.get(incident) {
            Some(&i) => i,
            None => {
                self.sums.push((
                    incident.to_string(),
                    Sum {
                        added: 0,
                        first,
                        last,
                        keys: Vec::new(),
                        joined: 0,
                        sources: Vec::new(),
                    },
                ));
                self.at.insert(incident.to_string(), self.sums.len() - 1);
                self.sums.len() - 1
            }
        };
        let s = &mut self.sums[i].1;
        s.added = s.added.saturating_add(added);
        s.first = s.first.min(first);
        s.last = s.last.max(last);
        if let Some(k) = new_key {
            if s.keys.len() < MAX_NEW_KEYS {
                s.keys.push(k.to_string());
            }
            s.joined += 1;
        }
        for src in sources {
            if s.sources.len() < MAX_SOURCES && !s.sources.contains(src) {
                s.sources.push(src.clone());
            }
        }
    }

    /// Writes every incident's sum (one read and one update each).
    pub(super) fn write(self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        for (incident, s) in &self.sums {
            write_sum(tx, incident, s)?;
        }
        Ok(())
    }
}

/// Adds one sum to what its incident has not reported yet.
fn write_sum(tx: &Transaction<'_>, incident: &str, s: &Sum) -> rusqlite::Result<()> {
    let row: Option<(String, i64, String)> = one(
        tx,
        "SELECT new_keys, new_key_count, sources FROM watch_incidents WHERE incident_id = ?1",
        [incident],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()?;
    let Some((keys, key_count, known_sources)) = row else {
        // An incident the watcher did not open through this table (an
        // imported alert's): nothing to coalesce into.
        return Ok(());
    };
    // Keys are named while fewer than MAX_NEW_KEYS joined since the last
    // report; the rest are counted.
    let named = usize::try_from(key_count).unwrap_or(usize::MAX);
    let room = MAX_NEW_KEYS.saturating_sub(named).min(s.keys.len());
    let keys_json = (room > 0).then(|| {
        let mut list: Vec<String> = serde_json::from_str(&keys).unwrap_or_default();
        list.extend(s.keys[..room].iter().cloned());
        serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
    });
    exec(
        tx,
        "UPDATE watch_incidents SET due = 1, pending = pending + ?2,
            pending_first = min(coalesce(pending_first, ?3), ?3),
            pending_last = max(coalesce(pending_last, ?4), ?4),
            keys = keys + ?5, new_key_count = new_key_count + ?5,
            new_keys = coalesce(?6, new_keys), sources = coalesce(?7, sources)
         WHERE incident_id = ?1",
        params![
            incident,
            to_i64(s.added),
            format_time(s.first),
            format_time(s.last),
            to_i64(s.joined),
            keys_json,
            merge_sources(&known_sources, &s.sources)
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn a_tally_adds_up_per_incident_in_order_and_names_a_bounded_few() {
        let mut tally = Tally::default();
        let a = ["a.log".to_string()];
        let b = ["b.log".to_string(), "a.log".to_string()];
        for i in 0..60 {
            tally.add(
                "INC-1",
                2,
                t(100 - i),
                t(100 + i),
                Some(&format!("k{i}")),
                &a,
            );
        }
        tally.add("INC-2", 5, t(7), t(8), None, &b);
        tally.add("INC-1", 1, t(50), t(50), None, &b);
        let ids: Vec<&str> = tally.sums.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(ids, ["INC-1", "INC-2"]);
        let s = &tally.sums[0].1;
        assert_eq!((s.added, s.joined, s.keys.len()), (121, 60, MAX_NEW_KEYS));
        assert_eq!((s.first, s.last), (t(41), t(159)));
        assert_eq!(s.keys[49], "k49");
        assert_eq!(s.sources, ["a.log", "b.log"]);
        assert_eq!(tally.sums[1].1.sources, ["b.log", "a.log"]);
    }
}
