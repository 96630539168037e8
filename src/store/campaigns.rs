//! The incidents the watcher opened, and what their timeline and evidence
//! have been told. Hits attached to a detection no longer write an event
//! and an evidence item each: they are added up here (events, their time
//! window, keys that joined a campaign) and reported at most once a minute
//! per incident, and always when the watcher stops (a flush): one
//! `detect.updated` event, the campaign's title when its count of sources
//! changed (an `incident.updated` event, so the change is recorded), and
//! one bounded evidence excerpt (the first and latest lines, the rest
//! counted), never the same excerpt twice. What is not reported yet is
//! committed here with the hits, so a watcher killed before the report
//! reports it after its restart: nothing lost, nothing twice.

use chrono::{DateTime, Duration, Offset, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::evidence::{StoredContent, insert_evidence_in_tx};
use super::incidents::{load_in_tx, parse_time, record_change};
use super::migration::Migration;
use super::watch_batch::{exec, kinds, one};
use super::watcher_tally::merge_sources;
use super::{EvidenceContent, NewEvidence, Result, Store};
use crate::domain::IncidentId;
use crate::domain::campaign::{
    DEFAULT_EVIDENCE_LINES, EVIDENCE_LINES_LIMIT, IncidentGrouping, REPORT_EVERY_SECONDS,
    campaign_title, excerpt_text,
};
use crate::domain::event::format_time;
use crate::domain::incident::validate_title;

/// 13: detections' latest lines, and the watcher's incidents: campaign
/// scope and what is not reported yet.
pub(super) const MIGRATION: Migration = Migration {
    version: 14,
    sql: r#"
-- The latest matching lines of a detection (JSON array, bounded), beside
-- `lines` (the first ones).
ALTER TABLE detections ADD COLUMN latest TEXT NOT NULL DEFAULT '[]';

-- One row per incident the watcher opened. A campaign (grouping per_rule
-- or per_host) is open while its incident is: every new key of its rule
-- (and host: scope) joins it. The rest is what its timeline and evidence
-- have not been told yet: events added, their window, keys that joined.
CREATE TABLE watch_incidents (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    grouping TEXT NOT NULL CHECK (grouping IN ('per_key', 'per_rule', 'per_host')),
    scope TEXT NOT NULL,
    group_by TEXT NOT NULL,
    open INTEGER NOT NULL DEFAULT 1,
    keys INTEGER NOT NULL,
    titled_keys INTEGER NOT NULL,
    -- '' until the first report.
    reported_at TEXT NOT NULL,
    due INTEGER NOT NULL DEFAULT 1,
    pending INTEGER NOT NULL DEFAULT 0,
    pending_first TEXT,
    pending_last TEXT,
    new_keys TEXT NOT NULL DEFAULT '[]',
    new_key_count INTEGER NOT NULL DEFAULT 0,
    -- The files its lines came from (JSON array, bounded): the excerpts'
    -- source path.
    sources TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;
CREATE UNIQUE INDEX watch_incidents_campaign ON watch_incidents (rule, grouping, scope)
    WHERE open = 1 AND grouping <> 'per_key';
CREATE INDEX watch_incidents_due ON watch_incidents (reported_at) WHERE due = 1;
-- A notify-only campaign rule's open alerted detection (one per campaign,
-- among thousands of joined ones).
CREATE INDEX detections_alerted_open ON detections (rule)
    WHERE open = 1 AND alert_key IS NOT NULL;

-- Incidents opened before: one per key, already reported.
INSERT INTO watch_incidents (incident_id, rule, grouping, scope, group_by, open, keys,
        titled_keys, reported_at, due)
    SELECT d.incident_id, min(d.rule), 'per_key', min(d.key), min(d.group_by),
           i.status NOT IN ('resolved', 'closed'), count(*), count(*), max(d.updated_at), 0
    FROM detections d JOIN incidents i ON i.id = d.incident_id
    GROUP BY d.incident_id;
"#,
};

/// One source of an incident: a key of its detections.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IncidentSource {
    pub rule: String,
    pub key: String,
    pub count: u64,
    #[serde(serialize_with = "ser_time")]
    pub first_seen: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub last_seen: DateTime<Utc>,
    pub open: bool,
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

/// The open campaign incident of a rule and scope.
pub(super) fn open_campaign(
    tx: &Transaction<'_>,
    rule: &str,
    grouping: IncidentGrouping,
    scope: &str,
) -> rusqlite::Result<Option<IncidentId>> {
    let id: Option<String> = one(
        tx,
        "SELECT incident_id FROM watch_incidents
         WHERE rule = ?1 AND grouping = ?2 AND scope = ?3 AND open = 1 AND grouping <> 'per_key'",
        params![rule, grouping.as_str(), scope],
        |r| r.get(0),
    )
    .optional()?;
    Ok(id.and_then(|i| i.parse().ok()))
}

/// Does a key joining campaign `incident` keep lines on its detection row?
/// Only the campaign's first `first` detections do (its excerpt's first
/// lines come from them): a flood's thousands of later keys keep their
/// count and times and only their latest line. Decided by how many joined
/// before it, so it does not depend on how lines were grouped into
/// commits or on a restart in between.
pub(super) fn joined_keeps_lines(
    tx: &Transaction<'_>,
    incident: &IncidentId,
    first: usize,
) -> rusqlite::Result<bool> {
    let Some(skip) = first.checked_sub(1) else {
        return Ok(false);
    };
    let full: Option<i64> = one(
        tx,
        "SELECT 1 FROM detections WHERE incident_id = ?1 LIMIT 1 OFFSET ?2",
        params![incident.as_str(), i64::try_from(skip).unwrap_or(i64::MAX)],
        |r| r.get(0),
    )
    .optional()?;
    Ok(full.is_none())
}

/// Drops the latest line of campaign `incident`'s rows that keep no first
/// lines and are not among its `keep` most recently seen: the excerpt
/// takes its latest lines from those. A row comes back among them only
/// with a new hit, which brings its latest line again, so the excerpt does
/// not depend on when this runs (with each report: once a minute, and at
/// the stop) nor on how lines were grouped into commits.
fn drop_stale_latest(tx: &Transaction<'_>, incident: &str, keep: usize) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE detections SET latest = '[]'
         WHERE incident_id = ?1 AND lines = '' AND latest <> '[]'
           AND id NOT IN (SELECT id FROM detections WHERE incident_id = ?1
                          ORDER BY last_seen DESC, id DESC LIMIT ?2)",
    )?
    .execute(params![incident, i64::try_from(keep).unwrap_or(i64::MAX)])?;
    Ok(())
}

