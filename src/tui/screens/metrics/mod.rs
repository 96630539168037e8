//! The metrics screen's state: every incident and review as loaded, and
//! the metrics computed from them by `report::metrics::compute` (the same
//! code as `warroom metrics`) with the time passed in, over a period
//! chosen with `p` (all time, the last 7, 30 or 90 days, this quarter).
//! Drills are left out unless toggled in.
pub mod handle;
pub mod io;
pub mod state;
pub mod view;
