//! Incidents, their checklists and roles, and the roster: reads, and writes
//! that each append the timeline event describing them.

use chrono::{DateTime, Datelike, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde_json::json;

use super::timeline::{NewEvent, append};
use super::{Result, Store, StoreError, WriteError};
use crate::domain::event::{Event, format_time, kinds};
use crate::domain::incident::validate_title;
use crate::domain::playbook::{ChecklistItem, ItemState, Playbook};
use crate::domain::roles::{Assignment, Person, Role, validate_handle};
use crate::domain::{Cia, Incident, IncidentId, Phase, Severity, Source, Status};

/// What a person declares when opening an incident.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub title: String,
    pub severity: Severity,
    pub summary: String,
    pub source: Source,
    pub affected: String,
    pub cia: Cia,
    pub customer_impact: String,
    pub personal_data_breach: bool,
    pub drill: bool,
    /// When it was detected, if earlier than now (a detection's first line).
    pub detected_at: Option<DateTime<Utc>>,
}

impl NewIncident {
    pub fn new(title: impl Into<String>, severity: Severity) -> NewIncident {
        NewIncident {
            title: title.into(),
            severity,
            summary: String::new(),
            source: Source::Manual,
            affected: String::new(),
            cia: Cia::default(),
            customer_impact: String::new(),
            personal_data_breach: false,
            drill: false,
            detected_at: None,
        }
    }
}

/// A change to an incident's fields; `None` leaves a field alone. Applied to
/// the row as it is at commit time, so concurrent edits of different fields
/// never undo each other.
#[derive(Debug, Clone, Default)]
pub struct IncidentPatch {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub severity: Option<Severity>,
    pub status: Option<Status>,
    pub phase: Option<Phase>,
    pub source: Option<Source>,
    pub affected: Option<String>,
    pub cia: Option<Cia>,
    pub customer_impact: Option<String>,
    pub personal_data_breach: Option<bool>,
    /// Closing without a complete review: the commander's reason (see
    /// `review::close_gate`). Not a change by itself.
    pub close_override: Option<String>,
    /// Why: required to lower the severity after a clock was breached;
    /// recorded with the change. Not a change by itself.
    pub reason: Option<String>,
}

impl IncidentPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.summary.is_none()
            && self.severity.is_none()
            && self.status.is_none()
            && self.phase.is_none()
            && self.source.is_none()
            && self.affected.is_none()
            && self.cia.is_none()
            && self.customer_impact.is_none()
            && self.personal_data_breach.is_none()
    }
}

/// One board line: the incident and its current commander.
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub incident: Incident,
    pub commander: Option<String>,
}

/// Everything the incident view and `incident show` need.
#[derive(Debug, Clone)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub checklist: Vec<ChecklistItem>,
    /// Current holders and past ones, oldest first.
    pub assignments: Vec<Assignment>,
    /// Newest first.
    pub timeline: Vec<Event>,
}

impl IncidentDetail {
    pub fn holder(&self, role: Role) -> Option<&Assignment> {
        self.assignments
            .iter()
            .find(|a| a.role == role && a.until.is_none())
    }
}

const INCIDENT_COLUMNS: &str = "id, title, summary, severity, status, phase, source, affected,
    cia_confidentiality, cia_integrity, cia_availability, customer_impact, personal_data_breach,
    drill, detected_at, declared_at, acknowledged_at, contained_at, resolved_at, closed_at,
    customer_notified_at, regulator_notified_at, last_update_at, updated_at, clock_history";

fn conversion(i: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

fn parse_col<T: std::str::FromStr>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    // Borrow the column's text: no allocation per enum column per row.
    r.get_ref(i)?
        .as_str()
        .map_err(|e| conversion(i, e))?
        .parse()
        .map_err(|e| conversion(i, e))
}

pub(super) fn parse_time(r: &Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s = r.get_ref(i)?.as_str().map_err(|e| conversion(i, e))?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| conversion(i, e))
}

pub(super) fn parse_opt_time(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match r.get_ref(i)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => parse_time(r, i).map(Some),
    }
}

