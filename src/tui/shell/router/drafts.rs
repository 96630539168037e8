//! Draft autosave of the open form or edit: saved when changed, deleted
//! when emptied or done with.

use super::*;

/// The draft save (or delete) of the dialog or screen being typed in, if
/// it changed.
pub fn autosave(app: &mut App, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    match &mut app.modal {
        Some(Modal::Fields(d)) => {
            fx.extend(crate::tui::kit::fields::state::autosave(d, &mut app.drafts))
        }
        Some(_) => {}
        None => crate::tui::shell::screens::autosave(app, now, fx),
    }
}

pub fn discard_draft(app: &mut App, key: &str, fx: &mut Vec<Effect>) {
    if app.drafts.remove(key).is_some() {
        fx.push(Effect::DeleteDraft {
            key: key.to_string(),
        });
    }
}
