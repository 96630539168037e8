//! Timeline events and their hash chain. Each event's hash is the SHA-256 of
//! a canonical encoding of its fields *including the previous event's hash*,
//! so altering, reordering or removing any event breaks every hash after it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Tag mixed into every hash so a future encoding can be told apart.
const ENCODING_TAG: &[u8] = b"warroom-event-v1";

/// Event kinds, as stored. Kept as strings so old databases stay readable
/// when kinds are added.
pub mod kinds {
    pub const INCIDENT_CREATED: &str = "incident.created";
    pub const INCIDENT_UPDATED: &str = "incident.updated";
    pub const INCIDENT_ACKNOWLEDGED: &str = "incident.acknowledged";
    /// The detection time was corrected (with the reason); clocks count
    /// from the new time from then on.
    pub const INCIDENT_DETECTION_CHANGED: &str = "incident.detection_changed";
    /// A clock was paused (with the reason) / resumed.
    pub const CLOCK_PAUSED: &str = "clock.paused";
    pub const CLOCK_RESUMED: &str = "clock.resumed";
    pub const CHECKLIST_CHANGED: &str = "checklist.changed";
    pub const ROLE_ASSIGNED: &str = "role.assigned";
    pub const ROSTER_CHANGED: &str = "roster.changed";
    pub const NOTE_ADDED: &str = "note.added";
    pub const CUSTOMER_NOTIFIED: &str = "comms.customer_notified";
    /// A message was sent (recorded with its hash and audience).
    pub const COMMS_SENT: &str = "comms.sent";
    /// A sink delivered a sent message.
    pub const COMMS_DELIVERED: &str = "comms.delivered";
    /// A sink failed to deliver a sent message (it stays retryable).
    pub const COMMS_DELIVERY_FAILED: &str = "comms.delivery_failed";
    /// A response breach was escalated to someone (and is being delivered
    /// through the escalation sinks).
    pub const COMMS_ESCALATED: &str = "comms.escalated";
    /// A sink delivered an escalation.
    pub const COMMS_ESCALATION_DELIVERED: &str = "comms.escalation_delivered";
    /// A sink failed to deliver an escalation (it stays retryable).
    pub const COMMS_ESCALATION_FAILED: &str = "comms.escalation_failed";
    /// An escalation not yet delivered was dropped because the incident
    /// had been acknowledged meanwhile: nothing was sent.
    pub const COMMS_ESCALATION_CANCELLED: &str = "comms.escalation_cancelled";
    /// A sink delivered another alert (a notify rule's detection) to the
    /// rule's recipients.
    pub const COMMS_ALERT_DELIVERED: &str = "comms.alert_delivered";
    /// A sink failed to deliver such an alert (it stays retryable).
    pub const COMMS_ALERT_FAILED: &str = "comms.alert_failed";
}

/// One timeline entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub seq: i64,
    #[serde(serialize_with = "ser_time")]
    pub at: DateTime<Utc>,
    pub actor: String,
    pub incident: Option<String>,
    pub kind: String,
    /// One line a person reads ("severity P3 -> P1").
    pub detail: String,
    /// The structured form of the change, JSON text exactly as stored.
    #[serde(skip)]
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

/// The one stored time format: RFC 3339, UTC, milliseconds, `Z`. Sorts
/// lexicographically in time order.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Formats like [`format_time`] into a stack buffer, with no allocation:
/// lists of thousands of incidents serialize a dozen times each.
pub struct TimeText {
    buf: [u8; 24],
}

impl TimeText {
    pub fn new(t: DateTime<Utc>) -> Option<TimeText> {
        use chrono::{Datelike, Timelike};
        let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
        let mut buf = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, value: u32, digits: usize| {
            let mut v = value;
            for i in (0..digits).rev() {
                buf[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year, 4);
        put(5, t.month(), 2);
        put(8, t.day(), 2);
        put(11, t.hour(), 2);
        put(14, t.minute(), 2);
        put(17, t.second().min(59), 2);
        put(20, (t.nanosecond() / 1_000_000).min(999), 3);
        Some(TimeText { buf })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators were written.
        std::str::from_utf8(&self.buf).unwrap_or("")
    }
}

/// Fields of an event that go into its hash: all of them, including its row
/// number (the order the timeline is shown in) and its place in its chain.
pub struct HashInput<'a> {
    pub seq: i64,
    pub chain: &'a str,
    pub chain_seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub incident: Option<&'a str>,
    pub kind: &'a str,
    pub detail: &'a str,
    pub data: &'a str,
    pub prev_hash: &'a str,
}

/// SHA-256 (hex) over a length-prefixed encoding of every field, so no two
/// different field sets encode to the same bytes.
pub fn event_hash(e: &HashInput<'_>) -> String {
    let mut h = Sha256::new();
    let seq = e.seq.to_string();
    let chain_seq = e.chain_seq.to_string();
    let fields: [&[u8]; 11] = [
        ENCODING_TAG,
        seq.as_bytes(),
        e.chain.as_bytes(),
        chain_seq.as_bytes(),
        e.at.as_bytes(),
        e.actor.as_bytes(),
        e.incident.unwrap_or("").as_bytes(),
        e.kind.as_bytes(),
        e.detail.as_bytes(),
        e.data.as_bytes(),
        e.prev_hash.as_bytes(),
    ];
    for f in fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f);
    }
    // Tell "no incident" apart from an empty incident id.
    h.update([u8::from(e.incident.is_some())]);
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(detail: &'a str, prev: &'a str) -> HashInput<'a> {
        HashInput {
            seq: 1,
            chain: "live",
            chain_seq: 1,
            at: "2026-01-01T00:00:00.000Z",
            actor: "alice",
            incident: Some("INC-2026-001"),
            kind: kinds::INCIDENT_CREATED,
            detail,
            data: "{}",
            prev_hash: prev,
        }
    }

    #[test]
    fn hash_is_stable_and_sensitive_to_every_field() {
        let a = event_hash(&input("created", GENESIS_HASH));
        assert_eq!(a, event_hash(&input("created", GENESIS_HASH)));
        assert_eq!(a.len(), 64);
        assert_ne!(a, event_hash(&input("created.", GENESIS_HASH)));
        assert_ne!(a, event_hash(&input("created", &a)));
        let mut other = input("created", GENESIS_HASH);
        other.incident = None;
        assert_ne!(a, event_hash(&other));
    }

    #[test]
    fn length_prefixes_prevent_field_shifting() {
        let mut x = input("ab", GENESIS_HASH);
        x.actor = "alice";
        let mut y = input("b", GENESIS_HASH);
        y.actor = "alicea";
        assert_ne!(event_hash(&x), event_hash(&y));
    }

    #[test]
    fn times_are_rfc3339_utc_millis() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 18, 9, 17).unwrap();
        assert_eq!(format_time(t), "2026-11-22T18:09:17.000Z");
        let t = t + chrono::Duration::milliseconds(42) + chrono::Duration::nanoseconds(999);
        assert_eq!(TimeText::new(t).unwrap().as_str(), format_time(t));
    }
}
