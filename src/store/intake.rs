//! Imported alerts (Alertmanager/Grafana webhooks, Wazuh, generic JSON):
//! each alert becomes a detection through the rule watcher's path (same
//! incidents, `detect.*` events, evidence, suppression and responder
//! alerts), in one transaction per batch. Each delivery is remembered by
//! the alert's identity, start and status, so a sender's retry changes
//! nothing. Per intake source, counts of what was received, deduplicated,
//! dropped and refused, and the last error, for status views.

use chrono::{DateTime, Offset, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use super::evidence::StoredContent;
use super::incidents::{load_in_tx, parse_opt_time, record_change};
use super::intake_status::{Counts, count_in_tx};
use super::migration::Migration;
use super::watch_batch::{CommitOutcome, DetectionChange, RuleFacts};
use super::watch_batch::{Ctx, Shown, kinds};
use super::watcher_apply::{apply_change, close_resolved};
use super::{Result, Store, WriteError};
use crate::domain::event::format_time;
use crate::domain::{Playbook, Severity, Source};
use crate::store::{EvidenceContent, NewEvidence};

/// 10: alerts received by intake, and per-source counts.
pub(super) const MIGRATION: Migration = Migration {
    version: 10,
    sql: r#"
-- One row per delivery state of an imported alert: the sender's identity
-- of the alert (fingerprint, Wazuh id), when it started and whether this
-- delivery said firing or resolved. A retry finds its row and changes
-- nothing. `ended` marks a firing row whose resolution arrived.
CREATE TABLE intake_alerts (
    intake TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    detection_id INTEGER REFERENCES detections (id) ON DELETE CASCADE,
    ended INTEGER NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    PRIMARY KEY (intake, alert_id, starts_at, status)
) WITHOUT ROWID;
CREATE INDEX intake_alerts_by_detection ON intake_alerts (detection_id);

-- What each intake source has seen, for status views.
CREATE TABLE intake_sources (
    name TEXT PRIMARY KEY,
    received INTEGER NOT NULL DEFAULT 0,
    deduplicated INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    last_received_at TEXT,
    last_error TEXT,
    last_error_at TEXT
) WITHOUT ROWID;
"#,
};

/// One imported alert, mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeAlert {
    /// The sender's identity of the alert.
    pub alert_id: String,
    pub resolved: bool,
    /// When the sender says it started: the detection time.
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub group_by: String,
    /// Alerts with the same key add to one detection (suppression).
    pub key: String,
    pub title: String,
    pub summary: String,
    pub severity: Severity,
    pub source: Source,
    /// Opens an incident; otherwise only raises an alert to responders.
    pub create_incident: bool,
    pub notify: Vec<String>,
    /// The alert as received.
    pub raw: String,
}

/// Everything one intake commit writes, atomically.
#[derive(Debug, Clone, Default)]
pub struct IntakeBatch {
    /// The intake source's name (`intake.toml` `name`): detections are
    /// recorded under it as their rule, and its counts are kept under it.
    pub intake: String,
    /// The format, as recorded with the detections' condition.
    pub format: String,
    pub alerts: Vec<IntakeAlert>,
    /// Alerts the mapping dropped (counted only).
    pub dropped: u64,
    /// The sinks responder alerts are delivered through.
    pub notify_sinks: Vec<String>,
    /// The way the alerts came in, counted apart in `intake_channels`:
    /// [`channels::LISTENER`], [`channels::INGEST`] or
    /// [`channels::follow`] of the file followed.
    pub channel: String,
    /// Why the last line counted in `dropped` could not be read (a
    /// followed file's bad line), kept as the source's last error.
    pub last_error: Option<String>,
}

/// The ways alerts come in, as recorded per delivery and counted apart.
pub mod channels {
    /// The webhook listener (`ingest --listen`).
    pub const LISTENER: &str = "listener";
    /// A file or standard input read by `ingest`.
    pub const INGEST: &str = "ingest";
    /// The prefix of a file a watcher follows (`watch --wazuh`).
    pub const FOLLOW_PREFIX: &str = "follow:";

