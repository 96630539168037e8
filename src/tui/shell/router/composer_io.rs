//! The composer's answers from the worker, its autosave and its save on
//! leaving: handed to it wherever it is on the stack.

use chrono::{DateTime, Utc};

use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::screens::compose::handle as compose;
use crate::tui::screens::ctx::Outcome;
use crate::tui::shell::app::App;
use crate::tui::shell::screens::composer;

/// A worker's answer for the composer.
pub(super) fn answer(app: &mut App, a: Action, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    match a {
        Action::DraftNotSaved(key) => {
            if let Some(c) = app.stack.compose_mut() {
                compose::draft_not_saved(c, &key);
            }
        }
        Action::DraftSaved(key, at) => {
            if let Some(c) = app.stack.compose_mut() {
                compose::draft_saved(c, &key, at);
            }
        }
        Action::ComposeLoaded(loaded) => {
            if let Some(c) = app.stack.compose_mut() {
                compose::loaded(c, *loaded);
            }
        }
        Action::MessageSent { report, retry } => {
            composer(app, now, fx, |c, _| compose::sent(c, *report, retry))
        }
        Action::SendFailed(text) => composer(app, now, fx, |c, _| compose::send_failed(c, text)),
        _ => {}
    }
}

/// The tick: a changed draft autosaved every few seconds.
pub(super) fn tick(app: &mut App, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    composer(app, now, fx, |c, _| {
        effects(c.and_then(|c| compose::tick(c, now)))
    });
}

/// Saves the composer's draft now if it changed (quitting, a signal).
pub(super) fn save(app: &mut App, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    composer(app, now, fx, |c, _| {
        effects(c.and_then(|c| compose::save(c, now)))
    });
}

/// An outcome asking only for `e`, if any.
fn effects(e: Option<Effect>) -> Outcome {
    let mut out = Outcome::stay();
    out.effects.extend(e);
    out
}
