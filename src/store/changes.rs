//! The change-recording write path: an incident read inside the write
//! transaction, changed, saved, and the timeline event describing the
//! change appended, all in the caller's transaction. Every room that
//! changes an incident (incidents, clocks, review, comms, evidence) ends
//! here, so the row and its record cannot part.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::rows::{conversion, opt_time, parse_col, parse_opt_time, parse_time};
use super::timeline::{NewEvent, append};
use super::{Result, StoreError, WriteError};
use crate::domain::event::{Event, format_time};
use crate::domain::{Cia, Incident};

pub(super) const INCIDENT_COLUMNS: &str =
    "id, title, summary, severity, status, phase, source, affected,
    cia_confidentiality, cia_integrity, cia_availability, customer_impact, personal_data_breach,
    drill, detected_at, declared_at, acknowledged_at, contained_at, resolved_at, closed_at,
    customer_notified_at, regulator_notified_at, last_update_at, updated_at, clock_history,
    customer_summary";

/// How many columns `INCIDENT_COLUMNS` names (a query's own columns follow).
pub(super) const INCIDENT_COLUMN_COUNT: usize = 26;

pub(super) fn incident_from_row(r: &Row<'_>) -> rusqlite::Result<Incident> {
    Ok(Incident {
        id: parse_col(r, 0)?,
        title: r.get(1)?,
        summary: r.get(2)?,
        severity: parse_col(r, 3)?,
        status: parse_col(r, 4)?,
        phase: parse_col(r, 5)?,
        source: parse_col(r, 6)?,
        affected: r.get(7)?,
        cia: Cia {
            confidentiality: parse_col(r, 8)?,
            integrity: parse_col(r, 9)?,
            availability: parse_col(r, 10)?,
        },
        customer_impact: r.get(11)?,
        personal_data_breach: r.get(12)?,
        drill: r.get(13)?,
        detected_at: parse_time(r, 14)?,
        declared_at: parse_time(r, 15)?,
        acknowledged_at: parse_opt_time(r, 16)?,
        contained_at: parse_opt_time(r, 17)?,
        resolved_at: parse_opt_time(r, 18)?,
        closed_at: parse_opt_time(r, 19)?,
        customer_notified_at: parse_opt_time(r, 20)?,
        regulator_notified_at: parse_opt_time(r, 21)?,
        last_update_at: parse_opt_time(r, 22)?,
        updated_at: parse_time(r, 23)?,
        clock_history: {
            let text = r.get_ref(24)?.as_str().map_err(|e| conversion(24, e))?;
            serde_json::from_str(text).map_err(|e| conversion(24, e))?
        },
        customer_summary: r.get(25)?,
    })
}

/// Reads an incident inside a write transaction (the state the change is
/// applied on top of).
pub(super) fn load_in_tx(tx: &Transaction<'_>, id: &str) -> Result<Incident, WriteError> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1");
    tx.query_row(&sql, [id], incident_from_row)
        .optional()?
        .ok_or_else(|| StoreError::IncidentNotFound(id.to_string()).into())
}

/// How most changes end: stamp the incident, save it, and append the event
/// describing the change to the incident's chain, all in the caller's
/// transaction.
pub(super) fn record_change(
    tx: &Transaction<'_>,
    incident: &mut Incident,
    actor: &str,
    now: DateTime<Utc>,
    kind: &str,
    detail: String,
    data: serde_json::Value,
) -> rusqlite::Result<Event> {
    incident.updated_at = now;
    save_in_tx(tx, incident)?;
    append(
        tx,
        NewEvent {
            drill: incident.drill,
            at: now,
            actor,
            incident: Some(incident.id.as_str()),
            kind,
            detail,
            data,
        },
    )
}

/// Customers were told at `now`: meets the customer-notice clock (the
/// first notice counts) and restarts the update cadence. Shared by
/// `record_customer_notice` and `send_message`.
pub(super) fn note_customer_notice(incident: &mut Incident, now: DateTime<Utc>) {
    crate::domain::replay::note_customer_notice(incident, now);
}

pub(super) fn save_in_tx(tx: &Transaction<'_>, i: &Incident) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE incidents SET title = ?2, summary = ?3, severity = ?4, status = ?5, phase = ?6,
            source = ?7, affected = ?8, cia_confidentiality = ?9, cia_integrity = ?10,
            cia_availability = ?11, customer_impact = ?12, personal_data_breach = ?13,
            acknowledged_at = ?14, contained_at = ?15, resolved_at = ?16, closed_at = ?17,
            customer_notified_at = ?18, regulator_notified_at = ?19, last_update_at = ?20,
            updated_at = ?21, detected_at = ?22, clock_history = ?23, customer_summary = ?24
         WHERE id = ?1",
        params![
            i.id.as_str(),
            i.title,
            i.summary,
            i.severity.as_str(),
            i.status.as_str(),
            i.phase.as_str(),
            i.source.as_str(),
            i.affected,
            i.cia.confidentiality.as_str(),
            i.cia.integrity.as_str(),
            i.cia.availability.as_str(),
            i.customer_impact,
            i.personal_data_breach,
            opt_time(i.acknowledged_at),
            opt_time(i.contained_at),
            opt_time(i.resolved_at),
            opt_time(i.closed_at),
            opt_time(i.customer_notified_at),
            opt_time(i.regulator_notified_at),
            opt_time(i.last_update_at),
            format_time(i.updated_at),
            format_time(i.detected_at),
            serde_json::to_string(&i.clock_history).unwrap_or_else(|_| "{}".into()),
            i.customer_summary,
        ],
    )?;
    Ok(())
}
