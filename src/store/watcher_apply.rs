//! How one detection change of a batch is written (inside the batch's
//! transaction): attached to the detection it continues, or opened as a new
//! one with its incident (or joining its rule's open campaign incident), the
//! `detect.opened` event and its alert. What attached hits add to an
//! incident's timeline and evidence is accumulated and reported at most once
//! a minute (`store/campaigns.rs`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use super::campaigns;
use super::comms::{NewAlert, take_alert};
use super::evidence::{StoredContent, insert_evidence_in_tx};
use super::incidents::create_in_tx;
use super::incidents::{load_in_tx, record_change};
use super::timeline::{NewEvent, append};
use super::watch_batch::{
    CommitOutcome, Ctx, DetectionChange, LINES_NOT_KEPT, OpenedDetection, Shown, cut_title, exec,
    incident_title, kinds, one, row_lines, to_i64, window_text,
};
use super::watcher_tally::Tally;
use super::{NewEvidence, NewIncident, WriteError};
use crate::domain::IncidentId;
use crate::domain::campaign::{IncidentGrouping, campaign_title};
use crate::domain::event::format_time;
use crate::domain::incident::validate_title;

/// The stored row a change applies to: for a replay, the detection an
/// earlier replay of the same detection recorded; otherwise the open
/// detection of the rule and key (suppression), or for hits attached by
/// the engine to a detection closed meanwhile, the latest one.
fn target_row(tx: &Transaction<'_>, replay: bool, d: &DetectionChange) -> rusqlite::Result<Target> {
    if replay {
        let mark: Option<(i64, i64, i64)> = one(
            tx,
            "SELECT detection_id, count, lines FROM detection_replays
                 WHERE rule = ?1 AND key = ?2 AND first_seen = ?3",
            params![d.facts.rule, d.key, format_time(d.first_seen)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
        if let Some((id, count, lines)) = mark {
            return Ok(Target::Replayed {
                id,
                count: u64::try_from(count).unwrap_or(0),
                lines: usize::try_from(lines).unwrap_or(0),
            });
        }
    }
    // `+open`: by (rule, key), never by `open` (every open detection).
    let open: Option<i64> = one(
        tx,
        "SELECT id FROM detections WHERE rule = ?1 AND key = ?2 AND +open = 1",
        params![d.facts.rule, d.key],
        |r| r.get(0),
    )
    .optional()?;
    if let Some(id) = open {
        return Ok(Target::Open(id));
    }
    if !d.new && !replay {
        let latest: Option<i64> = one(
            tx,
            "SELECT id FROM detections WHERE rule = ?1 AND key = ?2
                 ORDER BY number DESC LIMIT 1",
            params![d.facts.rule, d.key],
            |r| r.get(0),
        )
        .optional()?;
        if let Some(id) = latest {
            return Ok(Target::Open(id));
        }
    }
    Ok(Target::None)
}

enum Target {
    /// An earlier replay recorded this detection with this count and lines.
    Replayed { id: i64, count: u64, lines: usize },
    /// Attach to this detection.
    Open(i64),
    /// Open a new detection.
    None,
}

/// Applies one detection change (an imported alert's).
pub(super) fn apply_change(
    ctx: &Ctx<'_>,
    replay: bool,
    d: &DetectionChange,
    excerpt: Option<&(StoredContent, NewEvidence)>,
    shown: Option<&Shown<'_>>,
    outcome: &mut CommitOutcome,
) -> Result<(), WriteError> {
    let mut tally = Tally::default();
    apply_one(ctx, replay, d, excerpt, shown, outcome, &mut tally)?;
    Ok(tally.write(ctx.tx)?)
}

/// Applies a batch's changes in order; what they add to each incident is
/// written once, after the last.
pub(super) fn apply_changes(
    ctx: &Ctx<'_>,
    replay: bool,
    changes: &[DetectionChange],
    outcome: &mut CommitOutcome,
) -> Result<(), WriteError> {
    let mut tally = Tally::default();
    for d in changes {
        apply_one(ctx, replay, d, None, None, outcome, &mut tally)?;
    }
    Ok(tally.write(ctx.tx)?)
}

fn apply_one(
    ctx: &Ctx<'_>,
    replay: bool,
    d: &DetectionChange,
    excerpt: Option<&(StoredContent, NewEvidence)>,
    shown: Option<&Shown<'_>>,
    outcome: &mut CommitOutcome,
    tally: &mut Tally,
) -> Result<(), WriteError> {
    let tx = ctx.tx;
    let id = match target_row(tx, replay, d)? {
        Target::Replayed { id, count, lines } => {
            if d.count <= count {
                outcome.unchanged += 1;
                close_if(tx, d, id, ctx.now)?;
                return Ok(());
            }
            let new_lines: Vec<String> = d
                .new_lines
                .iter()
                .skip(lines.saturating_sub(d.lines_before))
                .cloned()
                .collect();
            let added = d.count - count;
            // Evidence for a replay's growth holds only the lines not
            // recorded before; `excerpt` was made from all of them.
            let excerpt = if new_lines.len() == d.new_lines.len() {
                excerpt
            } else {
                None
            };
            attach(ctx, id, d, added, &new_lines, excerpt, tally)?;
            outcome.attached += added;
            exec(
                tx,
                "UPDATE detection_replays SET count = ?4, lines = ?5
                 WHERE rule = ?1 AND key = ?2 AND first_seen = ?3",
                params![
                    d.facts.rule,
                    d.key,
                    format_time(d.first_seen),
                    to_i64(d.count),
                    (d.lines_before + d.new_lines.len()) as i64
                ],
            )?;
            id
        }
        Target::Open(id) => {
            attach(ctx, id, d, d.added, &d.new_lines, excerpt, tally)?;
            outcome.attached += d.added;
            id
        }
        Target::None => {
            let opened = open_detection(ctx, d, excerpt, shown, &mut outcome.deliver, tally)?;
            let id = opened.id;
            outcome.opened.push(opened);
            id
        }
    };
    if replay {
        exec(
            tx,
            "INSERT INTO detection_replays (rule, key, first_seen, count, lines, detection_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            params![
                d.facts.rule,
                d.key,
                format_time(d.first_seen),
                to_i64(d.count),
                (d.lines_before + d.new_lines.len()) as i64,
                id
            ],
        )?;
    }
    close_if(tx, d, id, ctx.now)?;
    Ok(())
}

fn close_if(
    tx: &Transaction<'_>,
    d: &DetectionChange,
    id: i64,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    if d.closed_after {
        exec(
            tx,
            "UPDATE detections SET open = 0, closed_at = ?2, updated_at = ?2
             WHERE id = ?1 AND open = 1",
            params![id, format_time(now)],
        )?;
    }
    Ok(())
}

/// Opens a detection: its incident (when the rule creates one) with the
/// `detect.opened` event and an evidence excerpt, the row, and the alert
/// (when the rule notifies) with its `detect.notify` event.
fn open_detection(
    ctx: &Ctx<'_>,
    d: &DetectionChange,
    excerpt: Option<&(StoredContent, NewEvidence)>,
    shown: Option<&Shown<'_>>,
    deliver: &mut Vec<NewAlert>,
    tally: &mut Tally,
) -> Result<OpenedDetection, WriteError> {
    let tx = ctx.tx;
    let f = &d.facts;
    let number: i64 = one(
        tx,
        "SELECT coalesce(max(number), 0) + 1 FROM detections WHERE rule = ?1 AND key = ?2",
        params![f.rule, d.key],
        |r| r.get(0),
    )?;
    // A campaign rule's new key joins the open incident of its rule (and
    // host): no incident, event or alert of its own; the join is reported
    // with the campaign's next update.
    let campaign = f.create_incident && shown.is_none() && f.incident.is_campaign();
    let scope = match f.incident {
        IncidentGrouping::PerHost => d.host.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let joined = if campaign {
        campaigns::open_campaign(tx, &f.rule, f.incident, &scope)?
    } else {
        None
    };
    let incident: Option<IncidentId> = if let Some(id) = &joined {
        Some(id.clone())
    } else if f.create_incident {
        let (title, summary) = match shown {
            Some(s) => (cut_title(s.title), s.summary.to_string()),
            None => {
                let mut summary = f.description.clone();
                if !f.why.is_empty() {
                    summary.push_str(&format!("\n\nWhy this threshold: {}", f.why));
                }
                summary.push_str(&format!("\n\nRule condition: {}", f.condition));
                let title = if campaign {
                    let host = (f.incident == IncidentGrouping::PerHost).then_some(scope.as_str());
                    cut_title(&campaign_title(&f.rule, &f.group_by, host, 1))
                } else {
                    incident_title(f, &d.key)
                };
                (title, summary)
            }
        };
        let title = validate_title(&title).unwrap_or_else(|_| "Detection".into());
        let new = NewIncident {
            summary,
            source: ctx.source,
            detected_at: Some(d.first_seen),
            ..NewIncident::new(title.clone(), f.severity)
        };
        let created = create_in_tx(tx, &new, &title, ctx.playbook, ctx.actor, ctx.now)?;
        let grouping = if shown.is_some() {
            IncidentGrouping::PerKey
        } else {
            f.incident
        };
        let scope = if grouping.is_campaign() {
            scope.as_str()
        } else {
            d.key.as_str()
        };
        // An excerpt made before the transaction (an imported alert's) is
        // its evidence now; the watcher's is written by the first report.
        let reported = excerpt.is_some().then_some(ctx.now);
        campaigns::register(
            tx,
            &created.id,
            &campaigns::Grouped {
                rule: &f.rule,
                grouping,
                scope,
                group_by: &f.group_by,
            },
            &d.sources,
            reported,
        )?;
        Some(created.id)
    } else {
        None
    };
    // Without an incident, a campaign rule's alert is raised once while
    // one of its alerted detections is open.
    let quiet_join = joined.is_some()
        || (!f.create_incident
            && f.incident.is_campaign()
            && f.alert
            && campaigns::open_alert(tx, &f.rule)?);
    let keeps_lines = match &joined {
        Some(inc) => campaigns::joined_keeps_lines(tx, inc, f.evidence_lines)?,
        // An alert-only campaign's later keys: its alert names the first.
        None => !quiet_join,
    };
    let alert_key =
        (f.alert && !quiet_join).then(|| format!("detect:{}:{}:{number}", f.rule, d.key));
    let (lines, latest) = row_lines(d, keeps_lines, incident.is_some(), ("", "[]"), &d.new_lines);
    let id: i64 = one(
        tx,
        "INSERT INTO detections (rule, key, number, severity, group_by, window_seconds, count,
            first_seen, last_seen, lines, incident_id, alert_key, origin, created_at, updated_at,
            latest)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15)
         RETURNING id",
        params![
            f.rule,
            d.key,
            number,
            f.severity.as_str(),
            f.group_by,
            f.window_seconds,
            to_i64(d.count),
            format_time(d.first_seen),
            format_time(d.last_seen),
            lines,
            incident.as_ref().map(|i| i.as_str()),
            alert_key,
            ctx.origin,
            format_time(ctx.now),
            latest,
        ],
        |r| r.get(0),
    )?;
    if let Some(inc) = &joined {
        tally.add(
            inc.as_str(),
            d.count,
            d.first_seen,
            d.last_seen,
            Some(&d.key),
            &d.sources,
        );
    }
    let describe = if f.group_by == "global" {
        format!("rule \"{}\" fired", f.rule)
    } else {
        format!("rule \"{}\" fired for {}={}", f.rule, f.group_by, d.key)
    };
    // A rule that neither opens an incident nor notifies only records the
    // detection; the timeline records what people are asked to act on.
    if !quiet_join && (incident.is_some() || alert_key.is_some()) {
        append(
            tx,
            NewEvent {
                drill: false,
                at: ctx.now,
                actor: ctx.actor,
                incident: incident.as_ref().map(|i| i.as_str()),
                kind: kinds::OPENED,
                detail: format!(
                    "{describe}: {} event(s), {} ({})",
                    d.count,
                    window_text(d.first_seen, d.last_seen),
                    f.condition
                ),
                data: json!({
                    "detection": id,
                    "rule": f.rule,
                    "key": d.key,
                    "group_by": f.group_by,
                    "number": number,
                    "severity": f.severity.as_str(),
                    "condition": f.condition,
                    "count": d.count,
                    "first_seen": format_time(d.first_seen),
                    "last_seen": format_time(d.last_seen),
                    "window_seconds": f.window_seconds,
                    "evidence_lines": f.evidence_lines,
                    "lines": d.new_lines,
                    "sources": d.sources,
                }),
            },
        )?;
    }
    if let (Some(i), Some((stored, new))) = (&incident, excerpt) {
        insert_evidence_in_tx(tx, i, stored, new, ctx.actor, ctx.now)?;
    }
    let mut alert = None;
    if let Some(key) = &alert_key {
        let recipients = f.notify.join(", ");
        let new_alert = NewAlert {
            key: key.clone(),
            incident_id: incident.as_ref().map(|i| i.as_str().to_string()),
            kind: crate::domain::comms::DETECTION.into(),
            text: format!(
                "{} {describe}: {} event(s), {}",
                f.severity,
                d.count,
                window_text(d.first_seen, d.last_seen)
            ),
            recipient: (!f.notify.is_empty()).then(|| recipients.clone()),
            raised_by: ctx.actor.to_string(),
            raised_at: ctx.now,
        };
        // Delivered to the rule's recipients through the alert sinks: the
        // pending deliveries commit with the key, so exactly this commit's
        // caller delivers them. Nobody to deliver to: raised only.
        let sinks = (!f.notify.is_empty()).then_some(ctx.notify_sinks);
        let (raised, via) = take_alert(tx, &new_alert, sinks)?;
        append(
            tx,
            NewEvent {
                drill: false,
                at: ctx.now,
                actor: ctx.actor,
                incident: incident.as_ref().map(|i| i.as_str()),
                kind: kinds::NOTIFY,
                detail: if !raised {
                    format!("notify requested for {describe}: {recipients}; alert already raised")
                } else if f.notify.is_empty() {
                    format!("alert raised for {describe}; no recipients to deliver to")
                } else if via.is_empty() {
                    format!(
                        "notify requested for {describe}: {recipients}; no sink to deliver through: shown only"
                    )
                } else {
                    format!(
                        "notify requested for {describe}: {recipients}; delivering via {}",
                        via.join(", ")
                    )
                },
                data: json!({
                    "detection": id,
                    "alert": key,
                    "recipients": f.notify,
                    "raised": raised,
                    "sinks": via,
                }),
            },
        )?;
        if raised && !via.is_empty() {
            deliver.push(new_alert);
        }
        alert = Some((key.clone(), raised));
    }
    Ok(OpenedDetection {
        id,
        rule: f.rule.clone(),
        key: d.key.clone(),
        number,
        severity: f.severity,
        count: d.count,
        first_seen: d.first_seen,
        last_seen: d.last_seen,
        incident,
        alert,
        joined: joined.is_some(),
    })
}

