//! A message as email: its subject, a stable Message-ID, and the RFC 5322
//! bytes (`.eml`) an email audience's sinks receive.

use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;

use super::super::config::{CommsConfig, Mailbox};
use crate::domain::comms::Audience;
use crate::store::SentMessage;

/// The subject of a message: `[INC-2026-001] Security incident notification`.
pub fn subject(msg: &SentMessage) -> String {
    let drill = if msg.drill { "[DRILL] " } else { "" };
    format!(
        "{drill}[{}] {}",
        msg.incident_id,
        msg.audience.message_title()
    )
}

/// The Message-ID (without angle brackets). Derived from the message, so a
/// retry sends the same id and receivers can drop duplicates.
pub fn message_id(msg: &SentMessage, config: &CommsConfig) -> String {
    format!(
        "warroom.{}.{}.{}@{}",
        msg.incident_id,
        msg.id,
        msg.sha256.get(..12).unwrap_or(&msg.sha256),
        config.from.domain()
    )
}

/// Who an outbox file is addressed to when comms.toml names nobody for
/// the audience: a mailbox under `.invalid` (RFC 2606: never delivered)
/// whose name says what to set, so the file is a complete message and
/// nobody mistakes it for one that went out.
pub fn placeholder_recipient(audience: Audience) -> Mailbox {
    Mailbox {
        name: Some(format!(
            "{} - no recipients: set [audiences.{}] to in comms.toml",
            audience.label(),
            audience.as_str()
        )),
        address: format!("{}@recipients.invalid", audience.as_str()),
    }
}

/// The message as an RFC 5322 email to the audience's recipients (or the
/// placeholder recipient when there are none).
pub fn render_eml(msg: &SentMessage, config: &CommsConfig) -> Vec<u8> {
    let placeholder;
    let mut to = config.recipients(msg.audience);
    if to.is_empty() {
        placeholder = [placeholder_recipient(msg.audience)];
        to = &placeholder;
    }
    build_eml(
        config,
        &Envelope {
            to,
            subject: subject(msg),
            date: msg.sent_at,
            message_id: message_id(msg, config),
            incident_id: &msg.incident_id,
            drill: msg.drill,
        },
        &msg.body,
    )
}

/// The headers of an email that vary by message.
pub(super) struct Envelope<'a> {
    pub(super) to: &'a [Mailbox],
    pub(super) subject: String,
    pub(super) date: DateTime<Utc>,
    pub(super) message_id: String,
    pub(super) incident_id: &'a str,
    pub(super) drill: bool,
}

/// An RFC 5322 message from the configured sender. Headers are built by
/// mail-builder (non-ASCII names and subjects encoded; addresses are ASCII
/// by `Mailbox::parse`); the body gets CRLF line ends.
pub(super) fn build_eml(config: &CommsConfig, env: &Envelope<'_>, body: &str) -> Vec<u8> {
    let mailbox = |m: &Mailbox| -> Address<'static> {
        match &m.name {
            Some(n) => Address::from((n.clone(), m.address.clone())),
            None => Address::from(m.address.clone()),
        }
    };
    let to: Vec<Address<'static>> = env.to.iter().map(mailbox).collect();
    // Bodies are stored with the line ends they were typed with; mail
    // wants CRLF.
    let crlf = body.replace("\r\n", "\n").replace('\n', "\r\n");
    let mut builder = MessageBuilder::new()
        .from(mailbox(&config.from))
        .to(to)
        .subject(env.subject.clone())
        .date(env.date.timestamp())
        .message_id(env.message_id.clone())
        .header(
            "X-Warroom-Incident",
            mail_builder::headers::raw::Raw::new(env.incident_id.to_string()),
        )
        .text_body(crlf);
    if env.drill {
        // For mail filters: an exercise, whatever its text says.
        builder = builder.header(
            "X-Warroom-Drill",
            mail_builder::headers::raw::Raw::new("yes"),
        );
    }
    let mut out = Vec::with_capacity(body.len() + 512);
    builder.serialize(&mut out);
    out
}
