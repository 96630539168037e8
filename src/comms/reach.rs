//! Whether a message reaches anyone, said plainly. Only a command sink
//! hands a message on to be sent; an outbox file or a clipboard copy
//! reaches nobody until a person sends it. The console's send
//! confirmation, its status line and messages screen, and the CLI all word
//! it with these functions. Pure.

use super::config::{CommsConfig, SinkConfig};
use super::sinks::handover_of;
use crate::domain::comms::{Audience, Handover, NOT_SENT_OUTBOX};
use crate::store::{DeliveryState, SentMessage};

/// What the chosen sinks would do with a message to one audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub audience: Audience,
    /// Sinks that hand the message on to be sent (commands).
    pub sending: Vec<String>,
    /// Sinks that only put it somewhere (outbox, clipboard).
    pub holding: Vec<(String, Handover)>,
    /// How many recipients comms.toml names for the audience.
    pub recipients: usize,
}

impl Reach {
    /// The sinks a send would use (`names`, or the audience's defaults).
    pub fn of(sinks: &[SinkConfig], audience: Audience, config: &CommsConfig) -> Reach {
        let mut sending = Vec::new();
        let mut holding = Vec::new();
        for s in sinks {
            match handover_of(&s.kind) {
                Handover::Sent => sending.push(s.name.clone()),
                h => holding.push((s.name.clone(), h)),
            }
        }
        Reach {
            audience,
            sending,
            holding,
            recipients: config.recipients(audience).len(),
        }
    }

    /// Selects the sinks as a send would (`select_sinks`) and says what
    /// they would do; the error names an unknown sink.
    pub fn for_send(
        config: &CommsConfig,
        names: &[String],
        audience: Audience,
        db: &std::path::Path,
    ) -> Result<Reach, String> {
        let sinks = config.select_sinks(names, audience, db)?;
        Ok(Reach::of(&sinks, audience, config))
    }

    /// True when some sink hands the message on to be sent.
    pub fn reaches_anyone(&self) -> bool {
        !self.sending.is_empty()
    }

    /// What the send confirmation must say before anything is sent, when
    /// the message would reach nobody (or reach a command with no
    /// recipients named); `None` when it goes out normally.
    pub fn warning(&self) -> Option<String> {
        let who = self.audience.label().to_lowercase();
        if !self.reaches_anyone() {
            let kept = if self.holding.is_empty() {
                "no sink is chosen, so it is only recorded".to_string()
            } else {
                let places: Vec<String> = self
                    .holding
                    .iter()
                    .map(|(n, h)| match h {
                        Handover::Clipboard => format!("copied to the clipboard ({n})"),
                        _ => format!("written to the outbox ({n})"),
                    })
                    .collect();
                format!("it will only be {}", places.join(" and "))
            };
            return Some(format!(
                "NOT SENT to {who}: no sink sends this message; {kept}. Nobody receives it until someone sends it on (a command sink in comms.toml sends it)."
            ));
        }
        if self.recipients == 0 && self.audience == Audience::Customers {
            return Some(format!(
                "No recipients are configured for {who} ([audiences.customers] to in comms.toml): the command sink(s) {} get the text without a To address.",
                self.sending.join(", ")
            ));
        }
        None
    }
}

/// One message's state in a listing: `delivered`, `written to outbox, not
/// sent`, or `NOT DELIVERED` while any delivery failed or is pending.
pub fn message_state(m: &SentMessage) -> &'static str {
    if !m.delivered() {
        return "NOT DELIVERED";
    }
    if m.deliveries.is_empty() {
        return "recorded only, not sent";
    }
    if m.sent() {
        return "delivered";
    }
    if m.deliveries
        .iter()
        .all(|d| d.handover == Some(Handover::Clipboard))
    {
        Handover::Clipboard.state_text()
    } else {
        NOT_SENT_OUTBOX
    }
}

/// The status line after a send or retry: what happened, in words that
/// never call an outbox file delivered. The bool is true when it needs
/// the user's attention (nothing sent, or a delivery failed).
pub fn sent_summary(m: &SentMessage) -> (String, bool) {
    let via = |pick: &dyn Fn(&crate::store::Delivery) -> bool| -> Vec<&str> {
        m.deliveries
            .iter()
            .filter(|d| pick(d))
            .map(|d| d.sink.as_str())
            .collect()
    };
    let failed = via(&|d| d.state != DeliveryState::Delivered);
    if !failed.is_empty() {
        return (
            format!(
                "message #{} recorded, NOT delivered via {}",
                m.id,
                failed.join(", ")
            ),
            true,
        );
    }
    let head = format!("message #{} to {}", m.id, m.audience.as_str());
    if m.deliveries.is_empty() {
        return (
            format!("{head} recorded only (no sink chosen), not sent"),
            true,
        );
    }
    let sent = via(&|d| d.sent());
    if sent.is_empty() {
        return (
            format!(
                "{head} {} ({}): nobody has received it",
                message_state(m),
                via(&|_| true).join(", ")
            ),
            true,
        );
    }
    (format!("{head} sent via {}", sent.join(", ")), false)
}

/// The line above the messages screen's list: never "every message was
/// delivered" over an empty list or over outbox files.
pub fn messages_summary(list: &[SentMessage]) -> (String, bool) {
    if list.is_empty() {
        return ("No messages sent yet.".into(), false);
    }
    let undelivered = list.iter().filter(|m| !m.delivered()).count();
    if undelivered > 0 {
        return (
            format!("{undelivered} of {} message(s) NOT delivered.", list.len()),
            true,
        );
    }
    let held = list
        .iter()
        .filter(|m| !m.sent() && !m.deliveries.is_empty())
        .count();
    let recorded = list.iter().filter(|m| m.deliveries.is_empty()).count();
    match (held, recorded) {
        (0, 0) => ("Every message was sent through every sink.".into(), false),
        (h, r) => {
            let mut parts = Vec::new();
            if h > 0 {
                parts.push(format!("{h} {NOT_SENT_OUTBOX} (or only copied)"));
            }
            if r > 0 {
                parts.push(format!("{r} recorded only"));
            }
            (
                format!(
                    "{} of {} message(s): {}; nobody has received those.",
                    h + r,
                    list.len(),
                    parts.join(", ")
                ),
                true,
            )
        }
    }
}

#[cfg(test)]
#[path = "reach_tests.rs"]
mod tests;
