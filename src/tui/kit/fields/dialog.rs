//! The field dialog: building it, reading what was typed, and how keys
//! move and change it (submitting is its opener's business).

use std::collections::HashMap;

use super::state::*;
use crate::domain::IncidentId;
use crate::tui::command::Command;
use crate::tui::kit::cursor::cycle;
use crate::tui::kit::fields::lines::Lines;
use crate::tui::kit::input::LineInput;

impl FieldsDialog {
    pub fn new(
        purpose: impl Purpose,
        id: IncidentId,
        title: &str,
        fields: Vec<Field>,
    ) -> FieldsDialog {
        let focus = fields
            .iter()
            .position(|f| matches!(f.value, FieldValue::Text(_) | FieldValue::Lines(_)))
            .unwrap_or(0);
        FieldsDialog {
            purpose: Tag(Box::new(purpose)),
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
    pub fn with_draft(mut self, key: String, drafts: &HashMap<String, String>) -> FieldsDialog {
        if let Some(body) = drafts.get(&key) {
            self.restore(body);
        }
        self.draft_key = Some(key);
        self
    }

    /// The tag of the code that opened it, if it is of type `P`.
    pub fn purpose<P: Purpose>(&self) -> Option<&P> {
        self.purpose.0.as_any().downcast_ref::<P>()
    }

    /// What Enter does, for the key line.
    pub fn verb(&self) -> &'static str {
        self.purpose.0.verb()
    }

    /// A key that moves between or changes the fields (Tab, ←/→); says
    /// whether it was one.
    pub fn navigate(&mut self, cmd: Command) -> bool {
        let n = self.fields.len().max(1);
        match cmd {
            Command::NextField => self.focus = cycle(self.focus, n, true),
            Command::PrevField => self.focus = cycle(self.focus, n, false),
            Command::ChoiceNext | Command::ChoicePrev => {
                let forward = cmd == Command::ChoiceNext;
                match self.fields.get_mut(self.focus).map(|f| &mut f.value) {
                    Some(FieldValue::Choice { options, selected }) => {
                        *selected = cycle(*selected, options.len(), forward);
                        self.dirty = true;
                        after_choice(self);
                    }
                    Some(FieldValue::Text(input)) => {
                        let code = if forward {
                            crossterm::event::KeyCode::Right
                        } else {
                            crossterm::event::KeyCode::Left
                        };
                        input.handle_key(crossterm::event::KeyEvent::from(code));
                    }
                    Some(FieldValue::Lines(_)) | None => {}
                }
            }
            Command::Undo | Command::Redo => {
                if let Some(FieldValue::Lines(l)) =
                    self.fields.get_mut(self.focus).map(|f| &mut f.value)
                {
                    let changed = if cmd == Command::Undo {
                        l.undo()
                    } else {
                        l.redo()
                    };
                    self.dirty |= changed;
                }
            }
            _ => return false,
        }
        true
    }

    /// The text of field `i` ("" for a choice or a missing field).
    pub fn text(&self, i: usize) -> &str {
        self.fields.get(i).and_then(Field::typed).unwrap_or("")
    }

    /// A typed key for the focused text field (one line or several);
    /// whether the text changed. A change clears the last error.
    pub fn key(&mut self, key: crossterm::event::KeyEvent) -> bool {
        let changed = match self.fields.get_mut(self.focus).map(|f| &mut f.value) {
            Some(FieldValue::Text(input)) => input.handle_key(key),
            Some(FieldValue::Lines(l)) => l.key(key),
            _ => false,
        };
        if changed {
            self.dirty = true;
            self.error = None;
        }
        changed
    }

    /// The focus is on a text of several lines (Enter is a newline there).
    pub fn focused_is_lines(&self) -> bool {
        self.fields
            .get(self.focus)
            .is_some_and(|f| matches!(f.value, FieldValue::Lines(_)))
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
            .filter_map(Field::typed)
            .all(|t| t.trim().is_empty())
    }

    /// A draft: every field's text or choice, by position.
    pub fn to_draft(&self) -> String {
        let values: Vec<serde_json::Value> = self
            .fields
            .iter()
            .map(|f| match &f.value {
                FieldValue::Text(i) => serde_json::Value::String(i.text().to_string()),
                FieldValue::Lines(l) => serde_json::Value::String(l.text().to_string()),
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
                (FieldValue::Lines(l), serde_json::Value::String(s)) => *l = Lines::new(s),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Tag;

    impl Purpose for Tag {
        fn verb(&self) -> &'static str {
            "do"
        }
    }

    #[test]
    fn drafts_round_trip_text_and_choices() {
        let mut d = FieldsDialog::new(
            Tag,
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
            Tag,
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
    fn a_lines_field_types_newlines_and_its_draft_keeps_them() {
        use crossterm::event::{KeyCode, KeyEvent};
        let mut d = FieldsDialog::new(
            Tag,
            IncidentId::new(2026, 1),
            "t",
            vec![Field::text("One", "", ""), Field::lines("Many", "", "")],
        );
        assert!(!d.focused_is_lines());
        assert!(d.key(KeyEvent::from(KeyCode::Char('a'))));
        assert!(
            !d.key(KeyEvent::from(KeyCode::Enter)),
            "a one-line field has no newline"
        );
        d.navigate(Command::NextField);
        assert!(d.focused_is_lines());
        for k in [KeyCode::Char('x'), KeyCode::Enter, KeyCode::Char('y')] {
            assert!(d.key(KeyEvent::from(k)));
        }
        assert_eq!(d.text(1), "x\ny");
        assert!(d.dirty);
        paste(&mut d, "\r\nz");
        assert_eq!(d.text(1), "x\ny\nz");
        d.navigate(Command::Undo);
        assert_eq!(d.text(1), "x\ny", "the paste is one undo step");
        let body = d.to_draft();
        let mut e = FieldsDialog::new(
            Tag,
            IncidentId::new(2026, 1),
            "t",
            vec![Field::text("One", "", ""), Field::lines("Many", "", "")],
        );
        e.restore(&body);
        assert_eq!(e.text(0), "a");
        assert_eq!(e.text(1), "x\ny");
        assert!(!e.is_blank());
    }

    #[test]
    fn paste_keeps_newlines_only_in_multiline_fields() {
        let mut d = FieldsDialog::new(
            Tag,
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
