//! Post-incident reviews and corrective actions, and the closing gate that
//! `update_incident` consults before an incident may be closed.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde_json::json;

use super::changes::{load_in_tx, record_change};
use super::rows::{parse_opt_time, parse_time};
use super::timeline::{NewEvent, append};
use super::{Result, Store, StoreError, WriteError};
use crate::domain::event::format_time;
use crate::domain::review::{
    ActionStatus, CloseBlockers, CorrectiveAction, Review, kinds, validate_whys,
};
use crate::domain::version::{Target, Version, review_label};
use crate::domain::{Incident, IncidentId, Role};

/// A change to a review; `None` leaves a field alone. `no_action_reason`:
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ReviewPatch {
    pub statement: Option<String>,
    /// Replaces the whys (up to five).
    pub whys: Option<Vec<String>>,
    pub root_cause: Option<String>,
    pub lessons: Option<String>,
    pub went_well: Option<String>,
    pub went_badly: Option<String>,
    pub no_action_reason: Option<Option<String>>,
}

impl ReviewPatch {
    pub fn is_empty(&self) -> bool {
        self.statement.is_none()
            && self.whys.is_none()
            && self.root_cause.is_none()
            && self.lessons.is_none()
            && self.went_well.is_none()
            && self.went_badly.is_none()
            && self.no_action_reason.is_none()
    }
}

/// A corrective action to add.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub description: String,
    pub owner: String,
    pub due: Option<NaiveDate>,
}

const ACTION_COLUMNS: &str = "id, incident_id, description, owner, due, status, reason,
    created_by, created_at, updated_at";

fn action_from_row(r: &Row<'_>) -> rusqlite::Result<CorrectiveAction> {
    let due: Option<String> = r.get(4)?;
    let status: String = r.get(5)?;
    Ok(CorrectiveAction {
        id: r.get(0)?,
        incident: r.get(1)?,
        description: r.get(2)?,
        owner: r.get(3)?,
        due: due.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        status: status.parse().unwrap_or(ActionStatus::Open),
        reason: r.get(6)?,
        created_by: r.get(7)?,
        created_at: parse_time(r, 8)?,
        updated_at: parse_time(r, 9)?,
    })
}

/// Reads a review (and its actions) inside a transaction or on the
/// connection: both deref to a `Connection`.
fn load_review(conn: &rusqlite::Connection, id: &str) -> rusqlite::Result<Review> {
    let row = conn
        .prepare_cached(
            "SELECT statement, whys, root_cause, lessons, went_well, went_badly,
                    no_action_reason, updated_by, updated_at
             FROM reviews WHERE incident_id = ?1",
        )?
        .query_row([id], |r| {
            let whys: String = r.get(1)?;
            Ok(Review {
                statement: r.get(0)?,
                whys: serde_json::from_str(&whys).unwrap_or_default(),
                root_cause: r.get(2)?,
                lessons: r.get(3)?,
                went_well: r.get(4)?,
                went_badly: r.get(5)?,
                no_action_reason: r.get(6)?,
                actions: Vec::new(),
                updated_by: r.get(7)?,
                updated_at: parse_opt_time(r, 8)?,
            })
        })
        .optional()?;
    let mut review = row.unwrap_or_default();
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM corrective_actions WHERE incident_id = ?1 ORDER BY id"
    );
    review.actions = conn
        .prepare_cached(&sql)?
        .query_map([id], action_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(review)
}

fn save_review(
    tx: &Transaction<'_>,
    id: &str,
    r: &Review,
    actor: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let whys = serde_json::to_string(&r.whys).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO reviews (incident_id, statement, whys, root_cause, lessons, went_well,
            went_badly, no_action_reason, updated_by, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (incident_id) DO UPDATE SET statement = excluded.statement,
            whys = excluded.whys, root_cause = excluded.root_cause, lessons = excluded.lessons,
            went_well = excluded.went_well, went_badly = excluded.went_badly,
            no_action_reason = excluded.no_action_reason, updated_by = excluded.updated_by,
            updated_at = excluded.updated_at",
        params![
            id,
            r.statement,
            whys,
            r.root_cause,
            r.lessons,
            r.went_well,
            r.went_badly,
            r.no_action_reason,
            actor,
            format_time(now)
        ],
    )?;
    Ok(())
}

