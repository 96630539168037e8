//! Incidents: opening one, changing its fields (with the closing gate and
//! the reasoned downgrade), acknowledging, customer notices, notes, and
//! reading incidents back for the board and the incident view. Roles and
//! the roster are in `roster.rs`, the checklist in `checklist.rs`.

use chrono::{DateTime, Datelike, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

// The watcher's and intake's commits reach the write path through here too.
pub(super) use super::changes::{load_in_tx, record_change};
pub(super) use super::rows::{parse_opt_time, parse_time};

use super::changes::{
    INCIDENT_COLUMN_COUNT, INCIDENT_COLUMNS, incident_from_row, note_customer_notice, save_in_tx,
};
use super::rows::non_blank;
use super::timeline::{NewEvent, append};
use super::{Result, Store, StoreError, WriteError};
use crate::domain::event::{Event, format_time, kinds};
use crate::domain::incident::validate_title;
use crate::domain::playbook::{ChecklistItem, Playbook};
use crate::domain::roles::{Assignment, Role};
use crate::domain::version::{Target, Version};
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
    /// What customers are told happened (see `Incident::customer_summary`).
    pub customer_summary: Option<String>,
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
            && self.customer_summary.is_none()
    }
}

/// The marks of a note (see `Store::note`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoteFlags {
    /// An action taken (ACTIONS TAKEN of internal messages).
    pub action: bool,
    /// Written for customers (ACTIONS TAKEN of customer messages).
    pub customer: bool,
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
    /// The version all of the above was read at: an edit made from this
    /// view passes it as its base.
    pub version: Version,
}

impl IncidentDetail {
    pub fn holder(&self, role: Role) -> Option<&Assignment> {
        self.assignments
            .iter()
            .find(|a| a.role == role && a.until.is_none())
    }
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
    if let Some(c) = &p.customer_summary {
        let c = c.trim();
        if i.customer_summary != c {
            changes.push(("customer_summary", i.customer_summary.clone(), c.into()));
            i.customer_summary = c.into();
        }
    }

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
            "summary" | "customer_impact" | "customer_summary" | "affected" => {
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
        customer_summary: String::new(),
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
        self.update_incident_based(id, patch, None, actor, now)
    }

    /// [`Store::update_incident`] made from a view read at `base`: a field
    /// this patch changes that was changed after `base` is a
    /// [`StoreError::Conflict`] and nothing is written. Other fields changed
    /// meanwhile are not a conflict; setting the value already there is no
    /// change at all.
    pub fn update_incident_based(
        &mut self,
        id: &IncidentId,
        patch: &IncidentPatch,
        base: Option<Version>,
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
            for (field, _, to) in &changes {
                super::versions::check(tx, id.as_str(), base, Target::Field(field), Some(to))?;
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
        self.note(id, text, NoteFlags::default(), actor, now)
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
        let flags = NoteFlags {
            action: true,
            customer: false,
        };
        self.note(id, text, flags, actor, now)
    }

    /// Adds a note with its marks: an action taken, and written for
    /// customers (`{"customer": true}`: the customer template's ACTIONS
    /// TAKEN lists these and nothing internal).
    pub fn note(
        &mut self,
        id: &IncidentId,
        text: &str,
        flags: NoteFlags,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Event> {
        let text = non_blank(text, "note must not be empty")?;
        let mut data = serde_json::Map::new();
        if flags.action {
            data.insert(crate::domain::comms::ACTION_FLAG.into(), true.into());
        }
        if flags.customer {
            data.insert(crate::domain::comms::CUSTOMER_FLAG.into(), true.into());
        }
        self.write(|tx| {
            let mut incident = load_in_tx(tx, id.as_str())?;
            Ok(record_change(
                tx,
                &mut incident,
                actor,
                now,
                kinds::NOTE_ADDED,
                text.to_string(),
                serde_json::Value::Object(data.clone()),
            )?)
        })
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
                commander: r.get(INCIDENT_COLUMN_COUNT)?,
            })
        })
    }

    /// The incident with its checklist, roles and timeline (newest first,
    /// up to `timeline_limit` events).
    /// All read in one snapshot, so `version` is the version of exactly
    /// what was read (a change landing between two reads would otherwise
    /// be shown as seen and then lost).
    pub fn detail(&self, id: &IncidentId, timeline_limit: Option<usize>) -> Result<IncidentDetail> {
        let snapshot = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let detail = IncidentDetail {
            version: self.version(id)?,
            incident: self.incident(id)?,
            checklist: self.checklist(id)?,
            assignments: self.assignments(id)?,
            timeline: self.timeline(id.as_str(), timeline_limit)?,
        };
        // Read only: ending it changes nothing.
        drop(snapshot);
        Ok(detail)
    }
}
