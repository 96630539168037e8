//! The I/O of the evidence, review, report and metrics screens (issue 6):
//! the effects `update` asks for, what the store worker reports back, and
//! the worker side that runs them against the store. Keeping them here
//! leaves one effect variant, one action variant and one line of handling
//! in the shared console files.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Offset, Utc};

use super::action::Action;
use super::app::say;
use super::app::{App, Message, Modal, Screen};
use super::effect::Effect;
use super::fields::{Field, FieldsDialog, Purpose};
use crate::comms::CommsConfig;
use crate::comms::sinks::SinkResult;
use crate::domain::evidence::{CheckResult, CustodyEvent, EvidenceItem, EvidenceKind};
use crate::domain::review::{ActionStatus, Review};
use crate::domain::{Incident, IncidentId, Policy, Status};
use crate::report::file::{ReportFormat, default_file_name, write_report};
use crate::store::{
    EvidenceContent, IncidentPatch, LegalHold, NewAction, NewEvidence, ReviewPatch, SentMessage,
    Store, StoreError,
};

/// What the evidence list's opening is recorded as, once per opening.
pub const VIEW_PURPOSE: &str = "viewed in the console's evidence list";

/// An item to collect, as typed in the console.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceSpec {
    pub kind: EvidenceKind,
    /// The note, the log lines, or the file's path.
    pub content: String,
    /// Where an excerpt's lines came from.
    pub source_path: Option<String>,
    pub description: String,
}

/// Work for the store worker.
#[derive(Debug, Clone)]
pub enum RecordsEffect {
    /// Loads the evidence list; `access` records the opening as a custody
    /// event first (once per opening, never on a reload).
    LoadEvidence {
        id: IncidentId,
        access: bool,
    },
    AddEvidence {
        id: IncidentId,
        spec: EvidenceSpec,
        draft: Option<String>,
    },
    VerifyEvidence {
        id: IncidentId,
    },
    TransferEvidence {
        id: IncidentId,
        item: i64,
        to: String,
        purpose: String,
    },
    SetHold {
        id: IncidentId,
        reason: String,
    },
    ReleaseHold {
        id: IncidentId,
        reason: String,
    },
    ExportEvidence {
        id: IncidentId,
        out: PathBuf,
    },
    LoadReview {
        id: IncidentId,
    },
    UpdateReview {
        id: IncidentId,
        patch: ReviewPatch,
        draft: Option<String>,
    },
    AddAction {
        id: IncidentId,
        new: NewAction,
        draft: Option<String>,
    },
    SetActionStatus {
        id: IncidentId,
        action: i64,
        status: ActionStatus,
        reason: Option<String>,
    },
    /// Sets the status to closed, through the closing gate.
    Close {
        id: IncidentId,
        override_reason: Option<String>,
    },
    LoadMetrics,
    WriteReport {
        id: IncidentId,
        format: ReportFormat,
        path: PathBuf,
        policy: Box<Policy>,
    },
    /// Which resolved incidents have a complete review (board markers).
    LoadReviewState,
    /// The messages sent for an incident, with their deliveries.
    LoadMessages {
        id: IncidentId,
    },
    /// Retries the incident's deliveries that failed (or were abandoned),
    /// as `warroom notify retry` does.
    RetryMessages {
        id: IncidentId,
    },
    /// Reloads what the open screen shows if another process wrote.
    Poll {
        evidence: Option<IncidentId>,
        review: Option<IncidentId>,
        metrics: bool,
        messages: Option<IncidentId>,
    },
}

/// What the worker reports back.
#[derive(Debug, Clone)]
pub enum RecordsLoaded {
    Evidence {
        id: IncidentId,
        items: Vec<EvidenceItem>,
        custody: Vec<CustodyEvent>,
        hold: Option<LegalHold>,
    },
    /// The list could not be shown (its access could not be recorded).
    EvidenceFailed {
        id: IncidentId,
        message: String,
    },
    Review {
        id: IncidentId,
        review: Review,
    },
    Metrics {
        incidents: Vec<Incident>,
        reviews: HashMap<String, Review>,
    },
    ReviewsComplete(HashSet<String>),
    Messages {
        id: IncidentId,
        list: Vec<SentMessage>,
    },
    MessagesFailed {
        id: IncidentId,
        message: String,
    },
    /// A retry's results (or why it could not run), and the OSC 52
    /// sequences its clipboard deliveries ask the console to write.
    Retried {
        id: IncidentId,
        results: Result<Vec<SinkResult>, String>,
        clipboard: Vec<String>,
    },
    /// A write succeeded: say so, and forget the draft it came from.
    Done {
        message: String,
        error: bool,
        drop_draft: Option<String>,
    },
    /// The incident was closed.
    Closed {
        id: IncidentId,
        message: String,
    },
    /// Closing failed for another reason (a locked database...).
    CloseFailed {
        id: IncidentId,
        message: String,
    },
    /// Closing was refused by the gate (the store's message).
    GateRefused {
        id: IncidentId,
        message: String,
    },
}

