//! The record screens' answers from the store worker, handed to the
//! screen they are for (found on the stack) or to the open dialog.

use chrono::{DateTime, Utc};

use crate::domain::Status;
use crate::tui::effect::Effect;
use crate::tui::effect::boxed;
use crate::tui::kit::fields::state::FieldsDialog;
use crate::tui::records::*;
use crate::tui::shell::app::say;
use crate::tui::shell::app::{App, Modal};

/// After the board reloads: which resolved incidents' reviews are done
/// (only they can be overdue).
pub fn board_loaded(app: &App) -> Option<Effect> {
    app.rows
        .iter()
        .any(|r| r.incident.status == Status::Resolved)
        .then(|| boxed(RecordsEffect::LoadReviewState))
}

/// Applies what the worker reported.
pub fn loaded(app: &mut App, r: RecordsLoaded, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    match r {
        RecordsLoaded::Evidence {
            id,
            items,
            custody,
            hold,
        } => {
            if let Some(e) = app.stack.evidence_mut().filter(|e| e.id == id) {
                e.loaded(items, custody, hold);
            }
        }
        RecordsLoaded::EvidenceFailed { id, message } => {
            if let Some(e) = app.stack.evidence_mut().filter(|e| e.id == id) {
                e.error = Some(message);
            }
        }
        RecordsLoaded::Review { id, review } => {
            if let Some(s) = app.stack.review_mut().filter(|s| s.id == id) {
                crate::tui::screens::review::handle::loaded(s, review);
            }
        }
        RecordsLoaded::Metrics { incidents, reviews } => {
            let (stack, c) = crate::tui::shell::lend::split(app, now);
            if let Some(m) = stack.metrics_mut() {
                m.loaded(incidents, reviews, &c);
            }
        }
        RecordsLoaded::ReviewsComplete(set) => app.board_feed.complete_reviews = set,
        RecordsLoaded::Messages { id, list } => {
            if let Some(s) = app.stack.messages_mut().filter(|s| s.id == id) {
                s.loaded(list);
            }
        }
        RecordsLoaded::MessagesFailed { id, message } => {
            if let Some(s) = app.stack.messages_mut().filter(|s| s.id == id) {
                s.load_failed(message);
            }
        }
        RecordsLoaded::Retried {
            id,
            results,
            clipboard,
        } => {
            let state = app.stack.messages_mut().filter(|s| s.id == id);
            let out = crate::tui::screens::messages::handle::retried(state, results, clipboard);
            crate::tui::shell::lend::apply(app, out, fx);
        }
        RecordsLoaded::Done {
            message,
            error,
            drop_draft,
        } => {
            if let Some(key) = drop_draft {
                app.drafts.remove(&key);
            }
            say(app, message, error);
        }
        RecordsLoaded::Closed { id, message } => {
            let dialog = match &app.modal {
                Some(Modal::Fields(d)) => Some(d),
                _ => None,
            };
            if crate::tui::screens::review::handle::closed(dialog, &id) {
                app.modal = None;
            }
            say(app, message, false);
        }
        RecordsLoaded::GateRefused { id, message } => {
            if !crate::tui::screens::review::handle::override_failed(
                fields_dialog(app),
                &id,
                &message,
            ) {
                let d = crate::tui::screens::review::handle::gate_refused(
                    app.detail(),
                    &app.actor,
                    id,
                    message,
                );
                app.modal = Some(Modal::Fields(d));
            }
        }
        RecordsLoaded::Roster(r) => {
            let free = app.modal.is_none();
            let (stack, c) = crate::tui::shell::lend::split(app, now);
            let out = crate::tui::screens::roster::handle::loaded(stack.find_mut(), r, &c, free);
            crate::tui::shell::lend::apply(app, out, fx);
        }
        RecordsLoaded::CloseFailed { id, message } => {
            if !crate::tui::screens::review::handle::override_failed(
                fields_dialog(app),
                &id,
                &message,
            ) {
                say(app, message, true);
            }
        }
    }
}

/// The field dialog open over the screens, if one is.
fn fields_dialog(app: &mut App) -> Option<&mut FieldsDialog> {
    match app.modal.as_mut() {
        Some(Modal::Fields(d)) => Some(d),
        _ => None,
    }
}
