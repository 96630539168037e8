//! The words the comms room and the store share: who a message is for,
//! the placeholder a message may not be sent with, the kinds of responder
//! alert, and the mark of a note that records an action taken. Pure.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::incident::ParseError;

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Audience {
    Customers,
    Internal,
    Executives,
    Regulator,
}

impl Audience {
    pub const ALL: [Audience; 4] = [
        Audience::Customers,
        Audience::Internal,
        Audience::Executives,
        Audience::Regulator,
    ];

    /// The stored and command-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Customers => "customers",
            Audience::Internal => "internal",
            Audience::Executives => "executives",
            Audience::Regulator => "regulator",
        }
    }

    /// For people: "Customers", "Internal stakeholders"...
    pub fn label(self) -> &'static str {
        match self {
            Audience::Customers => "Customers",
            Audience::Internal => "Internal stakeholders",
            Audience::Executives => "Executives",
            Audience::Regulator => "Regulator",
        }
    }

    /// What a message to this audience is called (email subjects).
    pub fn message_title(self) -> &'static str {
        match self {
            Audience::Customers => "Security incident notification",
            Audience::Internal => "Incident status update",
            Audience::Executives => "Incident executive summary",
            Audience::Regulator => "Personal data breach notification",
        }
    }

    /// The shipped template for this audience.
    pub fn default_template(self) -> &'static str {
        match self {
            Audience::Customers => "customer",
            Audience::Internal => "internal",
            Audience::Executives => "executive",
            Audience::Regulator => "regulator",
        }
    }

    /// A message to this audience is a status update, so sending it
    /// restarts the update cadence. A regulator notice is a one-off legal
    /// notice and does not.
    pub fn is_status_update(self) -> bool {
        !matches!(self, Audience::Regulator)
    }
}

impl FromStr for Audience {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Audience, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "customers" | "customer" => Ok(Audience::Customers),
            "internal" | "stakeholders" => Ok(Audience::Internal),
            "executives" | "executive" | "exec" | "execs" => Ok(Audience::Executives),
            "regulator" | "regulators" | "dpa" => Ok(Audience::Regulator),
            _ => Err(ParseError {
                what: "audience",
                got: s.to_string(),
                expected: "customers, internal, executives or regulator",
            }),
        }
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The marker of a placeholder the responder must replace before sending,
/// e.g. `[FILL IN: approximate number of people affected]`.
pub const PLACEHOLDER: &str = "[FILL IN:";

/// Placeholders still in a message: (1-based line, the placeholder text).
/// A message with any is refused by `Store::send_message`.
pub fn unfilled_placeholders(body: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in body.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find(PLACEHOLDER) {
            let tail = &rest[at..];
            let end = tail.find(']').map_or(tail.len(), |e| e + 1);
            out.push((n + 1, tail[..end].to_string()));
            rest = &tail[end..];
        }
    }
    out
}

/// Kinds of responder alert.
pub const CLOCK_NEAR: &str = "clock-near";
pub const CLOCK_BREACHED: &str = "clock-breached";
pub const CLOCK_DUE: &str = "clock-due";
pub const ESCALATION: &str = "escalation";
pub const INCIDENT_NEW: &str = "incident-new";
pub const ROLE_ASSIGNED: &str = "role-assigned";
/// A notify rule's detection (raised by the watcher or `scan --commit`
/// with its detection, delivered to the rule's recipients).
pub const DETECTION: &str = "detection";

/// The key in a note's event data that marks it as an action taken:
/// `incident note ID --action "Blocked 203.0.113.7 at the edge"` records a
/// `note.added` event with data `{"action": true}`.
pub const ACTION_FLAG: &str = "action";

/// The key in a note's event data that marks it as written for customers:
/// `incident note ID --customer "We reset every affected password"`
/// records `{"customer": true}`. The customer template's ACTIONS TAKEN
/// lists these notes and nothing else (never checklist item names).
pub const CUSTOMER_FLAG: &str = "customer";

/// How far a delivered message went: handed to something that sends it
/// on (a command sink), or only put where a person must still send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Handover {
    /// Handed to a program that sends it on (mail, a chat, a status page).
    Sent,
    /// Written to an outbox directory: nobody has received it.
    Outbox,
    /// Copied to the sender's terminal clipboard: nobody has received it.
    Clipboard,
}

impl Handover {
    pub fn as_str(self) -> &'static str {
        match self {
            Handover::Sent => "sent",
            Handover::Outbox => "outbox",
            Handover::Clipboard => "clipboard",
        }
    }

    pub fn parse(s: &str) -> Option<Handover> {
        match s {
            "sent" => Some(Handover::Sent),
            "outbox" => Some(Handover::Outbox),
            "clipboard" => Some(Handover::Clipboard),
            _ => None,
        }
    }

    /// True when the message left this machine's hands.
    pub fn reaches_recipients(self) -> bool {
        self == Handover::Sent
    }

    /// What a delivered message's state reads as, everywhere it is
    /// reported (CLI, the record, the console).
    pub fn state_text(self) -> &'static str {
        match self {
            Handover::Sent => "delivered",
            Handover::Outbox => NOT_SENT_OUTBOX,
            Handover::Clipboard => "copied to the clipboard, not sent",
        }
    }
}

/// The state of a message that only reached the outbox.
pub const NOT_SENT_OUTBOX: &str = "written to outbox, not sent";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_round_trip_and_accept_singulars() {
        for a in Audience::ALL {
            assert_eq!(a.as_str().parse::<Audience>().unwrap(), a);
        }
        assert_eq!("Customer".parse::<Audience>().unwrap(), Audience::Customers);
        assert_eq!("exec".parse::<Audience>().unwrap(), Audience::Executives);
        let err = "press".parse::<Audience>().unwrap_err().to_string();
        assert!(err.contains("'press'"), "{err}");
    }

    #[test]
    fn placeholders_are_found_with_their_lines() {
        let body = "Hello\n[FILL IN: number of people] and [FILL IN: records]\nok [FILL IN: open";
        assert_eq!(
            unfilled_placeholders(body),
            vec![
                (2, "[FILL IN: number of people]".to_string()),
                (2, "[FILL IN: records]".to_string()),
                (3, "[FILL IN: open".to_string()),
            ]
        );
        assert!(unfilled_placeholders("all filled in").is_empty());
    }
}
