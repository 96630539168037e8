//! Alert intake: alerts from SIEM and monitoring tools (Alertmanager and
//! Grafana webhooks, Wazuh `alerts.json`, generic JSON lines) become
//! detections through the same store path as the rule watcher.
//!
//! - `format`: the formats alerts come in.
//! - `decode`: bytes to alerts (pure).
//! - `config`: `intake.toml`, how alerts are mapped.
//! - `map`: applying the mapping (pure).
//! - `ingest`: a batch of alerts committed to the store.
//! - `listen`: the webhook listener.
//! - `listen_config`: `[listen]` in intake.toml, for the console's listener.
//! - `task`: the listener run inside another process's runtime (the console).

pub mod config;
pub mod decode;
pub mod format;
pub mod ingest;
pub mod listen;
pub mod listen_config;
pub mod map;
pub mod task;

pub use config::{Format, IntakeConfig, Mapping};
pub use decode::{AlertStatus, DecodeError, RawAlert};
pub use map::{Action, Mapped};
