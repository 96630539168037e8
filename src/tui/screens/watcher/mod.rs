//! The console's rule watcher: the state its view shows, its keys, and the
//! thread that runs the same loop as `warroom watch` and reports status back.
//! Its setup file, `watch.toml`, is read by `detect::setup`.
pub mod handle;
pub mod intake_view;
pub mod io;
pub mod state;
pub mod view;
