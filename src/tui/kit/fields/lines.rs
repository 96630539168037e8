//! A field of several lines: the composer's gated [`Editor`] (with its
//! undo), and the text it holds kept alongside so the dialog can lend it
//! out as `&str` like a one-line field's.

use crossterm::event::KeyEvent;

use crate::tui::kit::editor::Editor;

/// Rows a multi-line field takes in its dialog.
pub const ROWS: u16 = 6;

#[derive(Debug, Clone)]
pub struct Lines {
    /// Boxed: the textarea is large and dialogs are moved about by value.
    editor: Box<Editor>,
    /// Always `editor.text()`: every change goes through the methods here.
    text: String,
}

impl PartialEq for Lines {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.editor.cursor() == other.editor.cursor()
    }
}

impl Lines {
    /// Holding `text` (made safe by the editor), the cursor at its end.
    pub fn new(text: &str) -> Lines {
        let editor = Box::new(Editor::new(text, (usize::MAX, usize::MAX)));
        let text = editor.text();
        Lines { editor, text }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn editor(&self) -> &Editor {
        &self.editor
    }

    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// An editing key (Enter is a newline here); whether the text changed.
    pub fn key(&mut self, key: KeyEvent) -> bool {
        let changed = self.editor.key(key);
        self.sync(changed)
    }

    /// Pasted text, newlines kept; whether it was cut.
    pub fn paste(&mut self, text: &str) -> bool {
        let cut = self
            .editor
            .paste(&text.replace("\r\n", "\n").replace('\r', "\n"));
        self.sync(true);
        cut
    }

    pub fn undo(&mut self) -> bool {
        let changed = self.editor.undo();
        self.sync(changed)
    }

    pub fn redo(&mut self) -> bool {
        let changed = self.editor.redo();
        self.sync(changed)
    }

    fn sync(&mut self, changed: bool) -> bool {
        if changed {
            self.text = self.editor.text();
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn typed(l: &mut Lines, s: &str) {
        for c in s.chars() {
            l.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn enter_is_a_newline_and_the_text_follows_every_change() {
        let mut l = Lines::new("first");
        l.key(KeyEvent::from(KeyCode::Enter));
        typed(&mut l, "second");
        assert_eq!(l.text(), "first\nsecond");
        assert!(!l.paste("\r\nthird"), "nothing was cut");
        assert_eq!(l.text(), "first\nsecond\nthird");
        assert!(l.undo());
        assert_eq!(l.text(), "first\nsecond");
        assert!(l.redo());
        assert_eq!(l.text(), "first\nsecond\nthird");
        assert!(!l.is_blank());
        assert!(Lines::new(" \n ").is_blank());
    }
}
