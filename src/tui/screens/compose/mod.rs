//! The message composer: pick a template and an audience, edit
//! the pre-filled message, preview it, compare it with the last message
//! sent to the same audience, and send it. State and update logic live
//! here; `update.rs` only forwards to it, and `views/compose.rs` draws it.
//!
//! The composer sits over the incident view (`App::compose`), which keeps
//! loading underneath, so the clocks are current when it closes.
pub mod handle;
pub mod state;
pub mod view;
