//! Responder alerts in the console. Each tick the console works out which
//! alerts are due for what it has loaded (`comms::alerts::due`, pure) and
//! asks the store worker to raise the ones it has not tried yet. The store
//! records each under its key before anyone shows it, so only the process
//! that took the key shows it: as a toast (a transient line over the foot
//! of the screen), a terminal bell (written by the runtime) and a desktop
//! notification (sent off the UI thread).
pub mod handle;
pub mod state;
pub mod view;
