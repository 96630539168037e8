//! The message editor: ratatui-textarea behind a gate. The textarea draws
//! its lines raw, so nothing reaches it unchecked: text put in (a rendered
//! template, a restored draft, a paste) goes through
//! [`crate::text::editable_safe`] first, and a typed key inserts only a
//! printable character. Every other key is the textarea's own editing
//! (arrows, Home/End, Backspace, Ctrl-K, Ctrl-W, Alt-B/F...).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, Input, TextArea, WrapMode};

use crate::text::{editable_safe, is_printable};

/// The most a message may hold, in characters; a paste past it is cut.
pub const MAX_CHARS: usize = 100_000;

#[derive(Debug, Clone)]
pub struct Editor {
    area: TextArea<'static>,
}

impl Default for Editor {
    fn default() -> Self {
        Editor::new("", (0, 0))
    }
}

impl Editor {
    /// An editor holding `text` (made safe), the cursor at (row, column)
    /// in characters, clamped to the text.
    pub fn new(text: &str, cursor: (usize, usize)) -> Editor {
        let safe = editable_safe(&cut(text, MAX_CHARS));
        let lines: Vec<String> = safe.split('\n').map(str::to_string).collect();
        let mut area = TextArea::new(lines);
        area.set_wrap_mode(WrapMode::WordOrGlyph);
        area.set_cursor_line_style(Style::new());
        area.set_cursor_style(Style::new().add_modifier(Modifier::REVERSED));
        area.set_max_histories(200);
        let mut editor = Editor { area };
        editor.set_cursor(cursor);
        editor
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    pub fn lines(&self) -> &[String] {
        self.area.lines()
    }

    pub fn chars(&self) -> usize {
        self.area
            .lines()
            .iter()
            .map(|l| l.chars().count() + 1)
            .sum::<usize>()
            .saturating_sub(1)
    }

    /// (row, column) in characters.
    pub fn cursor(&self) -> (usize, usize) {
        let c = self.area.cursor();
        (c.0, c.1)
    }

    /// Moves the cursor to (row, column), clamped to the text.
    pub fn set_cursor(&mut self, (row, col): (usize, usize)) {
        let clamp = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        self.area
            .move_cursor(CursorMove::Jump(clamp(row), clamp(col)));
    }

    /// Applies an editing key; returns whether the text changed. A key
    /// that would insert a control or invisible character does nothing.
    pub fn key(&mut self, key: KeyEvent) -> bool {
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match key.code {
            KeyCode::Char(c) if plain => {
                if !is_printable(c) || self.chars() >= MAX_CHARS {
                    return false;
                }
                self.area.insert_char(c);
                true
            }
            // The textarea would paste its own yank buffer; pasting goes
            // through `paste` instead, so there is one way in.
            KeyCode::Char('y') if key.modifiers.contains(KeyModifiers::CONTROL) => false,
            KeyCode::Enter if self.chars() >= MAX_CHARS => false,
            KeyCode::Tab if self.chars() + 4 > MAX_CHARS => false,
            _ => self.area.input(Input::from(key)),
        }
    }

    /// Inserts pasted text at the cursor, made safe; cut at [`MAX_CHARS`].
    /// Returns whether anything was cut.
    pub fn paste(&mut self, text: &str) -> bool {
        let room = MAX_CHARS.saturating_sub(self.chars());
        let safe = editable_safe(text);
        let kept = cut(&safe, room);
        let was_cut = kept.len() < safe.len();
        self.area.insert_str(kept);
        was_cut
    }

    pub fn undo(&mut self) -> bool {
        self.area.undo()
    }

    pub fn redo(&mut self) -> bool {
        self.area.redo()
    }

    /// The widget to draw (`&TextArea` is a ratatui widget; it keeps its
    /// scroll position in a cell, so drawing needs no `&mut`).
    pub fn view(&self) -> &TextArea<'static> {
        &self.area
    }
}

/// The first `max` characters of `s`.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => s[..at].to_string(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn only_safe(e: &Editor) -> bool {
        e.text()
            .chars()
            .all(|c| c == '\n' || (is_printable(c) && !c.is_control()))
    }

    #[test]
    fn text_put_in_is_made_safe_and_the_cursor_is_restored() {
        let e = Editor::new("Title \u{1b}]52;c;eA==\u{7}\r\nline two\u{202E}", (1, 4));
        assert_eq!(e.lines(), ["Title ␛]52;c;eA==␇", "line two<U+202E>"]);
        assert_eq!(e.cursor(), (1, 4));
        assert!(only_safe(&e));
        // A cursor past the text is clamped to it.
        let e = Editor::new("ab\ncd", (9, 9));
        assert_eq!(e.cursor(), (1, 2));
    }

    #[test]
    fn typed_keys_insert_only_printable_characters() {
        let mut e = Editor::new("", (0, 0));
        for c in ['h', 'é', '\u{1b}', '\u{9b}', '\u{202E}', '\u{7}', '!'] {
            e.key(key(KeyCode::Char(c)));
        }
        assert_eq!(e.text(), "hé!");
        e.key(key(KeyCode::Enter));
        e.key(key(KeyCode::Char('x')));
        assert_eq!(e.text(), "hé!\nx");
        e.key(key(KeyCode::Backspace));
        e.key(key(KeyCode::Backspace));
        assert_eq!(e.text(), "hé!");
    }

    #[test]
    fn paste_is_sanitized_keeps_newlines_and_is_capped() {
        let mut e = Editor::new("a", (0, 1));
        assert!(!e.paste("b\r\nc\u{1b}[2J"));
        assert_eq!(e.text(), "ab\nc␛[2J");
        assert!(only_safe(&e));
        let big = "x".repeat(MAX_CHARS + 10);
        assert!(e.paste(&big));
        assert_eq!(e.chars(), MAX_CHARS);
        assert!(!e.key(key(KeyCode::Char('y'))));
    }

    #[test]
    fn undo_and_redo() {
        let mut e = Editor::new("start", (0, 5));
        e.key(key(KeyCode::Char('s')));
        assert_eq!(e.text(), "starts");
        assert!(e.undo());
        assert_eq!(e.text(), "start");
        // The pre-filled text is not undoable.
        assert!(!e.undo());
        assert!(e.redo());
        assert_eq!(e.text(), "starts");
        // The textarea's own yank-paste is not a way in.
        assert!(!e.key(ctrl('y')));
    }
}
