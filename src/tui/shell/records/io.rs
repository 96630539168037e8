//! The records: their store work, run on the store worker.

use std::path::PathBuf;

use chrono::{DateTime, Offset, Utc};

use crate::comms::CommsConfig;
use crate::domain::evidence::{CheckResult, EvidenceKind};
use crate::domain::{IncidentId, Status};
use crate::report::file::write_report;
use crate::store::{EvidenceContent, IncidentPatch, NewEvidence, Store, StoreError};
use crate::tui::action::Action;
use crate::tui::records::*;

// ---------------------------------------------------------------- worker side

/// The worker's side: runs [`RecordsEffect`]s against the store and
/// reports back through `send`. Keeps its own `data_version` so its polls
/// are independent of the board's.
pub struct Worker {
    last_version: Option<i64>,
    /// The comms settings and database path message retries deliver with.
    comms: Option<(CommsConfig, PathBuf)>,
}

impl Worker {
    pub fn new(store: &Store) -> Worker {
        Worker {
            last_version: store.data_version().ok(),
            comms: None,
        }
    }

    /// Lets the worker retry message deliveries through these settings.
    pub fn with_comms(mut self, comms: CommsConfig, db: PathBuf) -> Worker {
        self.comms = Some((comms, db));
        self
    }

    /// Runs one effect. `include_closed` is the board's setting, for the
    /// board reload that follows a write.
    pub fn perform(
        &mut self,
        store: &mut Store,
        effect: RecordsEffect,
        actor: &str,
        include_closed: bool,
        now: DateTime<Utc>,
        send: &dyn Fn(Action),
    ) {
        let out = |r: RecordsLoaded| send(Action::Records(Box::new(r)));
        let fail = |e: &StoreError| send(Action::StoreFailed(e.to_string()));
        let done = |message: String, drop_draft: Option<String>| {
            out(RecordsLoaded::Done {
                message,
                error: false,
                drop_draft,
            })
        };
        match effect {
            RecordsEffect::LoadEvidence { id, access } => {
                if access {
                    match store.record_evidence_access(&id, VIEW_PURPOSE, actor, now) {
                        Ok(n) if n > 0 => reload_incident(store, &id, include_closed, send),
                        Ok(_) => {}
                        Err(e) => {
                            out(RecordsLoaded::EvidenceFailed {
                                id,
                                message: format!(
                                    "the access could not be recorded, so the evidence is not shown: {e}"
                                ),
                            });
                            return;
                        }
                    }
                }
                load_evidence(store, &id, send);
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
                match store.add_evidence(&id, &new, actor, now) {
                    Ok(item) => {
                        drop_draft(store, actor, draft.as_deref());
                        done(
                            format!(
                                "{id}: evidence #{} stored, sha256 {}… ({} bytes)",
                                item.id,
                                &item.sha256[..12.min(item.sha256.len())],
                                item.size
                            ),
                            draft,
                        );
                        load_evidence(store, &id, send);
                        reload_incident(store, &id, include_closed, send);
                    }
                    Err(e) => send(Action::StoreFailed(kept(&e, draft.is_some()))),
                }
            }
            RecordsEffect::VerifyEvidence { id } => {
                match store.verify_evidence(Some(&id), actor, now) {
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
                        out(RecordsLoaded::Done {
                            message,
                            error,
                            drop_draft: None,
                        });
                        load_evidence(store, &id, send);
                        reload_incident(store, &id, include_closed, send);
                    }
                    Err(e) => fail(&e),
                }
            }
            RecordsEffect::TransferEvidence {
                id,
                item,
                to,
                purpose,
            } => match store.transfer_evidence(&id, item, &to, &purpose, actor, now) {
                Ok(c) => {
                    done(
                        format!("{id}: evidence #{item} transferred {} → {}", c.from, c.to),
                        None,
                    );
                    load_evidence(store, &id, send);
                    reload_incident(store, &id, include_closed, send);
                }
                Err(e) => fail(&e),
            },
            RecordsEffect::SetHold { id, reason } => {
                match store.set_legal_hold(&id, &reason, actor, now) {
                    Ok(_) => {
                        done(format!("{id} is under legal hold"), None);
                        load_evidence(store, &id, send);
                        reload_incident(store, &id, include_closed, send);
                    }
                    Err(e) => fail(&e),
                }
            }
            RecordsEffect::ReleaseHold { id, reason } => {
                match store.release_legal_hold(&id, &reason, actor, now) {
                    Ok(_) => {
                        done(format!("{id}: legal hold lifted"), None);
                        load_evidence(store, &id, send);
                        reload_incident(store, &id, include_closed, send);
                    }
                    Err(e) => fail(&e),
                }
            }
            RecordsEffect::ExportEvidence { id, out: path } => {
                let path = std::path::absolute(&path).unwrap_or(path);
                match store.export_evidence(&id, &path, actor, now) {
                    Ok(s) => {
                        done(
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
                        load_evidence(store, &id, send);
                        reload_incident(store, &id, include_closed, send);
                    }
                    Err(e) => fail(&e),
                }
            }
            RecordsEffect::LoadReview { id } => load_review(store, &id, send),
            RecordsEffect::UpdateReview { id, patch, draft } => {
                match store.update_review(&id, &patch, actor, now) {
                    Ok(_) => {
                        drop_draft(store, actor, draft.as_deref());
                        done(format!("{id}: review saved"), draft);
                        load_review(store, &id, send);
                        reload_incident(store, &id, include_closed, send);
                    }
                    Err(e) => {
                        send(Action::StoreFailed(kept(&e, draft.is_some())));
                        load_review(store, &id, send);
                    }
                }
            }
            RecordsEffect::AddAction { id, new, draft } => {
                match store.add_action(&id, &new, actor, now) {
                    Ok(a) => {
                        drop_draft(store, actor, draft.as_deref());
                        done(format!("{id}: corrective action #{} added", a.id), draft);
                        load_review(store, &id, send);
                        reload_incident(store, &id, include_closed, send);
                    }
                    Err(e) => {
                        send(Action::StoreFailed(kept(&e, draft.is_some())));
                        load_review(store, &id, send);
                    }
                }
            }
            RecordsEffect::SetActionStatus {
                id,
                action,
                status,
                reason,
            } => {
                match store.set_action_status(&id, action, status, reason.as_deref(), actor, now) {
                    Ok(a) => {
                        done(
                            format!("{id}: corrective action #{} is {}", a.id, a.status),
                            None,
                        );
                        reload_incident(store, &id, include_closed, send);
                    }
                    Err(e) => fail(&e),
                }
                load_review(store, &id, send);
            }
            RecordsEffect::Close {
                id,
                override_reason,
            } => {
                // Which gate an override passes, named before the close.
                let overridden = override_reason
                    .is_some()
                    .then(|| store.close_blockers(&id).ok())
                    .flatten()
                    .filter(|b| !b.is_clear())
                    .map(|b| b.gate());
                let patch = IncidentPatch {
                    status: Some(Status::Closed),
                    close_override: override_reason,
                    ..IncidentPatch::default()
                };
                match store.update_incident(&id, &patch, actor, now) {
                    Ok(_) => out(RecordsLoaded::Closed {
                        id: id.clone(),
                        message: if let Some(gate) = overridden {
                            format!("{id} closed: {gate} overridden (recorded in the timeline)")
                        } else {
                            format!("{id} closed")
                        },
                    }),
                    Err(e) => {
                        // Refused by the gate (an incomplete review or open
                        // checklist items): offer the override; anything else
                        // is an error.
                        let gate = matches!(e, StoreError::Invalid(_))
                            && store.close_blockers(&id).is_ok_and(|b| !b.is_clear());
                        let message = e.to_string();
                        out(if gate {
                            RecordsLoaded::GateRefused {
                                id: id.clone(),
                                message,
                            }
                        } else {
                            RecordsLoaded::CloseFailed {
                                id: id.clone(),
                                message,
                            }
                        });
                    }
                }
                // Either way, show the status the store holds.
                reload_incident(store, &id, include_closed, send);
            }
            RecordsEffect::LoadMetrics => load_metrics(store, send),
            RecordsEffect::WriteReport {
                id,
                format,
                path,
                policy,
            } => match write_report(store, &id, format, &path, &policy, actor, now) {
                Ok(w) => {
                    done(
                        format!(
                            "{id}: {} report written to {}{}",
                            format.label(),
                            w.path.display(),
                            if w.replaced { " (replaced)" } else { "" }
                        ),
                        None,
                    );
                    if w.evidence_items > 0 {
                        reload_incident(store, &id, include_closed, send);
                    }
                }
                Err(e) => send(Action::StoreFailed(format!("report not written: {e}"))),
            },
            RecordsEffect::LoadReviewState => match store.resolved_complete_reviews() {
                Ok(set) => out(RecordsLoaded::ReviewsComplete(set)),
                Err(e) => tracing::warn!("review state not loaded: {e}"),
            },
            RecordsEffect::LoadMessages { id } => load_messages(store, &id, send),
            RecordsEffect::RetryMessages { id } => {
                let (answer, wrote) = crate::tui::screens::messages::io::retry(
                    store,
                    &id,
                    self.comms.as_ref(),
                    actor,
                    now,
                );
                out(answer);
                load_messages(store, &id, send);
                if wrote {
                    reload_incident(store, &id, include_closed, send);
                }
            }
            RecordsEffect::Poll {
                evidence,
                review,
                metrics,
                messages,
            } => {
                let version = store.data_version().ok();
                if version == self.last_version {
                    return;
                }
                self.last_version = version;
                if let Some(id) = evidence {
                    load_evidence(store, &id, send);
                }
                if let Some(id) = review {
                    load_review(store, &id, send);
                }
                if metrics {
                    load_metrics(store, send);
                }
                if let Some(id) = messages {
                    load_messages(store, &id, send);
                }
            }
        }
    }
}

