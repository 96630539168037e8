//! The store: the only place SQL lives. One SQLite file, opened with the
//! settings of DESIGN.md; every change is one IMMEDIATE transaction that
//! updates current state and appends the timeline event(s) describing it.

mod alert_log;
mod campaigns;
mod changes;
mod checklist;
mod clocks;
mod comms;
mod digests;
mod drafts;
mod drills;
mod evidence;
mod evidence_check;
mod evidence_export;
mod evidence_files;
mod incidents;
mod intake;
mod intake_status;
mod migration;
mod peek;
mod presence;
mod records;
mod review;
mod roster;
mod roster_conflict;
mod rows;
mod schema;
mod source_reads;
#[cfg(test)]
pub(crate) mod test_fixtures;
pub mod timeline;
mod versions;
mod watch_batch;
mod watch_indexes;
mod watch_lease;
mod watcher;
mod watcher_apply;
mod watcher_tally;

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

pub use alert_log::RaisedAlert;
pub use campaigns::IncidentSource;
pub use comms::{
    AlertClaim, AlertDelivery, AlertDeliveryState, AlertSubject, Delivery, DeliveryState,
    MAX_MESSAGE_BYTES, NewAlert, NewMessage, SentMessage, body_sha256, check_body,
};
pub use digests::{DIGEST as DIGEST_KIND, DigestRule};
pub use drafts::Draft;
pub use evidence::{
    EvidenceContent, ExportSummary, LegalHold, NewEvidence, PurgeSummary, STORE_CUSTODIAN,
    this_host,
};
pub use evidence_check::ItemCheck;
pub use evidence_files::open_regular_file;
pub use incidents::{BoardRow, IncidentDetail, IncidentPatch, NewIncident, NoteFlags};
pub use intake::{
    IntakeAlert, IntakeBatch, IntakeOutcome, IntakeStats, channels as intake_channels,
};
pub use intake_status::{IncidentIntake, IntakeChannelStats};
pub use peek::{Peek, open_incident_ids, peek};
pub use presence::{ConsoleId, HEARTBEAT_EVERY, Presence, STALE_AFTER};
pub use review::{NewAction, ReviewPatch};
pub use schema::APPLICATION_ID;
pub use source_reads::SourceRead;
pub use timeline::{Checkpoint, VerifyFailure, VerifyReport};
pub use watch_batch::{
    CAMPAIGN_DETECTION_LINES, CommitOutcome, DetectionChange, MAX_DETECTION_LINES, OpenedDetection,
    RuleFacts, kinds as detect_kinds,
};
pub use watch_lease::{LeaseClaim, LeaseHolder, LeaseTerm, WatchLease};
pub use watcher::{DetectionRecord, FileCheckpoint, SavedWindow, WatchBatch, WatchState};

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong in the store, phrased for the person who has to act on it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no incident {0}")]
    IncidentNotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// A stale edit: the same thing was changed after the version the edit
    /// was based on; nothing was written.
    #[error("conflict: {0}")]
    Conflict(Box<crate::domain::version::Conflict>),
    #[error("{path}: not a warroom database ({detail})")]
    NotWarroom { path: PathBuf, detail: String },
    #[error("{path}: the file is corrupt or not an SQLite database ({detail})")]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{path}: the database is read-only for this user (the file, or the directory that holds its WAL, is not writable); nothing was changed"
    )]
    ReadOnly { path: PathBuf },
    #[error("{path}: the database stayed locked by another process for over {secs}s; nothing was changed", secs = BUSY_TIMEOUT.as_secs())]
    Busy { path: PathBuf },
    #[error("{path}: the disk is full; nothing was changed")]
    DiskFull { path: PathBuf },
    #[error("{path}: made by a newer warroom (schema {found}, this build knows up to {known})")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{}", lease_lost(name, holder.as_deref()))]
    LeaseLost {
        name: String,
        holder: Option<String>,
    },
    #[error("{path}: {}", io_text(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// An I/O error as a person reads it: a full disk is said plainly.
