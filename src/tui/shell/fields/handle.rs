//! The field dialog: how keys and the worker's answers change the app.

use chrono::{DateTime, Utc};

use super::state::*;
use crate::domain::IncidentId;
use crate::tui::effect::Effect;
use crate::tui::kit::cursor::cycle;
use crate::tui::kit::input::LineInput;
use crate::tui::shell::app::{App, Modal};
use crate::tui::shell::keymap::Command;

impl FieldsDialog {
    pub fn new(purpose: Purpose, id: IncidentId, title: &str, fields: Vec<Field>) -> FieldsDialog {
        let focus = fields
            .iter()
            .position(|f| matches!(f.value, FieldValue::Text(_)))
            .unwrap_or(0);
        FieldsDialog {
            purpose,
            id,
            title: title.to_string(),
            note: Vec::new(),
            fields,
            focus,
            error: None,
            dirty: false,
            restored: false,
            draft_key: None,
        }
    }

    pub fn with_note(mut self, lines: Vec<String>) -> FieldsDialog {
        self.note = lines;
        self
    }

    /// Keeps the dialog's text as a draft under `key`, continuing one that
    /// was saved before.
    pub fn with_draft(mut self, key: String, app: &App) -> FieldsDialog {
        if let Some(body) = app.drafts.get(&key) {
            self.restore(body);
        }
        self.draft_key = Some(key);
        self
    }

    /// The text of field `i` ("" for a choice or a missing field).
    pub fn text(&self, i: usize) -> &str {
        self.fields
            .get(i)
            .and_then(Field::input)
            .map_or("", LineInput::text)
    }

    /// The option chosen in field `i` (0 for a text or missing field).
    pub fn choice(&self, i: usize) -> usize {
        match self.fields.get(i).map(|f| &f.value) {
            Some(FieldValue::Choice { selected, .. }) => *selected,
            _ => 0,
        }
    }

    pub fn focused_input(&mut self) -> Option<&mut LineInput> {
        self.input_mut(self.focus)
    }

    /// The input of text field `i`.
    pub fn input_mut(&mut self, i: usize) -> Option<&mut LineInput> {
        match self.fields.get_mut(i).map(|f| &mut f.value) {
            Some(FieldValue::Text(input)) => Some(input),
            _ => None,
        }
    }

    pub fn focused_is_multiline(&self) -> bool {
        self.fields.get(self.focus).is_some_and(|f| f.multiline)
    }

    /// Nothing typed in any text field.
    pub fn is_blank(&self) -> bool {
        self.fields
            .iter()
            .filter_map(Field::input)
            .all(LineInput::is_blank)
    }

    /// A draft: every field's text or choice, by position.
    pub fn to_draft(&self) -> String {
        let values: Vec<serde_json::Value> = self
            .fields
            .iter()
            .map(|f| match &f.value {
                FieldValue::Text(i) => serde_json::Value::String(i.text().to_string()),
                FieldValue::Choice { selected, .. } => serde_json::json!(selected),
            })
            .collect();
        serde_json::json!({ "fields": values }).to_string()
    }

    /// Fills the fields from a draft; a damaged draft changes nothing.
    pub fn restore(&mut self, body: &str) {
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let Some(values) = v.get("fields").and_then(|f| f.as_array()) else {
            return;
        };
        for (f, v) in self.fields.iter_mut().zip(values) {
            match (&mut f.value, v) {
                (FieldValue::Text(i), serde_json::Value::String(s)) => *i = LineInput::new(s),
                (FieldValue::Choice { options, selected }, v) => {
                    if let Some(n) = v.as_u64().and_then(|n| usize::try_from(n).ok())
                        && n < options.len()
                    {
                        *selected = n;
                    }
                }
                _ => {}
            }
        }
        self.restored = true;
    }

    /// Has typed text that a quit would otherwise lose.
    pub fn has_unsaved(&self) -> bool {
        self.draft_key.is_some() && self.dirty && !self.is_blank()
    }
}

