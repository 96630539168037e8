//! The console: a full-screen terminal UI in the Elm style. `App` is the
//! state, `update` the only place it changes (pure, returning effects),
//! `views` and each screen's `view` draw it, and `runtime` feeds events in
//! while `worker` runs the effects against the store. Each screen has a
//! folder in `screens`; `kit` holds what knows no screen.

pub mod action;
pub mod alerts;
pub mod app;
pub mod effect;
pub mod fields;
pub mod keymap;
pub mod kit;
pub mod records;
pub mod runtime;
pub mod screens;
pub mod stack;
pub mod terminal;
#[cfg(test)]
mod testkit;
pub mod update;
pub mod views;
mod worker;

use crate::config::AppContext;

/// Opens the console on the context's database until the user quits.
pub fn run(ctx: &AppContext) -> anyhow::Result<()> {
    runtime::run(ctx)
}
