//! Evidence with chain of custody, legal holds, export bundles and the
//! purge of drills.
//!
//! Content lives in a content-addressed store beside the database
//! (`<db dir>/<db stem>.evidence/sha256/ab/cdef...`), each file read-only;
//! the `evidence` rows (append-only) record what was collected, and every
//! collection, transfer, check and export is a custody event in the
//! timeline, in the same transaction as the change it describes.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::incidents::{load_in_tx, non_blank, parse_time, record_change, save_in_tx};
use super::timeline::{NewEvent, append};
use super::{Result, Store, StoreError, WriteError};
use crate::domain::IncidentId;
use crate::domain::event::format_time;
use crate::domain::evidence::{
    CheckResult, CustodyEvent, EvidenceItem, EvidenceKind, blob_path, kinds, sha256_hex,
};

/// Who holds evidence that sits in the store.
pub const STORE_CUSTODIAN: &str = "evidence-store";

/// What is being collected.
#[derive(Debug, Clone)]
pub enum EvidenceContent {
    /// A file to copy into the evidence store.
    File(PathBuf),
    /// Log lines, and the file they came from if any.
    Excerpt {
        text: String,
        source_path: Option<String>,
    },
    Note(String),
}

/// One item to collect: its content, a description, and where it came from
/// (host name, and the collector's time zone for the local time).
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub content: EvidenceContent,
    pub description: String,
    pub source_host: String,
    pub tz: FixedOffset,
}

/// This machine's name, recorded as the source host of what is collected
/// here.
pub fn this_host() -> String {
    whoami::fallible::hostname()
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// A legal hold in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalHold {
    pub incident: String,
    pub reason: String,
    pub set_by: String,
    #[serde(serialize_with = "ser_time")]
    pub set_at: DateTime<Utc>,
}

/// The outcome of re-hashing one stored item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemCheck {
    pub incident: String,
    pub item: i64,
    pub expected: String,
    /// The hash found, when the file could be read.
    pub found: Option<String>,
    pub result: CheckResult,
    /// Absolute path of the stored copy.
    pub path: PathBuf,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub incident: String,
    pub out: PathBuf,
    pub items: usize,
    pub legal_hold: bool,
    /// Relative paths of every file in the bundle, manifest last.
    pub files: Vec<String>,
}

/// What `drill purge` would remove (or removed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PurgeSummary {
    pub incidents: Vec<String>,
    pub events: i64,
    pub evidence: i64,
    /// Drill incidents under legal hold (the purge is refused while any).
    pub held: Vec<String>,
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

const EVIDENCE_COLUMNS: &str = "id, incident_id, kind, sha256, size, collected_by, collected_at,
    collected_at_local, source_host, source_path, description, content, stored_path, drill";

/// A legal hold from `SELECT incident_id, reason, set_by, set_at`.
fn legal_hold_from_row(r: &Row<'_>) -> rusqlite::Result<LegalHold> {
    Ok(LegalHold {
        incident: r.get(0)?,
        reason: r.get(1)?,
        set_by: r.get(2)?,
        set_at: parse_time(r, 3)?,
    })
}

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<EvidenceItem> {
    let kind: String = r.get(2)?;
    let size: i64 = r.get(4)?;
    Ok(EvidenceItem {
        id: r.get(0)?,
        incident: r.get(1)?,
        kind: kind.parse().unwrap_or(EvidenceKind::Note),
        sha256: r.get(3)?,
        size: u64::try_from(size).unwrap_or(0),
        collected_by: r.get(5)?,
        collected_at: parse_time(r, 6)?,
        collected_at_local: r.get(7)?,
        source_host: r.get(8)?,
        source_path: r.get(9)?,
        description: r.get(10)?,
        content: r.get(11)?,
        stored_path: r.get(12)?,
        drill: r.get(13)?,
    })
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn private_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))
}

/// Hashes a file by streaming it (evidence can be large).
fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(h.finalize()), size))
}

