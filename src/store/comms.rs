//! Communications: messages sent (immutable, like the timeline), their
//! delivery through each sink, and responder alerts recorded under a unique
//! key before they are shown, so each fires once across every process.
//!
//! Sending is two steps so that nothing is lost: `send_message` records the
//! message, its timeline event, its clock effects and one `pending` delivery
//! per sink in one transaction; only then are the sinks tried (outside any
//! transaction), each outcome recorded by `record_delivery`. A delivery
//! that failed, or was left pending by a crash, is found by
//! `pending_deliveries` and retried.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::alert_log::{AlertClaim, cancel_if_acknowledged};
use super::incidents::{load_in_tx, non_blank, note_customer_notice, parse_time, record_change};
use super::migration::Migration;
use super::{Result, Store, StoreError};
use crate::domain::comms::{Audience, unfilled_placeholders};
use crate::domain::event::{format_time, kinds};
use crate::domain::{Assignment, Incident, IncidentId};

/// 5: sent messages, deliveries, alerts.
pub(super) const MIGRATION: Migration = Migration {
    version: 5,
    sql: r#"
-- A message as sent: never changed (triggers), deleted only with a drill.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    audience TEXT NOT NULL
        CHECK (audience IN ('customers', 'internal', 'executives', 'regulator')),
    template TEXT,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    author TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    drill INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_by_incident ON messages (incident_id, audience, id);

CREATE TRIGGER messages_immutable_update BEFORE UPDATE ON messages
BEGIN
    SELECT RAISE(ABORT, 'sent messages are immutable');
END;
CREATE TRIGGER messages_immutable_delete BEFORE DELETE ON messages
WHEN OLD.drill = 0
BEGIN
    SELECT RAISE(ABORT, 'sent messages are immutable');
END;

-- One row per message and sink; a failed delivery stays here to be retried.
CREATE TABLE deliveries (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    sink TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    detail TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (message_id, sink)
) WITHOUT ROWID;
CREATE INDEX deliveries_open ON deliveries (state, message_id) WHERE state <> 'delivered';

-- An alert is inserted under its key before anyone shows it; whoever's
-- insert wins shows it, everyone else sees the key taken.
CREATE TABLE alerts (
    key TEXT PRIMARY KEY,
    incident_id TEXT REFERENCES incidents (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    recipient TEXT,
    raised_by TEXT NOT NULL,
    raised_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX alerts_by_time ON alerts (raised_at);
"#,
};

/// 6: escalations delivered through the sinks, one row per alert and sink,
/// inserted with the alert in one transaction and retried like message
/// deliveries.
pub(super) const MIGRATION_ESCALATIONS: Migration = Migration {
    version: 6,
    sql: r#"
CREATE TABLE alert_deliveries (
    alert_key TEXT NOT NULL REFERENCES alerts (key) ON DELETE CASCADE,
    sink TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    detail TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (alert_key, sink)
) WITHOUT ROWID;
CREATE INDEX alert_deliveries_open ON alert_deliveries (state, alert_key)
    WHERE state <> 'delivered';
"#,
};

/// The largest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

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

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
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
pub(super) fn take_alert(
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

/// Where an alert delivery stands: a message delivery's states, plus
/// `cancelled` (an escalation the incident's acknowledgement overtook:
/// nothing was sent, and nothing will be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertDeliveryState {
    Pending,
    Delivered,
    Failed,
    Cancelled,
}

impl AlertDeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertDeliveryState::Pending => "pending",
            AlertDeliveryState::Delivered => "delivered",
            AlertDeliveryState::Failed => "failed",
            AlertDeliveryState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> AlertDeliveryState {
        match s {
            "delivered" => AlertDeliveryState::Delivered,
            "failed" => AlertDeliveryState::Failed,
            "cancelled" => AlertDeliveryState::Cancelled,
            _ => AlertDeliveryState::Pending,
        }
    }

    /// Delivered or cancelled: nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            AlertDeliveryState::Delivered | AlertDeliveryState::Cancelled
        )
    }
}

/// An alert delivery (an escalation, or a notify rule's detection) through
/// one sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertDelivery {
    pub alert_key: String,
    pub sink: String,
    pub state: AlertDeliveryState,
    /// Where it went or why it failed.
    pub detail: String,
    pub attempts: u32,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
}

const ALERT_COLUMNS: &str = "key, incident_id, kind, text, recipient, raised_by, raised_at";

