//! Who runs each named watcher. Two watchers with one name (two consoles
//! of the same user, a console and `warroom watch --name console`, a second
//! host) would read the same files into the same windows and checkpoints and
//! count every line twice. So a watcher holds a lease on its name: it takes
//! it before reading, renews it with every commit (and while idle), and
//! gives it back when it stops. Another watcher with the same name stands by
//! until the lease is given back or runs out, then takes over from the
//! checkpoints the first one committed. Each commit checks the lease in its
//! own transaction, so a watcher that stalled past its lease (and was
//! replaced) cannot write over its successor.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::migration::Migration;
use super::rows::parse_time;
use super::{Result, Store, StoreError, WriteError};
use crate::domain::event::format_time;

/// 7: one lease per watcher name.
pub(super) const MIGRATION: Migration = Migration {
    version: 7,
    sql: r#"
CREATE TABLE watch_leases (
    name TEXT PRIMARY KEY,
    -- Who holds it: the actor, their host and process, and a token unique
    -- to this run (a process may take the same name again after losing it).
    actor TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    token TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
"#,
};

/// One watcher run, as the lease names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    pub actor: String,
    pub host: String,
    pub pid: u32,
    pub token: String,
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {} (pid {})", self.actor, self.host, self.pid)
    }
}

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchLease {
    pub name: String,
    pub holder: LeaseHolder,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What asking for a lease gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseClaim {
    /// Ours now (new, renewed, taken from an expired or dead holder).
    Held(WatchLease),
    /// Somebody else's, live until `expires_at` unless given back earlier.
    Busy(WatchLease),
}

/// The lease a watcher's commits renew: who holds it and for how long each
/// renewal lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseTerm {
    pub holder: LeaseHolder,
    pub ttl: Duration,
}

fn expiry(now: DateTime<Utc>, ttl: Duration) -> String {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    format_time(
        now.checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    )
}

fn load(conn: &rusqlite::Connection, name: &str) -> rusqlite::Result<Option<WatchLease>> {
    conn.query_row(
        "SELECT actor, host, pid, token, acquired_at, expires_at
         FROM watch_leases WHERE name = ?1",
        [name],
        |r| {
            Ok(WatchLease {
                name: name.to_string(),
                holder: LeaseHolder {
                    actor: r.get(0)?,
                    host: r.get(1)?,
                    pid: r.get(2)?,
                    token: r.get(3)?,
                },
                acquired_at: parse_time(r, 4)?,
                expires_at: parse_time(r, 5)?,
            })
        },
    )
    .optional()
}

/// Inside a watcher's commit: renews its lease, or fails the whole commit
/// if the lease is no longer its own.
pub(super) fn renew_in_tx(
    tx: &Transaction<'_>,
    name: &str,
    term: &LeaseTerm,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    let n = tx.execute(
        "UPDATE watch_leases SET expires_at = ?3 WHERE name = ?1 AND token = ?2",
        params![name, term.holder.token, expiry(now, term.ttl)],
    )?;
    if n == 1 {
        return Ok(());
    }
    Err(WriteError::Store(StoreError::LeaseLost {
        name: name.to_string(),
        holder: load(tx, name)?.map(|l| l.holder.to_string()),
    }))
}

impl Store {
    /// Takes the lease on watcher `name` for `ttl` if it is free, expired,
    /// already ours, or held by a run `gone` says has ended (a process on
    /// this host that no longer exists); otherwise reports who holds it.
    pub fn claim_watch_lease(
        &mut self,
        name: &str,
        term: &LeaseTerm,
        now: DateTime<Utc>,
        gone: impl FnOnce(&LeaseHolder) -> bool,
    ) -> Result<LeaseClaim> {
        self.write(|tx| {
            if let Some(current) = load(tx, name)?
                && current.holder.token != term.holder.token
                && current.expires_at > now
                && !gone(&current.holder)
            {
                return Ok(LeaseClaim::Busy(current));
            }
            let h = &term.holder;
            tx.execute(
                "INSERT INTO watch_leases
                    (name, actor, host, pid, token, acquired_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (name) DO UPDATE SET
                    actor = excluded.actor, host = excluded.host, pid = excluded.pid,
                    acquired_at = CASE WHEN token = excluded.token THEN acquired_at
                                       ELSE excluded.acquired_at END,
                    token = excluded.token, expires_at = excluded.expires_at",
                params![
                    name,
                    h.actor,
                    h.host,
                    h.pid,
                    h.token,
                    format_time(now),
                    expiry(now, term.ttl)
                ],
            )?;
            Ok(LeaseClaim::Held(load(tx, name)?.ok_or_else(|| {
                WriteError::Store(StoreError::Invalid(format!(
                    "the lease on watcher {name} vanished while taken"
                )))
            })?))
        })
    }

    /// Extends our lease while no commit does (an idle watcher). Fails with
    /// `LeaseLost` if it is no longer ours.
    pub fn renew_watch_lease(
        &mut self,
        name: &str,
        term: &LeaseTerm,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| renew_in_tx(tx, name, term, now))
    }

    /// Gives the lease back (a watcher stopping), so another can take over
    /// at once. Someone else's lease is left alone.
    pub fn release_watch_lease(&mut self, name: &str, holder: &LeaseHolder) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM watch_leases WHERE name = ?1 AND token = ?2",
                params![name, holder.token],
            )?;
            Ok(())
        })
    }

    /// Every lease (who runs which watcher, and until when).
    pub fn watch_leases(&self) -> Result<Vec<WatchLease>> {
        let read = || -> rusqlite::Result<Vec<WatchLease>> {
            let names: Vec<String> = self
                .conn
                .prepare("SELECT name FROM watch_leases ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::with_capacity(names.len());
            for n in names {
                out.extend(load(&self.conn, &n)?);
            }
            Ok(out)
        };
        read().map_err(|e| self.err(e))
    }
}
