//! An incident's checklist: its items as seeded from the playbook, and
//! each item's state changes with the timeline event describing them.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde_json::json;

use super::changes::{load_in_tx, save_in_tx};
use super::rows::{parse_col, parse_opt_time};
use super::timeline::{NewEvent, append};
use super::{Result, Store, StoreError};
use crate::domain::IncidentId;
use crate::domain::event::{format_time, kinds};
use crate::domain::playbook::{ChecklistItem, ItemState};
use crate::domain::version::{Target, Version};

fn checklist_from_row(r: &Row<'_>) -> rusqlite::Result<ChecklistItem> {
    let state: String = r.get(3)?;
    Ok(ChecklistItem {
        id: r.get(0)?,
        phase: parse_col(r, 1)?,
        text: r.get(2)?,
        state: ItemState::parse(&state).unwrap_or(ItemState::Open),
        reason: r.get(4)?,
        by: r.get(5)?,
        at: parse_opt_time(r, 6)?,
    })
}

impl Store {
    /// Sets a checklist item's state. Not applicable needs a reason.
    pub fn set_checklist_item(
        &mut self,
        id: &IncidentId,
        item: &str,
        state: ItemState,
        reason: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ChecklistItem> {
        self.set_checklist_item_based(id, item, state, reason, None, actor, now)
    }

    /// [`Store::set_checklist_item`] from a view read at `base`: refused
    /// with a conflict if this item (its state or its reason) was changed
    /// after it; other items changed meanwhile are no conflict.
    #[allow(clippy::too_many_arguments)]
    pub fn set_checklist_item_based(
        &mut self,
        id: &IncidentId,
        item: &str,
        state: ItemState,
        reason: Option<&str>,
        base: Option<Version>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ChecklistItem> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if state == ItemState::NotApplicable && reason.is_none() {
            return Err(StoreError::Invalid(
                "marking an item not applicable needs a reason".into(),
            ));
        }
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let current = tx
                .query_row(
                    "SELECT item_id, phase, text, state, reason, changed_by, changed_at
                     FROM checklist WHERE incident_id = ?1 AND item_id = ?2",
                    params![id.as_str(), item],
                    checklist_from_row,
                )
                .optional()?;
            let Some(mut current) = current else {
                let known: Vec<String> = tx
                    .prepare(
                        "SELECT item_id FROM checklist WHERE incident_id = ?1 ORDER BY position",
                    )?
                    .query_map([id.as_str()], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                return Err(StoreError::Invalid(format!(
                    "{id} has no checklist item '{item}' (items: {})",
                    known.join(", ")
                ))
                .into());
            };
            let reason = if state == ItemState::NotApplicable {
                reason
            } else {
                None
            };
            if current.state == state && current.reason.as_deref() == reason {
                return Ok(current);
            }
            super::versions::check(
                tx,
                id.as_str(),
                base,
                Target::ChecklistItem(item),
                Some(state.as_str()),
            )?;
            let from = current.state;
            current.state = state;
            current.reason = reason.map(str::to_string);
            current.by = Some(actor.to_string());
            current.at = Some(now);
            tx.execute(
                "UPDATE checklist SET state = ?3, reason = ?4, changed_by = ?5, changed_at = ?6
                 WHERE incident_id = ?1 AND item_id = ?2",
                params![
                    id.as_str(),
                    item,
                    state.as_str(),
                    current.reason,
                    actor,
                    format_time(now)
                ],
            )?;
            incident.updated_at = now;
            save_in_tx(tx, &incident)?;
            let detail = match state {
                ItemState::Done => format!("done: {}", current.text),
                ItemState::Open => format!("reopened: {}", current.text),
                ItemState::NotApplicable => format!(
                    "not applicable: {} ({})",
                    current.text,
                    current.reason.as_deref().unwrap_or("")
                ),
            };
            append(
                tx,
                NewEvent {
                    drill: incident.drill,
                    at: now,
                    actor,
                    incident: Some(id.as_str()),
                    kind: kinds::CHECKLIST_CHANGED,
                    detail,
                    data: json!({
                        "item": item,
                        "from": from.as_str(),
                        "to": state.as_str(),
                        "reason": current.reason,
                    }),
                },
            )?;
            Ok(current)
        })
    }

    pub fn checklist(&self, id: &IncidentId) -> Result<Vec<ChecklistItem>> {
        self.query_all(
            "SELECT item_id, phase, text, state, reason, changed_by, changed_at
                 FROM checklist WHERE incident_id = ?1 ORDER BY position",
            [id.as_str()],
            checklist_from_row,
        )
    }
}

/// An incident's checklist read inside a transaction (the closing gate
/// judges the items as they are at commit time).
pub(super) fn checklist_in(
    conn: &rusqlite::Connection,
    id: &str,
) -> rusqlite::Result<Vec<ChecklistItem>> {
    conn.prepare_cached(
        "SELECT item_id, phase, text, state, reason, changed_by, changed_at
             FROM checklist WHERE incident_id = ?1 ORDER BY position",
    )?
    .query_map([id], checklist_from_row)?
    .collect()
}
