//! The field dialog: its state and pure helpers; nothing here imports the app.

use std::any::Any;
use std::fmt::Debug;

use crate::domain::IncidentId;
use crate::tui::effect::Effect;
use crate::tui::kit::fields::lines::Lines;
use crate::tui::kit::input::LineInput;

/// What a field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(LineInput),
    /// Text of several lines: Enter is a newline, Ctrl-S saves.
    Lines(Lines),
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

    /// A text of several lines (a summary, a reason, a review text).
    pub fn lines(label: &str, value: &str, hint: &str) -> Field {
        Field {
            label: label.to_string(),
            value: FieldValue::Lines(Lines::new(value)),
            hint: hint.to_string(),
            multiline: true,
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
            FieldValue::Lines(_) | FieldValue::Choice { .. } => None,
        }
    }

    /// The text typed, one line or several (None for a choice).
    pub fn typed(&self) -> Option<&str> {
        match &self.value {
            FieldValue::Text(i) => Some(i.text()),
            FieldValue::Lines(l) => Some(l.text()),
            FieldValue::Choice { .. } => None,
        }
    }
}

/// What a dialog is for: a tag the code that opened it owns (the
/// evidence screen's, the review's...) and the dialog carries opaquely.
/// The dialog knows only what Enter does, for its key line, and what a
/// changed choice does to the other fields; on submit the opener reads its
/// own tag back with [`FieldsDialog::purpose`] and decides what the values
/// mean.
pub trait Purpose: Debug + Clone + PartialEq + 'static {
    /// What Enter does ("add", "save"...).
    fn verb(&self) -> &'static str;

    /// Keeps dependent labels and defaults in step with a changed choice.
    fn after_choice(&self, _d: &mut FieldsDialog) {}
}

/// A [`Purpose`] behind a box: cloned, compared and read back by type.
pub trait AnyPurpose: Debug {
    fn verb(&self) -> &'static str;
    fn after_choice(&self, d: &mut FieldsDialog);
    fn clone_box(&self) -> Box<dyn AnyPurpose>;
    fn same(&self, other: &dyn AnyPurpose) -> bool;
    fn as_any(&self) -> &dyn Any;
}

impl<P: Purpose> AnyPurpose for P {
    fn verb(&self) -> &'static str {
        Purpose::verb(self)
    }

    fn after_choice(&self, d: &mut FieldsDialog) {
        Purpose::after_choice(self, d)
    }

    fn clone_box(&self) -> Box<dyn AnyPurpose> {
        Box::new(self.clone())
    }

    fn same(&self, other: &dyn AnyPurpose) -> bool {
        other.as_any().downcast_ref::<P>() == Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A dialog's purpose, boxed: cloned and compared through its type.
#[derive(Debug)]
pub struct Tag(pub Box<dyn AnyPurpose>);

impl Clone for Tag {
    fn clone(&self) -> Self {
        Tag(self.0.clone_box())
    }
}

impl PartialEq for Tag {
    fn eq(&self, other: &Self) -> bool {
        self.0.same(other.0.as_ref())
    }
}

/// A dialog of fields over the evidence, review or incident screen.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldsDialog {
    /// What it is for, owned by whoever opened it.
    pub purpose: Tag,
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
    if let Some(FieldValue::Lines(l)) = d.fields.get_mut(d.focus).map(|f| &mut f.value) {
        if l.paste(text) {
            d.error = Some(format!(
                "the paste was cut at {} characters",
                crate::tui::kit::editor::MAX_CHARS
            ));
        }
        return;
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
pub(crate) fn after_choice(d: &mut FieldsDialog) {
    let purpose = d.purpose.clone();
    purpose.0.after_choice(d);
}
