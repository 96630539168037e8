//! The rule watcher's durable state: where each followed file was read up
//! to, the sliding windows of each rule and key, and the detections they
//! produced, with the incidents, timeline events, evidence excerpts and
//! alerts those detections open. One batch is one transaction, so a watcher
//! killed at any moment restarts exactly where its last commit left it:
//! nothing it committed is lost, nothing after it was recorded.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::incidents::parse_time;
use super::intake::intake_in_tx;
use super::migration::Migration;
use super::source_reads::{SourceRead, save_reads};
use super::watch_batch::{CommitOutcome, Ctx, DetectionChange, exec, to_i64};
use super::watch_lease::{LeaseTerm, renew_in_tx};
use super::watcher_apply::{apply_changes, close_resolved};
use super::{Result, Store};
use crate::domain::event::format_time;
use crate::domain::{Playbook, Severity, Source};

/// 4: watcher checkpoints, window state, detections and replay marks.
pub(super) const MIGRATION: Migration = Migration {
    version: 4,
    sql: r#"
-- One row per watcher: the newest log time it read (so closing quiet
-- detections resumes on the same clock after a restart) and its last commit.
CREATE TABLE watchers (
    name TEXT PRIMARY KEY,
    high_water TEXT,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- One row per watcher and followed path: the file being read (device,
-- inode, and a SHA-256 of its first fp_len bytes) and the offset just after
-- the last line whose effects are committed. A file at the path with another
-- identity is a rotated or truncated one.
CREATE TABLE watch_checkpoints (
    watcher TEXT NOT NULL,
    path TEXT NOT NULL,
    dev INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    fp_len INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    offset INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (watcher, path)
) WITHOUT ROWID;

-- The events inside each rule's window, per key (JSON), so counting resumes
-- after a restart exactly where it stopped.
CREATE TABLE watch_windows (
    watcher TEXT NOT NULL,
    rule TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (watcher, rule, key)
) WITHOUT ROWID;

-- Detections. One open detection per rule and key (suppression): later hits
-- attach to it and raise its count. `number` counts the detections of a rule
-- and key (1, 2, ...), so an alert key names one detection everywhere.
CREATE TABLE detections (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    key TEXT NOT NULL,
    number INTEGER NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('P1', 'P2', 'P3', 'P4')),
    group_by TEXT NOT NULL,
    window_seconds INTEGER,
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    -- The first matching lines, raw, as a JSON array (capped by the engine).
    lines TEXT NOT NULL,
    incident_id TEXT REFERENCES incidents (id) ON DELETE CASCADE,
    alert_key TEXT,
    -- Who recorded it: 'watch:NAME' or 'scan'.
    origin TEXT NOT NULL,
    open INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    UNIQUE (rule, key, number)
);
CREATE UNIQUE INDEX detections_open ON detections (rule, key) WHERE open = 1;
CREATE INDEX detections_by_incident ON detections (incident_id);

-- What `scan --commit` recorded for each replayed detection (its rule, key
-- and first time identify it), so replaying the same files again records
-- nothing twice, and replaying a grown file adds only what is new.
CREATE TABLE detection_replays (
    rule TEXT NOT NULL,
    key TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    count INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    detection_id INTEGER NOT NULL REFERENCES detections (id) ON DELETE CASCADE,
    PRIMARY KEY (rule, key, first_seen)
) WITHOUT ROWID;
"#,
};

/// Where a followed file was read up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheckpoint {
    pub path: String,
    pub dev: u64,
    pub inode: u64,
    /// How many of the file's first bytes `fingerprint` covers.
    pub fp_len: u32,
    /// SHA-256 (hex) of the first `fp_len` bytes.
    pub fingerprint: String,
    /// Just after the last line whose effects are committed.
    pub offset: u64,
}

/// A rule's window for one key, as the engine serialized it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedWindow {
    pub rule: String,
    pub key: String,
    /// Opaque to the store: written as a blob (older versions wrote JSON
    /// text, read back as its bytes).
    pub state: Vec<u8>,
}

