//! The console's shell: the app and its stack of screens, the one keymap,
//! the router that handles the global keys once and hands the rest to the
//! top screen, the frame drawn around the screens, the event loop and the
//! one store worker. The dialogs shared by several screens (help, the field
//! dialog) and the alert toasts live here too; the record screens' store
//! work is routed to their own `io.rs` (`record_work.rs`).

pub mod alerts;
pub mod app;
pub mod conflict;
pub mod fields;
pub mod keymap;
pub mod lend;
mod overlays;
mod own_writes;
pub mod presence;
pub mod record_work;
pub mod render;
pub mod router;
pub mod runtime;
pub mod screens;
pub mod stack;
pub mod terminal;
mod worker;
