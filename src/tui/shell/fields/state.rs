//! The field dialog: its state and pure helpers; nothing here imports the app.

use crate::domain::IncidentId;
use crate::report::file::{ReportFormat, default_file_name};
use crate::tui::effect::Effect;
use crate::tui::kit::input::LineInput;
use crate::tui::screens::review::state::ReviewField;

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
    /// Fields: detection time, reason.
    SetDetected,
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
            Purpose::SetDetected => "correct it",
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
pub(crate) fn after_choice(d: &mut FieldsDialog) {
    match d.purpose {
        Purpose::AddEvidence => relabel_add(d),
        Purpose::Report => report_path_follows_format(d),
        _ => {}
    }
}

/// Labels the add dialog's fields for the chosen kind.
pub fn relabel_add(d: &mut FieldsDialog) {
    let kind = crate::tui::screens::evidence::state::ADD_KINDS
        .get(d.choice(0))
        .copied()
        .unwrap_or(crate::domain::evidence::EvidenceKind::Note);
    if let Some(f) = d.fields.get_mut(1) {
        let (label, hint) = match kind {
            crate::domain::evidence::EvidenceKind::Note => ("Note", "what was observed"),
            crate::domain::evidence::EvidenceKind::Excerpt => {
                ("Log lines", "paste them (newlines are kept)")
            }
            crate::domain::evidence::EvidenceKind::File => {
                ("File path", "copied into the evidence store")
            }
        };
        f.label = label.into();
        f.hint = hint.into();
        f.multiline = kind == crate::domain::evidence::EvidenceKind::Excerpt;
    }
    if let Some(f) = d.fields.get_mut(2) {
        f.hint = match kind {
            crate::domain::evidence::EvidenceKind::Excerpt => {
                "the log file they came from (optional)"
            }
            crate::domain::evidence::EvidenceKind::Note
            | crate::domain::evidence::EvidenceKind::File => "(excerpts only)",
        }
        .into();
    }
}

/// When the format changes, a file name still at its default follows it.
pub fn report_path_follows_format(d: &mut FieldsDialog) {
    let format = ReportFormat::ALL
        .get(d.choice(0))
        .copied()
        .unwrap_or(ReportFormat::Md);
    let current = d.text(1).to_string();
    let is_default = ReportFormat::ALL
        .iter()
        .any(|f| current == default_file_name(&d.id, *f));
    let name = default_file_name(&d.id, format);
    if is_default && let Some(input) = d.input_mut(1) {
        *input = crate::tui::kit::input::LineInput::new(&name);
    }
}
