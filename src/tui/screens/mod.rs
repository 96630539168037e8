//! One folder per screen: its state (`state`), how keys and results
//! change the app (`handle`), its pure view (`view`), and any thread or
//! store work of its own (`io`). No screen imports or opens another: a
//! handler returns a [`nav::Nav`] and the shell opens the [`nav::Target`].

pub mod alerts;
pub mod board;
pub mod compose;
pub mod ctx;
pub mod evidence;
pub mod incident;
pub mod messages;
pub mod metrics;
pub mod nav;
pub mod review;
pub mod watcher;
