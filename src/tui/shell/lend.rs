//! What the shell lends a screen and how it carries out what the screen
//! asks: the `Ctx` built from the app, and the `Outcome` applied to it.
//! Below the screens' routing, so the answers' handlers use it too.

use chrono::{DateTime, Utc};

use super::app::{App, Modal, say};
use super::stack::Stack;
use crate::tui::effect::Effect;
use crate::tui::screens::board::state::{BoardFeed, BoardState};
use crate::tui::screens::compose::state::ComposeEnv;
use crate::tui::screens::ctx::{Ctx, Outcome};
use crate::tui::screens::nav::Nav;

/// The shared state lent to the screens, at `now`.
pub fn ctx(app: &App, now: DateTime<Utc>) -> Ctx<'_> {
    Ctx {
        now,
        actor: &app.actor,
        policy: &app.policy,
        no_color: app.no_color,
        rows: &app.rows,
        people: &app.people,
        drafts: &app.drafts,
        detail: app.detail(),
        present: &app.present,
        console: &app.console_id,
        feed: &(),
    }
}

/// Carries out what a screen asked for; returns where it asked to go.
pub fn apply(app: &mut App, out: Outcome, fx: &mut Vec<Effect>) -> Nav {
    // A screen's draft saves are the app's drafts as soon as asked for.
    for e in &out.effects {
        match e {
            Effect::SaveDraft { key, body } => {
                app.drafts.insert(key.clone(), body.clone());
            }
            Effect::DeleteDraft { key } => {
                app.drafts.remove(key);
            }
            // The board row follows a severity or status change at once,
            // until the store's reload arrives.
            Effect::Update(id, patch) => {
                if let Some(row) = app.rows.iter_mut().find(|r| r.incident.id == *id) {
                    if let Some(s) = patch.severity {
                        row.incident.severity = s;
                    }
                    if let Some(s) = patch.status {
                        row.incident.status = s;
                    }
                }
            }
            _ => {}
        }
    }
    fx.extend(out.effects);
    if let Some((text, error)) = out.message {
        say(app, text, error);
    }
    if let Some(d) = out.dialog {
        app.modal = Some(Modal::Fields(d));
    }
    out.nav
}

/// The stack, and the rest of the app lent as a context (without the
/// incident detail, which is on the stack): for the worker's answers to
/// screens that may be under others.
pub fn split(app: &mut App, now: DateTime<Utc>) -> (&mut Stack, Ctx<'_>) {
    let c = Ctx {
        now,
        actor: &app.actor,
        policy: &app.policy,
        no_color: app.no_color,
        rows: &app.rows,
        people: &app.people,
        drafts: &app.drafts,
        detail: None,
        present: &app.present,
        console: &app.console_id,
        feed: &(),
    };
    (&mut app.stack, c)
}

/// [`split`] with the composer's feed, the comms settings.
pub fn split_compose(app: &mut App, now: DateTime<Utc>) -> (&mut Stack, Ctx<'_, ComposeEnv>) {
    let c = Ctx {
        now,
        actor: &app.actor,
        policy: &app.policy,
        no_color: app.no_color,
        rows: &app.rows,
        people: &app.people,
        drafts: &app.drafts,
        detail: None,
        present: &app.present,
        console: &app.console_id,
        feed: &app.comms,
    };
    (&mut app.stack, c)
}

/// The board, the stack's floor, and the rest of the app lent to it with
/// its feed: its state lives in the app beside the rows it orders.
pub fn board(app: &mut App, now: DateTime<Utc>) -> (&mut BoardState, Ctx<'_, BoardFeed>) {
    let c = Ctx {
        now,
        actor: &app.actor,
        policy: &app.policy,
        no_color: app.no_color,
        rows: &app.rows,
        people: &app.people,
        drafts: &app.drafts,
        detail: None,
        present: &app.present,
        console: &app.console_id,
        feed: &app.board_feed,
    };
    (&mut app.board, c)
}
