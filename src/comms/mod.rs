//! The comms room: messages to customers, stakeholders and regulators, and
//! responder alerts.
//!
//! - `templates` and `fields`: minijinja templates (shipped in
//!   `assets/templates/`, overridable in the config dir) filled from an
//!   incident. Pure.
//! - `config` (with `mailbox`): `comms.toml` (contact, recipients, sinks,
//!   alert settings).
//! - `sinks`: delivery through an outbox directory, a command (argv, no
//!   shell) or OSC 52: sending, delivering raised alerts, and the one retry
//!   path; with `desktop` (notifications over the session bus) the part of
//!   the room that talks to the world.
//! - `leak`: which internal-only passages (internal summary, notes,
//!   checklist names, evidence) a customer message quotes (pure).
//! - `reach`: whether the chosen sinks send a message on or only write it
//!   to an outbox or a clipboard, and how listings word it (pure).
//! - `alerts`: which alerts are due at `now` (`alerts::due`, pure), and
//!   raising them in the store with the one background-delivery path
//!   (`delivery_queue`, the one background path), which is not pure.
//!
//! Sending itself is a store call (`Store::send_message`): the message is
//! recorded (immutable, hashed, in the timeline, meeting the clocks) before
//! any sink is tried, so a sink that fails loses nothing.

pub mod alerts;
pub mod config;
pub mod delivery_queue;
pub mod desktop;
pub mod fields;
pub mod leak;
mod mailbox;
pub mod reach;
pub mod sinks;
pub mod templates;

pub use config::{AudienceConfig, CommsConfig, SinkConfig, SinkKind};
pub use fields::{ActionTaken, MessageFields};
pub use templates::{TemplateError, TemplateInfo, Templates};

// The vocabulary the store shares with this room lives in the domain, so
// the store never imports comms.
pub use crate::domain::comms::{Audience, PLACEHOLDER, unfilled_placeholders};