/// An error message that says the typed text is still there.
fn kept(e: &StoreError, has_draft: bool) -> String {
    if has_draft {
        format!("{e} (your text is kept as a draft)")
    } else {
        e.to_string()
    }
}

fn drop_draft(store: &mut Store, actor: &str, key: Option<&str>) {
    if let Some(key) = key
        && let Err(e) = store.delete_draft(actor, key)
    {
        tracing::warn!("draft {key} not deleted: {e}");
    }
}

fn reload_incident(store: &Store, id: &IncidentId, include_closed: bool, send: &dyn Fn(Action)) {
    match store.board(include_closed) {
        Ok(rows) => send(Action::BoardLoaded(rows)),
        Err(e) => send(Action::StoreFailed(e.to_string())),
    }
    match store.detail(
        id,
        Some(crate::tui::screens::incident::state::TIMELINE_LIMIT),
    ) {
        Ok(d) => send(Action::DetailLoaded(Box::new(d))),
        Err(e) => send(Action::StoreFailed(e.to_string())),
    }
}

fn load_evidence(store: &Store, id: &IncidentId, send: &dyn Fn(Action)) {
    let loaded = (|| -> Result<RecordsLoaded, StoreError> {
        Ok(RecordsLoaded::Evidence {
            id: id.clone(),
            items: store.evidence(id)?,
            custody: store.custody(id)?,
            hold: store.legal_hold(id)?,
        })
    })();
    match loaded {
        Ok(r) => send(Action::Records(Box::new(r))),
        Err(e) => send(Action::StoreFailed(e.to_string())),
    }
}

fn load_review(store: &Store, id: &IncidentId, send: &dyn Fn(Action)) {
    match store.review(id) {
        Ok(review) => send(Action::Records(Box::new(RecordsLoaded::Review {
            id: id.clone(),
            review,
        }))),
        Err(e) => send(Action::StoreFailed(e.to_string())),
    }
}

fn load_messages(store: &Store, id: &IncidentId, send: &dyn Fn(Action)) {
    let r = crate::tui::screens::messages::io::load(store, id);
    send(Action::Records(Box::new(r)));
}

fn load_metrics(store: &Store, send: &dyn Fn(Action)) {
    match crate::tui::screens::metrics::io::load(store) {
        Ok(r) => send(Action::Records(Box::new(r))),
        Err(e) => send(Action::StoreFailed(e.to_string())),
    }
}