fn io_text(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::StorageFull {
        format!("the disk is full ({e})")
    } else {
        e.to_string()
    }
}

fn lease_lost(name: &str, holder: Option<&str>) -> String {
    match holder {
        Some(h) => format!("watcher {name} is now run by {h}; this one stopped writing"),
        None => format!("watcher {name} lost its lease; this one stopped writing"),
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An open warroom database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The severity policy the store's own checks use (a downgrade after a
    /// breach, pausing a clock): the shipped one until `set_policy`.
    policy: crate::domain::Policy,
}

impl Store {
    /// Opens (creating if needed, with owner-only permissions) and migrates.
    pub fn open(path: &Path) -> Result<Store> {
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io)?;
        }
        match std::fs::symlink_metadata(path) {
            // A link is followed only to a file that is there: a dangling
            // one would make us create its target, wherever it points.
            Ok(m) if m.file_type().is_symlink() && !path.exists() => {
                let target = std::fs::read_link(path)
                    .map_or_else(|_| "?".into(), |t| t.display().to_string());
                return Err(StoreError::Invalid(format!(
                    "{}: is a symbolic link to {target}, which does not exist; refusing to create a database through it",
                    path.display()
                )));
            }
            Ok(_) => {}
            // Create the file ourselves so it is 0600 from the first byte
            // (SQLite gives its -wal and -shm files the same permissions),
            // exclusively, so nothing planted there in between is opened.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match crate::newfile::create_exclusive(path, crate::newfile::PRIVATE_FILE) {
                    Ok(_) => {}
                    // Another process created it first: open theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io(e)),
                }
            }
            Err(e) => return Err(io(e)),
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| sqlite_error(path, e))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            policy: crate::domain::Policy::builtin(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The policy in force (a user's policy.toml), for the checks that
    /// need clocks inside a write.
    pub fn set_policy(&mut self, policy: crate::domain::Policy) {
        self.policy = policy;
    }

    pub fn policy(&self) -> &crate::domain::Policy {
        &self.policy
    }

    fn configure(&mut self) -> Result<()> {
        // Before the first read: a fresh file may be mid-migration in
        // another process, holding a lock we must wait for.
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.err(e))?;
        // The first read tells a corrupt or foreign file apart early. Both
        // figures come from one snapshot: read apart, a migration committing
        // in between (tables created, then the id) looked like a foreign file.
        let (app_id, tables): (i32, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id),
                        (SELECT count(*) FROM sqlite_master)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        if app_id != APPLICATION_ID && (app_id != 0 || tables > 0) {
            return Err(StoreError::NotWarroom {
                path: self.path.clone(),
                detail: if app_id == 0 {
                    format!("it already holds {tables} other schema objects")
                } else {
                    format!("application id {app_id:#x}")
                },
            });
        }
        // A new file gives pages freed by a flood back to the file system
        // (the watcher's commits run `incremental_vacuum`); only possible
        // before its first table. Older files reuse their free pages.
        if tables == 0 {
            let _ = self.conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL");
        }
        // WAL fails on a read-only file; reads still work then, and every
        // write reports ReadOnly.
        let _ = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0));
        self.conn
            .execute_batch(
                "PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA trusted_schema = OFF;",
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        // The newest version known (rooms own their versions, so the list
        // may be out of order while one is being written).
        let known = schema::MIGRATIONS
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let version = self.user_version()?;
        if version > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        if version == known {
            return Ok(());
        }
        self.write(|tx| {
            // Re-read under the write lock: another process may have won.
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let mut pending: Vec<&schema::Migration> = schema::MIGRATIONS
                .iter()
                .filter(|m| m.version > version)
                .collect();
            pending.sort_by_key(|m| m.version);
            for m in pending {
                tx.execute_batch(m.sql)?;
                tx.execute_batch(&format!("PRAGMA user_version = {}", m.version))?;
            }
            tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}"))?;
            Ok(())
        })
    }

    fn user_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Trades durability for speed on this connection (`synchronous = OFF`)
    /// while loading a large data set that can be rebuilt, such as a
    /// benchmark's. Never used by the console or the CLI.
    pub fn relax_durability_for_bulk_load(&mut self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA synchronous = OFF")
            .map_err(|e| self.err(e))
    }

    /// Changes whenever another connection commits; cheap enough to poll
    /// every tick (it reads no pages).
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// `PRAGMA integrity_check`: "ok" or the problems found.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Runs `f` in one IMMEDIATE transaction and commits it. Waiting for
    /// other writers is SQLite's busy timeout; a failure rolls back whole.
    fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T, WriteError>) -> Result<T> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite_error(&path, e))?;
        let value = match f(&tx) {
            Ok(v) => v,
            Err(e) => {
                drop(tx);
                return Err(self.disk_full_or(e.into_store(&path)));
            }
        };
        if let Err(e) = tx.commit() {
            return Err(self.disk_full_or(sqlite_error(&path, e)));
        }
        Ok(value)
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        self.disk_full_or(sqlite_error(&self.path, e))
    }

    /// SQLite reports a full disk met while growing its shared-memory or
    /// WAL file as an I/O error ("disk I/O error", 4874); the system error
    /// behind it tells.
    fn disk_full_or(&self, e: StoreError) -> StoreError {
        // SAFETY: the handle is this open connection's; the call only
        // reads its last system error number.
        let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(self.conn.handle()) };
        classify_io(e, errno)
    }
}