/// Which incidents a rule's detections share: its name, grouping, scope
/// (the host of a per-host campaign, the key of a per-key incident) and
/// what its keys are.
pub(super) struct Grouped<'a> {
    pub(super) rule: &'a str,
    pub(super) grouping: IncidentGrouping,
    pub(super) scope: &'a str,
    pub(super) group_by: &'a str,
}

/// Records an incident the watcher opened for its first detection.
/// `reported`: its evidence is written already (nothing to report yet).
pub(super) fn register(
    tx: &Transaction<'_>,
    incident: &IncidentId,
    g: &Grouped<'_>,
    sources: &[String],
    reported: Option<DateTime<Utc>>,
) -> rusqlite::Result<()> {
    exec(
        tx,
        "INSERT INTO watch_incidents (incident_id, rule, grouping, scope, group_by, keys,
            titled_keys, reported_at, due, sources)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, ?6, ?7, ?8)",
        params![
            incident.as_str(),
            g.rule,
            g.grouping.as_str(),
            g.scope,
            g.group_by,
            reported.map(format_time).unwrap_or_default(),
            reported.is_none(),
            merge_sources("[]", sources).unwrap_or_else(|| "[]".into())
        ],
    )?;
    Ok(())
}

/// Campaigns of resolved or closed incidents end: the next hit of their
/// rule opens a new one.
pub(super) fn close_resolved(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    exec(
        tx,
        "UPDATE watch_incidents SET open = 0
         WHERE open = 1 AND incident_id IN
            (SELECT id FROM incidents WHERE status IN ('resolved', 'closed'))",
        [],
    )?;
    Ok(())
}

