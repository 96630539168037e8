//! Evidence and its chain of custody: items as collected (a file, a log
//! excerpt or a note, each with its SHA-256 and size at collection) and the
//! custody events (from, to, purpose, time) that follow each one. Pure data;
//! the store copies files and keeps the rows.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::incident::ParseError;

/// Timeline kinds of custody events. Each carries `data` of the shape
/// `{item, sha256, from, to, purpose, result?}`.
pub mod kinds {
    pub const COLLECTED: &str = "evidence.collected";
    pub const TRANSFERRED: &str = "evidence.transferred";
    pub const VERIFIED: &str = "evidence.verified";
    pub const EXPORTED: &str = "evidence.exported";
    pub const ACCESSED: &str = "evidence.accessed";
    pub const HOLD_SET: &str = "incident.hold_set";
    pub const HOLD_RELEASED: &str = "incident.hold_released";
    pub const DRILLS_PURGED: &str = "drill.purged";

    /// Is this a custody event of one item?
    pub fn is_custody(kind: &str) -> bool {
        matches!(
            kind,
            COLLECTED | TRANSFERRED | VERIFIED | EXPORTED | ACCESSED
        )
    }
}

/// What was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvidenceKind {
    /// A file copied into the evidence store.
    File,
    /// Lines from a log (e.g. what a detection matched).
    Excerpt,
    /// A written observation.
    Note,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::File => "file",
            EvidenceKind::Excerpt => "excerpt",
            EvidenceKind::Note => "note",
        }
    }
}

impl FromStr for EvidenceKind {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "file" => Ok(EvidenceKind::File),
            "excerpt" => Ok(EvidenceKind::Excerpt),
            "note" => Ok(EvidenceKind::Note),
            _ => Err(ParseError {
                what: "evidence kind",
                got: s.to_string(),
                expected: "file excerpt note",
            }),
        }
    }
}

impl fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EvidenceKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One item of evidence as recorded at collection. Never changed afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceItem {
    pub id: i64,
    pub incident: String,
    pub kind: EvidenceKind,
    /// SHA-256 (lower-case hex) of the content at collection.
    pub sha256: String,
    pub size: u64,
    pub collected_by: String,
    /// UTC.
    pub collected_at: DateTime<Utc>,
    /// The same instant in the collector's time zone, RFC 3339 with offset.
    pub collected_at_local: String,
    pub source_host: String,
    /// The original file's path (files and excerpts read from a file).
    pub source_path: Option<String>,
    pub description: String,
    /// The text itself, for excerpts and notes.
    pub content: Option<String>,
    /// Where the content lives, relative to the evidence store.
    pub stored_path: String,
    pub drill: bool,
}

impl EvidenceItem {
    /// A file name for the item inside an export bundle: its number and the
    /// original file name made safe (no path separators, dots or controls
    /// at the start).
    pub fn bundle_name(&self) -> String {
        let base = match (&self.kind, &self.source_path) {
            (EvidenceKind::File, Some(p)) => p.rsplit('/').next().unwrap_or("file").to_string(),
            (EvidenceKind::Excerpt, _) => "excerpt.txt".to_string(),
            (EvidenceKind::Note, _) => "note.txt".to_string(),
            (EvidenceKind::File, None) => "file".to_string(),
        };
        let safe: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let safe = safe.trim_start_matches('.');
        let safe = if safe.is_empty() { "item" } else { safe };
        let safe: String = safe.chars().take(80).collect();
        format!("{:04}-{safe}", self.id)
    }
}

/// One custody event of one item: who had it, who got it, why, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustodyEvent {
    /// The timeline event's row number.
    pub seq: i64,
    pub item: i64,
    #[serde(serialize_with = "ser_time")]
    pub at: DateTime<Utc>,
    pub actor: String,
    /// collected, transferred, verified, exported, accessed.
    pub action: String,
    pub from: String,
    pub to: String,
    pub purpose: String,
    /// For checks: ok, mismatch or missing.
    pub result: Option<String>,
}

impl CustodyEvent {
    /// Reads a custody event out of a timeline event's kind and data, or
    /// `None` when it is not one.
    pub fn from_event(e: &super::event::Event) -> Option<CustodyEvent> {
        if !kinds::is_custody(&e.kind) {
            return None;
        }
        let data: serde_json::Value = serde_json::from_str(&e.data).ok()?;
        let text = |k: &str| {
            data.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        Some(CustodyEvent {
            seq: e.seq,
            item: data.get("item")?.as_i64()?,
            at: e.at,
            actor: e.actor.clone(),
            action: e.kind.trim_start_matches("evidence.").to_string(),
            from: text("from"),
            to: text("to"),
            purpose: text("purpose"),
            result: data
                .get("result")
                .and_then(|v| v.as_str())
                .map(str::to_string),
        })
    }
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::event::format_time(*t))
}

/// The outcome of re-hashing one stored item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    Ok,
    Mismatch,
    Missing,
    /// The item's record no longer says what its collection event says
    /// (repointed at other content, or added outside warroom).
    Altered,
}

impl CheckResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Ok => "ok",
            CheckResult::Mismatch => "mismatch",
            CheckResult::Missing => "missing",
            CheckResult::Altered => "altered",
        }
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where content with this hash lives inside the evidence store:
/// `sha256/ab/cdef...` (the first two hex digits name a folder).
pub fn blob_path(sha256: &str) -> String {
    let (head, tail) = sha256.split_at(2.min(sha256.len()));
    format!("sha256/{head}/{tail}")
}

/// Is this a SHA-256 in the form we store?
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_text() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256_hex(&sha256_hex(b"")));
        assert!(!is_sha256_hex("ABC"));
        assert_eq!(blob_path("abcdef"), "sha256/ab/cdef");
    }

    #[test]
    fn bundle_names_are_safe() {
        let item = EvidenceItem {
            id: 7,
            incident: "INC-2026-001".into(),
            kind: EvidenceKind::File,
            sha256: sha256_hex(b""),
            size: 0,
            collected_by: "a".into(),
            collected_at: chrono::DateTime::UNIX_EPOCH,
            collected_at_local: String::new(),
            source_host: "h".into(),
            source_path: Some("/var/log/../..\u{1b}[2J evil name.log".into()),
            description: String::new(),
            content: None,
            stored_path: String::new(),
            drill: false,
        };
        assert_eq!(item.bundle_name(), "0007-__2J_evil_name.log");
        let hidden = EvidenceItem {
            source_path: Some("/tmp/..".into()),
            ..item
        };
        assert_eq!(hidden.bundle_name(), "0007-item");
    }
}