    /// The channel of a followed file.
    pub fn follow(path: &str) -> String {
        format!("{FOLLOW_PREFIX}{path}")
    }
}

/// What an intake commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeOutcome {
    pub commit: CommitOutcome,
    /// Deliveries already recorded (a sender's retry).
    pub deduplicated: u64,
    /// Resolutions recorded.
    pub ended: u64,
    /// Resolutions of alerts never seen firing.
    pub unmatched: u64,
}

/// What an intake source has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeStats {
    pub name: String,
    pub received: u64,
    pub deduplicated: u64,
    pub dropped: u64,
    pub refused: u64,
    pub last_received_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Commits a batch of imported alerts in one transaction: each new
    /// firing alert opens a detection (with its incident or responder
    /// alert) or adds to the open one of its key; each new resolution is
    /// recorded on the incident's timeline and ends the detection once no
    /// alert of it is still firing. The incident itself is never resolved
    /// here. Deliveries already recorded change nothing.
    pub fn commit_intake(
        &mut self,
        batch: &IntakeBatch,
        playbook: &Playbook,
        actor: &str,
        host: &str,
        now: DateTime<Utc>,
    ) -> Result<IntakeOutcome> {
        self.conn.set_prepared_statement_cache_capacity(64);
        let excerpts = self.intake_excerpts(batch, host)?;
        self.write(|tx| {
            let mut commit = CommitOutcome {
                closed: close_resolved(tx, now)?,
                ..CommitOutcome::default()
            };
            let mut out = intake_in_tx(tx, batch, &excerpts, playbook, actor, now, &mut commit)?;
            out.commit = commit;
            Ok(out)
        })
    }

    /// Evidence content of a batch's new firing alerts, stored before the
    /// transaction (content addressed: a crash leaves at most an
    /// unreferenced file). One entry per alert.
    pub(super) fn intake_excerpts(
        &mut self,
        batch: &IntakeBatch,
        host: &str,
    ) -> Result<IntakeExcerpts> {
        let mut excerpts = Vec::with_capacity(batch.alerts.len());
        for a in &batch.alerts {
            if a.resolved || !a.create_incident || a.raw.trim().is_empty() {
                excerpts.push(None);
                continue;
            }
            let new = NewEvidence {
                content: EvidenceContent::Excerpt {
                    text: a.raw.clone(),
                    source_path: Some(format!("{} ({})", batch.intake, batch.format)),
                },
                description: format!("alert {} as received from {}", a.alert_id, batch.intake),
                source_host: host.to_string(),
                tz: Utc.fix(),
            };
            let stored = self.store_content(&new.content)?;
            excerpts.push(Some((stored, new)));
        }
        Ok(IntakeExcerpts(excerpts))
    }

    /// Records a payload refused from an intake source (counted, and kept
    /// as its last error), and for its way in (`channel`: see
    /// [`IntakeBatch::channel`]).
    pub fn record_intake_error(
        &mut self,
        intake: &str,
        channel: &str,
        format: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            let counts = Counts {
                refused: 1,
                error: Some(error),
                ..Counts::default()
            };
            count_in_tx(tx, intake, channel, format, &counts, now)?;
            Ok(())
        })
    }

    /// Every intake source's counts, by name.
    pub fn intake_stats(&self) -> Result<Vec<IntakeStats>> {
        self.conn
            .prepare_cached(
                "SELECT name, received, deduplicated, dropped, refused, last_received_at,
                    last_error, last_error_at FROM intake_sources ORDER BY name",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    let n = |i: usize| -> rusqlite::Result<u64> {
                        Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
                    };
                    Ok(IntakeStats {
                        name: r.get(0)?,
                        received: n(1)?,
                        deduplicated: n(2)?,
                        dropped: n(3)?,
                        refused: n(4)?,
                        last_received_at: parse_opt_time(r, 5)?,
                        last_error: r.get(6)?,
                        last_error_at: parse_opt_time(r, 7)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))
    }
}