/// An alert of a rule without incident is raised once per campaign: while
/// one of its detections with an alert is open, a new key joins it.
pub(super) fn open_alert(tx: &Transaction<'_>, rule: &str) -> rusqlite::Result<bool> {
    Ok(one(
        tx,
        "SELECT 1 FROM detections WHERE rule = ?1 AND open = 1 AND alert_key IS NOT NULL LIMIT 1",
        [rule],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

/// An incident due for a report, read before its transaction.
struct Due {
    incident: String,
    excerpt: Option<(StoredContent, NewEvidence)>,
    /// Its rule's `evidence_lines`.
    keep: usize,
}

impl Store {
    /// Every key of an incident's detections with its count and times,
    /// most events first: a campaign's sources (also in `incident show
    /// --json` as `sources` and in the report).
    pub fn incident_sources(&self, incident: &IncidentId) -> Result<Vec<IncidentSource>> {
        self.query_all(
            "SELECT rule, key, count, first_seen, last_seen, open FROM detections
             WHERE incident_id = ?1 ORDER BY count DESC, key",
            [incident.as_str()],
            |r| {
                Ok(IncidentSource {
                    rule: r.get(0)?,
                    key: r.get(1)?,
                    count: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    first_seen: parse_time(r, 3)?,
                    last_seen: parse_time(r, 4)?,
                    open: r.get(5)?,
                })
            },
        )
    }

    /// Reports what the watcher's incidents gained since their last report
    /// a minute or more ago (all of them when `flush`): their `detect.updated`
    /// event, title and bounded evidence excerpt. Returns how many.
    pub fn report_watch_incidents(
        &mut self,
        actor: &str,
        host: &str,
        now: DateTime<Utc>,
        flush: bool,
    ) -> Result<usize> {
        let reported = self.report_due(actor, host, now, flush)?;
        // The watcher's last word: what a flood freed goes back to the file
        // system (an empty last batch commits nothing, so it is done here).
        if flush && let Err(e) = self.reclaim_free_pages(true) {
            tracing::warn!("giving free pages back failed: {e}");
        }
        Ok(reported)
    }

    fn report_due(
        &mut self,
        actor: &str,
        host: &str,
        now: DateTime<Utc>,
        flush: bool,
    ) -> Result<usize> {
        let until = if flush {
            "9999".to_string()
        } else {
            format_time(now - Duration::seconds(REPORT_EVERY_SECONDS))
        };
        let ids: Vec<String> = self.query_all(
            "SELECT incident_id FROM watch_incidents WHERE due = 1 AND reported_at <= ?1
             ORDER BY reported_at LIMIT 1000",
            [until],
            |r| r.get(0),
        )?;
        if ids.is_empty() {
            return Ok(0);
        }
        let mut due = Vec::with_capacity(ids.len());
        for incident in ids {
            let keep = self.evidence_lines_of(&incident)?;
            let excerpt = self.excerpt_of(&incident, host, keep)?;
            due.push(Due {
                incident,
                excerpt,
                keep,
            });
        }
        self.write(|tx| {
            for d in &due {
                report_one(tx, d, actor, now)?;
            }
            Ok(due.len())
        })
    }

    /// How many first and latest lines an incident's excerpt keeps: its
    /// rule's `evidence_lines`, as its `detect.opened` event recorded it
    /// (the default for incidents opened before the option, or by intake).
    fn evidence_lines_of(&self, incident: &str) -> Result<usize> {
        let n: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT json_extract(data, '$.evidence_lines') FROM events
                 WHERE incident_id = ?1 AND kind = ?2 ORDER BY seq LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![incident, kinds::OPENED], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.err(e))?
            .flatten();
        Ok(n.and_then(|n| usize::try_from(n).ok())
            .filter(|n| (1..=EVIDENCE_LINES_LIMIT).contains(n))
            .unwrap_or(DEFAULT_EVIDENCE_LINES))
    }

    /// The bounded excerpt of an incident's matching lines (`keep` first
    /// and latest), copied into the evidence store unless the incident
    /// holds the same excerpt already.
    fn excerpt_of(
        &self,
        incident: &str,
        host: &str,
        keep: usize,
    ) -> Result<Option<(StoredContent, NewEvidence)>> {
        let firsts: Vec<(String, String)> = self.query_all(
            "SELECT lines, rule FROM detections WHERE incident_id = ?1 ORDER BY id LIMIT ?2",
            params![incident, keep as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let latests: Vec<(String, String)> = self.query_all(
            "SELECT latest, last_seen FROM detections WHERE incident_id = ?1
             ORDER BY last_seen DESC, id DESC LIMIT ?2",
            params![incident, keep as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let total: i64 = self
            .conn
            .prepare_cached("SELECT coalesce(sum(count), 0) FROM detections WHERE incident_id = ?1")
            .and_then(|mut s| s.query_row([incident], |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        let sources: Vec<String> = self
            .conn
            .prepare_cached("SELECT sources FROM watch_incidents WHERE incident_id = ?1")
            .and_then(|mut s| {
                s.query_row([incident], |r| r.get::<_, String>(0))
                    .optional()
            })
            .map_err(|e| self.err(e))?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        let mut first: Vec<String> = Vec::new();
        for (lines, _) in &firsts {
            let lines: Vec<String> = serde_json::from_str(lines).unwrap_or_default();
            for l in lines {
                if first.len() < keep {
                    first.push(l);
                }
            }
        }
        let mut latest: Vec<String> = Vec::new();
        // Newest detections first; each one's lines oldest first.
        for (lines, _) in latests.iter().rev() {
            let lines: Vec<String> = serde_json::from_str(lines).unwrap_or_default();
            latest.extend(lines);
        }
        latest.retain(|l| !first.contains(l));
        let cut = latest.len().saturating_sub(keep);
        latest.drain(..cut);
        let shown = (first.len() + latest.len()) as u64;
        let not_kept = u64::try_from(total).unwrap_or(0).saturating_sub(shown);
        let text = excerpt_text(&first, &latest, not_kept);
        if text.trim().is_empty() {
            return Ok(None);
        }
        let sha = hex::encode(Sha256::digest(text.as_bytes()));
        let rule = firsts.first().map(|(_, r)| r.as_str()).unwrap_or("");
        let held: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM evidence WHERE sha256 = ?1 AND incident_id = ?2 LIMIT 1",
            )
            .and_then(|mut s| s.query_row(params![sha, incident], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        if held.is_some() {
            return Ok(None);
        }
        let new = NewEvidence {
            content: EvidenceContent::Excerpt {
                text,
                source_path: (!sources.is_empty()).then(|| sources.join(", ")),
            },
            description: format!(
                "lines matching rule \"{rule}\": the first {} and latest {} of {total}",
                first.len(),
                latest.len()
            ),
            source_host: host.to_string(),
            tz: Utc.fix(),
        };
        let stored = self.store_content(&new.content)?;
        Ok(Some((stored, new)))
    }
}

fn report_one(
    tx: &Transaction<'_>,
    d: &Due,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), super::WriteError> {
    type Row = (
        String,
        String,
        String,
        String,
        i64,
        i64,
        i64,
        Option<String>,
        Option<String>,
        String,
        i64,
    );
    let row: Option<Row> = one(
        tx,
        "SELECT rule, grouping, scope, group_by, keys, titled_keys, pending, pending_first,
            pending_last, new_keys, new_key_count
         FROM watch_incidents WHERE incident_id = ?1 AND due = 1",
        [&d.incident],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        },
    )
    .optional()?;
    let Some((
        rule,
        grouping,
        scope,
        group_by,
        keys,
        titled,
        pending,
        first,
        last,
        new_keys,
        new_key_count,
    )) = row
    else {
        return Ok(());
    };
    let grouping = IncidentGrouping::parse(&grouping).unwrap_or_default();
    if grouping.is_campaign() {
        drop_stale_latest(tx, &d.incident, d.keep)?;
    }
    let mut inc = load_in_tx(tx, &d.incident)?;
    let keys_u = u64::try_from(keys).unwrap_or(0);
    if grouping.is_campaign() && keys != titled {
        let host = (grouping == IncidentGrouping::PerHost).then_some(scope.as_str());
        let to = campaign_title(&rule, &group_by, host, keys_u);
        if let Ok(to) = validate_title(&to)
            && to != inc.title
        {
            let from = std::mem::replace(&mut inc.title, to.clone());
            record_change(
                tx,
                &mut inc,
                actor,
                now,
                crate::domain::event::kinds::INCIDENT_UPDATED,
                format!("title \u{2192} \"{to}\""),
                json!({ "changes": { "title": { "from": from, "to": to } } }),
            )?;
        }
    }
    if pending > 0 || new_key_count > 0 {
        let new_keys: Vec<String> = serde_json::from_str(&new_keys).unwrap_or_default();
        let first = first.unwrap_or_default();
        let last = last.unwrap_or_default();
        let mut detail = format!("rule \"{rule}\": {pending} more event(s), {first} .. {last}");
        if new_key_count > 0 {
            detail.push_str(&format!(
                "; {new_key_count} new {group_by} value(s), {keys} in all"
            ));
        }
        record_change(
            tx,
            &mut inc,
            actor,
            now,
            kinds::UPDATED,
            detail,
            json!({
                "rule": rule,
                "added": pending,
                "first_seen": first,
                "last_seen": last,
                "new_keys": new_keys,
                "new_key_count": new_key_count,
                "keys": keys,
            }),
        )?;
    }
    if let Some((stored, new)) = &d.excerpt {
        let held: Option<i64> = one(
            tx,
            "SELECT id FROM evidence WHERE sha256 = ?1 AND incident_id = ?2 LIMIT 1",
            params![stored.sha(), d.incident],
            |r| r.get(0),
        )
        .optional()?;
        if held.is_none() {
            insert_evidence_in_tx(tx, &inc.id, stored, new, actor, now)?;
        }
    }
    exec(
        tx,
        "UPDATE watch_incidents SET due = 0, pending = 0, pending_first = NULL,
            pending_last = NULL, new_keys = '[]', new_key_count = 0, titled_keys = keys,
            reported_at = ?2
         WHERE incident_id = ?1",
        params![d.incident, format_time(now)],
    )?;
    Ok(())
}
