//! The conflict dialog's state and what its keys do (pure).

use crate::domain::incident::validate_title;
use crate::domain::version::{Conflict, Version};
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::kit::input::LineInput;

/// An edit refused by the store, and what the user is doing about it.
#[derive(Debug, Clone)]
pub struct ConflictDialog {
    pub conflict: Conflict,
    /// My edit as it was asked for (not based).
    pub mine: Effect,
    /// While merging by hand: the text, prefilled with mine.
    pub merge: Option<LineInput>,
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
            _ => None,
        }
    }

    pub fn context(&self) -> Context {
        if self.merge.is_some() {
            Context::ConflictMerge
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

    /// What `cmd` does.
    pub fn command(&mut self, cmd: Command) -> Choice {
        if self.merge.is_some() {
            return self.merge_command(cmd);
        }
        match cmd {
            Command::KeepMine => {
                Choice::Send(Effect::based(self.theirs_version(), self.mine.clone()))
            }
            Command::TakeTheirs => Choice::TakeTheirs,
            Command::MergeByHand => {
                match self.my_text() {
                    Some(text) => {
                        self.merge = Some(LineInput::new(text));
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
                let text = self
                    .merge
                    .as_ref()
                    .map_or("", |i| i.text())
                    .trim()
                    .to_string();
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
                self.error = None;
                Choice::Stay
            }
            _ => Choice::Stay,
        }
    }

    /// My edit with `text` in place of my text.
    fn with_text(&self, text: String) -> Result<Effect, String> {
        let Effect::Update(id, patch) = &self.mine else {
            return Err("only texts are merged by hand".into());
        };
        let mut patch = patch.clone();
        match self.conflict.field.as_str() {
            "title" => patch.title = Some(validate_title(&text)?),
            "summary" => patch.summary = Some(text),
            _ => return Err("only texts are merged by hand".into()),
        }
        Ok(Effect::Update(id.clone(), patch))
    }
}