/// The error type inside a write closure: SQLite errors become StoreErrors
/// with the path once the closure returns.
enum WriteError {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        WriteError::Sqlite(e)
    }
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Store(e)
    }
}

impl WriteError {
    fn into_store(self, path: &Path) -> StoreError {
        match self {
            WriteError::Sqlite(e) => sqlite_error(path, e),
            WriteError::Store(e) => e,
        }
    }
}

/// A generic SQLite I/O error whose system error was ENOSPC is a full disk.
fn classify_io(e: StoreError, errno: i32) -> StoreError {
    match e {
        StoreError::Sqlite {
            path,
            source: rusqlite::Error::SqliteFailure(f, _),
        } if f.code == ErrorCode::SystemIoFailure && errno == libc::ENOSPC => {
            StoreError::DiskFull { path }
        }
        other => other,
    }
}

/// Turns SQLite's codes into the errors a user can act on.
fn sqlite_error(path: &Path, e: rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let detail = msg.clone().unwrap_or_else(|| f.to_string());
        match f.code {
            ErrorCode::ReadOnly => return StoreError::ReadOnly { path },
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return StoreError::Busy { path };
            }
            ErrorCode::DiskFull => return StoreError::DiskFull { path },
            ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
                return StoreError::Corrupt { path, detail };
            }
            ErrorCode::CannotOpen if path.is_dir() => {
                return StoreError::Invalid(format!(
                    "{}: is a directory; give a database file",
                    path.display()
                ));
            }
            ErrorCode::CannotOpen if !path.exists() => {
                return StoreError::Io {
                    path,
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, detail),
                };
            }
            _ => {}
        }
    }
    StoreError::Sqlite { path, source: e }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
#[path = "open_tests.rs"]
mod open_tests;

#[cfg(test)]
#[path = "query_plan_tests.rs"]
mod query_plan_tests;

#[cfg(test)]
#[path = "campaigns_tests.rs"]
mod campaigns_tests;

#[cfg(test)]
#[path = "versions_tests.rs"]
mod versions_tests;

#[cfg(test)]
#[path = "close_gate_tests.rs"]
mod close_gate_tests;

#[cfg(test)]
#[path = "roster_tests.rs"]
mod roster_tests;

#[cfg(test)]
#[path = "reclaim_tests.rs"]
mod reclaim_tests;