/// Everything one commit writes, atomically.
#[derive(Debug, Clone, Default)]
pub struct WatchBatch {
    /// The watcher's name (`watch --name`), scoping checkpoints and windows.
    pub watcher: String,
    /// `scan --commit`: detections are matched to what earlier replays
    /// recorded instead of being taken as new.
    pub replay: bool,
    pub checkpoints: Vec<FileCheckpoint>,
    /// How far each source read is committed with this batch (so a replay
    /// of the same source knows which lines are recorded already).
    pub reads: Vec<SourceRead>,
    /// Paths no longer followed (their checkpoints go).
    pub forget_paths: Vec<String>,
    pub windows: Vec<SavedWindow>,
    /// (rule, key) windows that emptied or were evicted.
    pub dropped_windows: Vec<(String, String)>,
    /// In the order they happened.
    pub detections: Vec<DetectionChange>,
    /// The newest log time read so far.
    pub high_water: Option<DateTime<Utc>>,
    /// The sinks a notify rule's alert is delivered through
    /// (`CommsConfig::escalation_sinks`): the commit that raises the alert
    /// also creates one pending delivery per sink, for the caller to
    /// deliver after the commit. Empty: alerts are raised (and shown), not
    /// delivered.
    pub notify_sinks: Vec<String>,
    /// The lease the watcher holds on its name: the commit renews it, and
    /// fails whole (`StoreError::LeaseLost`) if it is no longer ours.
    pub lease: Option<LeaseTerm>,
    /// Alerts read from followed intake files (Wazuh `alerts.json`),
    /// committed with the checkpoints of the lines they came from.
    pub intake: Vec<super::IntakeBatch>,
    /// Report every incident's pending hits now, not at most once a
    /// minute (the watcher is stopping, or a replay ends).
    pub flush: bool,
}

/// A detection as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectionRecord {
    pub id: i64,
    pub rule: String,
    pub key: String,
    pub number: i64,
    pub severity: Severity,
    pub group_by: String,
    pub window_seconds: Option<i64>,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub lines: Vec<String>,
    pub incident: Option<String>,
    pub alert_key: Option<String>,
    pub origin: String,
    pub open: bool,
}

/// What a watcher restarts from.
#[derive(Debug, Clone, Default)]
pub struct WatchState {
    pub checkpoints: Vec<FileCheckpoint>,
    pub windows: Vec<SavedWindow>,
    /// Every open detection (of any watcher or replay: suppression is per
    /// rule and key, whoever found it).
    pub open: Vec<DetectionRecord>,
    /// The newest log time the watcher had read.
    pub high_water: Option<DateTime<Utc>>,
    /// When it last committed.
    pub updated_at: Option<DateTime<Utc>>,
}

const DETECTION_COLUMNS: &str = "id, rule, key, number, severity, group_by, window_seconds,
    count, first_seen, last_seen, lines, incident_id, alert_key, origin, open";

fn detection_from_row(r: &Row<'_>) -> rusqlite::Result<DetectionRecord> {
    let severity: String = r.get(4)?;
    let count: i64 = r.get(7)?;
    let lines: String = r.get(10)?;
    Ok(DetectionRecord {
        id: r.get(0)?,
        rule: r.get(1)?,
        key: r.get(2)?,
        number: r.get(3)?,
        severity: severity.parse().unwrap_or(Severity::P4),
        group_by: r.get(5)?,
        window_seconds: r.get(6)?,
        count: u64::try_from(count).unwrap_or(0),
        first_seen: parse_time(r, 8)?,
        last_seen: parse_time(r, 9)?,
        lines: serde_json::from_str(&lines).unwrap_or_default(),
        incident: r.get(11)?,
        alert_key: r.get(12)?,
        origin: r.get(13)?,
        open: r.get(14)?,
    })
}

