//! The message composer: pick a template and an audience, edit
//! the pre-filled message, preview it, compare it with the last message
//! sent to the same audience, and send it. A `Screen` lent the comms
//! settings as its feed; the worker's answers find it wherever it is on
//! the stack (through the shell's `composer` helper).
//!
//! The composer sits over the incident view, which keeps loading
//! underneath, so the clocks are current when it closes.
pub mod handle;
pub mod io;
pub mod state;
pub mod view;

#[cfg(test)]
mod tests;
