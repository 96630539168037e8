//! The messages screen: how keys and the worker's answers change the app.

use chrono::{DateTime, Utc};

use super::state::*;
use crate::comms::sinks::SinkResult;
use crate::domain::IncidentId;
use crate::store::SentMessage;
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::effect::effect;
use crate::tui::kit::cursor::move_cursor;
use crate::tui::records::RecordsEffect;
use crate::tui::screens::nav::Nav;
use crate::tui::shell::app::App;
use crate::tui::shell::app::say;

/// Opens the messages screen over the open incident.
pub fn open(id: IncidentId, fx: &mut Vec<Effect>) -> MessagesState {
    let state = MessagesState::new(id.clone());
    fx.push(effect(RecordsEffect::LoadMessages { id }));
    state
}

pub fn command(app: &mut App, cmd: Command, _now: DateTime<Utc>, fx: &mut Vec<Effect>) -> Nav {
    let Some(state) = app.stack.messages_mut() else {
        return Nav::Stay;
    };
    let len = state.list.as_ref().map_or(0, Vec::len);
    match cmd {
        Command::Back => return Nav::Back,
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => state.cursor = move_cursor(state.cursor, len, cmd),
        Command::Retry => {
            if state.list.is_none() {
                return Nav::Stay;
            }
            if state.retrying {
                say(app, "a retry is already running…", false);
                return Nav::Stay;
            }
            let (failed, pending) = state.undelivered();
            if failed + pending == 0 {
                say(app, "every delivery was delivered: nothing to retry", false);
                return Nav::Stay;
            }
            state.retrying = true;
            let id = state.id.clone();
            say(
                app,
                format!("retrying what was not delivered ({failed} failed)…"),
                false,
            );
            fx.push(effect(RecordsEffect::RetryMessages { id }));
        }
        _ => {}
    }
    Nav::Stay
}

/// The worker loaded the incident's messages.
pub fn loaded(app: &mut App, id: &IncidentId, list: Vec<SentMessage>) {
    if let Some(s) = app.stack.messages_mut().filter(|s| &s.id == id) {
        // The cursor stays on the same message (a reload only appends).
        s.cursor = crate::tui::kit::cursor::clamp(s.cursor, list.len());
        s.error = None;
        s.list = Some(list);
    }
}

pub fn load_failed(app: &mut App, id: &IncidentId, message: String) {
    if let Some(s) = app.stack.messages_mut().filter(|s| &s.id == id) {
        s.error = Some(message);
    }
}

/// A retry finished: say how it went; OSC 52 sequences go to the terminal.
pub fn retried(
    app: &mut App,
    id: &IncidentId,
    results: Result<Vec<SinkResult>, String>,
    clipboard: Vec<String>,
    fx: &mut Vec<Effect>,
) {
    if let Some(s) = app.stack.messages_mut().filter(|s| &s.id == id) {
        s.retrying = false;
    }
    fx.extend(clipboard.into_iter().map(Effect::Clipboard));
    match results {
        Ok(results) if results.is_empty() => say(
            app,
            "nothing to retry now (a delivery in progress elsewhere is left to it)",
            false,
        ),
        Ok(results) => {
            let ok = results.iter().filter(|r| r.delivered).count();
            let failed: Vec<String> = results
                .iter()
                .filter(|r| !r.delivered)
                .map(|r| format!("#{} via {}: {}", r.message_id, r.sink, r.detail))
                .collect();
            if failed.is_empty() {
                say(app, format!("retried: {ok} delivered"), false);
            } else {
                say(
                    app,
                    format!(
                        "retried: {ok} delivered, {} FAILED ({})",
                        failed.len(),
                        failed.join("; ")
                    ),
                    true,
                );
            }
        }
        Err(e) => say(app, format!("retry failed: {e}"), true),
    }
}
