//! Responder alerts recorded under a unique key before they are shown, so
//! each fires once across every process; an escalation taken here gets its
//! timeline event and one pending delivery per sink in the same
//! transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::super::changes::{load_in_tx, record_change};
use super::super::rows::{parse_time, ser_time};
use super::super::{Result, Store};
use crate::domain::event::{format_time, kinds};
use crate::domain::{Assignment, Incident};

/// An alert to raise once. `key` names the occasion, not the moment, e.g.
/// `clock:INC-2026-001:response:75` or `detect:ssh-brute-force:10.0.0.5:1`,
/// so every process that notices the same occasion computes the same key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewAlert {
    pub key: String,
    pub incident_id: Option<String>,
    pub kind: String,
    pub text: String,
    /// Whom it is for (a roster name or an address); `None` for everyone.
    pub recipient: Option<String>,
    pub raised_by: String,
    #[serde(serialize_with = "ser_time")]
    pub raised_at: DateTime<Utc>,
}

/// Inserts the alert unless its key is taken; true when this call took it
/// (and so must show it). For writers that raise alerts inside their own
/// transaction (the watcher, with its detections).
pub(super) fn insert_alert(tx: &Transaction<'_>, alert: &NewAlert) -> rusqlite::Result<bool> {
    let n = tx.execute(
        "INSERT INTO alerts (key, incident_id, kind, text, recipient, raised_by, raised_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key) DO NOTHING",
        params![
            alert.key,
            alert.incident_id,
            alert.kind,
            alert.text,
            alert.recipient,
            alert.raised_by,
            format_time(alert.raised_at)
        ],
    )?;
    Ok(n == 1)
}

/// Takes an alert's key (see [`insert_alert`]) and, when this call took it
/// and `sinks` is given, creates one `pending` delivery per sink (blank and
/// repeated names skipped), stamped at the alert's `raised_at`, in the
/// caller's transaction: so exactly the process that took the key
/// delivers it, and a crash before that leaves it pending for a retry.
/// The one path for every alert delivered through sinks (escalations via
/// `raise_alerts`, a notify rule's detections via the watcher's commit).
/// Returns whether it took the key, and the sinks it will go through.
pub(in crate::store) fn take_alert(
    tx: &Transaction<'_>,
    alert: &NewAlert,
    sinks: Option<&[String]>,
) -> rusqlite::Result<(bool, Vec<String>)> {
    let took = insert_alert(tx, alert)?;
    let mut names: Vec<String> = Vec::new();
    let (true, Some(sinks)) = (took, sinks) else {
        return Ok((took, names));
    };
    for s in sinks.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !names.iter().any(|n| n == s) {
            names.push(s.to_string());
        }
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO alert_deliveries (alert_key, sink, state, updated_at)
         VALUES (?1, ?2, 'pending', ?3)",
    )?;
    for sink in &names {
        put.execute(params![alert.key, sink, format_time(alert.raised_at)])?;
    }
    Ok((took, names))
}

pub(super) const ALERT_COLUMNS: &str =
    "key, incident_id, kind, text, recipient, raised_by, raised_at";

pub(super) fn alert_from_row(r: &Row<'_>) -> rusqlite::Result<NewAlert> {
    Ok(NewAlert {
        key: r.get(0)?,
        incident_id: r.get(1)?,
        kind: r.get(2)?,
        text: r.get(3)?,
        recipient: r.get(4)?,
        raised_by: r.get(5)?,
        raised_at: parse_time(r, 6)?,
    })
}

/// An open incident with its current role holders: what the alert check
/// looks at.
#[derive(Debug, Clone)]
pub struct AlertSubject {
    pub incident: Incident,
    /// Current holders only.
    pub holders: Vec<Assignment>,
}

impl Store {
    /// Records the alert under its key; true when this process is the one
    /// that raised it, false when another console or watcher already did.
    pub fn raise_alert(&mut self, alert: &NewAlert) -> Result<bool> {
        self.write(|tx| Ok(insert_alert(tx, alert)?))
    }

    /// Records several alerts in one transaction: all keys are taken, or
    /// (on an error) none, so an alert is never recorded without the
    /// process that took it getting to show it. True for each alert this
    /// call took.
    ///
    /// An alert given with `Some(sinks)` is an escalation: when taken, it
    /// is also recorded in its incident's timeline (`comms.escalated`) with
    /// one pending delivery per sink, in the same transaction, so exactly
    /// the process that took the key delivers it, and a crash before that
    /// leaves it pending for a retry (`pending_alert_deliveries`).
    pub fn raise_alerts(
        &mut self,
        alerts: &[(NewAlert, Option<Vec<String>>)],
    ) -> Result<Vec<bool>> {
        self.write(|tx| {
            let mut taken = Vec::with_capacity(alerts.len());
            for (alert, sinks) in alerts {
                let (took, names) = take_alert(tx, alert, sinks.as_deref())?;
                taken.push(took);
                let (true, Some(_), Some(incident)) = (took, sinks, &alert.incident_id) else {
                    continue;
                };
                let who = alert.recipient.as_deref().unwrap_or("everyone");
                let how = if names.is_empty() {
                    "no sink configured for escalations: shown only".to_string()
                } else {
                    format!("delivering via {}", names.join(", "))
                };
                let mut inc = load_in_tx(tx, incident)?;
                record_change(
                    tx,
                    &mut inc,
                    &alert.raised_by,
                    alert.raised_at,
                    kinds::COMMS_ESCALATED,
                    format!("response breach escalated to {who}; {how}"),
                    json!({
                        "alert_key": alert.key,
                        "recipient": alert.recipient,
                        "sinks": names,
                    }),
                )?;
            }
            Ok(taken)
        })
    }

    /// One alert by key, if raised.
    pub fn alert(&self, key: &str) -> Result<Option<NewAlert>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE key = ?1");
        self.conn
            .query_row(&sql, [key], alert_from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Alerts raised at or after `since`, newest first.
    pub fn alerts_since(&self, since: DateTime<Utc>) -> Result<Vec<NewAlert>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE raised_at >= ?1 ORDER BY raised_at DESC, key"
        );
        self.query_all(&sql, [format_time(since)], alert_from_row)
    }

    /// Open incidents with their current role holders, for the alert check.
    pub fn alert_subjects(&self) -> Result<Vec<AlertSubject>> {
        let incidents: Vec<Incident> = self
            .incidents(false)?
            .into_iter()
            .filter(|i| i.status.is_open())
            .collect();
        let rows: Vec<_> = self.query_all(
            "SELECT r.incident_id, r.role, r.person, r.since, r.assigned_by
             FROM role_assignments r JOIN incidents i ON i.id = r.incident_id
             WHERE r.until IS NULL AND i.status NOT IN ('resolved', 'closed')
             ORDER BY r.id",
            [],
            |r| {
                let role: String = r.get(1)?;
                Ok((
                    r.get::<_, String>(0)?,
                    role,
                    r.get::<_, String>(2)?,
                    parse_time(r, 3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )?;
        let mut holders: HashMap<String, Vec<Assignment>> = HashMap::new();
        for (incident, role, person, since, by) in rows {
            let Ok(role) = role.parse() else { continue };
            holders.entry(incident).or_default().push(Assignment {
                role,
                person,
                since,
                until: None,
                assigned_by: by,
            });
        }
        Ok(incidents
            .into_iter()
            .map(|i| AlertSubject {
                holders: holders.remove(i.id.as_str()).unwrap_or_default(),
                incident: i,
            })
            .collect())
    }
}
