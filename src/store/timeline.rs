//! The append-only, hash-chained timeline: appending inside a write
//! transaction, reading, and verifying the chain (optionally against an
//! external checkpoint, so truncation of the newest events shows too).

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError};
use crate::domain::event::{Event, GENESIS_HASH, HashInput, event_hash, format_time};

/// Which chain an event belongs to: drills are kept apart so they can be
/// purged without touching the live record.
pub fn chain_for(drill: bool) -> &'static str {
    if drill { "drill" } else { "live" }
}

pub(super) struct NewEvent<'a> {
    pub drill: bool,
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub incident: Option<&'a str>,
    pub kind: &'a str,
    pub detail: String,
    pub data: serde_json::Value,
}

/// Appends one event to its chain; the caller's transaction holds the write
/// lock, so reading the chain head and inserting after it cannot race.
pub(super) fn append(tx: &Transaction<'_>, e: NewEvent<'_>) -> rusqlite::Result<Event> {
    let chain = chain_for(e.drill);
    let head: Option<(i64, String)> = tx
        .query_row(
            "SELECT chain_seq, hash FROM events WHERE chain = ?1 ORDER BY chain_seq DESC LIMIT 1",
            [chain],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (chain_seq, prev_hash) = match head {
        Some((n, h)) => (n + 1, h),
        None => (1, GENESIS_HASH.to_string()),
    };
    // The row number is allocated here rather than by SQLite so that it can
    // be hashed; the write lock makes max + 1 safe.
    let seq: i64 = tx.query_row("SELECT coalesce(max(seq), 0) + 1 FROM events", [], |r| {
        r.get(0)
    })?;
    let at = format_time(e.at);
    // serde_json's default map is ordered, so this text is canonical.
    let data = e.data.to_string();
    let hash = event_hash(&HashInput {
        seq,
        chain,
        chain_seq,
        at: &at,
        actor: e.actor,
        incident: e.incident,
        kind: e.kind,
        detail: &e.detail,
        data: &data,
        prev_hash: &prev_hash,
    });
    tx.execute(
        "INSERT INTO events (seq, chain, chain_seq, at, actor, incident_id, kind, detail, data, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![seq, chain, chain_seq, at, e.actor, e.incident, e.kind, e.detail, data, prev_hash, hash],
    )?;
    Ok(Event {
        seq,
        at: e.at,
        actor: e.actor.to_string(),
        incident: e.incident.map(str::to_string),
        kind: e.kind.to_string(),
        detail: e.detail,
        data,
        prev_hash,
        hash,
    })
}

const EVENT_COLUMNS: &str = "seq, at, actor, incident_id, kind, detail, data, prev_hash, hash";

pub(super) fn event_from_row(r: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        seq: r.get(0)?,
        at: super::rows::parse_time(r, 1)?,
        actor: r.get(2)?,
        incident: r.get(3)?,
        kind: r.get(4)?,
        detail: r.get(5)?,
        data: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

/// Where the chain was last seen good: per chain, the newest event's
/// position and hash. Kept outside the database by the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub chains: Vec<ChainHead>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub chain: String,
    pub chain_seq: i64,
    pub hash: String,
}

/// The first problem verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyFailure {
    /// The event's row number (`seq`), when there is one to name.
    pub seq: Option<i64>,
    pub chain: String,
    pub chain_seq: i64,
    pub problem: String,
}

impl std::fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(
                f,
                "event {seq} ({} chain #{}): {}",
                self.chain, self.chain_seq, self.problem
            ),
            None => write!(
                f,
                "{} chain #{}: {}",
                self.chain, self.chain_seq, self.problem
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub events: u64,
    pub heads: Vec<ChainHead>,
    pub failure: Option<VerifyFailure>,
    /// Stored records the chain contradicts (an incident row that its
    /// events do not replay to, an evidence row repointed after
    /// collection), checked once the chain itself is sound.
    pub records: Vec<String>,
}

impl VerifyReport {
    /// Nothing failed.
    pub fn is_ok(&self) -> bool {
        self.failure.is_none() && self.records.is_empty()
    }
}

