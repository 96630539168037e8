//! The purge of drills: every exercise incident, its evidence and the
//! whole drill chain go as a set, and the live chain records what was
//! removed (the drill chain's length and every hash in it), so a
//! checkpoint taken before the purge still verifies after it.

use std::fs;

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde_json::json;

use super::evidence::PurgeSummary;
use super::timeline::{NewEvent, append};
use super::{Result, Store, StoreError};
use crate::domain::evidence::kinds;

impl Store {
    /// What a drill purge would remove, and which drills are held.
    pub fn drill_purge_preview(&self) -> Result<PurgeSummary> {
        let q = |sql: &str| -> Result<i64> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        let incidents: Vec<String> = self.query_all(
            "SELECT id FROM incidents WHERE drill = 1 ORDER BY year, seq",
            [],
            |r| r.get(0),
        )?;
        let held: Vec<String> = self.query_all(
            "SELECT h.incident_id FROM legal_holds h JOIN incidents i ON i.id = h.incident_id
                 WHERE i.drill = 1 ORDER BY h.incident_id",
            [],
            |r| r.get(0),
        )?;
        Ok(PurgeSummary {
            incidents,
            events: q("SELECT count(*) FROM events WHERE chain = 'drill'")?,
            evidence: q("SELECT count(*) FROM evidence WHERE drill = 1")?,
            held,
        })
    }

    /// Deletes every drill incident, its evidence and review, and the whole
    /// drill chain of the timeline, in one transaction that also appends a
    /// `drill.purged` event to the live chain. Refused while any drill is
    /// under legal hold. Stored files no other item shares are removed after.
    pub fn purge_drills(&mut self, actor: &str, now: DateTime<Utc>) -> Result<PurgeSummary> {
        let summary = self.write(|tx| {
            let incidents: Vec<String> = tx
                .prepare("SELECT id FROM incidents WHERE drill = 1 ORDER BY year, seq")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let held: Vec<String> = tx
                .prepare(
                    "SELECT h.incident_id FROM legal_holds h JOIN incidents i ON i.id = h.incident_id
                     WHERE i.drill = 1 ORDER BY h.incident_id",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if !held.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "refusing to purge drills: under legal hold: {} (lift the hold first)",
                    held.join(", ")
                ))
                .into());
            }
            // What the drill chain was, so a checkpoint taken before this
            // purge can still be compared with it afterwards.
            let hashes: Vec<String> = tx
                .prepare("SELECT hash FROM events WHERE chain = 'drill' ORDER BY chain_seq")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let evidence = tx.execute("DELETE FROM evidence WHERE drill = 1", [])? as i64;
            let events = tx.execute("DELETE FROM events WHERE chain = 'drill'", [])? as i64;
            tx.execute("DELETE FROM incidents WHERE drill = 1", [])?;
            let summary = PurgeSummary {
                incidents,
                events,
                evidence,
                held,
            };
            append(
                tx,
                NewEvent {
                    drill: false,
                    at: now,
                    actor,
                    incident: None,
                    kind: kinds::DRILLS_PURGED,
                    detail: format!(
                        "drills purged: {} incident(s), {} drill-chain event(s), {} evidence item(s)",
                        summary.incidents.len(),
                        summary.events,
                        summary.evidence
                    ),
                    data: json!({
                        "incidents": summary.incidents,
                        "events": summary.events,
                        "evidence": summary.evidence,
                        "drill_chain": { "length": hashes.len(), "hashes": hashes },
                    }),
                },
            )?;
            Ok(summary)
        })?;
        self.remove_unreferenced_blobs()?;
        Ok(summary)
    }

    /// Deletes stored files that no evidence row refers to any more.
    fn remove_unreferenced_blobs(&self) -> Result<()> {
        let root = self.evidence_dir().join("sha256");
        let Ok(dirs) = fs::read_dir(&root) else {
            return Ok(());
        };
        let keep: std::collections::HashSet<String> =
            self.query_all("SELECT DISTINCT stored_path FROM evidence", [], |r| {
                r.get(0)
            })?;
        for d in dirs.flatten() {
            let Ok(files) = fs::read_dir(d.path()) else {
                continue;
            };
            for f in files.flatten() {
                let rel = format!(
                    "sha256/{}/{}",
                    d.file_name().to_string_lossy(),
                    f.file_name().to_string_lossy()
                );
                if !keep.contains(&rel) {
                    let _ = fs::remove_file(f.path());
                }
            }
        }
        Ok(())
    }
}

/// A `drill.purged` event as the live chain recorded it.
pub(super) struct Purge {
    /// Its row number.
    pub seq: i64,
    /// The drill chain's hashes in order (#1 first) when it was purged;
    /// `None` for purges recorded before they kept them.
    pub hashes: Option<Vec<String>>,
}

impl Purge {
    /// Why a checkpoint's drill-chain position (taken before this purge)
    /// disagrees with what the purge removed, if it does.
    pub fn contradicts(&self, chain_seq: i64, hash: &str) -> Option<String> {
        let seq = self.seq;
        let Some(hashes) = &self.hashes else {
            return Some(format!(
                "the drill chain was purged by event {seq}, which did not record the hashes it removed; this position cannot be compared (after review, remove the drill entry from the checkpoint)"
            ));
        };
        let at = usize::try_from(chain_seq - 1).ok();
        match at.and_then(|i| hashes.get(i)) {
            None => Some(format!(
                "purged by event {seq}, but the drill chain then ended at #{}; its newest events were truncated before the purge",
                hashes.len()
            )),
            Some(h) if h != hash => Some(format!(
                "differs from what purge event {seq} recorded; the drill chain was rewritten before the purge"
            )),
            Some(_) => None,
        }
    }
}

impl Store {
    /// The first drill purge after position `live_seq` of the live chain.
    pub(super) fn purge_after(&self, live_seq: i64) -> Result<Option<Purge>> {
        let found: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT seq, data FROM events WHERE chain = 'live' AND kind = ?1 AND chain_seq > ?2
                 ORDER BY chain_seq LIMIT 1",
                rusqlite::params![kinds::DRILLS_PURGED, live_seq],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(found.map(|(seq, data)| {
            let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            let hashes = v["drill_chain"]["hashes"].as_array().map(|a| {
                a.iter()
                    .map(|h| h.as_str().unwrap_or_default().to_string())
                    .collect()
            });
            Purge { seq, hashes }
        }))
    }
}