/// `text` without its surrounding white space, or `Invalid(missing)` when
/// nothing is left: for the names, reasons and purposes a change needs.
pub(super) fn non_blank<'a>(text: &'a str, missing: &str) -> Result<&'a str> {
    let text = text.trim();
    if text.is_empty() {
        return Err(StoreError::Invalid(missing.to_string()));
    }
    Ok(text)
}

impl Store {
    /// Every row `sql` selects with `params`, read by `from_row`, in the
    /// order the query gives (a read outside any write transaction).
    pub(super) fn query_all<T, C, P>(
        &self,
        sql: &str,
        params: P,
        from_row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<C>
    where
        C: FromIterator<T>,
        P: rusqlite::Params,
    {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        stmt.query_map(params, from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

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
    })
}

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

fn assignment_from_row(r: &Row<'_>) -> rusqlite::Result<Assignment> {
    Ok(Assignment {
        role: parse_col(r, 0)?,
        person: r.get(1)?,
        since: parse_time(r, 2)?,
        until: parse_opt_time(r, 3)?,
        assigned_by: r.get(4)?,
    })
}

fn opt_time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(format_time)
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
            updated_at = ?21, detected_at = ?22, clock_history = ?23
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
        ],
    )?;
    Ok(())
}

/// Applies a patch to the incident as loaded, returning what changed as
/// (field, old, new). Lifecycle timestamps follow the status.
fn apply_patch(
    i: &mut Incident,
    p: &IncidentPatch,
    now: DateTime<Utc>,
) -> Result<Vec<(&'static str, String, String)>, StoreError> {
    let mut changes = Vec::new();
    macro_rules! set {
        ($field:ident, $name:literal, $show:expr) => {
            if let Some(v) = &p.$field {
                if i.$field != *v {
                    let show = $show;
                    changes.push(($name, show(&i.$field), show(v)));
                    i.$field = v.clone();
                }
            }
        };
    }
    if let Some(t) = &p.title {
        let t = validate_title(t).map_err(StoreError::Invalid)?;
        if i.title != t {
            changes.push(("title", i.title.clone(), t.clone()));
            i.title = t;
        }
    }
    set!(summary, "summary", |s: &String| s.clone());
    set!(severity, "severity", |s: &Severity| s.to_string());
    set!(status, "status", |s: &Status| s.to_string());
    set!(phase, "phase", |s: &Phase| s.to_string());
    set!(source, "source", |s: &Source| s.to_string());
    set!(affected, "affected", |s: &String| s.clone());
    set!(cia, "cia", |s: &Cia| s.to_string());
    set!(customer_impact, "customer_impact", |s: &String| s.clone());
    set!(personal_data_breach, "personal_data_breach", |s: &bool| s
        .to_string());

    if p.status.is_some() {
        crate::domain::replay::stamp_status_times(i, now);
    }
    Ok(changes)
}

