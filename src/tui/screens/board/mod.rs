//! The board: every incident, filtered and sorted by urgency.

pub mod handle;
pub mod state;
pub mod view;
