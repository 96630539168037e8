//! The records: what the evidence, review, report, metrics and messages
//! screens ask the store worker for, and its answers. Here, beside
//! [`Effect`](crate::tui::effect::Effect), so screens name their work
//! without importing the shell that runs it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::comms::sinks::SinkResult;
use crate::domain::evidence::{CustodyEvent, EvidenceItem, EvidenceKind};
use crate::domain::review::{ActionStatus, Review};
use crate::domain::{Incident, IncidentId, Policy};
use crate::report::file::ReportFormat;
use crate::store::{LegalHold, NewAction, ReviewPatch, SentMessage};

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
    /// The roster screen's reads and saves.
    Roster(crate::tui::screens::roster::work::RosterEffect),
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
    Roster(crate::tui::screens::roster::work::RosterLoaded),
}

/// `~/x` is taken from $HOME, as a shell would.
pub fn expand_home(path: &str) -> PathBuf {
    let path = path.trim();
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}