/// What kind of thing a non-regular file is, for error messages.
fn describe_file_type(t: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading only if it is a regular file (symbolic links
/// are followed). FIFOs, devices, sockets and directories are refused with
/// a clear error instead of being read: opening a FIFO would wait for a
/// writer forever, and a device has no end. The type is checked before
/// opening (a stat never blocks) and again on the open handle, which is
/// opened non-blocking, so a path swapped for a FIFO in between cannot
/// hang the caller either.
pub fn open_regular_file(path: &Path) -> Result<File> {
    let refuse = |t: fs::FileType| {
        StoreError::Invalid(format!(
            "{} is {}; only regular files can be collected as evidence",
            path.display(),
            describe_file_type(t)
        ))
    };
    let meta = fs::metadata(path).map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(refuse(meta.file_type()));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_err(path))?;
    let meta = file.metadata().map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(refuse(meta.file_type()));
    }
    Ok(file)
}

/// Checks one stored file against its recorded hash.
fn check_blob(path: &Path, expected: &str) -> (CheckResult, Option<String>) {
    match hash_file(path) {
        Ok((found, _)) if found == expected => (CheckResult::Ok, Some(found)),
        Ok((found, _)) => (CheckResult::Mismatch, Some(found)),
        Err(_) => (CheckResult::Missing, None),
    }
}

/// Content copied into the evidence store, not yet recorded.
pub(super) struct StoredContent {
    kind: EvidenceKind,
    sha: String,
    size: u64,
    source_path: Option<String>,
    content: Option<String>,
}

/// Records a stored item and its collection custody event in the caller's
/// transaction (the watcher records its excerpts with its detections).
pub(super) fn insert_evidence_in_tx(
    tx: &rusqlite::Transaction<'_>,
    id: &IncidentId,
    stored_content: &StoredContent,
    new: &NewEvidence,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<EvidenceItem, WriteError> {
    let StoredContent {
        kind,
        sha,
        size,
        source_path,
        content,
    } = stored_content;
    let size = *size;
    let description = new.description.trim().to_string();
    let host = new.source_host.trim().to_string();
    let local = now
        .with_timezone(&new.tz)
        .to_rfc3339_opts(SecondsFormat::Millis, false);
    let stored = blob_path(sha);
    let mut incident = load_in_tx(tx, id.as_str())?;
    let size_i = i64::try_from(size).unwrap_or(i64::MAX);
    let item_id: i64 = tx.query_row(
        "INSERT INTO evidence (incident_id, kind, sha256, size, collected_by, collected_at,
                collected_at_local, source_host, source_path, description, content,
                stored_path, drill)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             RETURNING id",
        params![
            id.as_str(),
            kind.as_str(),
            sha,
            size_i,
            actor,
            format_time(now),
            local,
            host,
            source_path,
            description,
            content,
            stored,
            incident.drill
        ],
        |r| r.get(0),
    )?;
    incident.updated_at = now;
    save_in_tx(tx, &incident)?;
    let from = match (&kind, &source_path) {
        (EvidenceKind::Note, _) => format!("{actor} (written)"),
        (_, Some(p)) => format!("{host}:{p}"),
        (_, None) => format!("{host} (typed by {actor})"),
    };
    let what = if description.is_empty() {
        kind.as_str().to_string()
    } else {
        format!("{kind}: {description}")
    };
    append(
        tx,
        NewEvent {
            drill: incident.drill,
            at: now,
            actor,
            incident: Some(id.as_str()),
            kind: kinds::COLLECTED,
            detail: format!(
                "evidence #{item_id} collected ({what}), sha256 {}, {size} bytes",
                &sha[..12]
            ),
            data: json!({
                "item": item_id,
                "sha256": sha,
                "size": size,
                "from": from,
                "to": STORE_CUSTODIAN,
                "purpose": "collection",
            }),
        },
    )?;
    Ok(EvidenceItem {
        id: item_id,
        incident: id.as_str().to_string(),
        kind: *kind,
        sha256: sha.clone(),
        size,
        collected_by: actor.to_string(),
        collected_at: now,
        collected_at_local: local.clone(),
        source_host: host.clone(),
        source_path: source_path.clone(),
        description: description.clone(),
        content: content.clone(),
        stored_path: stored.clone(),
        drill: incident.drill,
    })
}