fn boxed(e: RecordsEffect) -> Effect {
    Effect::Records(Box::new(e))
}

/// The effect that sets an incident's status to closed.
pub fn close(id: IncidentId, override_reason: Option<String>) -> Effect {
    boxed(RecordsEffect::Close {
        id,
        override_reason,
    })
}

pub(crate) fn effect(e: RecordsEffect) -> Effect {
    boxed(e)
}

/// `~/x` is taken from $HOME, as a shell would.
pub fn expand_home(path: &str) -> PathBuf {
    let path = path.trim();
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

// ---------------------------------------------------------------- update side

/// The effects of the once-a-second tick on these screens: recompute the
/// metrics (clocks move) and poll for other processes' changes.
pub fn tick(app: &mut App, now: DateTime<Utc>) -> Vec<Effect> {
    let mut fx = Vec::new();
    match app.screen {
        Screen::Evidence => fx.push(boxed(RecordsEffect::Poll {
            evidence: app.evidence.as_ref().map(|e| e.id.clone()),
            review: None,
            metrics: false,
            messages: None,
        })),
        Screen::Review => fx.push(boxed(RecordsEffect::Poll {
            evidence: None,
            review: app.review.as_ref().map(|r| r.id.clone()),
            metrics: false,
            messages: None,
        })),
        Screen::Metrics => {
            if let Some(m) = app.metrics.as_mut() {
                m.recompute(&app.policy, now);
            }
            fx.push(boxed(RecordsEffect::Poll {
                evidence: None,
                review: None,
                metrics: true,
                messages: None,
            }));
        }
        Screen::Messages => fx.push(boxed(RecordsEffect::Poll {
            evidence: None,
            review: None,
            metrics: false,
            messages: app.messages.as_ref().map(|m| m.id.clone()),
        })),
        Screen::Board | Screen::Incident | Screen::Watcher => {}
    }
    fx
}

/// After the board reloads: which resolved incidents' reviews are done
/// (only they can be overdue).
pub fn board_loaded(app: &App) -> Option<Effect> {
    app.rows
        .iter()
        .any(|r| r.incident.status == Status::Resolved)
        .then(|| boxed(RecordsEffect::LoadReviewState))
}

/// Applies what the worker reported.
pub fn loaded(app: &mut App, r: RecordsLoaded, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    match r {
        RecordsLoaded::Evidence {
            id,
            items,
            custody,
            hold,
        } => {
            if let Some(e) = app.evidence.as_mut().filter(|e| e.id == id) {
                e.cursor = e.cursor.min(items.len().saturating_sub(1));
                e.error = None;
                e.data = Some(super::evidence::EvidenceData::new(items, custody, hold));
            }
        }
        RecordsLoaded::EvidenceFailed { id, message } => {
            if let Some(e) = app.evidence.as_mut().filter(|e| e.id == id) {
                e.error = Some(message);
            }
        }
        RecordsLoaded::Review { id, review } => {
            if let Some(s) = app.review.as_mut().filter(|s| s.id == id) {
                let rows = super::review::rows(&review).len();
                s.cursor = s.cursor.min(rows.saturating_sub(1));
                s.review = Some(review);
            }
        }
        RecordsLoaded::Metrics { incidents, reviews } => {
            if let Some(m) = app.metrics.as_mut() {
                m.incidents = incidents;
                m.reviews = reviews;
                m.loaded = true;
                m.recompute(&app.policy, now);
            }
        }
        RecordsLoaded::ReviewsComplete(set) => app.complete_reviews = set,
        RecordsLoaded::Messages { id, list } => super::messages::loaded(app, &id, list),
        RecordsLoaded::MessagesFailed { id, message } => {
            super::messages::load_failed(app, &id, message);
        }
        RecordsLoaded::Retried {
            id,
            results,
            clipboard,
        } => super::messages::retried(app, &id, results, clipboard, fx),
        RecordsLoaded::Done {
            message,
            error,
            drop_draft,
        } => {
            if let Some(key) = drop_draft {
                app.drafts.remove(&key);
            }
            say(app, message, error);
        }
        RecordsLoaded::Closed { id, message } => {
            super::review::closed(app, &id);
            say(app, message, false);
        }
        RecordsLoaded::GateRefused { id, message } => {
            super::review::gate_refused(app, id, message);
        }
        RecordsLoaded::CloseFailed { id, message } => {
            if !super::review::override_failed(app, &id, &message) {
                say(app, message, true);
            }
        }
    }
}

/// The report dialog: a format and a file, named after the incident in
/// the current directory by default.
pub fn open_report(app: &mut App, id: IncidentId) {
    let name = default_file_name(&id, ReportFormat::Md);
    let formats: Vec<&str> = ReportFormat::ALL.iter().map(|f| f.label()).collect();
    let d = FieldsDialog::new(
        Purpose::Report,
        id.clone(),
        &format!("Write the report of {id}"),
        vec![
            Field::choice("Format", &formats, 0),
            Field::text("File", &name, "a file path"),
        ],
    )
    .with_note(vec![
        "Summary, clocks, roles, evidence with custody, review, full timeline.".into(),
        "A relative path is taken from where warroom was started; an older".into(),
        "file there is replaced. Including evidence is recorded as an access.".into(),
    ]);
    app.modal = Some(Modal::Fields(d));
}

/// When the format changes, a file name still at its default follows it.
pub fn report_path_follows_format(d: &mut FieldsDialog) {
    let format = ReportFormat::ALL
        .get(d.choice(0))
        .copied()
        .unwrap_or(ReportFormat::Md);
    let current = d.text(1).to_string();
    let is_default = ReportFormat::ALL
        .iter()
        .any(|f| current == default_file_name(&d.id, *f));
    let name = default_file_name(&d.id, format);
    if is_default && let Some(input) = d.input_mut(1) {
        *input = super::kit::input::LineInput::new(&name);
    }
}

pub fn submit_report(app: &mut App, d: &FieldsDialog, fx: &mut Vec<Effect>) -> Result<(), String> {
    let format = ReportFormat::ALL
        .get(d.choice(0))
        .copied()
        .unwrap_or(ReportFormat::Md);
    let path = d.text(1).trim();
    if path.is_empty() {
        return Err("give a file to write the report to".into());
    }
    fx.push(boxed(RecordsEffect::WriteReport {
        id: d.id.clone(),
        format,
        path: expand_home(path),
        policy: Box::new(app.policy.clone()),
    }));
    app.message = Some(Message {
        text: format!("writing the {} report…", format.label()),
        error: false,
        age: 0,
    });
    Ok(())
}

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
                let overridden = override_reason.is_some();
                let patch = IncidentPatch {
                    status: Some(Status::Closed),
                    close_override: override_reason,
                    ..IncidentPatch::default()
                };
                match store.update_incident(&id, &patch, actor, now) {
                    Ok(_) => out(RecordsLoaded::Closed {
                        id: id.clone(),
                        message: if overridden {
                            format!(
                                "{id} closed: review gate overridden (recorded in the timeline)"
                            )
                        } else {
                            format!("{id} closed")
                        },
                    }),
                    Err(e) => {
                        // Refused by the gate (the review is what is missing):
                        // offer the override; anything else is an error.
                        let gate = matches!(e, StoreError::Invalid(_))
                            && store.review(&id).is_ok_and(|r| r.gate_problem().is_some());
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
                let mut clipboard = Vec::new();
                let results = match &self.comms {
                    Some((comms, db)) => {
                        let mut terminal = |seq: &str| {
                            clipboard.push(seq.to_string());
                            Ok(())
                        };
                        crate::comms::sinks::retry(
                            store,
                            Some(&id),
                            comms,
                            db,
                            actor,
                            now,
                            &mut terminal,
                        )
                        .map_err(|e| e.to_string())
                    }
                    None => Err("no comms settings to deliver with".to_string()),
                };
                let wrote = results.as_ref().is_ok_and(|r| !r.is_empty());
                out(RecordsLoaded::Retried {
                    id: id.clone(),
                    results,
                    clipboard,
                });
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
    match store.detail(id, Some(super::app::TIMELINE_LIMIT)) {
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
    let r = match store.messages(id) {
        Ok(list) => RecordsLoaded::Messages {
            id: id.clone(),
            list,
        },
        Err(e) => RecordsLoaded::MessagesFailed {
            id: id.clone(),
            message: e.to_string(),
        },
    };
    send(Action::Records(Box::new(r)));
}

fn load_metrics(store: &Store, send: &dyn Fn(Action)) {
    let loaded = (|| -> Result<RecordsLoaded, StoreError> {
        Ok(RecordsLoaded::Metrics {
            incidents: store.incidents(true)?,
            reviews: store.reviews()?.into_iter().collect(),
        })
    })();
    match loaded {
        Ok(r) => send(Action::Records(Box::new(r))),
        Err(e) => send(Action::StoreFailed(e.to_string())),
    }
}

#[cfg(test)]
#[path = "records_gate_tests.rs"]
mod gate_tests;
#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
