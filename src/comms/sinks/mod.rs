//! Delivery of sent messages: an outbox directory, a command, OSC 52. The
//! one part of the comms room that does I/O.
//!
//! What a sink receives: an outbox always gets a complete RFC 5322
//! message (`.eml`: Date, From, To, Subject, Message-ID, MIME-Version,
//! `text/plain; charset=utf-8`, CRLF line ends, non-ASCII headers encoded)
//! addressed to the audience's recipients, or to a placeholder naming the
//! missing setting when comms.toml lists none. A command gets the `.eml`
//! for an *email audience* (one with recipients) and the text otherwise.
//! OSC 52 always carries the text (it is for pasting).
//!
//! Only a command hands a message on to be sent; an outbox file or a
//! clipboard copy reaches nobody until a person sends it, and is recorded
//! so ([`Handover`], "written to outbox, not sent").
//!
//! [`send`] and [`retry`] are the whole path the console and the CLI share:
//! the message is recorded first (`Store::send_message`), then each sink is
//! tried and its outcome recorded; a failure leaves the delivery failed and
//! retryable, and older failures of the incident are retried on the next
//! send.

mod alert;
mod alert_delivery;
mod command;
mod lease;
mod mail;
mod outbox;
mod record;
mod retry;
mod send;

use std::time::Duration;

use base64::Engine;

use super::config::{CommsConfig, SinkConfig, SinkKind};
pub use crate::domain::comms::Handover;
use crate::store::SentMessage;

pub use alert::{AlertMessage, AlertResult, deliver_alert, recipients_of};
pub use alert_delivery::deliver_alerts;
pub use command::run_command;
pub use mail::{message_id, placeholder_recipient, render_eml, subject};
pub use outbox::outbox_file_name;
pub use record::SinkResult;
pub use retry::{retry, retry_alerts};
pub use send::{SendOutcome, send};

/// A pending delivery untouched for this long is taken to be abandoned by a
/// sender that died, and is retried. Longer than any sane command timeout.
pub const STALE_PENDING: Duration = Duration::from_secs(5 * 60);

/// What a message becomes for a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub bytes: Vec<u8>,
    /// True for an RFC 5322 message, false for plain text.
    pub eml: bool,
}

/// A successful delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Where it went, for the record ("wrote /var/outbox/...").
    pub detail: String,
    /// OSC 52 only: the escape sequence the caller must write to its own
    /// terminal (the console from its render thread, the CLI to its tty).
    pub terminal: Option<String>,
}

/// How far a sink of this kind takes a message.
pub fn handover_of(kind: &SinkKind) -> Handover {
    match kind {
        SinkKind::Outbox { .. } => Handover::Outbox,
        SinkKind::Command { .. } => Handover::Sent,
        SinkKind::Osc52 { .. } => Handover::Clipboard,
    }
}

/// What one sink's result of a send or retry reads as: `delivered`,
/// `written to outbox, not sent`, `FAILED`... The sink's kind is looked up
/// in the settings the delivery was just made with.
pub fn result_state(r: &SinkResult, config: &CommsConfig, db: &std::path::Path) -> &'static str {
    if !r.delivered {
        return "FAILED";
    }
    config
        .effective_sinks(db)
        .iter()
        .find(|s| s.name == r.sink)
        .map_or("delivered", |s| handover_of(&s.kind).state_text())
}

/// What a sink receives for this message (see the module docs).
pub fn payload(msg: &SentMessage, config: &CommsConfig) -> Payload {
    if config.recipients(msg.audience).is_empty() {
        Payload {
            bytes: msg.body.as_bytes().to_vec(),
            eml: false,
        }
    } else {
        Payload {
            bytes: render_eml(msg, config),
            eml: true,
        }
    }
}

/// `ESC ] 52 ; c ; BASE64 BEL`: puts `body` on the clipboard of the
/// terminal that receives it (over SSH too).
pub fn osc52_sequence(body: &str) -> String {
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(body.as_bytes())
    )
}

/// Delivers one message through one sink. Errors are one line saying what
/// failed, for the record and the person.
pub fn deliver(
    sink: &SinkConfig,
    msg: &SentMessage,
    config: &CommsConfig,
) -> Result<Delivered, String> {
    match &sink.kind {
        SinkKind::Outbox { dir } => {
            // A complete message even with no recipients configured: the
            // file is what a person sends on by hand.
            let bytes = render_eml(msg, config);
            outbox::write_outbox(dir, &outbox_file_name(msg, true), &bytes).map(|p| Delivered {
                detail: format!("wrote {}", p.display()),
                terminal: None,
            })
        }
        SinkKind::Command { argv, timeout } => {
            let p = payload(msg, config);
            let env = [
                ("WARROOM_INCIDENT", msg.incident_id.clone()),
                ("WARROOM_AUDIENCE", msg.audience.as_str().to_string()),
                ("WARROOM_MESSAGE_ID", msg.id.to_string()),
                ("WARROOM_SHA256", msg.sha256.clone()),
                ("WARROOM_SUBJECT", subject(msg)),
                (
                    "WARROOM_DRILL",
                    if msg.drill { "1" } else { "0" }.to_string(),
                ),
                (
                    "WARROOM_FORMAT",
                    if p.eml { "eml" } else { "text" }.to_string(),
                ),
            ];
            run_command(argv, &p.bytes, &env, *timeout).map(|detail| Delivered {
                detail,
                terminal: None,
            })
        }
        SinkKind::Osc52 { max_bytes } => {
            if msg.body.len() > *max_bytes {
                return Err(format!(
                    "the message is {} bytes; OSC 52 sink '{}' copies at most {max_bytes} (max_bytes in comms.toml)",
                    msg.body.len(),
                    sink.name
                ));
            }
            Ok(Delivered {
                detail: format!(
                    "copied {} bytes to the terminal clipboard (OSC 52)",
                    msg.body.len()
                ),
                terminal: Some(osc52_sequence(&msg.body)),
            })
        }
    }
}

#[cfg(test)]
mod tests;