impl Store {
    /// The content-addressed evidence store beside the database:
    /// `<db dir>/<db stem>.evidence`.
    pub fn evidence_dir(&self) -> PathBuf {
        let stem = self
            .path
            .file_stem()
            .map_or_else(|| "warroom".into(), |s| s.to_string_lossy().into_owned());
        self.path
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("{stem}.evidence"))
    }

    /// Copies `src` (streaming, hashing as it goes) into the evidence store,
    /// read-only. Identical content is stored once.
    fn store_file(&self, src: &Path) -> Result<(String, u64)> {
        let dir = self.evidence_dir();
        let tmp_dir = dir.join("tmp");
        private_dir(&tmp_dir)?;
        let tmp = tmp_dir.join(format!(
            "incoming-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or(0)
        ));
        let result = (|| {
            let mut input = open_regular_file(src)?;
            let mut out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io_err(&tmp))?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            let mut size = 0u64;
            loop {
                let n = input.read(&mut buf).map_err(io_err(src))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
                out.write_all(&buf[..n]).map_err(io_err(&tmp))?;
                size += n as u64;
            }
            out.sync_all().map_err(io_err(&tmp))?;
            Ok((hex::encode(h.finalize()), size))
        })();
        let (sha, size) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let placed = self.place_blob(&tmp, &sha);
        let _ = fs::remove_file(&tmp);
        placed.map(|()| (sha, size))
    }

    /// Stores bytes (an excerpt's or a note's text) like a file.
    fn store_bytes(&self, bytes: &[u8]) -> Result<String> {
        let dir = self.evidence_dir();
        let tmp_dir = dir.join("tmp");
        private_dir(&tmp_dir)?;
        let tmp = tmp_dir.join(format!(
            "incoming-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or(0)
        ));
        let sha = sha256_hex(bytes);
        let written = (|| {
            let mut out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            out.write_all(bytes)?;
            out.sync_all()
        })()
        .map_err(io_err(&tmp));
        let placed = written.and_then(|()| self.place_blob(&tmp, &sha));
        let _ = fs::remove_file(&tmp);
        placed.map(|()| sha)
    }

    /// Moves a hashed temporary file to its content address and makes it
    /// read-only; if that content is already stored, checks the copy there.
    fn place_blob(&self, tmp: &Path, sha: &str) -> Result<()> {
        let dest = self.evidence_dir().join(blob_path(sha));
        if let Some(parent) = dest.parent() {
            private_dir(parent)?;
        }
        if dest.exists() {
            return match check_blob(&dest, sha) {
                (CheckResult::Ok, _) => Ok(()),
                _ => Err(StoreError::Io {
                    path: dest.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "the stored copy of identical content no longer matches its hash; run `warroom evidence verify`",
                    ),
                }),
            };
        }
        fs::set_permissions(tmp, fs::Permissions::from_mode(0o444)).map_err(io_err(tmp))?;
        fs::rename(tmp, &dest).map_err(io_err(&dest))?;
        if let Some(parent) = dest.parent()
            && let Ok(d) = File::open(parent)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Collects one item: copies its content into the evidence store, then
    /// records it and its first custody event in one transaction.
    pub fn add_evidence(
        &mut self,
        id: &IncidentId,
        new: &NewEvidence,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<EvidenceItem> {
        // Fail early, before copying anything, for an unknown incident.
        self.incident(id)?;
        let stored = self.store_content(&new.content)?;
        self.write(|tx| insert_evidence_in_tx(tx, id, &stored, new, actor, now))
    }

    /// Copies an item's content into the evidence store (outside any
    /// transaction: a crash afterwards leaves at most an unreferenced file),
    /// ready for [`insert_evidence_in_tx`].
    pub(super) fn store_content(&self, content: &EvidenceContent) -> Result<StoredContent> {
        let (kind, sha, size, source_path, content) = match content {
            EvidenceContent::File(path) => {
                let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let (sha, size) = self.store_file(path)?;
                (
                    EvidenceKind::File,
                    sha,
                    size,
                    Some(abs.to_string_lossy().into_owned()),
                    None,
                )
            }
            EvidenceContent::Excerpt { text, source_path } => {
                if text.trim().is_empty() {
                    return Err(StoreError::Invalid("the excerpt is empty".into()));
                }
                let sha = self.store_bytes(text.as_bytes())?;
                (
                    EvidenceKind::Excerpt,
                    sha,
                    text.len() as u64,
                    source_path.clone(),
                    Some(text.clone()),
                )
            }
            EvidenceContent::Note(text) => {
                if text.trim().is_empty() {
                    return Err(StoreError::Invalid("the note is empty".into()));
                }
                let sha = self.store_bytes(text.as_bytes())?;
                (
                    EvidenceKind::Note,
                    sha,
                    text.len() as u64,
                    None,
                    Some(text.clone()),
                )
            }
        };
        Ok(StoredContent {
            kind,
            sha,
            size,
            source_path,
            content,
        })
    }
    /// An incident's evidence, in collection order.
    pub fn evidence(&self, id: &IncidentId) -> Result<Vec<EvidenceItem>> {
        let sql =
            format!("SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE incident_id = ?1 ORDER BY id");
        self.query_all(&sql, [id.as_str()], item_from_row)
    }

    /// Records that an incident's evidence was looked at (the evidence
    /// list opened in the console or listed by the CLI, or put into a
    /// report): one `evidence.accessed` custody event per item, in one
    /// transaction, so every access is in the chain of custody. Returns
    /// how many items were recorded (none for an incident without
    /// evidence, which records nothing).
    pub fn record_evidence_access(
        &mut self,
        id: &IncidentId,
        purpose: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let purpose = non_blank(purpose, "accessing evidence needs a purpose")?;
        // Nothing to record: no write transaction.
        if self.evidence(id)?.is_empty() {
            self.incident(id)?;
            return Ok(0);
        }
        self.write(|tx| {
            let incident = load_in_tx(tx, id.as_str())?;
            let items: Vec<(i64, String)> = tx
                .prepare_cached(
                    "SELECT id, sha256 FROM evidence WHERE incident_id = ?1 ORDER BY id",
                )?
                .query_map([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (item, sha) in &items {
                append(
                    tx,
                    NewEvent {
                        drill: incident.drill,
                        at: now,
                        actor,
                        incident: Some(id.as_str()),
                        kind: kinds::ACCESSED,
                        detail: format!("evidence #{item} accessed: {purpose}"),
                        data: json!({
                            "item": item,
                            "sha256": sha,
                            "from": STORE_CUSTODIAN,
                            "to": actor,
                            "purpose": purpose,
                        }),
                    },
                )?;
            }
            Ok(items.len())
        })
    }

    /// One item of an incident's evidence.
    pub fn evidence_item(&self, id: &IncidentId, item: i64) -> Result<EvidenceItem> {
        self.evidence(id)?
            .into_iter()
            .find(|e| e.id == item)
            .ok_or_else(|| StoreError::Invalid(format!("{id} has no evidence item #{item}")))
    }

    fn all_evidence(&self) -> Result<Vec<EvidenceItem>> {
        let sql = format!("SELECT {EVIDENCE_COLUMNS} FROM evidence ORDER BY id");
        self.query_all(&sql, [], item_from_row)
    }

    /// The custody log of an incident's evidence, oldest first.
    pub fn custody(&self, id: &IncidentId) -> Result<Vec<CustodyEvent>> {
        let mut events = self.timeline(id.as_str(), None)?;
        events.reverse();
        Ok(events.iter().filter_map(CustodyEvent::from_event).collect())
    }

    /// Who holds the item now: the last custody event's receiver (the
    /// evidence store after checks and exports, which only read a copy).
    fn custodian(&self, id: &IncidentId, item: i64) -> Result<String> {
        Ok(self
            .custody(id)?
            .into_iter()
            .rfind(|c| c.item == item && matches!(c.action.as_str(), "collected" | "transferred"))
            .map_or_else(|| STORE_CUSTODIAN.to_string(), |c| c.to))
    }

    /// Records a hand-over of an item (e.g. to forensics or counsel).
    pub fn transfer_evidence(
        &mut self,
        id: &IncidentId,
        item: i64,
        to: &str,
        purpose: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CustodyEvent> {
        let (to, purpose) = (to.trim(), purpose.trim());
        if to.is_empty() || purpose.is_empty() {
            return Err(StoreError::Invalid(
                "a transfer needs who receives the item and the purpose".into(),
            ));
        }
        let ev = self.evidence_item(id, item)?;
        let from = self.custodian(id, item)?;
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let e = record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::TRANSFERRED,
                format!("evidence #{item} transferred: {from} \u{2192} {to} ({purpose})"),
                json!({
                    "item": item,
                    "sha256": ev.sha256,
                    "from": from,
                    "to": to,
                    "purpose": purpose,
                }),
            )?;
            CustodyEvent::from_event(&e)
                .ok_or_else(|| StoreError::Invalid("custody event not readable".into()).into())
        })
    }

    /// Re-hashes every stored item (of one incident, or all) and records
    /// each result as a custody event. Returns the results; the caller
    /// decides what a mismatch means for its exit code.
    pub fn verify_evidence(
        &mut self,
        id: Option<&IncidentId>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<ItemCheck>> {
        let items = match id {
            Some(id) => {
                self.incident(id)?;
                self.evidence(id)?
            }
            None => self.all_evidence()?,
        };
        let dir = self.evidence_dir();
        let checks: Vec<ItemCheck> = items
            .iter()
            .map(|it| {
                let path = dir.join(&it.stored_path);
                let (result, found) = check_blob(&path, &it.sha256);
                ItemCheck {
                    incident: it.incident.clone(),
                    item: it.id,
                    expected: it.sha256.clone(),
                    found,
                    result,
                    path,
                }
            })
            .collect();
        if checks.is_empty() {
            return Ok(checks);
        }
        self.write(|tx| {
            for (c, it) in checks.iter().zip(&items) {
                let incident = load_in_tx(tx, &c.incident)?;
                let detail = match c.result {
                    CheckResult::Ok => format!("evidence #{} verified: sha256 matches", c.item),
                    CheckResult::Mismatch => format!(
                        "evidence #{} FAILED verification: stored copy hashes to {}, recorded {}",
                        c.item,
                        c.found.as_deref().unwrap_or("?"),
                        c.expected
                    ),
                    CheckResult::Missing => {
                        format!(
                            "evidence #{} FAILED verification: stored copy missing",
                            c.item
                        )
                    }
                };
                append(
                    tx,
                    NewEvent {
                        drill: it.drill || incident.drill,
                        at: now,
                        actor,
                        incident: Some(&c.incident),
                        kind: kinds::VERIFIED,
                        detail,
                        data: json!({
                            "item": c.item,
                            "sha256": c.expected,
                            "found": c.found,
                            "from": STORE_CUSTODIAN,
                            "to": actor,
                            "purpose": "integrity check",
                            "result": c.result.as_str(),
                        }),
                    },
                )?;
            }
            Ok(())
        })?;
        Ok(checks)
    }

    /// Copies one stored item out to `out` (a new file) for someone to work
    /// on, after checking its hash, and records the access as a custody
    /// event. The stored copy never leaves the store.
    pub fn copy_evidence_out(
        &mut self,
        id: &IncidentId,
        item: i64,
        out: &Path,
        purpose: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CustodyEvent> {
        let purpose = non_blank(purpose, "accessing evidence needs a purpose")?;
        let ev = self.evidence_item(id, item)?;
        let path = self.evidence_dir().join(&ev.stored_path);
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        if sha256_hex(&bytes) != ev.sha256 {
            return Err(StoreError::Io {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "evidence #{item} no longer matches its recorded hash; nothing copied (run `warroom evidence verify`)"
                    ),
                ),
            });
        }
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(out)
            .map_err(io_err(out))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(io_err(out))?;
        let to = format!("{actor}: {}", out.display());
        self.write(|tx| {
            let incident = load_in_tx(tx, id.as_str())?;
            let e = append(
                tx,
                NewEvent {
                    drill: incident.drill,
                    at: now,
                    actor,
                    incident: Some(id.as_str()),
                    kind: kinds::ACCESSED,
                    detail: format!(
                        "evidence #{item} copied out to {} ({purpose})",
                        out.display()
                    ),
                    data: json!({
                        "item": item,
                        "sha256": ev.sha256,
                        "from": STORE_CUSTODIAN,
                        "to": to,
                        "purpose": purpose,
                    }),
                },
            )?;
            CustodyEvent::from_event(&e)
                .ok_or_else(|| StoreError::Invalid("custody event not readable".into()).into())
        })
    }

    /// The legal hold in force on an incident, if any.
    pub fn legal_hold(&self, id: &IncidentId) -> Result<Option<LegalHold>> {
        self.conn
            .prepare_cached(
                "SELECT incident_id, reason, set_by, set_at FROM legal_holds WHERE incident_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([id.as_str()], legal_hold_from_row)
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Every incident under legal hold.
    pub fn legal_holds(&self) -> Result<Vec<LegalHold>> {
        self.query_all(
            "SELECT incident_id, reason, set_by, set_at FROM legal_holds ORDER BY incident_id",
            [],
            legal_hold_from_row,
        )
    }

    /// Places an incident under legal hold (a reason is required).
    pub fn set_legal_hold(
        &mut self,
        id: &IncidentId,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LegalHold> {
        let reason = non_blank(reason, "a legal hold needs a reason")?;
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT reason FROM legal_holds WHERE incident_id = ?1",
                    [id.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(r) = existing {
                return Err(StoreError::Invalid(format!(
                    "{id} is already under legal hold ({r})"
                ))
                .into());
            }
            tx.execute(
                "INSERT INTO legal_holds (incident_id, reason, set_by, set_at) VALUES (?1, ?2, ?3, ?4)",
                params![id.as_str(), reason, actor, format_time(now)],
            )?;
            record_change(tx, &mut incident, actor, now, kinds::HOLD_SET, format!("legal hold set: {reason}"), json!({ "reason": reason }))?;
            Ok(LegalHold {
                incident: id.as_str().to_string(),
                reason: reason.to_string(),
                set_by: actor.to_string(),
                set_at: now,
            })
        })
    }

    /// Lifts a legal hold (a reason is required).
    pub fn release_legal_hold(
        &mut self,
        id: &IncidentId,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LegalHold> {
        let reason = non_blank(reason, "lifting a legal hold needs a reason")?;
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let held = tx
                .query_row(
                    "SELECT incident_id, reason, set_by, set_at FROM legal_holds WHERE incident_id = ?1",
                    [id.as_str()],
                    legal_hold_from_row,
                )
                .optional()?;
            let Some(held) = held else {
                return Err(StoreError::Invalid(format!("{id} is not under legal hold")).into());
            };
            tx.execute(
                "DELETE FROM legal_holds WHERE incident_id = ?1",
                [id.as_str()],
            )?;
            record_change(tx, &mut incident, actor, now, kinds::HOLD_RELEASED, format!("legal hold lifted: {reason}"), json!({
                        "reason": reason,
                        "hold_reason": held.reason,
                        "set_by": held.set_by,
                        "set_at": format_time(held.set_at),
                    }))?;
            Ok(held)
        })
    }

    /// Writes an incident's evidence as a bundle a third party can check
    /// with `sha256sum -c SHA256SUMS`: `items/`, `custody.log`,
    /// `manifest.json` (with the legal hold, if any) and `SHA256SUMS`. `out`
    /// ending in `.tar` is written as a tar archive (one top folder named
    /// after the file), anything else as a new (or empty) directory. Every
    /// item is checked first; a damaged store refuses the export. Each item
    /// gets an `evidence.exported` custody event.
    pub fn export_evidence(
        &mut self,
        id: &IncidentId,
        out: &Path,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ExportSummary> {
        let incident = self.incident(id)?;
        let items = self.evidence(id)?;
        let hold = self.legal_hold(id)?;
        let custody = self.custody(id)?;
        let hold_history: Vec<_> = {
            let mut tl = self.timeline(id.as_str(), None)?;
            tl.reverse();
            tl.into_iter()
                .filter(|e| e.kind == kinds::HOLD_SET || e.kind == kinds::HOLD_RELEASED)
                .map(|e| {
                    json!({
                        "at": format_time(e.at),
                        "actor": e.actor,
                        "kind": e.kind,
                        "detail": e.detail,
                    })
                })
                .collect()
        };
        let dir = self.evidence_dir();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut sums = String::new();
        let mut manifest_items = Vec::new();
        for it in &items {
            let path = dir.join(&it.stored_path);
            let bytes = fs::read(&path).map_err(io_err(&path))?;
            if sha256_hex(&bytes) != it.sha256 {
                return Err(StoreError::Io {
                    path,
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "evidence #{} no longer matches its recorded hash; nothing exported (run `warroom evidence verify`)",
                            it.id
                        ),
                    ),
                });
            }
            let name = format!("items/{}", it.bundle_name());
            sums.push_str(&format!("{}  {name}\n", it.sha256));
            manifest_items.push(json!({
                "id": it.id,
                "file": name,
                "kind": it.kind.as_str(),
                "sha256": it.sha256,
                "size": it.size,
                "collected_by": it.collected_by,
                "collected_at": format_time(it.collected_at),
                "collected_at_local": it.collected_at_local,
                "source_host": it.source_host,
                "source_path": it.source_path,
                "description": it.description,
            }));
            files.push((name, bytes));
        }
        let mut log = String::new();
        log.push_str(&format!(
            "# Chain of custody: {id}{}\n# at (UTC)\titem\taction\tfrom\tto\tpurpose\tresult\tactor\n",
            if incident.drill { " (DRILL)" } else { "" }
        ));
        for c in &custody {
            log.push_str(&format!(
                "{}\t#{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                format_time(c.at),
                c.item,
                c.action,
                crate::text::display_safe(&c.from),
                crate::text::display_safe(&c.to),
                crate::text::display_safe(&c.purpose),
                c.result.as_deref().unwrap_or("-"),
                crate::text::display_safe(&c.actor),
            ));
        }
        let custody_json: Vec<_> = custody
            .iter()
            .map(|c| serde_json::to_value(c).unwrap_or_default())
            .collect();
        let manifest = json!({
            "format": "warroom-evidence-bundle/1",
            "incident": id.as_str(),
            "title": incident.title,
            "drill": incident.drill,
            "exported_at": format_time(now),
            "exported_by": actor,
            "legal_hold": hold.as_ref().map(|h| json!({
                "reason": h.reason,
                "set_by": h.set_by,
                "set_at": format_time(h.set_at),
            })),
            "legal_hold_history": hold_history,
            "items": manifest_items,
            "custody": custody_json,
        });
        let manifest_text = serde_json::to_string_pretty(&manifest)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            + "\n";
        sums.push_str(&format!("{}  custody.log\n", sha256_hex(log.as_bytes())));
        files.push(("custody.log".into(), log.into_bytes()));
        if let Some(h) = &hold {
            let text = format!(
                "{id} is under LEGAL HOLD since {} (set by {}): {}\nThis bundle was exported while the hold was in force.\n",
                format_time(h.set_at),
                crate::text::display_safe(&h.set_by),
                crate::text::display_safe(&h.reason)
            );
            sums.push_str(&format!(
                "{}  LEGAL_HOLD.txt\n",
                sha256_hex(text.as_bytes())
            ));
            files.push(("LEGAL_HOLD.txt".into(), text.into_bytes()));
        }
        sums.push_str(&format!(
            "{}  manifest.json\n",
            sha256_hex(manifest_text.as_bytes())
        ));
        files.push(("manifest.json".into(), manifest_text.into_bytes()));
        files.push(("SHA256SUMS".into(), sums.into_bytes()));

        let is_tar = out.extension().is_some_and(|e| e == "tar");
        if is_tar {
            write_tar(out, &files, now)?;
        } else {
            write_dir(out, &files)?;
        }
        let to = format!("bundle {}", out.display());
        self.write(|tx| {
            for it in &items {
                append(
                    tx,
                    NewEvent {
                        drill: incident.drill,
                        at: now,
                        actor,
                        incident: Some(id.as_str()),
                        kind: kinds::EXPORTED,
                        detail: format!("evidence #{} exported to {}", it.id, out.display()),
                        data: json!({
                            "item": it.id,
                            "sha256": it.sha256,
                            "from": STORE_CUSTODIAN,
                            "to": to,
                            "purpose": "export",
                            "legal_hold": hold.is_some(),
                        }),
                    },
                )?;
            }
            Ok(())
        })?;
        Ok(ExportSummary {
            incident: id.as_str().to_string(),
            out: out.to_path_buf(),
            items: items.len(),
            legal_hold: hold.is_some(),
            files: files.into_iter().map(|(n, _)| n).collect(),
        })
    }

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

fn write_dir(out: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    if out.exists() {
        let empty = fs::read_dir(out).map_err(io_err(out))?.next().is_none();
        if !empty {
            return Err(StoreError::Invalid(format!(
                "{} exists and is not empty; give a new directory or a .tar file",
                out.display()
            )));
        }
    }
    fs::create_dir_all(out.join("items")).map_err(io_err(out))?;
    for (name, bytes) in files {
        let path = out.join(name);
        fs::write(&path, bytes).map_err(io_err(&path))?;
    }
    Ok(())
}

fn write_tar(out: &Path, files: &[(String, Vec<u8>)], now: DateTime<Utc>) -> Result<()> {
    if out.exists() {
        return Err(StoreError::Invalid(format!(
            "{} already exists; nothing was overwritten",
            out.display()
        )));
    }
    let top = out
        .file_stem()
        .map_or_else(|| "evidence".into(), |s| s.to_string_lossy().into_owned());
    let tmp = out.with_extension("tar.partial");
    let result = (|| -> std::io::Result<()> {
        let file = File::create(&tmp)?;
        let mut b = tar::Builder::new(file);
        let mtime = u64::try_from(now.timestamp()).unwrap_or(0);
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        dir.set_mtime(mtime);
        b.append_data(&mut dir.clone(), format!("{top}/"), std::io::empty())?;
        b.append_data(&mut dir, format!("{top}/items/"), std::io::empty())?;
        for (name, bytes) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o444);
            h.set_mtime(mtime);
            b.append_data(&mut h, format!("{top}/{name}"), bytes.as_slice())?;
        }
        let mut f = b.into_inner()?;
        f.flush()?;
        f.sync_all()
    })();
    match result {
        Ok(()) => fs::rename(&tmp, out).map_err(io_err(out)),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(StoreError::Io {
                path: out.to_path_buf(),
                source: e,
            })
        }
    }
}

#[cfg(test)]
#[path = "evidence_tests.rs"]
mod tests;
