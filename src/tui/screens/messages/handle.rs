//! The messages screen: how keys and the worker's answers change it.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::state::*;
use crate::comms::sinks::SinkResult;
use crate::domain::IncidentId;
use crate::store::SentMessage;
use crate::tui::command::{Command, Context};
use crate::tui::effect::{Effect, effect};
use crate::tui::kit::cursor::move_cursor;
use crate::tui::records::RecordsEffect;
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::Nav;

/// Lines one Space or `b` moves the message text by.
const TEXT_PAGE: usize = 8;

/// Opens the messages screen over the open incident.
pub fn open(id: IncidentId, fx: &mut Vec<Effect>) -> MessagesState {
    let state = MessagesState::new(id.clone());
    fx.push(effect(RecordsEffect::LoadMessages { id }));
    state
}

impl Screen for MessagesState {
    type Feed = ();

    fn handle(&mut self, cmd: Command, _ctx: &Ctx) -> Outcome {
        let len = self.list.as_ref().map_or(0, Vec::len);
        match cmd {
            Command::Back => return Outcome::go(Nav::Back),
            Command::Up
            | Command::Down
            | Command::Top
            | Command::Bottom
            | Command::PageUp
            | Command::PageDown => {
                let was = self.cursor;
                self.cursor = move_cursor(self.cursor, len, cmd);
                if self.cursor != was {
                    self.text_scroll = 0;
                }
            }
            // The view shows what fits; here the scroll stays within the
            // text's own lines so it never runs far past the end.
            Command::TextDown => {
                let lines = self.selected().map_or(0, |m| m.body.lines().count());
                self.text_scroll = (self.text_scroll + TEXT_PAGE).min(lines.saturating_sub(1));
            }
            Command::TextUp => self.text_scroll = self.text_scroll.saturating_sub(TEXT_PAGE),
            Command::ToggleReading if self.selected().is_some() => self.reading = !self.reading,
            Command::Retry => {
                if self.list.is_none() {
                    return Outcome::stay();
                }
                if self.retrying {
                    return Outcome::said("a retry is already running…", false);
                }
                let (failed, pending) = self.undelivered();
                if failed + pending == 0 {
                    return Outcome::said("every delivery was delivered: nothing to retry", false);
                }
                self.retrying = true;
                let mut out = Outcome::said(
                    format!("retrying what was not delivered ({failed} failed)…"),
                    false,
                );
                out.push(effect(RecordsEffect::RetryMessages {
                    id: self.id.clone(),
                }));
                return out;
            }
            _ => {}
        }
        Outcome::stay()
    }

    fn view(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        super::view::render(self, ctx, frame, area)
    }

    fn context(&self) -> Context {
        Context::Messages
    }

    /// Reloads the list if another process wrote.
    fn tick(&mut self, _ctx: &Ctx) -> Outcome {
        let mut out = Outcome::stay();
        out.push(effect(RecordsEffect::Poll {
            evidence: None,
            review: None,
            metrics: false,
            messages: Some(self.id.clone()),
        }));
        out
    }
}

impl MessagesState {
    /// The worker loaded the incident's messages.
    pub fn loaded(&mut self, list: Vec<SentMessage>) {
        // The cursor stays on the same message (a reload only appends).
        self.cursor = crate::tui::kit::cursor::clamp(self.cursor, list.len());
        self.error = None;
        self.list = Some(list);
    }

    pub fn load_failed(&mut self, message: String) {
        self.error = Some(message);
    }
}

/// A retry finished (`state`: the screen, when still open): say how it
/// went; OSC 52 sequences go to the terminal.
pub fn retried(
    state: Option<&mut MessagesState>,
    results: Result<Vec<SinkResult>, String>,
    clipboard: Vec<String>,
) -> Outcome {
    if let Some(s) = state {
        s.retrying = false;
    }
    let mut out = Outcome::stay();
    out.effects
        .extend(clipboard.into_iter().map(Effect::Clipboard));
    match results {
        Ok(results) if results.is_empty() => out.say(
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
                out.say(format!("retried: {ok} delivered"), false);
            } else {
                out.say(
                    format!(
                        "retried: {ok} delivered, {} FAILED ({})",
                        failed.len(),
                        failed.join("; ")
                    ),
                    true,
                );
            }
        }
        Err(e) => out.say(format!("retry failed: {e}"), true),
    }
    out
}
