//! The console: a full-screen terminal UI in the Elm style. `shell` holds
//! the app (a stack of open screens over the board), the keymap, the
//! router that changes the state (pure, returning effects), the event loop
//! and the one store worker. Each screen has a folder in `screens` (state,
//! key handling, pure view, store work); `kit` holds what knows no screen.
//! `action` and `effect` are the words between the shell and the runtime.

pub mod action;
pub mod command;
pub mod effect;
pub mod kit;
pub mod records;
pub mod reply;
pub mod screens;
pub mod shell;
#[cfg(test)]
mod testkit;

use crate::config::AppContext;

/// Opens the console on the context's database until the user quits.
pub fn run(ctx: &AppContext) -> anyhow::Result<()> {
    shell::runtime::run(ctx)
}