fn alert_from_row(r: &Row<'_>) -> rusqlite::Result<NewAlert> {
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

const ALERT_DELIVERY_COLUMNS: &str = "alert_key, sink, state, detail, attempts, updated_at";

fn alert_delivery_from_row(r: &Row<'_>) -> rusqlite::Result<AlertDelivery> {
    let state: String = r.get(2)?;
    Ok(AlertDelivery {
        alert_key: r.get(0)?,
        sink: r.get(1)?,
        state: AlertDeliveryState::parse(&state),
        detail: r.get(3)?,
        attempts: r.get(4)?,
        updated_at: parse_time(r, 5)?,
    })
}

fn alert_deliveries_in_tx(
    conn: &rusqlite::Connection,
    key: &str,
) -> rusqlite::Result<Vec<AlertDelivery>> {
    let sql = format!(
        "SELECT {ALERT_DELIVERY_COLUMNS} FROM alert_deliveries WHERE alert_key = ?1 ORDER BY sink"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_map([key], alert_delivery_from_row)?.collect()
}

/// Where one kind of delivery keeps its lease: the table and the column
/// naming what is delivered. Message deliveries and alert deliveries are
/// claimed and renewed the same way; only these names differ.
#[derive(Clone, Copy)]
struct LeaseTable {
    table: &'static str,
    key_column: &'static str,
}

const MESSAGE_DELIVERY_LEASES: LeaseTable = LeaseTable {
    table: "deliveries",
    key_column: "message_id",
};

const ALERT_DELIVERY_LEASES: LeaseTable = LeaseTable {
    table: "alert_deliveries",
    key_column: "alert_key",
};

impl LeaseTable {
    /// Takes a failed (or stale pending) delivery for a retry: marks it
    /// pending as of `now`. True for the one process whose update hit the
    /// row.
    fn claim(
        self,
        tx: &Transaction<'_>,
        key: &dyn rusqlite::ToSql,
        sink: &str,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<bool> {
        let set = "state = 'pending', updated_at = ?4";
        let held = "(state = 'failed' OR (state = 'pending' AND updated_at < ?3))";
        self.stamp(tx, set, held, key, sink, stale_before, now)
    }

    /// Moves a pending delivery's stamp from `held_since` (the stamp this
    /// process set) to `now`; false when the delivery is no longer held
    /// with that stamp (delivered, or claimed by another process).
    fn renew(
        self,
        tx: &Transaction<'_>,
        key: &dyn rusqlite::ToSql,
        sink: &str,
        held_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<bool> {
        let held = "state = 'pending' AND updated_at = ?3";
        self.stamp(tx, "updated_at = ?4", held, key, sink, held_since, now)
    }

    /// Applies `set` to the one delivery of `key` through `sink` if it is
    /// `held` (`?3` is `then`, `?4` is `now`); true when it was.
    #[allow(clippy::too_many_arguments)]
    fn stamp(
        self,
        tx: &Transaction<'_>,
        set: &str,
        held: &str,
        key: &dyn rusqlite::ToSql,
        sink: &str,
        then: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<bool> {
        let LeaseTable { table, key_column } = self;
        let n = tx.execute(
            &format!("UPDATE {table} SET {set} WHERE {key_column} = ?1 AND sink = ?2 AND {held}"),
            params![key, sink, format_time(then), format_time(now)],
        )?;
        Ok(n == 1)
    }
}

/// A message about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub incident_id: IncidentId,
    pub audience: Audience,
    /// The template it started from, if any (for the record).
    pub template: Option<String>,
    /// The final text, exactly as it goes out.
    pub body: String,
    pub author: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not tried yet, or being tried (or the sender crashed while trying).
    Pending,
    Delivered,
    /// Tried and failed; retryable.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> DeliveryState {
        match s {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        }
    }
}

/// One message through one sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub message_id: i64,
    pub sink: String,
    pub state: DeliveryState,
    /// Where it went (a file, a command's exit) or why it failed.
    pub detail: String,
    pub attempts: u32,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
}

/// A message as recorded, with its deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentMessage {
    pub id: i64,
    pub incident_id: String,
    pub audience: Audience,
    pub template: Option<String>,
    pub body: String,
    /// SHA-256 (hex) of the body's UTF-8 bytes.
    pub sha256: String,
    pub author: String,
    #[serde(serialize_with = "ser_time")]
    pub sent_at: DateTime<Utc>,
    /// The `comms.sent` event in the timeline.
    pub event_seq: i64,
    pub drill: bool,
    pub deliveries: Vec<Delivery>,
}

impl SentMessage {
    /// Every delivery succeeded (true with no sinks at all).
    pub fn delivered(&self) -> bool {
        self.deliveries
            .iter()
            .all(|d| d.state == DeliveryState::Delivered)
    }
}

/// SHA-256 (hex) of a message body, as recorded.
pub fn body_sha256(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// Refuses a body that is empty, too large, holds control characters
/// (other than tab and line ends: LF or CR LF), bidirectional controls or
/// unfilled `[FILL IN: ...]` placeholders.
pub fn check_body(body: &str) -> Result<(), String> {
    if body.trim().is_empty() {
        return Err("the message is empty".into());
    }
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "the message is {} bytes; at most {MAX_MESSAGE_BYTES} are sent",
            body.len()
        ));
    }
    for (n, line) in body.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(c) = line.chars().find(|c| c.is_control() && *c != '\t') {
            // A carriage return without its line feed sends the cursor back
            // to the start of the line: what follows is shown over what
            // came before ("Status: BREACH" over "Status: all good").
            let what = if c == '\r' {
                "a carriage return without a line feed, which would print the rest of the line over its start"
                    .to_string()
            } else {
                format!("control character U+{:04X}", c as u32)
            };
            return Err(format!("line {}: {what}; messages are plain text", n + 1));
        }
        // Bidi controls reorder what a mail client or terminal shows.
        if let Some(c) = line.chars().find(|c| crate::text::is_bidi_control(*c)) {
            return Err(format!(
                "line {}: bidirectional control U+{:04X}, which would reorder how the text reads; messages are plain text",
                n + 1,
                c as u32
            ));
        }
    }
    let open = unfilled_placeholders(body);
    if let Some((line, text)) = open.first() {
        return Err(format!(
            "the message still has {} placeholder(s) to fill in; the first, on line {line}: {text}",
            open.len()
        ));
    }
    Ok(())
}

