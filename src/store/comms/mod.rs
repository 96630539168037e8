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
//!
//! By job: `messages` (the record and the body checks), `deliveries` (a
//! message's outcomes and retries), `alerts` (raised once by key),
//! `alert_deliveries` (an alert through sinks, cancelled once acknowledged),
//! `lease` (the claim both kinds of delivery take before a retry),
//! `migrations` (this room's schema steps), `recency` (when customers were
//! last told).

mod alert_deliveries;
mod alerts;
mod deliveries;
mod lease;
mod messages;
mod migrations;
mod recency;

pub use alert_deliveries::{AlertClaim, AlertDelivery, AlertDeliveryState};
pub(super) use alerts::take_alert;
pub use alerts::{AlertSubject, NewAlert};
pub use messages::{
    Delivery, DeliveryState, MAX_MESSAGE_BYTES, NewMessage, SentMessage, body_sha256, check_body,
};
pub(super) use migrations::{MIGRATION, MIGRATION_CUSTOMER, MIGRATION_ESCALATIONS};

#[cfg(test)]
mod tests;
