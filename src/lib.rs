//! warroom: a terminal war-room console for security incident response.
//!
//! Rooms: `domain` (pure types and rules), `store` (SQLite, the only place
//! SQL lives), `report` (documents), `tui` (the console), with `cli` as the
//! headless face of the same code. See ARCHITECTURE.md.

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
