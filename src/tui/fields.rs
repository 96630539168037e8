//! A dialog of a few labelled fields (one-line text inputs and choices),
//! used by the evidence, review, report and closing-gate screens: add
//! evidence, transfer, legal hold, export, edit a review field, add or drop
//! a corrective action, override the closing gate, write a report. Text is
//! edited with the console's own [`LineInput`] and drawn through
//! `display_safe`. Long edits are saved as drafts on the tick and restored
//! when the same dialog opens again.

use chrono::{DateTime, Utc};

use super::app::{App, Modal};
use super::effect::Effect;
use super::keymap::Command;
use super::kit::cursor::cycle;
use super::kit::input::LineInput;
use crate::domain::IncidentId;
use crate::tui::review::ReviewField;

/// What a field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(LineInput),
    /// One of a few options, chosen with ←/→ (or a typed initial).
    Choice {
        options: Vec<String>,
        selected: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub label: String,
    pub value: FieldValue,
    /// A short hint shown after an empty field.
    pub hint: String,
    /// Pasted newlines are kept (log excerpts), not turned into spaces.
    pub multiline: bool,
}

impl Field {
    pub fn text(label: &str, value: &str, hint: &str) -> Field {
        Field {
            label: label.to_string(),
            value: FieldValue::Text(LineInput::new(value)),
            hint: hint.to_string(),
            multiline: false,
        }
    }

    pub fn choice(label: &str, options: &[&str], selected: usize) -> Field {
        Field {
            label: label.to_string(),
            value: FieldValue::Choice {
                options: options.iter().map(|s| s.to_string()).collect(),
                selected: selected.min(options.len().saturating_sub(1)),
            },
            hint: String::new(),
            multiline: false,
        }
    }

    pub fn input(&self) -> Option<&LineInput> {
        match &self.value {
            FieldValue::Text(i) => Some(i),
            FieldValue::Choice { .. } => None,
        }
    }
}

/// What submitting the dialog does.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// Fields: kind, content, source path, description.
    AddEvidence,
    /// Fields: to, purpose.
    Transfer { item: i64 },
    /// Field: reason.
    SetHold,
    /// Field: reason.
    ReleaseHold,
    /// Field: directory (or FILE.tar).
    Export,
    /// Field: the text of one review field.
    ReviewText { field: ReviewField },
    /// Fields: description, owner, due date.
    AddAction,
    /// Field: reason.
    DropAction { action: i64 },
    /// Field: reason (the closing gate's override).
    CloseOverride,
    /// Fields: format, file.
    Report,
}

impl Purpose {
    /// What Enter does, for the dialog's key line.
    pub fn verb(&self) -> &'static str {
        match self {
            Purpose::AddEvidence | Purpose::AddAction => "add",
            Purpose::Transfer { .. } => "transfer",
            Purpose::SetHold => "set the hold",
            Purpose::ReleaseHold => "lift the hold",
            Purpose::Export => "export",
            Purpose::ReviewText { .. } => "save",
            Purpose::DropAction { .. } => "drop it",
            Purpose::CloseOverride => "close anyway",
            Purpose::Report => "write",
        }
    }
}

/// A dialog of fields over the evidence, review or incident screen.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldsDialog {
    pub purpose: Purpose,
    pub id: IncidentId,
    pub title: String,
    /// Lines shown above the fields (what this is about, a refusal...).
    pub note: Vec<String>,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub error: Option<String>,
    /// Changed since the last autosave.
    pub dirty: bool,
    /// Continued from a saved draft.
    pub restored: bool,
    /// Long edits are kept as a draft under this key.
    pub draft_key: Option<String>,
}

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

/// A draft save or delete for the dialog, if it keeps drafts and changed.
pub fn autosave(
    d: &mut FieldsDialog,
    drafts: &mut std::collections::HashMap<String, String>,
) -> Option<Effect> {
    let key = d.draft_key.clone()?;
    if !d.dirty {
        return None;
    }
    d.dirty = false;
    if d.is_blank() {
        drafts.remove(&key).map(|_| Effect::DeleteDraft { key })
    } else {
        let body = d.to_draft();
        drafts.insert(key.clone(), body.clone());
        Some(Effect::SaveDraft { key, body })
    }
}

/// The most a paste puts into a field (a one-line editor is not the place
/// for whole log files: `warroom evidence add --excerpt-file` is).
pub const MAX_PASTE: usize = 256 * 1024;

/// Pasted text goes into the focused field; newlines are kept only where
/// the field takes several lines. Very large pastes are cut, and the dialog
/// says so.
pub fn paste(d: &mut FieldsDialog, text: &str) {
    let mut text = text;
    if text.len() > MAX_PASTE {
        let mut end = MAX_PASTE;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text = &text[..end];
        d.error = Some(format!(
            "the paste was cut at {} KiB; for more, use `warroom evidence add --excerpt-file`",
            MAX_PASTE / 1024
        ));
    }
    let multiline = d.focused_is_multiline();
    if let Some(input) = d.focused_input() {
        if multiline {
            input.insert_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
        } else {
            input.insert_str(&text.replace(['\r', '\n'], " "));
        }
    }
}

/// On a choice field, a typed letter picks the first option starting with it.
pub fn pick_by_key(d: &mut FieldsDialog, c: char) -> bool {
    let Some(Field {
        value: FieldValue::Choice { options, selected },
        ..
    }) = d.fields.get_mut(d.focus)
    else {
        return false;
    };
    let c = c.to_ascii_lowercase();
    if let Some(i) = options
        .iter()
        .position(|o| o.to_ascii_lowercase().starts_with(c))
    {
        *selected = i;
        d.dirty = true;
    }
    after_choice(d);
    true
}

/// Keeps dependent labels and defaults in step with a changed choice.
fn after_choice(d: &mut FieldsDialog) {
    match d.purpose {
        Purpose::AddEvidence => super::evidence::relabel_add(d),
        Purpose::Report => super::records::report_path_follows_format(d),
        _ => {}
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
                app.message = Some(super::app::Message {
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
        | Purpose::Export => super::evidence::submit(app, d, fx),
        Purpose::ReviewText { .. } | Purpose::AddAction | Purpose::DropAction { .. } => {
            super::review::submit(app, d, now, fx)
        }
        Purpose::CloseOverride => super::review::submit_override(app, d, fx),
        Purpose::Report => super::records::submit_report(app, d, fx),
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
