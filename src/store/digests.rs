//! Digests of the new keys joining a campaign incident (a rule's
//! `digest: 10m`): at most once per period per incident, one alert naming
//! the first few keys that joined since the last digest and counting the
//! rest, raised and delivered like any detection alert (one delivery queue)
//! and recorded on the incident's timeline. Never one alert per key.
//!
//! Nothing is kept besides what happened: the last digest is the incident's
//! newest alert keyed `digest:INCIDENT:LAST_DETECTION`, so the window it
//! covered (the detections after the one before) is in its key, the next
//! one starts after it, and the key is unique per incident and window: two
//! watchers, or one restarted, raise the same key and deliver it once.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::comms::{NewAlert, take_alert};
use super::timeline::{NewEvent, append};
use super::watch_batch::one;
use super::{Result, Store};
use crate::domain::Severity;
use crate::domain::campaign::{DIGEST_KEYS, digest_text};
use crate::domain::event::format_time;

/// Timeline kind of a digest sent for an incident.
pub const DIGEST: &str = "detect.digest";

/// A rule that asks for digests, as the watcher loaded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRule {
    pub rule: String,
    /// At most one digest per incident this often.
    pub every: Duration,
    pub severity: Severity,
    /// Whom the digest is delivered to (nobody: raised and shown only).
    pub notify: Vec<String>,
}

/// What a due digest lists.
struct Due {
    /// When the window began: the last digest, or the incident's opening.
    since: String,
    /// Keys of the detections that joined since (the first few)...
    keys: Vec<String>,
    /// ... how many joined in all, and the newest one's id.
    count: u64,
    last_id: i64,
}

/// An alert key: the incident and the last detection its digest covers,
/// zero-padded so the newest sorts last.
fn alert_key(incident: &str, last_id: i64) -> String {
    format!("digest:{incident}:{last_id:019}")
}

/// The digest due for `incident` at `now`, if the period since the last
/// one (or the opening) is over and keys joined since.
fn due(
    c: &Connection,
    incident: &str,
    every: Duration,
    now: DateTime<Utc>,
) -> Result<Due, rusqlite::Error> {
    let prefix = format!("digest:{incident}:");
    let last: Option<(String, String)> = c
        .prepare_cached(
            "SELECT key, raised_at FROM alerts WHERE key > ?1 AND key < ?2
             ORDER BY key DESC LIMIT 1",
        )?
        .query_row(params![prefix, format!("digest:{incident};")], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let window = match last.and_then(|(key, at)| {
        let id = key.strip_prefix(&prefix)?.parse::<i64>().ok()?;
        Some((id, at))
    }) {
        Some(w) => Some(w),
        // No digest yet: the window starts after the detection that
        // opened the incident (its own alert announced it).
        None => c
            .prepare_cached(
                "SELECT id, created_at FROM detections WHERE incident_id = ?1 ORDER BY id LIMIT 1",
            )?
            .query_row([incident], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
    };
    let none = Due {
        since: String::new(),
        keys: Vec::new(),
        count: 0,
        last_id: 0,
    };
    let Some((after, since)) = window else {
        return Ok(none);
    };
    if format_time(now - every) < since {
        return Ok(none);
    }
    let keys = c
        .prepare_cached(
            "SELECT key FROM detections WHERE incident_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?
        .query_map(params![incident, after, DIGEST_KEYS as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    if keys.is_empty() {
        return Ok(none);
    }
    let (count, last_id): (i64, i64) = c
        .prepare_cached(
            "SELECT count(*), max(id) FROM detections WHERE incident_id = ?1 AND id > ?2",
        )?
        .query_row(params![incident, after], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Due {
        since,
        keys,
        count: u64::try_from(count).unwrap_or(0),
        last_id,
    })
}

impl Store {
    /// Raises the digests due at `now` for the open campaign incidents of
    /// `rules`, each with its pending deliveries through `sinks` (for rules
    /// with recipients). Returns the alerts the caller delivers now (as a
    /// commit's `deliver`); undelivered, they stay pending for a retry.
    pub fn send_campaign_digests(
        &mut self,
        rules: &[DigestRule],
        sinks: &[String],
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<NewAlert>> {
        // Read first: most calls find nothing due and take no write lock.
        let mut candidates: Vec<(&DigestRule, String, String)> = Vec::new();
        for r in rules {
            let open: Vec<(String, String)> = self.query_all(
                "SELECT incident_id, group_by FROM watch_incidents
                 WHERE rule = ?1 AND open = 1 AND grouping <> 'per_key'",
                [&r.rule],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            for (incident, group_by) in open {
                let d = due(&self.conn, &incident, r.every, now).map_err(|e| self.err(e))?;
                if d.count > 0 {
                    candidates.push((r, incident, group_by));
                }
            }
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let mut deliver = Vec::new();
            for (r, incident, group_by) in &candidates {
                // Again inside the transaction: another watcher may have
                // sent it since the read.
                let d = due(tx, incident, r.every, now)?;
                if d.count == 0 {
                    continue;
                }
                let title: String = one(
                    tx,
                    "SELECT title FROM incidents WHERE id = ?1",
                    [incident],
                    |row| row.get(0),
                )?;
                let listed = digest_text(&r.rule, group_by, &title, &d.keys, d.count, &d.since);
                let alert = NewAlert {
                    key: alert_key(incident, d.last_id),
                    incident_id: Some(incident.clone()),
                    kind: crate::domain::comms::DETECTION.into(),
                    text: format!("{} {listed}", r.severity),
                    recipient: (!r.notify.is_empty()).then(|| r.notify.join(", ")),
                    raised_by: actor.to_string(),
                    raised_at: now,
                };
                let (raised, via) =
                    take_alert(tx, &alert, (!r.notify.is_empty()).then_some(sinks))?;
                if !raised {
                    continue;
                }
                let delivery = if r.notify.is_empty() {
                    "no recipients to deliver to".to_string()
                } else if via.is_empty() {
                    "no sink to deliver through: shown only".to_string()
                } else {
                    format!("delivering via {}", via.join(", "))
                };
                append(
                    tx,
                    NewEvent {
                        drill: false,
                        at: now,
                        actor,
                        incident: Some(incident),
                        kind: DIGEST,
                        detail: format!("digest: {listed}; {delivery}"),
                        data: json!({
                            "rule": r.rule,
                            "alert": alert.key,
                            "since": d.since,
                            "keys": d.keys,
                            "key_count": d.count,
                            "recipients": r.notify,
                            "sinks": via,
                        }),
                    },
                )?;
                if !via.is_empty() {
                    deliver.push(alert);
                }
            }
            Ok(deliver)
        })
    }
}

#[cfg(test)]
#[path = "digests_tests.rs"]
mod tests;
