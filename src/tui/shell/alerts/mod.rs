//! Responder alerts in the console. Each tick the console works out which
//! alerts are due for what it has loaded (`comms::alerts::due`, pure) and
//! asks the store worker to raise the ones it has not tried yet; the store
//! records each under its key once across all processes (and delivers it
//! through the sinks once). Showing is per console: the worker's feed
//! (`screens::alerts::io`) reads every alert raised after this console
//! opened, whoever raised it, and each is shown here as a toast (a
//! transient line over the foot of the screen), a terminal bell (written
//! by the runtime) and, once per user, a desktop notification (sent off
//! the UI thread), and kept for the alert list.
pub mod handle;
pub mod state;
pub mod view;
