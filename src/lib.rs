//! warroom: a terminal war-room console for security incident response.
//!
//! Rooms, from the ground up:
//! - `domain`: pure types and rules (no I/O, no clock reads); `text`: the
//!   one sanitizer for untrusted text and the `--json` writer; `newfile`:
//!   files written whole, created exclusively.
//! - `store`: SQLite, the only place SQL lives; every change one
//!   transaction with the timeline event describing it.
//! - `config`: paths, settings and the `AppContext` both faces start from;
//!   `report`: documents and metrics; `demo`: the demo drill; `logging`:
//!   tracing to a file.
//! - `comms`: messages and responder alerts (templates, sinks, which alerts
//!   are due); `detect`: the rule watcher (rules, log reading, the engine,
//!   following files and journals); `intake`: alerts from other tools
//!   (webhooks, alert files).
//! - `tui` (the console) and `cli` (the headless face of the same code).
//!
//! See ARCHITECTURE.md.

pub mod cli;
pub mod comms;
pub mod config;
pub mod demo;
pub mod detect;
pub mod domain;
pub mod intake;
pub mod logging;
pub mod newfile;
pub mod report;
pub mod store;
pub mod text;
pub mod tui;
