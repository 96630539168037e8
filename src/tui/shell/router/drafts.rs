//! Draft autosave of the open form or edit: saved when changed, deleted
//! when emptied or done with.

use super::*;

/// A draft save (or delete) for the form or edit in progress, if it changed.
pub fn autosave(app: &mut App) -> Option<Effect> {
    match &mut app.modal {
        Some(Modal::NewIncident(f)) if f.dirty => {
            f.dirty = false;
            Some(save_or_delete(
                &mut app.drafts,
                NEW_INCIDENT_DRAFT.to_string(),
                (!f.is_blank()).then(|| f.to_draft()),
            ))
        }
        Some(Modal::Text(t)) if t.dirty => {
            t.dirty = false;
            let body = (!t.input.is_blank())
                .then(|| serde_json::json!({ "text": t.input.text() }).to_string());
            Some(save_or_delete(&mut app.drafts, t.draft_key(), body))
        }
        Some(Modal::Fields(d)) => crate::tui::kit::fields::state::autosave(d, &mut app.drafts),
        _ => None,
    }
}

pub fn save_or_delete(
    drafts: &mut std::collections::HashMap<String, String>,
    key: String,
    body: Option<String>,
) -> Effect {
    match body {
        Some(body) => {
            drafts.insert(key.clone(), body.clone());
            Effect::SaveDraft { key, body }
        }
        None => {
            drafts.remove(&key);
            Effect::DeleteDraft { key }
        }
    }
}

pub fn discard_draft(app: &mut App, key: &str, fx: &mut Vec<Effect>) {
    if app.drafts.remove(key).is_some() {
        fx.push(Effect::DeleteDraft {
            key: key.to_string(),
        });
    }
}
