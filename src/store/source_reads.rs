//! What each watcher has committed of each source it read: a source
//! identity and the position up to which every line's effects are in the
//! database. A replay (`scan --commit`) of the same source recognises those
//! lines as already recorded, so a watcher's detections are neither
//! re-opened nor re-alerted. Kept per source, not per path: a file rotated
//! away under another name is still recognised.
//!
//! The identity is generic: for a file, `file:DEV:INODE` plus a SHA-256 of
//! its first bytes (an inode can be reused by another file); a position is
//! a byte offset. Another kind of source (a journal: its sequence-number
//! id, and the sequence number as position) fits the same row.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::migration::Migration;
use super::{Result, Store};
use crate::domain::event::format_time;

/// 8: what each watcher committed of each source.
pub(super) const MIGRATION: Migration = Migration {
    version: 11,
    sql: r#"
-- One row per watcher and source read: everything before `position` is
-- committed. `check_hash` is a SHA-256 of the source's first `check_len`
-- bytes (empty for sources identified by `source` alone).
CREATE TABLE source_reads (
    watcher TEXT NOT NULL,
    source TEXT NOT NULL,
    check_len INTEGER NOT NULL,
    check_hash TEXT NOT NULL,
    position INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (watcher, source)
) WITHOUT ROWID;
"#,
};

/// How far a watcher has committed one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRead {
    /// `file:DEV:INODE`, or another kind's identity.
    pub source: String,
    /// How many first bytes `check_hash` covers (0: none).
    pub check_len: u32,
    /// SHA-256 (hex) of the first `check_len` bytes.
    pub check_hash: String,
    /// Every line ending at or before this is committed.
    pub position: u64,
}

impl SourceRead {
    /// The identity of a file.
    pub fn file_source(dev: u64, inode: u64) -> String {
        format!("file:{dev}:{inode}")
    }
}

/// Saves the reads of one batch (inside its transaction). A later read of
/// the same source replaces the earlier one: a source read again from its
/// start (truncated, same inode) moves its position back with its check.
pub(super) fn save_reads(
    tx: &Transaction<'_>,
    watcher: &str,
    reads: &[SourceRead],
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    if reads.is_empty() {
        return Ok(());
    }
    let now = format_time(now);
    let mut put = tx.prepare_cached(
        "INSERT INTO source_reads (watcher, source, check_len, check_hash, position, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (watcher, source) DO UPDATE SET check_len = excluded.check_len,
            check_hash = excluded.check_hash, position = excluded.position,
            updated_at = excluded.updated_at",
    )?;
    for r in reads {
        put.execute(params![
            watcher,
            r.source,
            r.check_len,
            r.check_hash,
            i64::try_from(r.position).unwrap_or(i64::MAX),
            now
        ])?;
    }
    Ok(())
}

impl Store {
    /// What every watcher committed of `source`, furthest first.
    pub fn source_reads(&self, source: &str) -> Result<Vec<SourceRead>> {
        self.conn
            .prepare_cached(
                "SELECT source, check_len, check_hash, position FROM source_reads
                 WHERE source = ?1 ORDER BY position DESC",
            )
            .and_then(|mut s| {
                s.query_map([source], |r| {
                    Ok(SourceRead {
                        source: r.get(0)?,
                        check_len: r.get(1)?,
                        check_hash: r.get(2)?,
                        position: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))
    }

    /// The cursors watchers committed for a journal source (its checkpoint
    /// key): a replay of the same journal leaves what they read to them.
    pub fn journal_cursors(&self, key: &str) -> Result<Vec<String>> {
        self.conn
            .prepare_cached(
                "SELECT fingerprint FROM watch_checkpoints
                 WHERE path = ?1 AND fingerprint <> ''",
            )
            .and_then(|mut s| {
                s.query_map([key], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(|e| self.err(e))
    }
}
