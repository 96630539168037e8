//! A campaign's first and latest matching lines, kept once on its
//! incident's row instead of on each of its per-key detections. A flood's
//! campaign has thousands of keys; two first and two latest lines on every
//! one of their detection rows were most of what the flood added to the
//! database, and only a bounded excerpt of them is ever shown. A joined
//! key's detection row keeps its key, count and times (the campaign's
//! sources) and marks its lines as kept by the campaign.
//!
//! Campaigns opened before this (the columns NULL) go on keeping their
//! lines on their detections, and their excerpts are read from there.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::super::migration::Migration;
use super::super::watch_batch::{
    CAMPAIGN_DETECTION_LINES, DetectionChange, bounded_latest, lines_kept,
};
use crate::domain::IncidentId;
use crate::domain::campaign::EVIDENCE_LINES_LIMIT;

/// 18: the campaign's lines on its incident's row.
pub(in crate::store) const MIGRATION: Migration = Migration {
    version: 18,
    sql: r#"
-- A campaign's first and latest matching lines (JSON arrays, at most its
-- rule's evidence_lines each). NULL: the campaign's detections hold them
-- (incidents opened before, and per-key incidents).
ALTER TABLE watch_incidents ADD COLUMN first_lines TEXT;
ALTER TABLE watch_incidents ADD COLUMN latest_lines TEXT;
"#,
};

/// `detections.lines` and `latest` of a detection that joined a campaign
/// keeping its lines (not JSON, so never mistaken for "no lines yet").
pub(in crate::store) const KEPT_BY_CAMPAIGN: &str = "";

/// What one detection change adds to its campaign's lines: its first lines
/// and its latest, at most [`CAMPAIGN_DETECTION_LINES`] of each (what its
/// row held before), so an excerpt is made of as many keys as before.
fn per_detection(lines: &[String]) -> &[String] {
    &lines[..lines.len().min(CAMPAIGN_DETECTION_LINES)]
}

/// The lines a batch adds to each incident, added up in memory.
#[derive(Debug, Default)]
pub(in crate::store) struct Pending {
    /// Per incident: how many it keeps, first lines, (when, latest line).
    by_incident: HashMap<String, Added>,
}

#[derive(Debug, Default)]
struct Added {
    keep: usize,
    first: Vec<String>,
    latest: Vec<(DateTime<Utc>, String)>,
}

impl Pending {
    /// A detection of `incident` gained `first` lines (its first ones not
    /// committed yet) and `latest` ones, the newest at `last_seen`.
    pub(in crate::store) fn add(
        &mut self,
        incident: &str,
        keep: usize,
        first: &[String],
        latest: &[String],
        last_seen: DateTime<Utc>,
    ) {
        if first.is_empty() && latest.is_empty() {
            return;
        }
        let a = self.by_incident.entry(incident.to_string()).or_default();
        a.keep = keep.clamp(1, EVIDENCE_LINES_LIMIT);
        for l in per_detection(first) {
            if a.first.len() < a.keep {
                a.first.push(l.clone());
            }
        }
        let from = latest.len().saturating_sub(CAMPAIGN_DETECTION_LINES);
        a.latest
            .extend(latest[from..].iter().map(|l| (last_seen, l.clone())));
        // Bounded between writes too: a flood batch touches thousands of
        // keys of one campaign.
        if a.latest.len() > 4 * a.keep {
            a.bound_latest();
        }
    }

