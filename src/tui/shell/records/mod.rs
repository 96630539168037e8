//! The I/O of the evidence, review, report and metrics screens:
//! the effects `update` asks for, what the store worker reports back, and
//! the worker side that runs them against the store. Keeping them here
//! leaves one effect variant, one action variant and one line of handling
//! in the shared console files.
pub mod handle;
pub mod io;
