//! The conflict dialog's state and what its keys do (pure).

use crate::domain::incident::validate_title;
use crate::domain::version::{Conflict, Version};
use crate::store::ReviewPatch;
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::kit::fields::lines::Lines;
use crate::tui::kit::input::LineInput;
use crate::tui::records::RecordsEffect;

/// An edit refused by the store, and what the user is doing about it.
#[derive(Debug, Clone)]
pub struct ConflictDialog {
    pub conflict: Conflict,
    /// My edit as it was asked for (not based).
    pub mine: Effect,
    /// While merging a title by hand: the text, prefilled with mine.
    pub merge: Option<LineInput>,
    /// While merging a text of several lines (summary, review texts).
    pub merge_lines: Option<Lines>,
    pub error: Option<String>,
}

/// What a key decided.
#[derive(Debug, Clone)]
pub enum Choice {
    /// Still deciding, or merging.
    Stay,
    /// Theirs stands; my edit is dropped.
    TakeTheirs,
    /// Send this: mine (or the merged text) based on their version.
    Send(Effect),
}

impl ConflictDialog {
    pub fn new(conflict: Conflict, mine: Effect) -> ConflictDialog {
        ConflictDialog {
            conflict,
            mine,
            merge: None,
            merge_lines: None,
            error: None,
        }
    }

    /// The version their change made: what keeping mine is based on.
    pub fn theirs_version(&self) -> Version {
        Version(self.conflict.theirs.seq)
    }

    /// A role handover over a holder that changed.
    pub fn is_handover(&self) -> bool {
        self.conflict.field.starts_with("role:")
    }

    /// The text mine wanted, when both edits are texts (merged by hand);
    /// other targets are one value or the other.
    pub fn my_text(&self) -> Option<&str> {
        match (&self.mine, self.conflict.field.as_str()) {
            (Effect::Update(_, p), "title") => p.title.as_deref(),
            (Effect::Update(_, p), "summary") => p.summary.as_deref(),
            (Effect::Records(r), field) => match (r.as_ref(), field.strip_prefix("review:")) {
                (RecordsEffect::UpdateReview { patch, .. }, Some(name)) => {
                    review_text(patch, name)?.as_deref()
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub fn context(&self) -> Context {
        if self.merge.is_some() {
            Context::ConflictMerge
        } else if self.merge_lines.is_some() {
            Context::ConflictMergeLines
        } else if self.is_handover() {
            Context::ConflictHandover
        } else if self.my_text().is_some() {
            Context::Conflict
        } else {
            Context::ConflictPick
        }
    }

    /// The merge text while merging (typing and pasting go there).
    pub fn input_mut(&mut self) -> Option<&mut LineInput> {
        self.merge.as_mut()
    }

    /// The merge text of several lines while merging one.
    pub fn lines_mut(&mut self) -> Option<&mut Lines> {
        self.merge_lines.as_mut()
    }

    pub fn merging(&self) -> bool {
        self.merge.is_some() || self.merge_lines.is_some()
    }

    /// What `cmd` does.
    pub fn command(&mut self, cmd: Command) -> Choice {
        if self.merging() {
            return self.merge_command(cmd);
        }
        match cmd {
            Command::KeepMine => {
                Choice::Send(Effect::based(self.theirs_version(), self.mine.clone()))
            }
            Command::TakeTheirs => Choice::TakeTheirs,
            Command::MergeByHand => {
                match self.my_text() {
                    // A title is one line; the others may have several.
                    Some(text) if self.conflict.field == "title" => {
                        self.merge = Some(LineInput::new(text));
                        self.error = None;
                    }
                    Some(text) => {
                        self.merge_lines = Some(Lines::new(text));
                        self.error = None;
                    }
                    None => {
                        self.error = Some(format!(
                            "{} is one value or the other: k keeps mine, t takes theirs",
                            self.conflict.what
                        ))
                    }
                }
                Choice::Stay
            }
            _ => Choice::Stay,
        }
    }

    fn merge_command(&mut self, cmd: Command) -> Choice {
        match cmd {
            Command::Submit => {
                let text = match (&self.merge, &self.merge_lines) {
                    (Some(i), _) => i.text(),
                    (None, Some(l)) => l.text(),
                    (None, None) => "",
                };
                let text = text.trim().to_string();
                match self.with_text(text) {
                    Ok(e) => Choice::Send(Effect::based(self.theirs_version(), e)),
                    Err(e) => {
                        self.error = Some(e);
                        Choice::Stay
                    }
                }
            }
            Command::Cancel => {
                self.merge = None;
                self.merge_lines = None;
                self.error = None;
                Choice::Stay
            }
            Command::Undo => {
                if let Some(l) = self.merge_lines.as_mut() {
                    l.undo();
                }
                Choice::Stay
            }
            Command::Redo => {
                if let Some(l) = self.merge_lines.as_mut() {
                    l.redo();
                }
                Choice::Stay
            }
            _ => Choice::Stay,
        }
    }

    /// My edit with `text` in place of my text.
    fn with_text(&self, text: String) -> Result<Effect, String> {
        let not_text = || "only texts are merged by hand".to_string();
        match (&self.mine, self.conflict.field.as_str()) {
            (Effect::Update(id, patch), field) => {
                let mut patch = patch.clone();
                match field {
                    "title" => patch.title = Some(validate_title(&text)?),
                    "summary" => patch.summary = Some(text),
                    _ => return Err(not_text()),
                }
                Ok(Effect::Update(id.clone(), patch))
            }
            (Effect::Records(r), field) => {
                let RecordsEffect::UpdateReview { id, patch, draft } = r.as_ref() else {
                    return Err(not_text());
                };
                let mut patch = patch.clone();
                let name = field.strip_prefix("review:").ok_or_else(not_text)?;
                *review_text_mut(&mut patch, name).ok_or_else(not_text)? = Some(text);
                Ok(Effect::Records(Box::new(RecordsEffect::UpdateReview {
                    id: id.clone(),
                    patch,
                    draft: draft.clone(),
                })))
            }
            _ => Err(not_text()),
        }
    }
}

/// A review text of a patch by its stored name (the ones merged by hand).
fn review_text<'a>(p: &'a ReviewPatch, name: &str) -> Option<&'a Option<String>> {
    match name {
        "statement" => Some(&p.statement),
        "root_cause" => Some(&p.root_cause),
        "lessons" => Some(&p.lessons),
        "went_well" => Some(&p.went_well),
        "went_badly" => Some(&p.went_badly),
        _ => None,
    }
}

fn review_text_mut<'a>(p: &'a mut ReviewPatch, name: &str) -> Option<&'a mut Option<String>> {
    match name {
        "statement" => Some(&mut p.statement),
        "root_cause" => Some(&mut p.root_cause),
        "lessons" => Some(&mut p.lessons),
        "went_well" => Some(&mut p.went_well),
        "went_badly" => Some(&mut p.went_badly),
        _ => None,
    }
}

/// The refused edits waiting for a choice (the first is shown), and the
/// version of the incident the open dialog was opened at.
#[derive(Debug, Clone, Default)]
pub struct Conflicts {
    pub waiting: Vec<ConflictDialog>,
    pub dialog_base: Option<(crate::domain::IncidentId, Version)>,
}

impl Conflicts {
    pub fn shown(&self) -> Option<&ConflictDialog> {
        self.waiting.first()
    }
}
