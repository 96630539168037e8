//! The alert list: every alert raised while this console has been open
//! (and the recent ones before it opened), newest first, with its time
//! (UTC), incident, kind, text and whether the incident has been
//! acknowledged, so a responder who looked away can catch up after the
//! toast is gone. Enter opens the alert's incident. The alerts come from
//! the console's own cursor into the store's alert log (`io`), polled by
//! the store worker.
pub mod handle;
pub mod io;
pub mod state;
pub mod view;
