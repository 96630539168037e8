//! One folder per screen: its state (`state`), how keys and results
//! change it (`handle`), its pure view (`view`), and any thread or store
//! work of its own (`io`). No screen imports or opens another: a handler
//! returns a [`nav::Nav`] and the shell opens the [`nav::Target`]. Screens
//! that follow [`ctx::Screen`] read the console through a [`ctx::Ctx`] and
//! ask for changes through a [`ctx::Outcome`], never through the shell.

pub mod alerts;
pub mod board;
pub mod compose;
pub mod ctx;
pub mod declare;
pub mod evidence;
pub mod incident;
pub mod messages;
pub mod metrics;
pub mod nav;
pub mod review;
pub mod roster;
pub mod watcher;