/// "severity P3 → P1; status investigating → identified". Long text fields
/// are named rather than quoted.
fn describe_changes(changes: &[(&str, String, String)]) -> String {
    changes
        .iter()
        .map(|(field, old, new)| match *field {
            "summary" | "customer_impact" | "affected" => {
                format!("{} updated", field.replace('_', " "))
            }
            "title" => format!("title \u{2192} \"{new}\""),
            _ => format!("{} {old} \u{2192} {new}", field.replace('_', " ")),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Opens an incident in the caller's transaction (the watcher opens its
/// incidents together with the detections and checkpoints that caused them).
/// `title` is already validated.
pub(super) fn create_in_tx(
    tx: &Transaction<'_>,
    new: &NewIncident,
    title: &str,
    playbook: &Playbook,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Incident, WriteError> {
    let year = now.year();
    let seq: u32 = tx.query_row(
        "INSERT INTO id_sequences (year, last) VALUES (?1, 1)
         ON CONFLICT (year) DO UPDATE SET last = last + 1
         RETURNING last",
        [year],
        |r| r.get(0),
    )?;
    let id = IncidentId::new(year, seq);
    let detected = new.detected_at.filter(|d| *d <= now).unwrap_or(now);
    let incident = Incident {
        id: id.clone(),
        title: title.to_string(),
        summary: new.summary.trim().to_string(),
        severity: new.severity,
        status: Status::Investigating,
        phase: Phase::Detection,
        source: new.source,
        affected: new.affected.trim().to_string(),
        cia: new.cia,
        customer_impact: new.customer_impact.trim().to_string(),
        personal_data_breach: new.personal_data_breach,
        drill: new.drill,
        detected_at: detected,
        declared_at: now,
        acknowledged_at: None,
        contained_at: None,
        resolved_at: None,
        closed_at: None,
        customer_notified_at: None,
        regulator_notified_at: None,
        last_update_at: None,
        updated_at: now,
        clock_history: Default::default(),
    };
    tx.execute(
        "INSERT INTO incidents (id, year, seq, title, severity, status, phase, source,
            drill, detected_at, declared_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id.as_str(),
            year,
            seq,
            incident.title,
            incident.severity.as_str(),
            incident.status.as_str(),
            incident.phase.as_str(),
            incident.source.as_str(),
            incident.drill,
            format_time(incident.detected_at),
            format_time(incident.declared_at),
            format_time(now),
        ],
    )?;
    save_in_tx(tx, &incident)?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO checklist (incident_id, item_id, position, phase, text)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (pos, item) in playbook.items.iter().enumerate() {
            stmt.execute(params![
                id.as_str(),
                item.id,
                pos as i64,
                item.phase.as_str(),
                item.text
            ])?;
        }
    }
    append(
        tx,
        NewEvent {
            drill: incident.drill,
            at: now,
            actor,
            incident: Some(id.as_str()),
            kind: kinds::INCIDENT_CREATED,
            detail: format!(
                "{}{} declared: \"{}\" ({})",
                if incident.drill { "DRILL " } else { "" },
                incident.severity,
                incident.title,
                incident.source
            ),
            data: serde_json::to_value(&incident).unwrap_or_default(),
        },
    )?;
    Ok(incident)
}

impl Store {
    /// Opens an incident: allocates its id, seeds its checklist from the
    /// playbook and appends `incident.created`, all in one transaction.
    pub fn create_incident(
        &mut self,
        new: &NewIncident,
        playbook: &Playbook,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let title = validate_title(&new.title).map_err(StoreError::Invalid)?;
        self.write(|tx| create_in_tx(tx, new, &title, playbook, actor, now))
    }

    /// Applies `patch` on top of the incident's current state. Returns the
    /// updated incident; a patch that changes nothing writes nothing.
    pub fn update_incident(
        &mut self,
        id: &IncidentId,
        patch: &IncidentPatch,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let policy = self.policy.clone();
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            if patch.status == Some(Status::Closed) && incident.status != Status::Closed {
                super::review::close_gate(
                    tx,
                    &incident,
                    patch.close_override.as_deref(),
                    actor,
                    now,
                )?;
            }
            let reason = patch
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty());
            if let Some(to) = patch.severity {
                super::clocks::check_downgrade(&incident, to, reason, &policy, now)?;
            }
            let before = (incident.severity, incident.detected_at);
            let was_acknowledged = incident.acknowledged_at.is_some();
            let changes = apply_patch(&mut incident, patch, now)?;
            if changes.is_empty() {
                return Ok(incident);
            }
            // Moving past "investigating" takes charge: recorded below as
            // its own acknowledgement, not silently.
            let acknowledges = !was_acknowledged && incident.acknowledged_at.is_some();
            if acknowledges {
                incident.acknowledged_at = None;
            }
            if incident.severity != before.0 {
                // From now on the new severity's deadlines hold; the
                // periods before keep theirs (and their breaches).
                let mut history = std::mem::take(&mut incident.clock_history);
                history.change(before, &incident, now);
                incident.clock_history = history;
            }
            incident.updated_at = now;
            save_in_tx(tx, &incident)?;
            let data: serde_json::Map<String, serde_json::Value> = changes
                .iter()
                .map(|(f, old, new)| (f.to_string(), json!({ "from": old, "to": new })))
                .collect();
            let mut detail = describe_changes(&changes);
            if let Some(r) = reason {
                detail.push_str(&format!(" (reason: {r})"));
            }
            append(
                tx,
                NewEvent {
                    drill: incident.drill,
                    at: now,
                    actor,
                    incident: Some(id.as_str()),
                    kind: kinds::INCIDENT_UPDATED,
                    detail,
                    data: match reason {
                        Some(r) => json!({ "changes": data, "reason": r }),
                        None => json!({ "changes": data }),
                    },
                },
            )?;
            if acknowledges {
                super::clocks::acknowledge_in_tx(tx, &mut incident, "status", None, actor, now)?;
            }
            Ok(incident)
        })
    }

    /// Records that someone took charge (meets the response clock). A second
    /// acknowledgement changes nothing.
    pub fn acknowledge(
        &mut self,
        id: &IncidentId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            super::clocks::acknowledge_in_tx(tx, &mut incident, "ack", None, actor, now)?;
            Ok(incident)
        })
    }

    /// Hands `role` to `person` (a roster handle or a typed name). The
    /// previous holder's term ends now; the first commander also counts as
    /// the response to the incident.
    pub fn assign_role(
        &mut self,
        id: &IncidentId,
        role: Role,
        person: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Assignment> {
        self.assign_role_acknowledging(id, role, person, actor, now)
            .map(|(a, _)| a)
    }

    /// [`Store::assign_role`], also saying whether naming this commander
    /// acknowledged the incident (it was unacknowledged): then an
    /// `incident.acknowledged` event (via `commander`) follows the
    /// `role.assigned` one in the same transaction.
    pub fn assign_role_acknowledging(
        &mut self,
        id: &IncidentId,
        role: Role,
        person: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(Assignment, bool)> {
        let person = non_blank(person, "person must not be empty")?;
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            let previous: Option<String> = tx
                .query_row(
                    "SELECT person FROM role_assignments
                     WHERE incident_id = ?1 AND role = ?2 AND until IS NULL",
                    params![id.as_str(), role.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            if previous.as_deref() == Some(person) {
                return Err(
                    StoreError::Invalid(format!("{person} already holds {role} on {id}")).into(),
                );
            }
            let now_s = format_time(now);
            tx.execute(
                "UPDATE role_assignments SET until = ?3
                 WHERE incident_id = ?1 AND role = ?2 AND until IS NULL",
                params![id.as_str(), role.as_str(), now_s],
            )?;
            tx.execute(
                "INSERT INTO role_assignments (incident_id, role, person, since, assigned_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.as_str(), role.as_str(), person, now_s, actor],
            )?;
            incident.updated_at = now;
            save_in_tx(tx, &incident)?;
            let detail = match &previous {
                Some(p) => format!("{role} handed off: {p} \u{2192} {person}"),
                None => format!("{role} assigned: {person}"),
            };
            append(
                tx,
                NewEvent {
                    drill: incident.drill,
                    at: now,
                    actor,
                    incident: Some(id.as_str()),
                    kind: kinds::ROLE_ASSIGNED,
                    detail,
                    data: json!({ "role": role.as_str(), "from": previous, "to": person }),
                },
            )?;
            let acknowledged = role == Role::Commander
                && super::clocks::acknowledge_in_tx(
                    tx,
                    &mut incident,
                    "commander",
                    Some(person),
                    actor,
                    now,
                )?;
            let assignment = Assignment {
                role,
                person: person.to_string(),
                since: now,
                until: None,
                assigned_by: actor.to_string(),
            };
            Ok((assignment, acknowledged))
        })
    }

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

    /// Records that customers were told (meets the customer-notice clock and
    /// restarts the update cadence) when the message itself went out by
    /// other means, e.g. from a status page.
    pub fn record_customer_notice(
        &mut self,
        id: &IncidentId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            note_customer_notice(&mut incident, now);
            record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::CUSTOMER_NOTIFIED,
                "customers notified".into(),
                json!({}),
            )?;
            Ok(incident)
        })
    }

    /// Adds a free-text note to an incident's timeline.
    pub fn add_note(
        &mut self,
        id: &IncidentId,
        text: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Event> {
        self.note(id, text, false, actor, now)
    }

    /// Adds a note that records an action taken ("Blocked 203.0.113.7 at
    /// the edge"): a `note.added` event whose data is `{"action": true}`.
    /// Messages list these under ACTIONS TAKEN, with the checklist items
    /// done.
    pub fn add_action_note(
        &mut self,
        id: &IncidentId,
        text: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Event> {
        self.note(id, text, true, actor, now)
    }

    fn note(
        &mut self,
        id: &IncidentId,
        text: &str,
        action: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Event> {
        let text = non_blank(text, "note must not be empty")?;
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            Ok(record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::NOTE_ADDED,
                text.to_string(),
                if action {
                    json!({ crate::domain::comms::ACTION_FLAG: true })
                } else {
                    json!({})
                },
            )?)
        })
    }

    /// Adds or updates someone on the roster.
    pub fn upsert_person(
        &mut self,
        person: &Person,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Person> {
        let handle = validate_handle(&person.handle).map_err(StoreError::Invalid)?;
        let person = Person {
            handle,
            name: person.name.trim().to_string(),
            contact: person.contact.trim().to_string(),
        };
        if person.name.is_empty() {
            return Err(StoreError::Invalid("name must not be empty".into()));
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO people (handle, name, contact) VALUES (?1, ?2, ?3)
                 ON CONFLICT (handle) DO UPDATE SET name = excluded.name, contact = excluded.contact",
                params![person.handle, person.name, person.contact],
            )?;
            append(
                tx,
                NewEvent {
                    drill: false,
                    at: now,
                    actor,
                    incident: None,
                    kind: kinds::ROSTER_CHANGED,
                    detail: format!("roster: {} ({})", person.handle, person.name),
                    data: serde_json::to_value(&person).unwrap_or_default(),
                },
            )?;
            Ok(person.clone())
        })
    }

    pub fn people(&self) -> Result<Vec<Person>> {
        self.query_all(
            "SELECT handle, name, contact FROM people ORDER BY handle",
            [],
            |r| {
                Ok(Person {
                    handle: r.get(0)?,
                    name: r.get(1)?,
                    contact: r.get(2)?,
                })
            },
        )
    }

    pub fn incident(&self, id: &IncidentId) -> Result<Incident> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1");
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([id.as_str()], incident_from_row).optional())
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::IncidentNotFound(id.to_string()))
    }

    /// Incidents, oldest first; closed ones only when asked for.
    pub fn incidents(&self, include_closed: bool) -> Result<Vec<Incident>> {
        Ok(self
            .board(include_closed)?
            .into_iter()
            .map(|r| r.incident)
            .collect())
    }

    /// The board's rows in one query: each incident with its commander.
    pub fn board(&self, include_closed: bool) -> Result<Vec<BoardRow>> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS},
                (SELECT person FROM role_assignments r
                 WHERE r.incident_id = incidents.id AND r.role = 'commander' AND r.until IS NULL)
             FROM incidents
             WHERE ?1 OR status <> 'closed'
             ORDER BY year, seq"
        );
        self.query_all(&sql, [include_closed], |r| {
            Ok(BoardRow {
                incident: incident_from_row(r)?,
                commander: r.get(25)?,
            })
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

    /// Every holding of every role, oldest first.
    pub fn assignments(&self, id: &IncidentId) -> Result<Vec<Assignment>> {
        self.query_all(
            "SELECT role, person, since, until, assigned_by FROM role_assignments
                 WHERE incident_id = ?1 ORDER BY id",
            [id.as_str()],
            assignment_from_row,
        )
    }

    /// The incident with its checklist, roles and timeline (newest first,
    /// up to `timeline_limit` events).
    pub fn detail(&self, id: &IncidentId, timeline_limit: Option<usize>) -> Result<IncidentDetail> {
        Ok(IncidentDetail {
            incident: self.incident(id)?,
            checklist: self.checklist(id)?,
            assignments: self.assignments(id)?,
            timeline: self.timeline(id.as_str(), timeline_limit)?,
        })
    }
}