const MESSAGE_COLUMNS: &str =
    "id, incident_id, audience, template, body, sha256, author, sent_at, event_seq, drill";

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<SentMessage> {
    let audience: String = r.get(2)?;
    Ok(SentMessage {
        id: r.get(0)?,
        incident_id: r.get(1)?,
        audience: audience.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
        })?,
        template: r.get(3)?,
        body: r.get(4)?,
        sha256: r.get(5)?,
        author: r.get(6)?,
        sent_at: parse_time(r, 7)?,
        event_seq: r.get(8)?,
        drill: r.get(9)?,
        deliveries: Vec::new(),
    })
}

fn delivery_from_row(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    let state: String = r.get(2)?;
    Ok(Delivery {
        message_id: r.get(0)?,
        sink: r.get(1)?,
        state: DeliveryState::parse(&state),
        detail: r.get(3)?,
        attempts: r.get(4)?,
        updated_at: parse_time(r, 5)?,
    })
}

const DELIVERY_COLUMNS: &str = "message_id, sink, state, detail, attempts, updated_at";

fn deliveries_in_tx(tx: &rusqlite::Connection, message_id: i64) -> rusqlite::Result<Vec<Delivery>> {
    let sql =
        format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE message_id = ?1 ORDER BY sink");
    let mut stmt = tx.prepare_cached(&sql)?;
    stmt.query_map([message_id], delivery_from_row)?.collect()
}