/// Evidence prepared for a batch's alerts ([`Store::intake_excerpts`]).
pub(super) struct IntakeExcerpts(Vec<Option<(StoredContent, NewEvidence)>>);

/// Writes a batch of imported alerts inside `tx` (the caller's
/// transaction: `commit_intake`'s own, or a watcher commit that also saves
/// the checkpoint of the file the alerts were read from), adding what it
/// opens to `commit`, and counts them for their source and its way in.
pub(super) fn intake_in_tx(
    tx: &Transaction<'_>,
    batch: &IntakeBatch,
    excerpts: &IntakeExcerpts,
    playbook: &Playbook,
    actor: &str,
    now: DateTime<Utc>,
    commit: &mut CommitOutcome,
) -> Result<IntakeOutcome, WriteError> {
    let origin = format!("intake:{}", batch.intake);
    let mut out = IntakeOutcome::default();
    for (a, excerpt) in batch.alerts.iter().zip(&excerpts.0) {
        let ctx = Ctx {
            tx,
            playbook,
            actor,
            now,
            origin: &origin,
            notify_sinks: &batch.notify_sinks,
            source: a.source,
        };
        let fresh = tx
            .prepare_cached(
                "INSERT INTO intake_alerts (intake, alert_id, starts_at, status, received_at,
                    channel, format)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                batch.intake,
                a.alert_id,
                format_time(a.starts_at),
                if a.resolved { "resolved" } else { "firing" },
                format_time(now),
                batch.channel,
                batch.format
            ])?;
        if fresh == 0 {
            out.deduplicated += 1;
        } else if a.resolved {
            if end_alert(&ctx, batch, a)? {
                out.ended += 1;
            } else {
                out.unmatched += 1;
            }
        } else {
            fire(&ctx, batch, a, excerpt.as_ref(), commit)?;
        }
    }
    let counts = Counts {
        received: batch.alerts.len() as u64 + batch.dropped,
        deduplicated: out.deduplicated,
        dropped: batch.dropped,
        refused: 0,
        error: batch.last_error.as_deref(),
    };
    count_in_tx(
        tx,
        &batch.intake,
        &batch.channel,
        &batch.format,
        &counts,
        now,
    )?;
    Ok(out)
}

/// A new firing alert: opens a detection or adds to the open one of its
/// key, exactly as a rule's hit does.
fn fire(
    ctx: &Ctx<'_>,
    batch: &IntakeBatch,
    a: &IntakeAlert,
    excerpt: Option<&(StoredContent, NewEvidence)>,
    outcome: &mut CommitOutcome,
) -> Result<(), WriteError> {
    let tx = ctx.tx;
    // An alert that fires again after its detection ended, while the
    // incident is still being handled, belongs to that incident.
    tx.prepare_cached(
        "UPDATE detections SET open = 1, closed_at = NULL, updated_at = ?3
         WHERE id = (SELECT d.id FROM detections d JOIN incidents i ON i.id = d.incident_id
                     WHERE d.rule = ?1 AND d.key = ?2
                       AND i.status NOT IN ('resolved', 'closed')
                     ORDER BY d.number DESC LIMIT 1)
           AND open = 0
           AND NOT EXISTS (SELECT 1 FROM detections WHERE rule = ?1 AND key = ?2 AND +open = 1)",
    )?
    .execute(params![batch.intake, a.key, format_time(ctx.now)])?;
    let d = DetectionChange {
        facts: std::sync::Arc::new(RuleFacts {
            rule: batch.intake.clone(),
            description: a.summary.clone(),
            why: String::new(),
            condition: format!("{} alert", batch.format),
            severity: a.severity,
            group_by: a.group_by.clone(),
            window_seconds: None,
            create_incident: a.create_incident,
            alert: !a.create_incident || !a.notify.is_empty(),
            notify: a.notify.clone(),
            incident: crate::domain::campaign::IncidentGrouping::PerKey,
            evidence_lines: crate::domain::campaign::DEFAULT_EVIDENCE_LINES,
        }),
        key: a.key.clone(),
        count: 1,
        first_seen: a.starts_at,
        last_seen: a.starts_at,
        added: 1,
        new: true,
        new_lines: vec![a.raw.clone()],
        latest_lines: vec![a.raw.clone()],
        host: None,
        lines_before: 0,
        sources: vec![batch.intake.clone()],
        // Without an incident, each alert is its own notice: nothing keeps
        // the detection open for the next one to add to.
        closed_after: !a.create_incident,
    };
    let shown = Shown {
        title: &a.title,
        summary: &a.summary,
    };
    let before = outcome.opened.len();
    apply_change(ctx, false, &d, excerpt, Some(&shown), outcome)?;
    let id: Option<i64> = match outcome.opened.get(before) {
        Some(o) => Some(o.id),
        None => tx
            .prepare_cached(
                "SELECT id FROM detections WHERE rule = ?1 AND key = ?2 ORDER BY number DESC LIMIT 1",
            )?
            .query_row(params![batch.intake, a.key], |r| r.get(0))
            .optional()?,
    };
    tx.prepare_cached(
        "UPDATE intake_alerts SET detection_id = ?5
         WHERE intake = ?1 AND alert_id = ?2 AND starts_at = ?3 AND status = ?4",
    )?
    .execute(params![
        batch.intake,
        a.alert_id,
        format_time(a.starts_at),
        "firing",
        id
    ])?;
    Ok(())
}

