//! Checking evidence: each stored item against the hash its hash-chained
//! collection event recorded, not only against its own row (a row can be
//! repointed at other content with SQL; the chain cannot be rewritten
//! without `verify` noticing).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::changes::load_in_tx;
use super::evidence::STORE_CUSTODIAN;
use super::evidence_files::check_blob;
use super::timeline::{NewEvent, append};
use super::{Result, Store};
use crate::domain::IncidentId;
use crate::domain::evidence::{CheckResult, EvidenceItem, blob_path, kinds};

/// The outcome of re-hashing one stored item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemCheck {
    pub incident: String,
    pub item: i64,
    /// The hash recorded when the item was collected (its chained
    /// collection event's, when there is one).
    pub expected: String,
    /// The hash found, when the file could be read.
    pub found: Option<String>,
    pub result: CheckResult,
    /// Absolute path of the stored copy.
    pub path: PathBuf,
    /// Why the item's record is not what was collected (`Altered`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// What an item's collection event recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Collected {
    pub incident: Option<String>,
    pub sha256: String,
    pub size: Option<u64>,
}

/// How the evidence row differs from its collection event, if it does.
pub(super) fn row_problem(it: &EvidenceItem, c: Option<&Collected>) -> Option<String> {
    let Some(c) = c else {
        return Some(format!(
            "evidence #{} has no collection event in the timeline; the row was added outside warroom",
            it.id
        ));
    };
    let mut wrong = Vec::new();
    if c.sha256 != it.sha256 {
        wrong.push(format!("sha256 {} (collected {})", it.sha256, c.sha256));
    }
    if c.size.is_some_and(|s| s != it.size) {
        wrong.push(format!(
            "size {} (collected {})",
            it.size,
            c.size.unwrap_or(0)
        ));
    }
    if c.incident.as_deref().is_some_and(|i| i != it.incident) {
        wrong.push(format!("incident {}", it.incident));
    }
    if it.stored_path != blob_path(&c.sha256) {
        wrong.push(format!("stored path {}", it.stored_path));
    }
    (!wrong.is_empty()).then(|| {
        format!(
            "evidence #{}'s record was altered after collection: {}",
            it.id,
            wrong.join(", ")
        )
    })
}

/// Checks one item: its row against its collection event, then the stored
/// copy against the collected hash.
pub(super) fn check_item(dir: &Path, it: &EvidenceItem, c: Option<&Collected>) -> ItemCheck {
    let path = dir.join(&it.stored_path);
    let expected = c.map_or_else(|| it.sha256.clone(), |c| c.sha256.clone());
    if let Some(problem) = row_problem(it, c) {
        return ItemCheck {
            incident: it.incident.clone(),
            item: it.id,
            expected,
            found: None,
            result: CheckResult::Altered,
            path,
            problem: Some(problem),
        };
    }
    let (result, found) = check_blob(&path, &expected);
    ItemCheck {
        incident: it.incident.clone(),
        item: it.id,
        expected,
        found,
        result,
        path,
        problem: None,
    }
}

impl Store {
    /// Every item's collection event, by item id, as recorded in the
    /// timeline (of one incident, or all).
    pub(super) fn collections(&self, id: Option<&IncidentId>) -> Result<HashMap<i64, Collected>> {
        let rows: Vec<(Option<String>, String)> = self.query_all(
            "SELECT incident_id, data FROM events
             WHERE kind = ?1 AND (?2 IS NULL OR incident_id = ?2) ORDER BY chain, chain_seq",
            rusqlite::params![kinds::COLLECTED, id.map(|i| i.as_str())],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut out = HashMap::new();
        for (incident, data) in rows {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&data) else {
                continue;
            };
            let (Some(item), Some(sha)) = (v["item"].as_i64(), v["sha256"].as_str()) else {
                continue;
            };
            // The first collection of an id is the one that counts: a
            // second one naming the same id cannot replace it.
            out.entry(item).or_insert(Collected {
                incident,
                sha256: sha.to_string(),
                size: v["size"].as_u64(),
            });
        }
        Ok(out)
    }

    /// Checks items against their collection events (see [`check_item`]),
    /// without recording anything: for `verify` and before copying out.
    pub(super) fn check_items(&self, items: &[EvidenceItem]) -> Result<Vec<ItemCheck>> {
        let collected = self.collections(None)?;
        let dir = self.evidence_dir();
        Ok(items
            .iter()
            .map(|it| check_item(&dir, it, collected.get(&it.id)))
            .collect())
    }

    /// Every evidence row whose record differs from its collection event,
    /// and every collection event whose row is gone: what `verify` reports.
    pub fn evidence_record_problems(&self) -> Result<Vec<String>> {
        let items = self.all_evidence()?;
        let mut collected = self.collections(None)?;
        let mut problems: Vec<String> = items
            .iter()
            .filter_map(|it| row_problem(it, collected.get(&it.id)))
            .collect();
        for it in &items {
            collected.remove(&it.id);
        }
        let mut gone: Vec<_> = collected.into_keys().collect();
        gone.sort_unstable();
        problems.extend(gone.into_iter().map(|id| {
            format!("evidence #{id} was collected (the timeline says so) but its record is gone")
        }));
        Ok(problems)
    }

    /// Re-hashes every stored item (of one incident, or all) against the
    /// hash its collection event recorded, and records each result as a
    /// custody event. Returns the results; the caller decides what a
    /// mismatch means for its exit code.
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
        let checks = self.check_items(&items)?;
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
                    CheckResult::Altered => format!(
                        "evidence #{} FAILED verification: {}",
                        c.item,
                        c.problem.as_deref().unwrap_or("its record was altered")
                    ),
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
}
