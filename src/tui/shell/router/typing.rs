//! Typed and pasted text: to the field dialog when it is open, else to
//! the screen on top (the composer, a screen's dialog, the form), else
//! to the board's filter.

use super::*;
use crate::tui::kit::fields::state as fields;
use crate::tui::screens::compose::handle as compose;
use crate::tui::shell::stack::Screen;

pub(super) fn input(
    app: &mut App,
    key: crossterm::event::KeyEvent,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) {
    if app.confirm_quit {
        return;
    }
    if let Some(Modal::Fields(d)) = &mut app.modal {
        if let crossterm::event::KeyCode::Char(c) = key.code
            && fields::pick_by_key(d, c)
        {
            return;
        }
        d.key(key);
        return;
    }
    if app.modal.is_some() {
        return;
    }
    if app.stack.screen() == Screen::Compose {
        if let Some(c) = app.stack.compose_mut() {
            compose::input(c, key);
        }
        return;
    }
    if crate::tui::shell::screens::input(app, key, now, fx) {
        return;
    }
    if app.board.filtering && app.board.filter.handle_key(key) {
        filter_changed(app, now);
    }
}

pub(super) fn paste(app: &mut App, text: &str, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    if let Some(Modal::Fields(d)) = &mut app.modal {
        // Marked changed first: the paste may leave a note (cut).
        d.dirty = true;
        d.error = None;
        fields::paste(d, text);
        return;
    }
    if app.confirm_quit || app.modal.is_some() {
        return;
    }
    if app.stack.screen() == Screen::Compose {
        if let Some(c) = app.stack.compose_mut() {
            compose::paste(c, text);
        }
        return;
    }
    if crate::tui::shell::screens::paste(app, text, now, fx) {
        return;
    }
    if app.board.filtering {
        // One line: newlines become spaces; display_safe shows the rest.
        app.board
            .filter
            .insert_str(&text.replace(['\r', '\n'], " "));
        filter_changed(app, now);
    }
}

/// The board re-filtered from its first row.
fn filter_changed(app: &mut App, now: DateTime<Utc>) {
    app.board.selected = 0;
    app.rebuild_order(now);
}