fn message_in_tx(tx: &rusqlite::Connection, id: i64) -> rusqlite::Result<Option<SentMessage>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    let Some(mut m) = tx.query_row(&sql, [id], message_from_row).optional()? else {
        return Ok(None);
    };
    m.deliveries = deliveries_in_tx(tx, id)?;
    Ok(Some(m))
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

    /// The deliveries of an escalation, by sink name.
    pub fn alert_deliveries(&self, key: &str) -> Result<Vec<AlertDelivery>> {
        alert_deliveries_in_tx(&self.conn, key).map_err(|e| self.err(e))
    }

    /// Escalation deliveries to retry: failed ones, and pending ones last
    /// touched before `stale_before`, of one incident or all; oldest first.
    pub fn pending_alert_deliveries(
        &self,
        incident: Option<&IncidentId>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<(NewAlert, AlertDelivery)>> {
        let sql = format!(
            "SELECT {ALERT_DELIVERY_COLUMNS} FROM alert_deliveries d
             JOIN alerts a ON a.key = d.alert_key
             WHERE d.state NOT IN ('delivered', 'cancelled')
               AND (d.state = 'failed' OR d.updated_at < ?2)
               AND (?1 IS NULL OR a.incident_id = ?1)
             ORDER BY a.raised_at, d.alert_key, d.sink"
        );
        let due: Vec<AlertDelivery> = self.query_all(
            &sql,
            params![incident.map(IncidentId::as_str), format_time(stale_before)],
            alert_delivery_from_row,
        )?;
        let mut out = Vec::with_capacity(due.len());
        for d in due {
            if let Some(a) = self.alert(&d.alert_key)? {
                out.push((a, d));
            }
        }
        Ok(out)
    }

    /// Takes a failed (or stale pending) alert delivery for a retry, like
    /// `claim_delivery`: `Held` for the one process that takes it;
    /// `Cancelled` (and recorded) for an escalation whose incident has been
    /// acknowledged meanwhile, which must not be sent.
    pub fn claim_alert_delivery(
        &mut self,
        key: &str,
        sink: &str,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<AlertClaim> {
        self.write(|tx| {
            if !ALERT_DELIVERY_LEASES.claim(tx, &key, sink, stale_before, now)? {
                return Ok(AlertClaim::Lost);
            }
            if cancel_if_acknowledged(tx, key, sink, now)? {
                return Ok(AlertClaim::Cancelled);
            }
            Ok(AlertClaim::Held)
        })
    }

    /// Renews this process's hold on a pending alert delivery just before
    /// trying it, like `renew_delivery`: `Lost` when another process has
    /// taken it over (or it was delivered), `Cancelled` (and recorded) for
    /// an escalation whose incident was acknowledged since it was raised.
    pub fn renew_alert_delivery(
        &mut self,
        key: &str,
        sink: &str,
        held_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<AlertClaim> {
        self.write(|tx| {
            if !ALERT_DELIVERY_LEASES.renew(tx, &key, sink, held_since, now)? {
                return Ok(AlertClaim::Lost);
            }
            if cancel_if_acknowledged(tx, key, sink, now)? {
                return Ok(AlertClaim::Cancelled);
            }
            Ok(AlertClaim::Held)
        })
    }

    /// Records how one alert delivery went, with a timeline event on its
    /// incident if it has one (`comms.escalation_delivered` /
    /// `comms.escalation_failed` for escalations, `comms.alert_delivered` /
    /// `comms.alert_failed` for other alerts). One already delivered stays
    /// delivered.
    pub fn record_alert_delivery(
        &mut self,
        key: &str,
        sink: &str,
        outcome: std::result::Result<&str, &str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<AlertDelivery> {
        self.write(|tx| {
            let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE key = ?1");
            let Some(alert) = tx.query_row(&sql, [key], alert_from_row).optional()? else {
                return Err(StoreError::Invalid(format!("no alert '{key}'")).into());
            };
            let Some(current) = alert_deliveries_in_tx(tx, key)?
                .into_iter()
                .find(|d| d.sink == sink)
            else {
                return Err(StoreError::Invalid(format!(
                    "alert '{key}' has no delivery through '{sink}'"
                ))
                .into());
            };
            if current.state.is_final() {
                return Ok(current);
            }
            // Escalations keep their own event kinds; every other alert
            // delivered through sinks (a notify rule's detection) is a
            // `comms.alert_*` event.
            let escalation = alert.kind == crate::domain::comms::ESCALATION;
            let (what, ok_kind, failed_kind) = if escalation {
                (
                    "escalation",
                    kinds::COMMS_ESCALATION_DELIVERED,
                    kinds::COMMS_ESCALATION_FAILED,
                )
            } else {
                (
                    "alert",
                    kinds::COMMS_ALERT_DELIVERED,
                    kinds::COMMS_ALERT_FAILED,
                )
            };
            let (state, detail, kind) = match outcome {
                Ok(d) => (AlertDeliveryState::Delivered, d, ok_kind),
                Err(e) => (AlertDeliveryState::Failed, e, failed_kind),
            };
            let detail: String = detail.chars().take(2000).collect();
            tx.execute(
                "UPDATE alert_deliveries SET state = ?3, detail = ?4, attempts = attempts + 1,
                    updated_at = ?5
                 WHERE alert_key = ?1 AND sink = ?2",
                params![key, sink, state.as_str(), detail, format_time(now)],
            )?;
            if let Some(incident) = &alert.incident_id {
                let who = alert.recipient.as_deref().unwrap_or("everyone");
                let line = match state {
                    AlertDeliveryState::Delivered => {
                        format!("{what} to {who} delivered via {sink}: {detail}")
                    }
                    _ => format!("{what} to {who} NOT delivered via {sink}: {detail}"),
                };
                let mut inc = load_in_tx(tx, incident)?;
                record_change(
                    tx,
                    &mut inc,
                    actor,
                    now,
                    kind,
                    line,
                    json!({
                        "alert_key": key,
                        "recipient": alert.recipient,
                        "sink": sink,
                        "state": state.as_str(),
                        "attempt": current.attempts + 1,
                        "detail": detail,
                    }),
                )?;
            }
            Ok(AlertDelivery {
                alert_key: key.to_string(),
                sink: sink.to_string(),
                state,
                detail,
                attempts: current.attempts + 1,
                updated_at: now,
            })
        })
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

    /// Sends a message, in one transaction: the immutable message row (body,
    /// SHA-256, audience, author, time), a `comms.sent` timeline event
    /// carrying the hash and audience, the clock effects (customers: the
    /// customer-notice clock is met and the update cadence restarts;
    /// internal and executives: the cadence restarts; regulator: the
    /// regulatory clock is met), and one `pending` delivery per sink.
    /// Delivering is the caller's next step (`comms::sinks`).
    pub fn send_message(
        &mut self,
        msg: &NewMessage,
        sinks: &[String],
        now: DateTime<Utc>,
    ) -> Result<SentMessage> {
        check_body(&msg.body).map_err(StoreError::Invalid)?;
        let author = non_blank(&msg.author, "a message needs an author")?;
        let mut names: Vec<&str> = Vec::new();
        for s in sinks {
            let s = non_blank(s, "a sink name is empty")?;
            if !names.contains(&s) {
                names.push(s);
            }
        }
        let sha = body_sha256(&msg.body);
        self.write(|tx| {
            let mut incident = load_in_tx(tx, msg.incident_id.as_str())?;
            let id: i64 =
                tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM messages", [], |r| {
                    r.get(0)
                })?;
            let mut effects = Vec::new();
            match msg.audience {
                Audience::Customers => {
                    if incident.customer_notified_at.is_none() {
                        effects.push("customer notice met");
                    }
                    note_customer_notice(&mut incident, now);
                }
                Audience::Regulator => {
                    if incident.regulator_notified_at.is_none() {
                        incident.regulator_notified_at = Some(now);
                        effects.push("regulator notified");
                    }
                }
                Audience::Internal | Audience::Executives => {
                    incident.last_update_at = Some(now);
                }
            }
            if msg.audience.is_status_update() {
                effects.push("update clock restarted");
            }
            let mut detail = format!(
                "message #{id} to {} sent ({} bytes, sha256 {})",
                msg.audience,
                msg.body.len(),
                &sha[..16]
            );
            if !effects.is_empty() {
                detail.push_str("; ");
                detail.push_str(&effects.join(", "));
            }
            let event = record_change(
                tx,
                &mut incident,
                author,
                now,
                kinds::COMMS_SENT,
                detail,
                json!({
                    "message_id": id,
                    "audience": msg.audience.as_str(),
                    "sha256": sha,
                    "bytes": msg.body.len(),
                    "template": msg.template,
                    "sinks": names,
                }),
            )?;
            tx.execute(
                "INSERT INTO messages (id, incident_id, audience, template, body, sha256, author,
                    sent_at, event_seq, drill)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    id,
                    incident.id.as_str(),
                    msg.audience.as_str(),
                    msg.template,
                    msg.body,
                    sha,
                    author,
                    format_time(now),
                    event.seq,
                    incident.drill
                ],
            )?;
            for sink in &names {
                tx.execute(
                    "INSERT INTO deliveries (message_id, sink, state, updated_at)
                     VALUES (?1, ?2, 'pending', ?3)",
                    params![id, sink, format_time(now)],
                )?;
            }
            message_in_tx(tx, id)?
                .ok_or_else(|| super::WriteError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
        })
    }

    /// Records how one delivery went: `Ok(detail)` (where it went) or
    /// `Err(reason)`. Appends `comms.delivered` or `comms.delivery_failed`
    /// to the incident's timeline. A delivery already recorded as delivered
    /// stays delivered (a late failure from a racing retry is ignored).
    pub fn record_delivery(
        &mut self,
        message_id: i64,
        sink: &str,
        outcome: Result<&str, &str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Delivery> {
        self.write(|tx| {
            let Some(msg) = message_in_tx(tx, message_id)? else {
                return Err(StoreError::Invalid(format!("no message #{message_id}")).into());
            };
            let Some(current) = msg.deliveries.iter().find(|d| d.sink == sink) else {
                return Err(StoreError::Invalid(format!(
                    "message #{message_id} has no delivery through '{sink}'"
                ))
                .into());
            };
            if current.state == DeliveryState::Delivered {
                return Ok(current.clone());
            }
            let (state, detail, kind) = match outcome {
                Ok(d) => (DeliveryState::Delivered, d, kinds::COMMS_DELIVERED),
                Err(e) => (DeliveryState::Failed, e, kinds::COMMS_DELIVERY_FAILED),
            };
            let detail: String = detail.chars().take(2000).collect();
            tx.execute(
                "UPDATE deliveries SET state = ?3, detail = ?4, attempts = attempts + 1,
                    updated_at = ?5
                 WHERE message_id = ?1 AND sink = ?2",
                params![message_id, sink, state.as_str(), detail, format_time(now)],
            )?;
            let mut incident = load_in_tx(tx, &msg.incident_id)?;
            let line = match state {
                DeliveryState::Delivered => {
                    format!("message #{message_id} delivered via {sink}: {detail}")
                }
                _ => format!("message #{message_id} NOT delivered via {sink}: {detail}"),
            };
            record_change(
                tx,
                &mut incident,
                actor,
                now,
                kind,
                line,
                json!({
                    "message_id": message_id,
                    "sink": sink,
                    "state": state.as_str(),
                    "attempt": current.attempts + 1,
                    "detail": detail,
                }),
            )?;
            Ok(Delivery {
                message_id,
                sink: sink.to_string(),
                state,
                detail,
                attempts: current.attempts + 1,
                updated_at: now,
            })
        })
    }

    /// Takes a failed (or stale pending) delivery for a retry: marks it
    /// pending as of `now`. True for the one process that takes it, so two
    /// retries running at once do not deliver twice.
    pub fn claim_delivery(
        &mut self,
        message_id: i64,
        sink: &str,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|tx| {
            Ok(MESSAGE_DELIVERY_LEASES.claim(tx, &message_id, sink, stale_before, now)?)
        })
    }

    /// Renews this process's hold on a pending delivery just before trying
    /// it: the stamp moves from `held_since` (the stamp this process set)
    /// to `now`. False when the delivery is no longer this process's: it
    /// was delivered, or it looked abandoned and another process claimed
    /// it. The sender must then not deliver it.
    pub fn renew_delivery(
        &mut self,
        message_id: i64,
        sink: &str,
        held_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|tx| {
            Ok(MESSAGE_DELIVERY_LEASES.renew(tx, &message_id, sink, held_since, now)?)
        })
    }

    /// One message with its deliveries.
    pub fn message(&self, id: i64) -> Result<Option<SentMessage>> {
        message_in_tx(&self.conn, id).map_err(|e| self.err(e))
    }

    /// The messages of an incident, oldest first, with their deliveries.
    pub fn messages(&self, incident: &IncidentId) -> Result<Vec<SentMessage>> {
        // Name a missing incident rather than list nothing.
        self.incident(incident)?;
        let sql =
            format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE incident_id = ?1 ORDER BY id");
        let mut list: Vec<SentMessage> =
            self.query_all(&sql, [incident.as_str()], message_from_row)?;
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE message_id IN
                (SELECT id FROM messages WHERE incident_id = ?1) ORDER BY message_id, sink"
        );
        let deliveries: Vec<Delivery> =
            self.query_all(&sql, [incident.as_str()], delivery_from_row)?;
        let mut by_message: HashMap<i64, Vec<Delivery>> = HashMap::new();
        for d in deliveries {
            by_message.entry(d.message_id).or_default().push(d);
        }
        for m in &mut list {
            m.deliveries = by_message.remove(&m.id).unwrap_or_default();
        }
        Ok(list)
    }

    /// The newest message of an incident to an audience (the composer
    /// diffs a draft against it).
    pub fn last_message(
        &self,
        incident: &IncidentId,
        audience: Audience,
    ) -> Result<Option<SentMessage>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT max(id) FROM messages WHERE incident_id = ?1 AND audience = ?2",
                params![incident.as_str(), audience.as_str()],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        match id {
            Some(id) => self.message(id),
            None => Ok(None),
        }
    }

    /// Deliveries to retry: failed ones, and pending ones last touched
    /// before `stale_before` (a sender that crashed mid-delivery), of one
    /// incident or all. Oldest message first.
    pub fn pending_deliveries(
        &self,
        incident: Option<&IncidentId>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<(SentMessage, Delivery)>> {
        let keys: Vec<(i64, String)> = self.query_all(
            "SELECT d.message_id, d.sink FROM deliveries d JOIN messages m ON m.id = d.message_id
                 WHERE d.state <> 'delivered'
                   AND (d.state = 'failed' OR d.updated_at < ?2)
                   AND (?1 IS NULL OR m.incident_id = ?1)
                 ORDER BY d.message_id, d.sink",
            params![incident.map(IncidentId::as_str), format_time(stale_before)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut out = Vec::with_capacity(keys.len());
        for (id, sink) in keys {
            if let Some(m) = self.message(id)?
                && let Some(d) = m.deliveries.iter().find(|d| d.sink == sink).cloned()
            {
                out.push((m, d));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Playbook, Severity};
    use crate::store::NewIncident;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn setup() -> (tempfile::TempDir, Store, IncidentId) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("w.db")).unwrap();
        let i = s
            .create_incident(
                &NewIncident::new("Login API down", Severity::P2),
                &Playbook::builtin(),
                "alice",
                t("2026-03-01T10:00:00Z"),
            )
            .unwrap();
        (dir, s, i.id)
    }

    fn msg(id: &IncidentId, audience: Audience, body: &str) -> NewMessage {
        NewMessage {
            incident_id: id.clone(),
            audience,
            template: Some("customer".into()),
            body: body.into(),
            author: "bob".into(),
        }
    }

    #[test]
    fn an_alert_key_is_raised_once_across_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let mut a = Store::open(&path).unwrap();
        let mut b = Store::open(&path).unwrap();
        let alert = NewAlert {
            key: "clock:INC-2026-001:response:75".into(),
            incident_id: None,
            kind: "clock-near".into(),
            text: "response clock at 75%".into(),
            recipient: None,
            raised_by: "alice".into(),
            raised_at: "2026-11-22T10:00:00Z".parse().unwrap(),
        };
        assert!(a.raise_alert(&alert).unwrap());
        assert!(!b.raise_alert(&alert).unwrap());
        assert!(!a.raise_alert(&alert).unwrap());
        assert_eq!(b.alerts_since(alert.raised_at).unwrap(), vec![alert]);
    }

    #[test]
    fn an_alert_check_that_fails_half_way_takes_no_key_so_nothing_goes_unshown() {
        // P1 created 10:00; at 10:20 the response clock (due 10:15) and the
        // customer notice (due at once, 5 minutes' grace) are breached, and
        // two escalation steps (10:15, 10:20) are due: four alerts. An
        // escalation's insert fails (a
        // trigger standing in for a busy or full disk). Had the first key
        // been taken, its alert would be recorded but shown by nobody: this
        // check returns an error and every later check sees the key taken.
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("w.db")).unwrap();
        s.create_incident(
            &NewIncident::new("Login API down", Severity::P1),
            &Playbook::builtin(),
            "alice",
            t("2026-03-01T10:00:00Z"),
        )
        .unwrap();
        let now = t("2026-03-01T10:20:00Z");
        let config = crate::comms::CommsConfig::builtin(dir.path());
        let policy = crate::domain::Policy::builtin();
        s.conn
            .execute_batch(
                "CREATE TEMP TRIGGER fail_second BEFORE INSERT ON alerts
                 WHEN NEW.key LIKE 'escalate:%' BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        assert!(crate::comms::alerts::check(&mut s, &policy, &config, "bob", now).is_err());
        assert!(
            s.alerts_since(DateTime::<Utc>::MIN_UTC).unwrap().is_empty(),
            "a key was taken by a check that showed nothing"
        );
        s.conn.execute_batch("DROP TRIGGER fail_second").unwrap();
        let raised = crate::comms::alerts::check(&mut s, &policy, &config, "bob", now).unwrap();
        assert_eq!(raised.len(), 4, "{raised:?}");
    }

    #[test]
    fn sending_records_the_message_event_clocks_and_pending_deliveries() {
        let (_d, mut s, id) = setup();
        let now = t("2026-03-01T10:30:00Z");
        let sent = s
            .send_message(
                &msg(&id, Audience::Customers, "We are on it.\n"),
                &["outbox".into(), "mail".into(), "outbox".into()],
                now,
            )
            .unwrap();
        assert_eq!(sent.id, 1);
        assert_eq!(sent.sha256, body_sha256("We are on it.\n"));
        assert_eq!(sent.author, "bob");
        let sinks: Vec<_> = sent
            .deliveries
            .iter()
            .map(|d| (d.sink.as_str(), d.state))
            .collect();
        assert_eq!(
            sinks,
            [
                ("mail", DeliveryState::Pending),
                ("outbox", DeliveryState::Pending)
            ]
        );
        let i = s.incident(&id).unwrap();
        assert_eq!(i.customer_notified_at, Some(now));
        assert_eq!(i.last_update_at, Some(now));
        let ev = &s.timeline(id.as_str(), Some(1)).unwrap()[0];
        assert_eq!(ev.kind, kinds::COMMS_SENT);
        assert_eq!(ev.seq, sent.event_seq);
        assert!(
            ev.data.contains(&sent.sha256) && ev.data.contains("\"customers\""),
            "{}",
            ev.data
        );

        // A second customer message restarts the cadence but the first
        // notice stays the one that met the clock.
        let later = t("2026-03-01T11:00:00Z");
        s.send_message(&msg(&id, Audience::Customers, "Update."), &[], later)
            .unwrap();
        let i = s.incident(&id).unwrap();
        assert_eq!(i.customer_notified_at, Some(now));
        assert_eq!(i.last_update_at, Some(later));
        assert_eq!(
            s.last_message(&id, Audience::Customers)
                .unwrap()
                .unwrap()
                .body,
            "Update."
        );
        assert!(s.last_message(&id, Audience::Executives).unwrap().is_none());

        // The regulator notice meets the regulatory clock only.
        let reg = t("2026-03-01T12:00:00Z");
        s.send_message(&msg(&id, Audience::Regulator, "Notice."), &[], reg)
            .unwrap();
        let i = s.incident(&id).unwrap();
        assert_eq!(i.regulator_notified_at, Some(reg));
        assert_eq!(i.last_update_at, Some(later));
        assert!(s.verify_chain().unwrap().failure.is_none());
    }

    #[test]
    fn bad_bodies_are_refused_and_nothing_is_recorded() {
        let (_d, mut s, id) = setup();
        let now = t("2026-03-01T10:30:00Z");
        for (body, needle) in [
            ("  \n", "empty"),
            ("hi [FILL IN: who] there", "line 1: [FILL IN: who]"),
            ("ok\nbad \u{1b}[2J", "line 2: control character U+001B"),
            // Shown, this reads "Status: BREACH" over "Status: all good".
            (
                "Hello\r\nStatus: all good\rStatus: BREACH\r\n",
                "line 2: a carriage return without a line feed",
            ),
            (
                "ok\nthe file evil\u{202e}gpj.exe",
                "line 2: bidirectional control U+202E",
            ),
            ("\u{2067}isolate", "line 1: bidirectional control U+2067"),
            ("mark\u{200f}", "line 1: bidirectional control U+200F"),
        ] {
            let err = s
                .send_message(&msg(&id, Audience::Internal, body), &[], now)
                .unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err}");
            assert!(err.to_string().contains(needle), "{err}");
        }
        // CR LF line ends, tabs and ordinary non-Latin text are fine.
        assert_eq!(check_body("Hi\r\n\tStatus: مرحبا\r\n"), Ok(()));
        let huge = "x".repeat(MAX_MESSAGE_BYTES + 1);
        assert!(
            s.send_message(&msg(&id, Audience::Internal, &huge), &[], now)
                .is_err()
        );
        let missing: IncidentId = "INC-2026-099".parse().unwrap();
        assert!(matches!(
            s.send_message(&msg(&missing, Audience::Internal, "x"), &[], now),
            Err(StoreError::IncidentNotFound(_))
        ));
        assert!(s.messages(&id).unwrap().is_empty());
        assert!(s.incident(&id).unwrap().last_update_at.is_none());
    }

    #[test]
    fn deliveries_fail_retry_and_stay_delivered() {
        let (_d, mut s, id) = setup();
        let t0 = t("2026-03-01T10:30:00Z");
        let sent = s
            .send_message(
                &msg(&id, Audience::Internal, "x"),
                &["a".into(), "b".into()],
                t0,
            )
            .unwrap();
        let t1 = t("2026-03-01T10:30:05Z");
        s.record_delivery(sent.id, "a", Ok("file /o/1.txt"), "bob", t1)
            .unwrap();
        let d = s
            .record_delivery(sent.id, "b", Err("exit status 1: no route"), "bob", t1)
            .unwrap();
        assert_eq!((d.state, d.attempts), (DeliveryState::Failed, 1));
        let m = s.message(sent.id).unwrap().unwrap();
        assert!(!m.delivered());

        // Only the failed one is due for retry; a pending one only when stale.
        let due = s.pending_deliveries(Some(&id), t0).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].1.sink, "b");
        let t2 = t("2026-03-01T10:40:00Z");
        assert!(s.claim_delivery(sent.id, "b", t0, t2).unwrap());
        assert!(
            !s.claim_delivery(sent.id, "b", t0, t2).unwrap(),
            "claimed once"
        );
        assert!(s.pending_deliveries(Some(&id), t0).unwrap().is_empty());
        assert_eq!(
            s.pending_deliveries(None, t("2026-03-01T10:41:00Z"))
                .unwrap()
                .len(),
            1
        );
        let d = s
            .record_delivery(sent.id, "b", Ok("exit 0"), "carol", t2)
            .unwrap();
        assert_eq!((d.state, d.attempts), (DeliveryState::Delivered, 2));
        let d = s
            .record_delivery(sent.id, "b", Err("late"), "carol", t2)
            .unwrap();
        assert_eq!(d.state, DeliveryState::Delivered, "stays delivered");
        assert!(s.message(sent.id).unwrap().unwrap().delivered());
        let kinds_seen: Vec<String> = s
            .timeline(id.as_str(), Some(3))
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds_seen,
            [
                kinds::COMMS_DELIVERED,
                kinds::COMMS_DELIVERY_FAILED,
                kinds::COMMS_DELIVERED
            ]
        );
        assert!(
            s.record_delivery(sent.id, "zzz", Ok(""), "bob", t2)
                .is_err()
        );
    }

    #[test]
    fn sent_messages_cannot_be_changed_but_drills_purge_with_theirs() {
        let (_d, mut s, id) = setup();
        let t0 = t("2026-03-01T10:30:00Z");
        s.send_message(&msg(&id, Audience::Internal, "x"), &[], t0)
            .unwrap();
        let err = s
            .conn
            .execute("UPDATE messages SET body = 'y'", [])
            .unwrap_err()
            .to_string();
        assert!(err.contains("immutable"), "{err}");
        assert!(s.conn.execute("DELETE FROM messages", []).is_err());

        let mut drill = NewIncident::new("Drill", Severity::P3);
        drill.drill = true;
        let d = s
            .create_incident(&drill, &Playbook::builtin(), "alice", t0)
            .unwrap();
        s.send_message(
            &msg(&d.id, Audience::Internal, "drill msg"),
            &["a".into()],
            t0,
        )
        .unwrap();
        s.purge_drills("alice", t0).unwrap();
        assert_eq!(s.messages(&id).unwrap().len(), 1);
        let left: i64 = s
            .conn
            .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 1);
    }
}