    /// Merges what was added into each incident that keeps its lines
    /// (one read and one write each).
    pub(in crate::store) fn write(self, c: &Connection) -> rusqlite::Result<()> {
        for (incident, mut a) in self.by_incident {
            let row: Option<(Option<String>, Option<String>)> = c
                .prepare_cached(
                    "SELECT first_lines, latest_lines FROM watch_incidents
                     WHERE incident_id = ?1",
                )?
                .query_row([&incident], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((Some(first), latest)) = row else {
                continue;
            };
            let mut first: Vec<String> = serde_json::from_str(&first).unwrap_or_default();
            let mut latest: Vec<String> = latest
                .and_then(|l| serde_json::from_str(&l).ok())
                .unwrap_or_default();
            for l in a.first.drain(..) {
                if first.len() < a.keep {
                    first.push(l);
                }
            }
            a.bound_latest();
            latest.extend(a.latest.into_iter().map(|(_, l)| l));
            let cut = latest.len().saturating_sub(a.keep);
            latest.drain(..cut);
            c.prepare_cached(
                "UPDATE watch_incidents SET first_lines = ?2, latest_lines = ?3
                 WHERE incident_id = ?1",
            )?
            .execute(rusqlite::params![
                incident,
                to_json(&first),
                to_json(&latest)
            ])?;
        }
        Ok(())
    }
}

impl Added {
    /// Oldest first by the time of their detection's newest hit (a batch
    /// lists detections in the order they were first touched), at most
    /// `keep`.
    fn bound_latest(&mut self) {
        self.latest.sort_by_key(|(at, _)| *at);
        let cut = self.latest.len().saturating_sub(self.keep);
        self.latest.drain(..cut);
    }
}

fn to_json(lines: &[String]) -> String {
    serde_json::to_string(lines).unwrap_or_else(|_| "[]".into())
}

/// The first and latest lines a new campaign starts with (its first
/// detection's), as stored: (first_lines, latest_lines).
pub(in crate::store) fn seed(first: &[String], latest: &[String], keep: usize) -> (String, String) {
    let mut p = Pending::default();
    p.add("", keep, first, latest, DateTime::<Utc>::MIN_UTC);
    let a = p.by_incident.remove("").unwrap_or_default();
    let latest: Vec<String> = a.latest.into_iter().map(|(_, l)| l).collect();
    (to_json(&a.first), to_json(&latest))
}

/// A new detection row's `lines` and `latest`: none for a key joining a
/// campaign that keeps its lines (`joined`), or for a notify-only
/// campaign's quiet join (`quiet`: no excerpt, its alert names the first
/// key); otherwise its first lines and its bounded latest, as JSON.
pub(in crate::store) fn opened_lines(
    c: &Connection,
    joined: Option<&IncidentId>,
    quiet: bool,
    d: &DetectionChange,
) -> rusqlite::Result<(String, String)> {
    let campaign_keeps = match joined {
        Some(inc) => keeps_lines(c, inc.as_str())?,
        None => false,
    };
    if campaign_keeps || quiet {
        return Ok((KEPT_BY_CAMPAIGN.to_string(), KEPT_BY_CAMPAIGN.to_string()));
    }
    let first: Vec<&String> = d.new_lines.iter().take(lines_kept(d)).collect();
    Ok((
        serde_json::to_string(&first).unwrap_or_else(|_| "[]".into()),
        bounded_latest(
            &[],
            &d.latest_lines,
            lines_kept(d).min(d.facts.evidence_lines),
        ),
    ))
}

/// A detection row's `lines` and `latest` after `new_lines` attached: a
/// joined key's stay its campaign's (the tally adds them there).
pub(in crate::store) fn attached_lines(
    lines: String,
    latest: String,
    d: &DetectionChange,
    new_lines: &[String],
) -> (String, String) {
    if lines == KEPT_BY_CAMPAIGN {
        return (lines, latest);
    }
    let mut kept: Vec<String> = serde_json::from_str(&lines).unwrap_or_default();
    let room = lines_kept(d).saturating_sub(kept.len());
    kept.extend(new_lines.iter().take(room).cloned());
    let latest: Vec<String> = serde_json::from_str(&latest).unwrap_or_default();
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

/// A campaign's first and latest lines, if it keeps them itself (None: its
/// detections hold them).
pub(in crate::store) fn read(
    c: &Connection,
    incident: &str,
) -> rusqlite::Result<Option<(Vec<String>, Vec<String>)>> {
    let row: Option<(Option<String>, Option<String>)> = c
        .prepare_cached(
            "SELECT first_lines, latest_lines FROM watch_incidents WHERE incident_id = ?1",
        )?
        .query_row([incident], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(first, latest)| {
        let first: Vec<String> = serde_json::from_str(&first?).unwrap_or_default();
        let latest: Vec<String> = latest
            .and_then(|l| serde_json::from_str(&l).ok())
            .unwrap_or_default();
        Some((first, latest))
    }))
}

/// Whether the open campaign `incident` keeps its lines itself.
fn keeps_lines(c: &Connection, incident: &str) -> rusqlite::Result<bool> {
    Ok(c.prepare_cached(
        "SELECT first_lines IS NOT NULL FROM watch_incidents WHERE incident_id = ?1",
    )?
    .query_row([incident], |r| r.get::<_, bool>(0))
    .optional()?
    .unwrap_or(false))
}

#[cfg(test)]
#[path = "campaigns_lines_tests.rs"]
mod tests;