/// The closing gate, inside `update_incident`'s transaction: closing needs
/// a complete review and every checklist item done or not applicable (with
/// its reason), unless the current commander overrides with a reason,
/// which is appended to the timeline.
pub(super) fn close_gate(
    tx: &Transaction<'_>,
    incident: &Incident,
    override_reason: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    let id = incident.id.as_str();
    let review = load_review(tx, id)?;
    let checklist = super::checklist::checklist_in(tx, id)?;
    let blockers = CloseBlockers::of(&review, &checklist);
    let Some(problem) = blockers.problem() else {
        return Ok(());
    };
    let gate = blockers.gate();
    let reason = override_reason.map(str::trim).filter(|r| !r.is_empty());
    let Some(reason) = reason else {
        return Err(StoreError::Invalid(format!(
            "{id} cannot be closed: {problem}; {}, or the commander may override with a reason",
            blockers.remedy()
        ))
        .into());
    };
    let commander: Option<String> = tx
        .query_row(
            "SELECT person FROM role_assignments
             WHERE incident_id = ?1 AND role = ?2 AND until IS NULL",
            params![id, Role::Commander.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    if commander.as_deref() != Some(actor) {
        return Err(StoreError::Invalid(format!(
            "{id} cannot be closed: only the commander ({}) may override the {gate}, not {actor}; {problem}",
            commander.as_deref().unwrap_or("nobody holds the role")
        ))
        .into());
    }
    let open: Vec<&str> = blockers
        .open_items
        .iter()
        .map(|(item, _)| item.as_str())
        .collect();
    append(
        tx,
        NewEvent {
            drill: incident.drill,
            at: now,
            actor,
            incident: Some(id),
            kind: kinds::GATE_OVERRIDDEN,
            detail: format!("{gate} overridden by the commander: {reason} ({problem})"),
            data: if open.is_empty() {
                json!({ "reason": reason, "problem": problem })
            } else {
                json!({ "reason": reason, "problem": problem, "open_items": open })
            },
        },
    )?;
    Ok(())
}

/// A review field's value as one text (whys one per line), for a
/// conflict's report.
fn review_text(r: &Review, field: &str) -> Option<String> {
    match field {
        "statement" => Some(r.statement.clone()),
        "whys" => Some(r.whys.join("\n")),
        "root_cause" => Some(r.root_cause.clone()),
        "lessons" => Some(r.lessons.clone()),
        "went_well" => Some(r.went_well.clone()),
        "went_badly" => Some(r.went_badly.clone()),
        _ => r.no_action_reason.clone(),
    }
}

fn trimmed(s: &str) -> String {
    s.trim().to_string()
}

impl Store {
    /// What stands between an incident and closing now (the closing gate's
    /// own judgement, for a console deciding whether to offer the
    /// override).
    pub fn close_blockers(&self, id: &IncidentId) -> Result<CloseBlockers> {
        self.incident(id)?;
        let review = load_review(&self.conn, id.as_str()).map_err(|e| self.err(e))?;
        let checklist = self.checklist(id)?;
        Ok(CloseBlockers::of(&review, &checklist))
    }

    /// An incident's review with its corrective actions (an empty review if
    /// none was started).
    pub fn review(&self, id: &IncidentId) -> Result<Review> {
        self.incident(id)?;
        load_review(&self.conn, id.as_str()).map_err(|e| self.err(e))
    }

    /// Every started review (with its actions), by incident, for the board
    /// and metrics; incidents without one are absent.
    pub fn reviews(&self) -> Result<Vec<(String, Review)>> {
        let ids: Vec<String> = self.query_all(
            "SELECT i.id FROM incidents i
                 WHERE EXISTS (SELECT 1 FROM reviews r WHERE r.incident_id = i.id)
                    OR EXISTS (SELECT 1 FROM corrective_actions a WHERE a.incident_id = i.id)
                 ORDER BY i.year, i.seq",
            [],
            |r| r.get(0),
        )?;
        ids.into_iter()
            .map(|id| {
                let r = load_review(&self.conn, &id).map_err(|e| self.err(e))?;
                Ok((id, r))
            })
            .collect()
    }

    /// Ids of resolved (not yet closed) incidents whose review is complete.
    /// Only resolved incidents can have an overdue review, so the board
    /// needs no more than this to mark the others.
    pub fn resolved_complete_reviews(&self) -> Result<std::collections::HashSet<String>> {
        let ids: Vec<String> = self.query_all(
            "SELECT i.id FROM incidents i
                 WHERE i.status = 'resolved'
                   AND (EXISTS (SELECT 1 FROM reviews r WHERE r.incident_id = i.id)
                    OR EXISTS (SELECT 1 FROM corrective_actions a WHERE a.incident_id = i.id))",
            [],
            |r| r.get(0),
        )?;
        let mut complete = std::collections::HashSet::new();
        for id in ids {
            let r = load_review(&self.conn, &id).map_err(|e| self.err(e))?;
            if r.is_complete() {
                complete.insert(id);
            }
        }
        Ok(complete)
    }

    /// Applies `patch` to the review and appends `review.updated`.
    pub fn update_review(
        &mut self,
        id: &IncidentId,
        patch: &ReviewPatch,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Review> {
        self.update_review_based(id, patch, None, actor, now)
    }

    /// [`Store::update_review`] from a view read at `base`: a text this
    /// patch changes that was changed after `base` is a conflict and
    /// nothing is written; other texts changed meanwhile are not.
    pub fn update_review_based(
        &mut self,
        id: &IncidentId,
        patch: &ReviewPatch,
        base: Option<Version>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Review> {
        let whys = patch
            .whys
            .as_deref()
            .map(validate_whys)
            .transpose()
            .map_err(StoreError::Invalid)?;
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let mut r = load_review(tx, id.as_str())?;
            let mut changed: Vec<&str> = Vec::new();
            macro_rules! text {
                ($field:ident, $name:literal) => {
                    if let Some(v) = &patch.$field {
                        let v = trimmed(v);
                        if r.$field != v {
                            r.$field = v;
                            changed.push($name);
                        }
                    }
                };
            }
            text!(statement, "statement");
            text!(root_cause, "root cause");
            text!(lessons, "lessons");
            text!(went_well, "went well");
            text!(went_badly, "went badly");
            if let Some(w) = &whys
                && r.whys != *w
            {
                r.whys = w.clone();
                changed.push("whys");
            }
            if let Some(n) = &patch.no_action_reason {
                let n = n.as_deref().map(trimmed).filter(|s| !s.is_empty());
                if r.no_action_reason != n {
                    r.no_action_reason = n;
                    changed.push("no action");
                }
            }
            if changed.is_empty() {
                return Ok(r);
            }
            for field in [
                "statement",
                "whys",
                "root_cause",
                "lessons",
                "went_well",
                "went_badly",
                "no_action_reason",
            ] {
                if changed.contains(&review_label(field)) {
                    let mine = review_text(&r, field);
                    super::versions::check(
                        tx,
                        id.as_str(),
                        base,
                        Target::Review(field),
                        mine.as_deref(),
                    )?;
                }
            }
            save_review(tx, id.as_str(), &r, actor, now)?;
            r.updated_by = Some(actor.to_string());
            r.updated_at = Some(now);
            record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::UPDATED,
                format!("review: {} updated", changed.join(", ")),
                json!({
                    "changed": changed,
                    "statement": r.statement,
                    "whys": r.whys,
                    "root_cause": r.root_cause,
                    "lessons": r.lessons,
                    "went_well": r.went_well,
                    "went_badly": r.went_badly,
                    "no_action_reason": r.no_action_reason,
                }),
            )?;
            Ok(r)
        })
    }

    /// Adds a corrective action (open).
    pub fn add_action(
        &mut self,
        id: &IncidentId,
        new: &NewAction,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CorrectiveAction> {
        let description = trimmed(&new.description);
        let owner = trimmed(&new.owner);
        if description.is_empty() || owner.is_empty() {
            return Err(StoreError::Invalid(
                "a corrective action needs a description and an owner".into(),
            ));
        }
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let due = new.due.map(|d| d.format("%Y-%m-%d").to_string());
            let action_id: i64 = tx.query_row(
                "INSERT INTO corrective_actions (incident_id, description, owner, due, status,
                    created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?6) RETURNING id",
                params![
                    id.as_str(),
                    description,
                    owner,
                    due,
                    actor,
                    format_time(now)
                ],
                |r| r.get(0),
            )?;
            record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::ACTION_ADDED,
                format!(
                    "corrective action #{action_id} ({owner}{}): {description}",
                    due.as_deref()
                        .map_or(String::new(), |d| format!(", due {d}"))
                ),
                json!({
                    "action": action_id,
                    "description": description,
                    "owner": owner,
                    "due": due,
                }),
            )?;
            Ok(CorrectiveAction {
                id: action_id,
                incident: id.as_str().to_string(),
                description: description.clone(),
                owner: owner.clone(),
                due: new.due,
                status: ActionStatus::Open,
                reason: None,
                created_by: actor.to_string(),
                created_at: now,
                updated_at: now,
            })
        })
    }

    /// Sets an action's status; dropping needs a reason.
    pub fn set_action_status(
        &mut self,
        id: &IncidentId,
        action: i64,
        status: ActionStatus,
        reason: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CorrectiveAction> {
        self.set_action_status_based(id, action, status, reason, None, actor, now)
    }

    /// [`Store::set_action_status`] from a view read at `base`: refused
    /// with a conflict if this action's status changed after it.
    #[allow(clippy::too_many_arguments)]
    pub fn set_action_status_based(
        &mut self,
        id: &IncidentId,
        action: i64,
        status: ActionStatus,
        reason: Option<&str>,
        base: Option<Version>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CorrectiveAction> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if status == ActionStatus::Dropped && reason.is_none() {
            return Err(StoreError::Invalid(
                "dropping a corrective action needs a reason".into(),
            ));
        }
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let sql = format!(
                "SELECT {ACTION_COLUMNS} FROM corrective_actions WHERE incident_id = ?1 AND id = ?2"
            );
            let current = tx
                .query_row(&sql, params![id.as_str(), action], action_from_row)
                .optional()?;
            let Some(mut current) = current else {
                return Err(StoreError::Invalid(format!(
                    "{id} has no corrective action #{action}"
                ))
                .into());
            };
            let reason = reason.map(str::to_string);
            if current.status == status && current.reason == reason {
                return Ok(current);
            }
            super::versions::check(
                tx,
                id.as_str(),
                base,
                Target::Action(action),
                Some(status.as_str()),
            )?;
            let from = current.status;
            current.status = status;
            current.reason = reason;
            current.updated_at = now;
            tx.execute(
                "UPDATE corrective_actions SET status = ?3, reason = ?4, updated_at = ?5
                 WHERE incident_id = ?1 AND id = ?2",
                params![
                    id.as_str(),
                    action,
                    status.as_str(),
                    current.reason,
                    format_time(now)
                ],
            )?;
            record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::ACTION_CHANGED,
                format!(
                    "corrective action #{action} {from} \u{2192} {status}{}",
                    current
                        .reason
                        .as_deref()
                        .map_or(String::new(), |r| format!(" ({r})"))
                ),
                json!({
                    "action": action,
                    "from": from.as_str(),
                    "to": status.as_str(),
                    "reason": current.reason,
                }),
            )?;
            Ok(current)
        })
    }
}
