//! What status views show of alert intake: per intake source and the way
//! its alerts came in (the webhook listener, `ingest` of a file or standard
//! input, a followed Wazuh `alerts.json`), what was received,
//! deduplicated, dropped and refused, and the last error; and, per
//! incident, which intake sources its alerts came from. The counts are
//! written in the transaction that commits the alerts (and, for a followed
//! file, its checkpoint), so they count each line once across crashes.

use chrono::{DateTime, Utc};
use rusqlite::{Row, Transaction, params};

use super::incidents::parse_opt_time;
use super::migration::Migration;
use super::{Result, Store};
use crate::domain::event::format_time;

/// 12: the way each imported alert came in, and counts per way.
pub(super) const MIGRATION: Migration = Migration {
    version: 12,
    sql: r#"
-- How each delivery came in ('listener', 'ingest', 'follow:PATH') and in
-- which format, so an incident can say where its alerts came from. Rows
-- from before this step have ''.
ALTER TABLE intake_alerts ADD COLUMN channel TEXT NOT NULL DEFAULT '';
ALTER TABLE intake_alerts ADD COLUMN format TEXT NOT NULL DEFAULT '';

-- intake_sources, per way in.
CREATE TABLE intake_channels (
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    format TEXT NOT NULL DEFAULT '',
    received INTEGER NOT NULL DEFAULT 0,
    deduplicated INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    last_received_at TEXT,
    last_error TEXT,
    last_error_at TEXT,
    PRIMARY KEY (name, channel)
) WITHOUT ROWID;
"#,
};

/// What one commit adds to a source's counts.
#[derive(Debug, Default)]
pub(super) struct Counts<'a> {
    pub(super) received: u64,
    pub(super) deduplicated: u64,
    pub(super) dropped: u64,
    pub(super) refused: u64,
    /// Kept as the last error (with the time) when given.
    pub(super) error: Option<&'a str>,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Adds `c` to the source's counts and to its way in's.
pub(super) fn count_in_tx(
    tx: &Transaction<'_>,
    name: &str,
    channel: &str,
    format: &str,
    c: &Counts<'_>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let now = format_time(now);
    let received_at = (c.received > 0).then_some(now.as_str());
    let error_at = c.error.map(|_| now.as_str());
    let values = params![
        name,
        to_i64(c.received),
        to_i64(c.deduplicated),
        to_i64(c.dropped),
        to_i64(c.refused),
        received_at,
        c.error,
        error_at,
    ];
    tx.prepare_cached(
        "INSERT INTO intake_sources (name, received, deduplicated, dropped, refused,
            last_received_at, last_error, last_error_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (name) DO UPDATE SET received = received + excluded.received,
            deduplicated = deduplicated + excluded.deduplicated,
            dropped = dropped + excluded.dropped,
            refused = refused + excluded.refused,
            last_received_at = coalesce(excluded.last_received_at, last_received_at),
            last_error = coalesce(excluded.last_error, last_error),
            last_error_at = coalesce(excluded.last_error_at, last_error_at)",
    )?
    .execute(values)?;
    tx.prepare_cached(
        "INSERT INTO intake_channels (name, received, deduplicated, dropped, refused,
            last_received_at, last_error, last_error_at, channel, format)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (name, channel) DO UPDATE SET received = received + excluded.received,
            deduplicated = deduplicated + excluded.deduplicated,
            dropped = dropped + excluded.dropped,
            refused = refused + excluded.refused,
            format = CASE WHEN excluded.format = '' THEN format ELSE excluded.format END,
            last_received_at = coalesce(excluded.last_received_at, last_received_at),
            last_error = coalesce(excluded.last_error, last_error),
            last_error_at = coalesce(excluded.last_error_at, last_error_at)",
    )?
    .execute(params![
        name,
        to_i64(c.received),
        to_i64(c.deduplicated),
        to_i64(c.dropped),
        to_i64(c.refused),
        received_at,
        c.error,
        error_at,
        channel,
        format,
    ])?;
    Ok(())
}

/// What one intake source has seen through one way in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeChannelStats {
    /// The intake source (`intake.toml` `name`; the detections' rule).
    pub name: String,
    /// `listener`, `ingest`, or `follow:PATH` (see `store::intake_channels`).
    pub channel: String,
    /// `alertmanager`, `wazuh` or `json` ('' for refusals before any alert).
    pub format: String,
    pub received: u64,
    pub deduplicated: u64,
    /// Dropped by the mapping, and a followed file's lines that were not
    /// alerts (bad JSON, fields missing): those set `last_error`.
    pub dropped: u64,
    /// Payloads refused (`ingest`, the listener).
    pub refused: u64,
    pub last_received_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// Where an incident's imported alerts came from (raw text: sanitize to
/// show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentIntake {
    pub intake: String,
    pub format: String,
    pub channel: String,
    /// Firing alerts of the incident's detections from it.
    pub alerts: u64,
    pub first_received_at: Option<DateTime<Utc>>,
    pub last_received_at: Option<DateTime<Utc>>,
}

fn count(r: &Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
}

impl Store {
    /// Every intake source's counts per way in (listener, ingest, each
    /// followed file), by name then way: what the console's watcher view
    /// shows. [`Store::intake_stats`] gives the totals per source.
    pub fn intake_channel_stats(&self) -> Result<Vec<IntakeChannelStats>> {
        self.conn
            .prepare_cached(
                "SELECT name, channel, format, received, deduplicated, dropped, refused,
                    last_received_at, last_error, last_error_at
                 FROM intake_channels ORDER BY name, channel",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(IntakeChannelStats {
                        name: r.get(0)?,
                        channel: r.get(1)?,
                        format: r.get(2)?,
                        received: count(r, 3)?,
                        deduplicated: count(r, 4)?,
                        dropped: count(r, 5)?,
                        refused: count(r, 6)?,
                        last_received_at: parse_opt_time(r, 7)?,
                        last_error: r.get(8)?,
                        last_error_at: parse_opt_time(r, 9)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))
    }

    /// The intake sources (and ways in) the incident's detections took
    /// alerts from, first received first; empty for an incident opened by
    /// a rule or by hand.
    pub fn incident_intake(&self, incident: &str) -> Result<Vec<IncidentIntake>> {
        self.conn
            .prepare_cached(
                "SELECT a.intake, a.format, a.channel, count(*),
                    min(a.received_at), max(a.received_at)
                 FROM intake_alerts a JOIN detections d ON d.id = a.detection_id
                 WHERE d.incident_id = ?1 AND a.status = 'firing'
                 GROUP BY a.intake, a.format, a.channel
                 ORDER BY min(a.received_at), a.intake, a.channel",
            )
            .and_then(|mut s| {
                s.query_map([incident], |r| {
                    Ok(IncidentIntake {
                        intake: r.get(0)?,
                        format: r.get(1)?,
                        channel: r.get(2)?,
                        alerts: count(r, 3)?,
                        first_received_at: parse_opt_time(r, 4)?,
                        last_received_at: parse_opt_time(r, 5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
#[path = "intake_status_tests.rs"]
mod tests;