impl Store {
    /// What a watcher needs to resume: its checkpoints and windows, and the
    /// open detections.
    pub fn load_watch_state(&self, watcher: &str) -> Result<WatchState> {
        let read = || -> rusqlite::Result<WatchState> {
            let checkpoints = self.read_checkpoints(watcher)?;
            let windows = self
                .conn
                .prepare_cached(
                    "SELECT rule, key, state FROM watch_windows WHERE watcher = ?1
                     ORDER BY rule, key",
                )?
                .query_map([watcher], |r| {
                    Ok(SavedWindow {
                        rule: r.get(0)?,
                        key: r.get(1)?,
                        state: r.get_ref(2)?.as_bytes()?.to_vec(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let sql =
                format!("SELECT {DETECTION_COLUMNS} FROM detections WHERE open = 1 ORDER BY id");
            let open = self
                .conn
                .prepare_cached(&sql)?
                .query_map([], detection_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let (high_water, updated_at) = self
                .conn
                .prepare_cached("SELECT high_water, updated_at FROM watchers WHERE name = ?1")?
                .query_row([watcher], |r| {
                    Ok((super::incidents::parse_opt_time(r, 0)?, parse_time(r, 1)?))
                })
                .optional()?
                .map_or((None, None), |(h, u)| (h, Some(u)));
            Ok(WatchState {
                checkpoints,
                windows,
                open,
                high_water,
                updated_at,
            })
        };
        // One read transaction, so the three agree with one commit.
        self.conn.execute_batch("BEGIN").map_err(|e| self.err(e))?;
        let state = read();
        let _ = self.conn.execute_batch("COMMIT");
        state.map_err(|e| self.err(e))
    }

    /// Every detection (or only the open ones), oldest first.
    pub fn detections(&self, open_only: bool) -> Result<Vec<DetectionRecord>> {
        let sql = format!(
            "SELECT {DETECTION_COLUMNS} FROM detections WHERE open = 1 OR NOT ?1 ORDER BY id"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map([open_only], detection_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))
    }

    /// The detection an alert was raised for (`detections.alert_key`), as
    /// stored now: what a notify rule's alert delivery says.
    pub fn detection_by_alert(&self, key: &str) -> Result<Option<DetectionRecord>> {
        let sql = format!(
            "SELECT {DETECTION_COLUMNS} FROM detections WHERE alert_key = ?1 ORDER BY id LIMIT 1"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([key], detection_from_row).optional())
            .map_err(|e| self.err(e))
    }

    /// A watcher's checkpoints (for status views and tests).
    pub fn watch_checkpoints(&self, watcher: &str) -> Result<Vec<FileCheckpoint>> {
        self.read_checkpoints(watcher).map_err(|e| self.err(e))
    }

    fn read_checkpoints(&self, watcher: &str) -> rusqlite::Result<Vec<FileCheckpoint>> {
        self.conn
            .prepare_cached(
                "SELECT path, dev, inode, fp_len, fingerprint, offset
                 FROM watch_checkpoints WHERE watcher = ?1 ORDER BY path",
            )?
            .query_map([watcher], |r| {
                Ok(FileCheckpoint {
                    path: r.get(0)?,
                    dev: r.get::<_, i64>(1)? as u64,
                    inode: r.get::<_, i64>(2)? as u64,
                    fp_len: r.get(3)?,
                    fingerprint: r.get(4)?,
                    offset: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
                })
            })?
            .collect()
    }

    /// Commits one batch in one transaction: checkpoints, windows, and the
    /// detections with their incidents (source: rule watcher), `detect.*`
    /// timeline events and alerts for rules that notify; then reports the
    /// incidents due (bounded evidence, coalesced `detect.updated`). Detections whose incident was resolved or
    /// closed since are closed first and reported, so the engine forgets
    /// them.
    pub fn commit_watch_batch(
        &mut self,
        batch: &WatchBatch,
        playbook: &Playbook,
        actor: &str,
        host: &str,
        now: DateTime<Utc>,
    ) -> Result<CommitOutcome> {
        // A batch runs a few dozen distinct statements; keep them all.
        self.conn.set_prepared_statement_cache_capacity(64);
        // A flood's batch touches thousands of detection rows: pages read
        // again from the file (and spilled mid-transaction) were a tenth
        // of its time with the default 2 MB page cache.
        self.conn
            .execute_batch("PRAGMA cache_size = -16384")
            .map_err(|e| self.err(e))?;
        // Alerts from followed intake files: their excerpts go into the
        // evidence store first (content addressed: a crash leaves at most
        // an unreferenced file).
        let mut intake_excerpts = Vec::with_capacity(batch.intake.len());
        for b in &batch.intake {
            intake_excerpts.push(self.intake_excerpts(b, host)?);
        }
        let origin = if batch.replay {
            "scan".to_string()
        } else {
            format!("watch:{}", batch.watcher)
        };
        let outcome = self.write(|tx| {
            if let Some(term) = &batch.lease {
                renew_in_tx(tx, &batch.watcher, term, now)?;
            }
            let ctx = Ctx {
                tx,
                playbook,
                actor,
                now,
                origin: &origin,
                notify_sinks: &batch.notify_sinks,
                source: Source::RuleWatcher,
            };
            let mut outcome = CommitOutcome {
                closed: close_resolved(tx, now)?,
                ..CommitOutcome::default()
            };
            apply_changes(&ctx, batch.replay, &batch.detections, &mut outcome)?;
            for (b, excerpts) in batch.intake.iter().zip(&intake_excerpts) {
                intake_in_tx(tx, b, excerpts, playbook, actor, now, &mut outcome)?;
            }
            save_checkpoints(tx, batch, now)?;
            save_reads(tx, &batch.watcher, &batch.reads, now)?;
            save_windows(tx, batch)?;
            if !batch.replay {
                exec(
                    tx,
                    "INSERT INTO watchers (name, high_water, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET
                        high_water = coalesce(excluded.high_water, high_water),
                        updated_at = excluded.updated_at",
                    params![
                        batch.watcher,
                        batch.high_water.map(format_time),
                        format_time(now)
                    ],
                )?;
            }
            Ok(outcome)
        })?;
        // What the batch's hits add to their incidents' timeline and
        // evidence, once a minute per incident (every one on a flush); not
        // reported when this fails or the process dies: still pending in
        // the committed batch, reported by the next commit.
        if let Err(e) = self.report_watch_incidents(actor, host, now, batch.flush) {
            if batch.flush {
                return Err(e);
            }
            tracing::warn!("reporting detections to their incidents failed, retrying later: {e}");
        }
        // (A flush gave free pages back with its report.)
        if !batch.flush
            && let Err(e) = self.reclaim_free_pages(false)
        {
            tracing::warn!("giving free pages back failed, retrying later: {e}");
        }
        Ok(outcome)
    }

    /// Gives free pages back to the file system (a file created with
    /// incremental auto-vacuum; on others this does nothing): on a flush
    /// (the watcher stops, a replay ends), or when half the file is free.
    /// A flood frees pages (windows dropped as they fire, rows rewritten)
    /// that a running watcher's next commits mostly reuse, so not after
    /// every commit.
    pub(super) fn reclaim_free_pages(&self, flush: bool) -> Result<()> {
        let (free, pages): (i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT freelist_count FROM pragma_freelist_count),
                        (SELECT page_count FROM pragma_page_count)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        if free >= RECLAIM_FROM_PAGES && (flush || free * 2 > pages) {
            // One row per page given back: stepped to the end, or only the
            // first page goes.
            let vacuum = || -> rusqlite::Result<()> {
                let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum")?;
                let mut rows = stmt.query([])?;
                while rows.next()?.is_some() {}
                Ok(())
            };
            vacuum().map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}

/// Free pages worth giving back (1 MB of 4 KB pages).
const RECLAIM_FROM_PAGES: i64 = 256;

fn save_checkpoints(
    tx: &Transaction<'_>,
    batch: &WatchBatch,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let now = format_time(now);
    let mut put = tx.prepare_cached(
        "INSERT INTO watch_checkpoints (watcher, path, dev, inode, fp_len, fingerprint, offset, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (watcher, path) DO UPDATE SET dev = excluded.dev, inode = excluded.inode,
            fp_len = excluded.fp_len, fingerprint = excluded.fingerprint,
            offset = excluded.offset, updated_at = excluded.updated_at",
    )?;
    for c in &batch.checkpoints {
        put.execute(params![
            batch.watcher,
            c.path,
            c.dev as i64,
            c.inode as i64,
            c.fp_len,
            c.fingerprint,
            to_i64(c.offset),
            now
        ])?;
    }
    let mut forget =
        tx.prepare_cached("DELETE FROM watch_checkpoints WHERE watcher = ?1 AND path = ?2")?;
    for p in &batch.forget_paths {
        forget.execute(params![batch.watcher, p])?;
    }
    Ok(())
}

fn save_windows(tx: &Transaction<'_>, batch: &WatchBatch) -> rusqlite::Result<()> {
    let mut drop = tx.prepare_cached(
        "DELETE FROM watch_windows WHERE watcher = ?1 AND rule = ?2 AND key = ?3",
    )?;
    for (rule, key) in &batch.dropped_windows {
        drop.execute(params![batch.watcher, rule, key])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO watch_windows (watcher, rule, key, state) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (watcher, rule, key) DO UPDATE SET state = excluded.state",
    )?;
    for w in &batch.windows {
        put.execute(params![batch.watcher, w.rule, w.key, w.state])?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "watcher_tests.rs"]
mod tests;