/// A command while the dialog has the focus. The dialog was taken out of
/// `app.modal`; it is put back unless the command closes it.
pub fn command(
    app: &mut App,
    mut d: FieldsDialog,
    cmd: Command,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) {
    let n = d.fields.len().max(1);
    match cmd {
        Command::NextField => d.focus = cycle(d.focus, n, true),
        Command::PrevField => d.focus = cycle(d.focus, n, false),
        Command::ChoiceNext | Command::ChoicePrev => {
            let forward = cmd == Command::ChoiceNext;
            match d.fields.get_mut(d.focus).map(|f| &mut f.value) {
                Some(FieldValue::Choice { options, selected }) => {
                    *selected = cycle(*selected, options.len(), forward);
                    d.dirty = true;
                    after_choice(&mut d);
                }
                Some(FieldValue::Text(input)) => {
                    let code = if forward {
                        crossterm::event::KeyCode::Right
                    } else {
                        crossterm::event::KeyCode::Left
                    };
                    input.handle_key(crossterm::event::KeyEvent::from(code));
                }
                None => {}
            }
        }
        Command::Submit => {
            // Save what was typed first: the draft goes once the store has
            // the change, and stays if the write fails.
            if d.draft_key.is_some() {
                d.dirty = true;
                fx.extend(autosave(&mut d, &mut app.drafts));
            }
            match submit(app, &d, now, fx) {
                Ok(()) => return,
                Err(e) => d.error = Some(e),
            }
        }
        Command::Cancel => {
            fx.extend(autosave(&mut d, &mut app.drafts));
            if d.draft_key
                .as_ref()
                .is_some_and(|k| app.drafts.contains_key(k))
            {
                app.message = Some(crate::tui::shell::app::Message {
                    text: "kept as a draft: it comes back when you open this again".into(),
                    error: false,
                    age: 0,
                });
            }
            return;
        }
        _ => {}
    }
    app.modal = Some(Modal::Fields(d));
}

/// Validates and turns the dialog into effects; an error keeps it open.
fn submit(
    app: &mut App,
    d: &FieldsDialog,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    match &d.purpose {
        Purpose::AddEvidence
        | Purpose::Transfer { .. }
        | Purpose::SetHold
        | Purpose::ReleaseHold
        | Purpose::Export => crate::tui::screens::evidence::handle::submit(app, d, fx),
        Purpose::ReviewText { .. } | Purpose::AddAction | Purpose::DropAction { .. } => {
            crate::tui::screens::review::handle::submit(app, d, now, fx)
        }
        Purpose::CloseOverride => crate::tui::screens::review::handle::submit_override(app, d, fx),
        Purpose::Report => crate::tui::shell::records::handle::submit_report(app, d, fx),
        Purpose::SetDetected => crate::tui::screens::incident::clocks::submit_detected(d, now, fx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_round_trip_text_and_choices() {
        let mut d = FieldsDialog::new(
            Purpose::Report,
            IncidentId::new(2026, 1),
            "t",
            vec![
                Field::choice("Format", &["md", "html", "json"], 0),
                Field::text("File", "x.md", ""),
            ],
        );
        assert_eq!(d.focus, 1, "focus starts on the first text field");
        if let Some(FieldValue::Choice { selected, .. }) = d.fields.get_mut(0).map(|f| &mut f.value)
        {
            *selected = 2;
        }
        let body = d.to_draft();
        let mut e = FieldsDialog::new(
            Purpose::Report,
            IncidentId::new(2026, 1),
            "t",
            vec![
                Field::choice("Format", &["md", "html", "json"], 0),
                Field::text("File", "", ""),
            ],
        );
        e.restore(&body);
        assert_eq!(e.choice(0), 2);
        assert_eq!(e.text(1), "x.md");
        assert!(e.restored);
        // A damaged draft leaves the fields alone.
        let mut f = e.clone();
        f.restore("{not json");
        assert_eq!(f.text(1), "x.md");
    }

    #[test]
    fn paste_keeps_newlines_only_in_multiline_fields() {
        let mut d = FieldsDialog::new(
            Purpose::AddEvidence,
            IncidentId::new(2026, 1),
            "t",
            vec![Field::text("One", "", ""), Field::text("Many", "", "")],
        );
        d.fields[1].multiline = true;
        paste(&mut d, "a\nb");
        assert_eq!(d.text(0), "a b");
        d.focus = 1;
        paste(&mut d, "c\r\nd");
        assert_eq!(d.text(1), "c\nd");
        assert!(d.error.is_none());
        // A huge paste is cut on a character boundary, and said so.
        let huge = "é".repeat(MAX_PASTE);
        paste(&mut d, &huge);
        assert!(d.text(1).len() <= MAX_PASTE + 3);
        assert!(d.error.as_deref().unwrap().contains("cut"));
    }
}
