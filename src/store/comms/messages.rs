//! Messages sent: immutable rows like the timeline, recorded with their
//! `comms.sent` event, clock effects and one pending delivery per sink in
//! one transaction before any sink is tried; and the checks a body must
//! pass first.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::super::changes::{load_in_tx, note_customer_notice, record_change};
use super::super::rows::{non_blank, parse_time, ser_time};
use super::super::{Result, Store, StoreError};
use crate::domain::IncidentId;
use crate::domain::comms::{Audience, Handover, unfilled_placeholders};
use crate::domain::event::{format_time, kinds};

/// The largest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

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
    /// For a delivered one: sent on, or only written to an outbox or a
    /// clipboard (`None` for deliveries recorded before this was kept).
    pub handover: Option<Handover>,
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

impl Delivery {
    /// `delivered`, `written to outbox, not sent`, `FAILED`, `pending`:
    /// what every listing shows for this delivery.
    pub fn state_text(&self) -> &'static str {
        match (self.state, self.handover) {
            (DeliveryState::Delivered, Some(h)) => h.state_text(),
            (DeliveryState::Delivered, None) => "delivered",
            (DeliveryState::Failed, _) => "FAILED",
            (DeliveryState::Pending, _) => "pending",
        }
    }

    /// Delivered and handed on to be sent (not only written somewhere).
    pub fn sent(&self) -> bool {
        self.state == DeliveryState::Delivered
            && self.handover.is_none_or(Handover::reaches_recipients)
    }
}

impl SentMessage {
    /// At least one delivery was handed on to be sent: someone may have
    /// received it (false when it only reached an outbox or a clipboard).
    pub fn sent(&self) -> bool {
        self.deliveries.iter().any(Delivery::sent)
    }

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
        handover: r
            .get::<_, Option<String>>(6)?
            .as_deref()
            .and_then(Handover::parse),
    })
}

const DELIVERY_COLUMNS: &str = "message_id, sink, state, detail, attempts, updated_at, handover";

fn deliveries_in_tx(tx: &rusqlite::Connection, message_id: i64) -> rusqlite::Result<Vec<Delivery>> {
    let sql =
        format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE message_id = ?1 ORDER BY sink");
    let mut stmt = tx.prepare_cached(&sql)?;
    stmt.query_map([message_id], delivery_from_row)?.collect()
}

pub(super) fn message_in_tx(
    tx: &rusqlite::Connection,
    id: i64,
) -> rusqlite::Result<Option<SentMessage>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    let Some(mut m) = tx.query_row(&sql, [id], message_from_row).optional()? else {
        return Ok(None);
    };
    m.deliveries = deliveries_in_tx(tx, id)?;
    Ok(Some(m))
}

impl Store {
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
            message_in_tx(tx, id)?.ok_or_else(|| {
                super::super::WriteError::Sqlite(rusqlite::Error::QueryReturnedNoRows)
            })
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
}