/// Attaches `added` hits (and their new lines) to detection `id`: its
/// count, times, first and latest lines; on its incident they are added up
/// for the next report (`store/campaigns.rs`). An excerpt made before the
/// transaction (an imported alert's) is recorded at once, with its event.
fn attach(
    ctx: &Ctx<'_>,
    id: i64,
    d: &DetectionChange,
    added: u64,
    new_lines: &[String],
    excerpt: Option<&(StoredContent, NewEvidence)>,
    tally: &mut Tally,
) -> Result<(), WriteError> {
    let tx = ctx.tx;
    type Row = (i64, String, String, String, String, Option<String>);
    let (count, first, last, lines, latest, incident): Row = one(
        tx,
        "SELECT count, first_seen, last_seen, lines, latest, incident_id FROM detections
         WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )?;
    let (lines, latest) = row_lines(
        d,
        lines != LINES_NOT_KEPT,
        incident.is_some(),
        (&lines, &latest),
        new_lines,
    );
    let count = u64::try_from(count).unwrap_or(0).saturating_add(added);
    let first = first.min(format_time(d.first_seen));
    let last = last.max(format_time(d.last_seen));
    exec(
        tx,
        "UPDATE detections SET count = ?2, first_seen = ?3, last_seen = ?4, lines = ?5,
            updated_at = ?6, latest = ?7 WHERE id = ?1",
        params![
            id,
            to_i64(count),
            first,
            last,
            lines,
            format_time(ctx.now),
            latest
        ],
    )?;
    let Some(incident_id) = incident else {
        return Ok(());
    };
    if added == 0 && new_lines.is_empty() {
        return Ok(());
    }
    let Some((stored, new)) = excerpt.filter(|_| !new_lines.is_empty()) else {
        tally.add(
            &incident_id,
            added,
            d.first_seen,
            d.last_seen,
            None,
            &d.sources,
        );
        return Ok(());
    };
    let mut inc = load_in_tx(tx, &incident_id)?;
    let describe = if d.facts.group_by == "global" {
        format!("rule \"{}\"", d.facts.rule)
    } else {
        format!(
            "rule \"{}\" for {}={}",
            d.facts.rule, d.facts.group_by, d.key
        )
    };
    record_change(
        tx,
        &mut inc,
        ctx.actor,
        ctx.now,
        kinds::UPDATED,
        format!("{describe}: {added} more event(s), {count} in all, last at {last}"),
        json!({
            "detection": id,
            "rule": d.facts.rule,
            "key": d.key,
            "added": added,
            "count": count,
            "first_seen": first,
            "last_seen": last,
            "lines": new_lines,
            "sources": d.sources,
        }),
    )?;
    let iid: IncidentId = inc.id.clone();
    insert_evidence_in_tx(tx, &iid, stored, new, ctx.actor, ctx.now)?;
    Ok(())
}

/// Closes detections whose incident is resolved or closed.
pub(super) fn close_resolved(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<(String, String)>> {
    campaigns::close_resolved(tx)?;
    let now = format_time(now);
    let mut stmt = tx.prepare_cached(
        "UPDATE detections SET open = 0, closed_at = ?1, updated_at = ?1
         WHERE open = 1 AND incident_id IN
            (SELECT id FROM incidents WHERE status IN ('resolved', 'closed'))
         RETURNING rule, key",
    )?;
    let rows = stmt
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
