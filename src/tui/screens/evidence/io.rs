//! The evidence screen's store work, run on the store worker: the list
//! (its opening recorded as an access), adding, verifying, transferring,
//! legal holds and export.

use chrono::Offset;

use crate::domain::IncidentId;
use crate::domain::evidence::{CheckResult, EvidenceKind};
use crate::store::{EvidenceContent, NewEvidence, Store, StoreError};
use crate::tui::records::*;
use crate::tui::reply::Reply;

/// Runs this screen's effects; gives any other back.
pub fn run(store: &mut Store, effect: RecordsEffect, r: &Reply) -> Option<RecordsEffect> {
    match effect {
        RecordsEffect::LoadEvidence { id, access } => {
            if access {
                match store.record_evidence_access(&id, VIEW_PURPOSE, r.actor, r.now) {
                    Ok(n) if n > 0 => r.reload_incident(store, &id),
                    Ok(_) => {}
                    Err(e) => {
                        r.out(RecordsLoaded::EvidenceFailed {
                                id,
                                message: format!(
                                    "the access could not be recorded, so the evidence is not shown: {e}"
                                ),
                            });
                        return None;
                    }
                }
            }
            load(store, &id, r);
        }
        RecordsEffect::AddEvidence { id, spec, draft } => {
            let content = match spec.kind {
                EvidenceKind::File => EvidenceContent::File(expand_home(&spec.content)),
                EvidenceKind::Excerpt => EvidenceContent::Excerpt {
                    text: spec.content.clone(),
                    source_path: spec.source_path.clone(),
                },
                EvidenceKind::Note => EvidenceContent::Note(spec.content.clone()),
            };
            let new = NewEvidence {
                content,
                description: spec.description.clone(),
                source_host: crate::store::this_host(),
                tz: chrono::Local::now().offset().fix(),
            };
            match store.add_evidence(&id, &new, r.actor, r.now) {
                Ok(item) => {
                    r.drop_draft(store, draft.as_deref());
                    r.done(
                        format!(
                            "{id}: evidence #{} stored, sha256 {}… ({} bytes)",
                            item.id,
                            &item.sha256[..12.min(item.sha256.len())],
                            item.size
                        ),
                        draft,
                    );
                    load(store, &id, r);
                    r.reload_incident(store, &id);
                }
                Err(e) => r.kept(&e, draft.is_some()),
            }
        }
        RecordsEffect::VerifyEvidence { id } => {
            match store.verify_evidence(Some(&id), r.actor, r.now) {
                Ok(checks) => {
                    let bad: Vec<String> = checks
                        .iter()
                        .filter(|c| c.result != CheckResult::Ok)
                        .map(|c| format!("#{} {}", c.item, c.result.as_str().to_uppercase()))
                        .collect();
                    let (message, error) = if checks.is_empty() {
                        (format!("{id}: no evidence to verify"), false)
                    } else if bad.is_empty() {
                        (
                            format!(
                                "{id}: {} item(s) verified, every hash matches",
                                checks.len()
                            ),
                            false,
                        )
                    } else {
                        (
                            format!(
                                "{id}: {} of {} item(s) FAILED verification: {}",
                                bad.len(),
                                checks.len(),
                                bad.join(", ")
                            ),
                            true,
                        )
                    };
                    r.out(RecordsLoaded::Done {
                        message,
                        error,
                        drop_draft: None,
                    });
                    load(store, &id, r);
                    r.reload_incident(store, &id);
                }
                Err(e) => r.fail(&e),
            }
        }
        RecordsEffect::TransferEvidence {
            id,
            item,
            to,
            purpose,
        } => match store.transfer_evidence(&id, item, &to, &purpose, r.actor, r.now) {
            Ok(c) => {
                r.done(
                    format!("{id}: evidence #{item} transferred {} → {}", c.from, c.to),
                    None,
                );
                load(store, &id, r);
                r.reload_incident(store, &id);
            }
            Err(e) => r.fail(&e),
        },
        RecordsEffect::SetHold { id, reason } => {
            match store.set_legal_hold(&id, &reason, r.actor, r.now) {
                Ok(_) => {
                    r.done(format!("{id} is under legal hold"), None);
                    load(store, &id, r);
                    r.reload_incident(store, &id);
                }
                Err(e) => r.fail(&e),
            }
        }
        RecordsEffect::ReleaseHold { id, reason } => {
            match store.release_legal_hold(&id, &reason, r.actor, r.now) {
                Ok(_) => {
                    r.done(format!("{id}: legal hold lifted"), None);
                    load(store, &id, r);
                    r.reload_incident(store, &id);
                }
                Err(e) => r.fail(&e),
            }
        }
        RecordsEffect::ExportEvidence { id, out: path } => {
            let path = std::path::absolute(&path).unwrap_or(path);
            match store.export_evidence(&id, &path, r.actor, r.now) {
                Ok(s) => {
                    r.done(
                            format!(
                                "{id}: {} item(s) exported to {}{} (check with sha256sum -c SHA256SUMS)",
                                s.items,
                                s.out.display(),
                                if s.legal_hold {
                                    ", legal hold recorded in it"
                                } else {
                                    ""
                                }
                            ),
                            None,
                        );
                    load(store, &id, r);
                    r.reload_incident(store, &id);
                }
                Err(e) => r.fail(&e),
            }
        }
        other => return Some(other),
    }
    None
}

/// The incident's evidence, custody and legal hold.
pub fn load(store: &Store, id: &IncidentId, r: &Reply) {
    let loaded = (|| -> Result<RecordsLoaded, StoreError> {
        Ok(RecordsLoaded::Evidence {
            id: id.clone(),
            items: store.evidence(id)?,
            custody: store.custody(id)?,
            hold: store.legal_hold(id)?,
        })
    })();
    match loaded {
        Ok(l) => r.out(l),
        Err(e) => r.fail(&e),
    }
}
