//! Typed and pasted text: which input has the focus, and what a change
//! to it marks (dirty, errors cleared, the board re-filtered).

use super::*;

pub(super) fn focused_input(app: &mut App) -> Option<&mut LineInput> {
    if app.confirm_quit {
        return None;
    }
    match &mut app.modal {
        Some(Modal::NewIncident(f)) => match f.focus {
            FormField::Title => Some(&mut f.title),
            FormField::Summary => Some(&mut f.summary),
            FormField::Detected => Some(&mut f.detected),
            // Typing on a choice field picks by its first letter/number.
            FormField::Severity | FormField::Source => None,
        },
        Some(Modal::Text(t)) => Some(&mut t.input),
        Some(Modal::Assign(a)) => Some(&mut a.input),
        Some(Modal::Fields(d)) => d.focused_input(),
        Some(_) => None,
        None if app.board.filtering => Some(&mut app.board.filter),
        None => None,
    }
}

pub(super) fn text_changed(app: &mut App, now: DateTime<Utc>) {
    match &mut app.modal {
        Some(Modal::NewIncident(f)) => {
            f.dirty = true;
            // Clear a field's error as soon as it is being fixed.
            let focus = f.focus;
            f.errors.retain(|(field, _)| *field != focus);
        }
        Some(Modal::Text(t)) => {
            t.dirty = true;
            t.error = None;
        }
        Some(Modal::Fields(d)) => {
            d.dirty = true;
            d.error = None;
        }
        Some(Modal::Assign(a)) => {
            a.error = None;
            a.selected = if crate::tui::screens::incident::state::roster_matches(
                &app.people,
                a.input.text(),
            )
            .is_empty()
            {
                None
            } else {
                Some(0)
            };
        }
        _ => {
            if app.board.filtering {
                app.board.selected = 0;
                app.rebuild_order(now);
            }
        }
    }
}
