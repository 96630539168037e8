//! What one watcher commit is made of (the rule's facts, a detection's
//! change, what the commit opened) and the small statement helpers every
//! part of the commit shares: below the commit itself (`watcher.rs`), the
//! detection writes (`watcher_apply.rs`), campaigns and intake, so they all
//! import it and not one another.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::{Row, Transaction};

use super::comms::NewAlert;
use crate::domain::campaign::IncidentGrouping;
use crate::domain::event::format_time;
use crate::domain::{IncidentId, Playbook, Severity, Source};

/// Matching lines kept per detection (the first ones; the engine keeps the
/// same number, `detect::engine::MAX_EVIDENCE_LINES`).
pub const MAX_DETECTION_LINES: usize = 50;

/// First (and latest) lines a campaign's detection row keeps. A campaign's
/// excerpt takes its first and latest lines from its first and latest
/// detections, so each of its thousands of detections keeps only a few (a
/// notify-only campaign's too: its alert names one detection).
pub const CAMPAIGN_DETECTION_LINES: usize = 2;

/// Timeline event kinds written by the watcher (the report's Detections
/// section lists every `detect.*` event of an incident).
pub mod kinds {
    /// A rule fired: the incident was opened for it (or, for rules without
    /// an incident, the detection was recorded).
    pub const OPENED: &str = "detect.opened";
    /// More hits attached to an open detection.
    pub const UPDATED: &str = "detect.updated";
    /// The rule asked to notify people; the alert was raised.
    pub const NOTIFY: &str = "detect.notify";
    /// The sender of an imported alert reported it resolved: the
    /// detection ended; the incident stays open until people resolve it.
    pub const ENDED: &str = "detect.ended";
}

/// What a detection rule says about itself, as recorded with detections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFacts {
    pub rule: String,
    pub description: String,
    pub why: String,
    pub condition: String,
    pub severity: Severity,
    pub group_by: String,
    pub window_seconds: Option<i64>,
    pub create_incident: bool,
    /// Whom its alert is delivered to.
    pub notify: Vec<String>,
    /// A detection raises an alert (the `notify` action or a `notify`
    /// list; with no recipients it is raised and delivered to nobody).
    pub alert: bool,
    /// How its detections become incidents.
    pub incident: IncidentGrouping,
    /// The first and latest matching lines its incidents keep as evidence.
    pub evidence_lines: usize,
}

/// One detection that changed in a batch: how the engine holds it now, and
/// what was added since the last commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectionChange {
    /// Shared by the rule's changes: a flood's commit carries thousands.
    pub facts: Arc<RuleFacts>,
    pub key: String,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Events since the last commit (the whole count for a new detection).
    pub added: u64,
    /// The engine opened it since the last commit.
    pub new: bool,
    /// Matching lines not committed yet (raw, as read).
    pub new_lines: Vec<String>,
    /// The latest matching lines since the last commit (bounded).
    pub latest_lines: Vec<String>,
    /// The host its latest line names (per-host campaigns).
    pub host: Option<String>,
    /// Lines committed before (so a replay knows which lines are new).
    pub lines_before: usize,
    /// The files its lines came from.
    pub sources: Vec<String>,
    /// The engine closed it after these hits (a quiet rule without incident).
    pub closed_after: bool,
}

/// A detection that a commit opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedDetection {
    pub id: i64,
    pub rule: String,
    pub key: String,
    pub number: i64,
    pub severity: Severity,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub incident: Option<IncidentId>,
    /// The alert's key, and whether this commit was the one to raise it.
    pub alert: Option<(String, bool)>,
    /// It joined its rule's open campaign incident.
    pub joined: bool,
}

/// What a commit did beyond saving the batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitOutcome {
    pub opened: Vec<OpenedDetection>,
    /// Detections whose incident was resolved or closed: (rule, key). The
    /// engine forgets them so the next hits count afresh.
    pub closed: Vec<(String, String)>,
    /// Replayed detections that were already recorded in full.
    pub unchanged: usize,
    /// Hits attached to detections already open.
    pub attached: u64,
    /// Alerts this commit raised with pending deliveries: the caller
    /// delivers them now (`comms::sinks::deliver_alerts`); if it cannot,
    /// they stay pending and `warroom alerts` retries them.
    pub deliver: Vec<NewAlert>,
}

