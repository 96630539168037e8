//! Evidence with chain of custody, legal holds, export bundles and the
//! purge of drills.
//!
//! Content lives in a content-addressed store beside the database
//! (`<db dir>/<db stem>.evidence/sha256/ab/cdef...`), each file read-only;
//! the `evidence` rows (append-only) record what was collected, and every
//! collection, transfer, check and export is a custody event in the
//! timeline, in the same transaction as the change it describes.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::json;

use super::changes::{load_in_tx, record_change, save_in_tx};
use super::evidence_files::resolved_link;
use super::rows::{non_blank, parse_time};
use super::timeline::{NewEvent, append};
use super::{Result, Store, StoreError, WriteError};
use crate::domain::IncidentId;
use crate::domain::event::format_time;
use crate::domain::evidence::{CustodyEvent, EvidenceItem, EvidenceKind, blob_path, kinds};

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

/// Content copied into the evidence store, not yet recorded.
pub(super) struct StoredContent {
    kind: EvidenceKind,
    sha: String,
    size: u64,
    source_path: Option<String>,
    /// Where `source_path` led when it was a symbolic link.
    resolved_path: Option<String>,
    content: Option<String>,
}

impl StoredContent {
    /// SHA-256 (hex) of the content.
    pub(super) fn sha(&self) -> &str {
        &self.sha
    }
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
        resolved_path,
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
        (_, Some(p)) => match resolved_path {
            Some(r) => format!("{host}:{p} (a link to {r})"),
            None => format!("{host}:{p}"),
        },
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
            data: {
                let mut data = json!({
                    "item": item_id,
                    "sha256": sha,
                    "size": size,
                    "from": from,
                    "to": STORE_CUSTODIAN,
                    "purpose": "collection",
                });
                if let Some(r) = resolved_path {
                    data["source_path"] = json!(source_path);
                    data["resolved_path"] = json!(r);
                }
                data
            },
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
        let mut resolved_path = None;
        let (kind, sha, size, source_path, content) = match content {
            EvidenceContent::File(path) => {
                let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                // A link is recorded as itself and where it led; what is
                // read is the resolved file.
                let resolved = resolved_link(path)?;
                let (sha, size) = self.store_file(resolved.as_deref().unwrap_or(path))?;
                resolved_path = resolved.map(|r| r.to_string_lossy().into_owned());
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
            resolved_path,
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

    pub(super) fn all_evidence(&self) -> Result<Vec<EvidenceItem>> {
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
}

#[cfg(test)]
#[path = "evidence_tests.rs"]
mod tests;