/// A new resolution: recorded on the incident of the detection the alert
/// fired into, and the detection ends once none of its alerts still
/// fires. False when the alert was never seen firing.
fn end_alert(ctx: &Ctx<'_>, batch: &IntakeBatch, a: &IntakeAlert) -> Result<bool, WriteError> {
    let tx = ctx.tx;
    let starts = format_time(a.starts_at);
    let detection: Option<Option<i64>> = tx
        .prepare_cached(
            "UPDATE intake_alerts SET ended = 1
             WHERE intake = ?1 AND alert_id = ?2 AND starts_at = ?3 AND status = 'firing'
             RETURNING detection_id",
        )?
        .query_row(params![batch.intake, a.alert_id, starts], |r| r.get(0))
        .optional()?;
    let Some(Some(detection)) = detection else {
        return Ok(false);
    };
    let (incident, rule, key): (Option<String>, String, String) = tx
        .prepare_cached("SELECT incident_id, rule, key FROM detections WHERE id = ?1")?
        .query_row([detection], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let still_firing: i64 = tx
        .prepare_cached(
            "SELECT count(*) FROM intake_alerts
             WHERE detection_id = ?1 AND status = 'firing' AND ended = 0",
        )?
        .query_row([detection], |r| r.get(0))?;
    let ended = still_firing == 0;
    if ended {
        tx.prepare_cached(
            "UPDATE detections SET open = 0, closed_at = ?2, updated_at = ?2
             WHERE id = ?1 AND open = 1",
        )?
        .execute(params![detection, format_time(ctx.now)])?;
    }
    if let Some(incident) = incident {
        let mut inc = load_in_tx(tx, &incident)?;
        let when = a
            .ends_at
            .map(|t| format!(" at {}", format_time(t)))
            .unwrap_or_default();
        let rest = if ended {
            "the detection ended; the incident stays open until people resolve it".to_string()
        } else {
            format!("{still_firing} alert(s) of this detection still firing")
        };
        record_change(
            tx,
            &mut inc,
            ctx.actor,
            ctx.now,
            kinds::ENDED,
            format!(
                "{} reports alert {} resolved{when} ({}); {rest}",
                batch.intake, a.alert_id, a.title
            ),
            json!({
                "detection": detection,
                "rule": rule,
                "key": key,
                "alert": a.alert_id,
                "starts_at": starts,
                "ends_at": a.ends_at.map(format_time),
                "detection_ended": ended,
                "still_firing": still_firing,
            }),
        )?;
    }
    Ok(true)
}
