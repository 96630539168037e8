//! Who holds which role on an incident, and the roster of people to
//! choose from: handing a role over (the first commander also acknowledges
//! the incident), role history, and roster entries.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde_json::json;

use super::changes::{load_in_tx, save_in_tx};
use super::migration::Migration;
use super::rows::{conversion, non_blank, parse_col, parse_opt_time, parse_time};
use super::timeline::{NewEvent, append};
use super::{Result, Store, StoreError, WriteError};
use crate::domain::IncidentId;
use crate::domain::event::{format_time, kinds};
use crate::domain::roles::{Assignment, Person, Role, parse_roles, roles_text, validate_handle};
use crate::domain::version::{Target, Version};

fn assignment_from_row(r: &Row<'_>) -> rusqlite::Result<Assignment> {
    Ok(Assignment {
        role: parse_col(r, 0)?,
        person: r.get(1)?,
        since: parse_time(r, 2)?,
        until: parse_opt_time(r, 3)?,
        assigned_by: r.get(4)?,
    })
}

/// The role's current term, if someone holds it.
fn current_term(
    tx: &rusqlite::Transaction<'_>,
    id: &IncidentId,
    role: Role,
) -> rusqlite::Result<Option<Assignment>> {
    tx.query_row(
        "SELECT role, person, since, until, assigned_by FROM role_assignments
         WHERE incident_id = ?1 AND role = ?2 AND until IS NULL",
        params![id.as_str(), role.as_str()],
        assignment_from_row,
    )
    .optional()
}

/// 17: the roles each person may hold and who is on call.
pub(super) const MIGRATION: Migration = Migration {
    version: 17,
    sql: r#"
ALTER TABLE people ADD COLUMN roles TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN on_call INTEGER NOT NULL DEFAULT 0 CHECK (on_call IN (0, 1));
"#,
};

impl Store {
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
        self.assign_role_based(id, role, person, None, actor, now)
    }

    /// [`Store::assign_role_acknowledging`] from a view read at `base`: a
    /// handover over a holder that changed after `base` is refused with a
    /// conflict naming the new holder. If that change already gave the role
    /// to `person`, both wanted the same: the current term is returned and
    /// nothing is written.
    pub fn assign_role_based(
        &mut self,
        id: &IncidentId,
        role: Role,
        person: &str,
        base: Option<Version>,
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
                if base.is_some()
                    && let Some(current) = current_term(tx, id, role)?
                {
                    return Ok((current, false));
                }
                return Err(
                    StoreError::Invalid(format!("{person} already holds {role} on {id}")).into(),
                );
            }
            super::versions::check(
                tx,
                id.as_str(),
                base,
                Target::Role(role.as_str()),
                Some(person),
            )?;
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

    /// Every holding of every role, oldest first.
    pub fn assignments(&self, id: &IncidentId) -> Result<Vec<Assignment>> {
        self.query_all(
            "SELECT role, person, since, until, assigned_by FROM role_assignments
                 WHERE incident_id = ?1 ORDER BY id",
            [id.as_str()],
            assignment_from_row,
        )
    }

    /// Adds or updates someone on the roster, whatever is stored (the
    /// CLI's `roster add`). The console uses [`Store::upsert_person_based`].
    pub fn upsert_person(
        &mut self,
        person: &Person,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Person> {
        let person = normalized(person)?;
        self.write(|tx| write_person(tx, &person, actor, now))
    }

    /// [`Store::upsert_person`] from a view of the roster: `based_on` is
    /// the entry as the view showed it (`None`: it was not there, this is
    /// an addition). If the stored entry is no longer that, someone else
    /// changed (or added) it meanwhile and the edit is refused with a
    /// conflict naming their change; nothing is written. An edit that
    /// wants exactly what is stored writes nothing and succeeds.
    pub fn upsert_person_based(
        &mut self,
        person: &Person,
        based_on: Option<&Person>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Person> {
        let person = normalized(person)?;
        if let Some(b) = based_on
            && b.handle.trim() != person.handle
        {
            return Err(StoreError::Invalid(format!(
                "the edit of {} cannot change the handle to {}",
                b.handle.trim(),
                person.handle
            )));
        }
        self.write(|tx| {
            let stored = stored_person(tx, &person.handle)?;
            if stored.as_ref() == Some(&person) {
                return Ok(person.clone());
            }
            let expected = based_on.map(normalized).transpose()?;
            if stored != expected {
                return Err(super::roster_conflict::refuse(
                    tx,
                    &person,
                    expected.as_ref(),
                    stored.as_ref(),
                ));
            }
            write_person(tx, &person, actor, now)
        })
    }

    pub fn people(&self) -> Result<Vec<Person>> {
        self.query_all(
            "SELECT handle, name, contact, roles, on_call FROM people ORDER BY handle",
            [],
            person_from_row,
        )
    }
}

/// A person as the roster keeps them: handle checked, text trimmed, roles
/// sorted once each; a blank name is refused.
fn normalized(person: &Person) -> Result<Person> {
    let handle = validate_handle(&person.handle).map_err(StoreError::Invalid)?;
    let mut roles = person.roles.clone();
    roles.sort();
    roles.dedup();
    let person = Person {
        handle,
        name: person.name.trim().to_string(),
        contact: person.contact.trim().to_string(),
        roles,
        on_call: person.on_call,
    };
    if person.name.is_empty() {
        return Err(StoreError::Invalid("name must not be empty".into()));
    }
    Ok(person)
}

fn person_from_row(r: &Row<'_>) -> rusqlite::Result<Person> {
    let roles: String = r.get(3)?;
    Ok(Person {
        handle: r.get(0)?,
        name: r.get(1)?,
        contact: r.get(2)?,
        roles: parse_roles(&roles).map_err(|e| conversion(3, e))?,
        on_call: r.get(4)?,
    })
}

/// The entry stored under `handle`, read inside the write transaction.
fn stored_person(tx: &Transaction<'_>, handle: &str) -> rusqlite::Result<Option<Person>> {
    tx.query_row(
        "SELECT handle, name, contact, roles, on_call FROM people WHERE handle = ?1",
        [handle],
        person_from_row,
    )
    .optional()
}

/// Saves the (normalized) entry and records the change in the timeline.
fn write_person(
    tx: &Transaction<'_>,
    person: &Person,
    actor: &str,
    now: DateTime<Utc>,
) -> std::result::Result<Person, WriteError> {
    tx.execute(
        "INSERT INTO people (handle, name, contact, roles, on_call)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (handle) DO UPDATE SET name = excluded.name,
            contact = excluded.contact, roles = excluded.roles,
            on_call = excluded.on_call",
        params![
            person.handle,
            person.name,
            person.contact,
            roles_text(&person.roles),
            person.on_call
        ],
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
            data: serde_json::to_value(person).unwrap_or_default(),
        },
    )?;
    Ok(person.clone())
}
