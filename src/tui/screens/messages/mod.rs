//! The messages screen's state and keys: every message sent for the open
//! incident (oldest first, as `warroom notify list` shows them) with the
//! state of its delivery through each sink, and `r` to retry the ones not
//! delivered through `comms::sinks::retry`, the code `warroom notify retry`
//! runs (each delivery claimed first, so it is never delivered twice).
pub mod handle;
pub mod io;
pub mod state;
pub mod view;