/// Incident titles are at most 200 characters; a key taken from a log line
/// can be anything, so it is cut to fit.
pub(super) fn incident_title(facts: &RuleFacts, key: &str) -> String {
    let head = if facts.group_by == "global" {
        facts.rule.clone()
    } else {
        format!("{} ({}={})", facts.rule, facts.group_by, key)
    };
    cut_title(&head)
}

pub(super) fn cut_title(head: &str) -> String {
    let mut title: String = head.chars().take(200).collect();
    if title.trim().is_empty() {
        title = "Detection".into();
    }
    title
}

pub(super) fn window_text(first: DateTime<Utc>, last: DateTime<Utc>) -> String {
    format!("{} .. {}", format_time(first), format_time(last))
}

/// Runs a statement through the connection's statement cache (the watcher
/// commits often; parsing the same SQL each time was most of its cost).
pub(super) fn exec(
    tx: &Transaction<'_>,
    sql: &str,
    p: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(p)
}

pub(super) fn one<T>(
    tx: &Transaction<'_>,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    tx.prepare_cached(sql)?.query_row(p, f)
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Context shared by the writes of one batch.
pub(super) struct Ctx<'a> {
    pub(super) tx: &'a Transaction<'a>,
    pub(super) playbook: &'a Playbook,
    pub(super) actor: &'a str,
    pub(super) now: DateTime<Utc>,
    pub(super) origin: &'a str,
    pub(super) notify_sinks: &'a [String],
    /// What the incidents it opens record as their source.
    pub(super) source: Source,
}

/// How a detection's incident is presented when its facts are not a
/// rule's (an imported alert has its own title and text).
pub(super) struct Shown<'a> {
    pub(super) title: &'a str,
    pub(super) summary: &'a str,
}

/// How many of a detection's first lines are stored with it.
pub(super) fn lines_kept(d: &DetectionChange) -> usize {
    if d.facts.incident.is_campaign() {
        CAMPAIGN_DETECTION_LINES
    } else {
        MAX_DETECTION_LINES
    }
}

/// The `lines` of a campaign detection row that keeps no lines (see
/// `campaigns::joined_keeps_lines`); its `latest` keeps
/// [`joined_latest_lines`].
pub(super) const LINES_NOT_KEPT: &str = "";

/// Latest lines a campaign detection row without first lines keeps (one
/// with an incident: its excerpt may show it; an alert-only campaign's
/// rows make no excerpt and keep none).
pub(super) fn joined_latest_lines(has_incident: bool) -> usize {
    usize::from(has_incident)
}

/// A detection row's `lines` and `latest` (JSON) after `new_lines` (its
/// first lines, while there is room) and the change's latest lines, from
/// what the row held (`""` and `"[]"` for a new row). A campaign row that
/// keeps no lines stays so, with at most its latest line
/// ([`joined_latest_lines`]).
pub(super) fn row_lines(
    d: &DetectionChange,
    keeps_lines: bool,
    has_incident: bool,
    (lines, latest): (&str, &str),
    new_lines: &[String],
) -> (String, String) {
    let latest: Vec<String> = serde_json::from_str(latest).unwrap_or_default();
    if !keeps_lines {
        let keep = joined_latest_lines(has_incident);
        return (
            LINES_NOT_KEPT.to_string(),
            bounded_latest(&latest, &d.latest_lines, keep),
        );
    }
    let mut kept: Vec<String> = serde_json::from_str(lines).unwrap_or_default();
    let room = lines_kept(d).saturating_sub(kept.len());
    kept.extend(new_lines.iter().take(room).cloned());
    let latest = bounded_latest(
        &latest,
        &d.latest_lines,
        lines_kept(d).min(d.facts.evidence_lines),
    );
    (
        serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into()),
        latest,
    )
}

/// A detection's latest lines after `added` (JSON, at most `keep`: its
/// rule's `evidence_lines`, fewer for a campaign's detections).
pub(super) fn bounded_latest(before: &[String], added: &[String], keep: usize) -> String {
    let mut all: Vec<&String> = before.iter().chain(added).collect();
    let cut = all.len().saturating_sub(keep);
    all.drain(..cut);
    serde_json::to_string(&all).unwrap_or_else(|_| "[]".into())
}