impl Store {
    /// An incident's timeline, newest first.
    pub fn timeline(&self, incident: &str, limit: Option<usize>) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = ?1 ORDER BY seq DESC LIMIT ?2"
        );
        let limit = limit.map_or(-1, |l| l as i64);
        self.query_events(&sql, params![incident, limit])
    }

    /// The newest events across all incidents, newest first.
    pub fn recent_events(&self, limit: usize) -> Result<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq DESC LIMIT ?1");
        self.query_events(&sql, params![limit as i64])
    }

    fn query_events(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(p, event_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Recomputes every hash of both chains, in order, and checks that each
    /// chain counts 1, 2, 3... with each event linked to the one before.
    /// Stops at the first bad event.
    pub fn verify_chain(&self) -> Result<VerifyReport> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, chain, chain_seq, at, actor, incident_id, kind, detail, data, prev_hash, hash
                 FROM events ORDER BY chain, chain_seq",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        let mut report = VerifyReport {
            events: 0,
            heads: Vec::new(),
            failure: None,
            records: Vec::new(),
        };
        let mut current: Option<ChainHead> = None;
        // The row number of the event before in the same chain: the row
        // numbers of a chain only ever grow (an event forged at the head
        // with a small or negative one would sort as old in timelines).
        let mut prev_seq = 0i64;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            // Read every column as text, whatever its stored type: a value
            // tampered into another type then fails its hash, not the read.
            let text = |i: usize| -> String {
                match r.get_ref(i) {
                    Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
                    Ok(ValueRef::Integer(n)) => n.to_string(),
                    Ok(ValueRef::Real(f)) => f.to_string(),
                    Ok(ValueRef::Blob(b)) => String::from_utf8_lossy(b).into_owned(),
                    Ok(ValueRef::Null) | Err(_) => String::new(),
                }
            };
            let seq: i64 = r.get(0).map_err(|e| self.err(e))?;
            let chain = text(1);
            let chain_seq: i64 = r.get(2).map_err(|e| self.err(e))?;
            let incident: Option<String> = match r.get_ref(5) {
                Ok(ValueRef::Null) => None,
                _ => Some(text(5)),
            };
            let (at, actor, kind, detail, data, prev_hash, hash) = (
                text(3),
                text(4),
                text(6),
                text(7),
                text(8),
                text(9),
                text(10),
            );
            report.events += 1;

            if current.as_ref().is_some_and(|h| h.chain != chain) {
                report.heads.extend(current.take());
                prev_seq = 0;
            }
            let (expect_seq, expect_prev) = match &current {
                Some(h) => (h.chain_seq + 1, h.hash.as_str()),
                None => (1, GENESIS_HASH),
            };
            let fail = |problem: String| VerifyFailure {
                seq: Some(seq),
                chain: chain.clone(),
                chain_seq,
                problem,
            };
            let problem = if chain_seq != expect_seq {
                Some(format!(
                    "expected #{expect_seq} next in the chain; events are missing or reordered"
                ))
            } else if seq <= prev_seq {
                Some(format!(
                    "its row number {seq} is not after the previous event's ({prev_seq}); the event was put in outside the chain's sequence"
                ))
            } else if prev_hash != expect_prev {
                Some("does not link to the event before it (prev_hash differs); events were removed or reordered".to_string())
            } else {
                let computed = event_hash(&HashInput {
                    seq,
                    chain: &chain,
                    chain_seq,
                    at: &at,
                    actor: &actor,
                    incident: incident.as_deref(),
                    kind: &kind,
                    detail: &detail,
                    data: &data,
                    prev_hash: &prev_hash,
                });
                (computed != hash).then(|| {
                    "its contents do not match its hash; the event was altered".to_string()
                })
            };
            if let Some(p) = problem {
                report.failure = Some(fail(p));
                return Ok(report);
            }
            prev_seq = seq;
            current = Some(ChainHead {
                chain,
                chain_seq,
                hash,
            });
        }
        report.heads.extend(current);
        Ok(report)
    }

    /// Verifies the chain and then compares it with a checkpoint written
    /// earlier: every chain must still reach the checkpoint's position with
    /// the same hash there.
    pub fn verify_against(&self, checkpoint: &Checkpoint) -> Result<VerifyReport> {
        let mut report = self.verify_chain()?;
        if report.failure.is_some() {
            return Ok(report);
        }
        let live_seq = checkpoint
            .chains
            .iter()
            .find(|c| c.chain == chain_for(false))
            .map_or(0, |c| c.chain_seq);
        for want in &checkpoint.chains {
            // A drill chain purged since the checkpoint is compared with
            // what the purge recorded, not with the new drill chain.
            if want.chain != chain_for(false)
                && let Some(purge) = self.purge_after(live_seq)?
            {
                if let Some(problem) = purge.contradicts(want.chain_seq, &want.hash) {
                    report.failure = Some(VerifyFailure {
                        seq: None,
                        chain: want.chain.clone(),
                        chain_seq: want.chain_seq,
                        problem,
                    });
                    return Ok(report);
                }
                continue;
            }
            let found: Option<(i64, String)> = self
                .conn
                .query_row(
                    "SELECT seq, hash FROM events WHERE chain = ?1 AND chain_seq = ?2",
                    params![want.chain, want.chain_seq],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(|e| self.err(e))?;
            let problem = match found {
                None => Some((
                    None,
                    format!(
                        "the checkpoint recorded this event but it is gone; the newest events were truncated (chain now ends at #{})",
                        report
                            .heads
                            .iter()
                            .find(|h| h.chain == want.chain)
                            .map_or(0, |h| h.chain_seq)
                    ),
                )),
                Some((seq, hash)) if hash != want.hash => Some((
                    Some(seq),
                    "differs from the checkpoint; the chain was rewritten from here or earlier"
                        .to_string(),
                )),
                Some(_) => None,
            };
            if let Some((seq, problem)) = problem {
                report.failure = Some(VerifyFailure {
                    seq,
                    chain: want.chain.clone(),
                    chain_seq: want.chain_seq,
                    problem,
                });
                return Ok(report);
            }
        }
        Ok(report)
    }
}

impl Checkpoint {
    pub fn read(path: &Path) -> Result<Option<Checkpoint>> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                StoreError::Invalid(format!(
                    "{}:{}:{}: not a warroom checkpoint: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes atomically (temp file + rename) so a crash never leaves half
    /// a checkpoint.
    pub fn write(&self, path: &Path) -> Result<()> {
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text =
            serde_json::to_string_pretty(self).map_err(|e| StoreError::Invalid(e.to_string()))?;
        crate::newfile::write_atomic(path, (text + "\n").as_bytes(), crate::newfile::PRIVATE_FILE)
            .map_err(io)
    }
}
