//! The message editor: ratatui-textarea behind a gate. The textarea draws
//! its lines raw, so nothing reaches it unchecked: text put in (a rendered
//! template, a restored draft, a paste) goes through
//! [`crate::text::editable_safe`] first, and a typed key inserts only a
//! printable character. Every other key is the textarea's own editing
//! (arrows, Home/End, Backspace, Ctrl-K, Ctrl-W, Alt-B/F...).
//!
//! Undo is kept here, not by the textarea: its history takes a typed
//! character per step, so a long paragraph typed then deleted came back
//! a character at a time. Here a step is a change of whole lines (see
//! `history`), and Up/Down move by line of the text, not by screen row.

mod history;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, Input, TextArea, WrapMode};

use crate::text::{editable_safe, is_printable};
use history::{History, Step};

/// The most a message may hold, in characters; a paste past it is cut.
pub const MAX_CHARS: usize = 100_000;

#[derive(Debug, Clone)]
pub struct Editor {
    area: TextArea<'static>,
    history: History,
    /// The column Up/Down aim for, kept across short lines.
    goal: Option<usize>,
}

/// Where a search for a marker (a `[FILL IN: ...]`) left the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// On the next (or previous) one.
    Next,
    /// On the first (or last) one, after going round the end.
    Wrapped,
    /// There is none: the cursor stays.
    None,
}

impl Default for Editor {
    fn default() -> Self {
        Editor::new("", (0, 0))
    }
}

fn text_area(lines: Vec<String>) -> TextArea<'static> {
    let mut area = TextArea::new(lines);
    area.set_wrap_mode(WrapMode::WordOrGlyph);
    area.set_cursor_line_style(Style::new());
    area.set_cursor_style(Style::new().add_modifier(Modifier::REVERSED));
    // The undo history is ours (see the module's note).
    area.set_max_histories(0);
    area
}

impl Editor {
    /// An editor holding `text` (made safe), the cursor at (row, column)
    /// in characters, clamped to the text.
    pub fn new(text: &str, cursor: (usize, usize)) -> Editor {
        let safe = editable_safe(&cut(text, MAX_CHARS));
        let lines: Vec<String> = safe.split('\n').map(str::to_string).collect();
        let mut editor = Editor {
            area: text_area(lines),
            history: History::default(),
            goal: None,
        };
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
        let goal = self.goal.take();
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let moves_only = plain
            && matches!(
                key.code,
                KeyCode::Left
                    | KeyCode::Right
                    | KeyCode::Up
                    | KeyCode::Down
                    | KeyCode::Home
                    | KeyCode::End
                    | KeyCode::PageUp
                    | KeyCode::PageDown
            );
        let alt_only = key.modifiers == KeyModifiers::ALT;
        match key.code {
            KeyCode::Up | KeyCode::Down if key.modifiers.is_empty() => {
                // The column aimed at lasts while Up/Down go on.
                self.goal = goal;
                self.line_up_down(key.code == KeyCode::Down);
                return false;
            }
            KeyCode::Up | KeyCode::Down if alt_only => {
                self.screen_row_up_down(key.code == KeyCode::Down);
                return false;
            }
            _ if moves_only => {
                self.history.seal();
                self.area.input(Input::from(key));
                return false;
            }
            _ => {}
        }
        let old = self.area.lines().to_vec();
        let before = self.cursor();
        let typed = match key.code {
            KeyCode::Char(c) if plain => Some(c),
            _ => None,
        };
        let changed = match key.code {
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
        };
        if changed {
            let after = self.cursor();
            self.history
                .record(&old, self.area.lines(), before, after, typed);
        } else {
            self.history.seal();
        }
        changed
    }

    /// Inserts pasted text at the cursor, made safe; cut at [`MAX_CHARS`].
    /// Returns whether anything was cut. The paste is one undo step.
    pub fn paste(&mut self, text: &str) -> bool {
        self.goal = None;
        let room = MAX_CHARS.saturating_sub(self.chars());
        let safe = editable_safe(text);
        let kept = cut(&safe, room);
        let was_cut = kept.len() < safe.len();
        let old = self.area.lines().to_vec();
        let before = self.cursor();
        if self.area.insert_str(kept) {
            let after = self.cursor();
            self.history
                .record(&old, self.area.lines(), before, after, None);
        }
        was_cut
    }

    /// Takes back the last step (a deleted line or block comes back
    /// whole); returns whether there was one.
    pub fn undo(&mut self) -> bool {
        self.goal = None;
        match self.history.undo() {
            Some(step) => {
                self.replace(step.row, step.inserted.len(), &step.removed);
                self.set_cursor(step.before);
                true
            }
            None => false,
        }
    }

    /// Makes the last step taken back again.
    pub fn redo(&mut self) -> bool {
        self.goal = None;
        match self.history.redo() {
            Some(Step {
                row,
                removed,
                inserted,
                after,
                ..
            }) => {
                self.replace(row, removed.len(), &inserted);
                self.set_cursor(after);
                true
            }
            None => false,
        }
    }

    /// Puts `lines` in place of the `count` lines from `row`.
    fn replace(&mut self, row: usize, count: usize, lines: &[String]) {
        let have = self.area.lines();
        let end = (row + count).min(have.len());
        let in_reach = row < end && !lines.is_empty() && u16::try_from(row).is_ok();
        if in_reach {
            // Through the textarea's own edits, so its scroll position stays.
            let span: usize = have[row..end]
                .iter()
                .map(|l| l.chars().count() + 1)
                .sum::<usize>()
                - 1;
            self.area.cancel_selection();
            self.set_cursor((row, 0));
            self.area.delete_str(span);
            self.area.insert_str(lines.join("\n"));
        } else {
            let mut all = have.to_vec();
            let row = row.min(all.len());
            all.splice(row..end.max(row), lines.iter().cloned());
            self.area = text_area(all);
        }
    }

    /// Up (or down) one line of the text, whatever its wrapping on screen;
    /// on the first (last) line, to its start (end). The column aimed at
    /// is kept across shorter lines.
    pub fn line_up_down(&mut self, down: bool) {
        self.history.seal();
        self.area.cancel_selection();
        let (row, col) = self.cursor();
        let goal = self.goal.take().unwrap_or(col);
        let last = self.area.lines().len().saturating_sub(1);
        match (down, row) {
            (false, 0) => self.set_cursor((0, 0)),
            (true, r) if r >= last => self.set_cursor((last, usize::MAX)),
            (false, r) => self.set_cursor((r - 1, goal)),
            (true, r) => self.set_cursor((r + 1, goal)),
        }
        self.goal = Some(goal);
    }

    /// Up (or down) one row as drawn (a wrapped line spans several).
    pub fn screen_row_up_down(&mut self, down: bool) {
        self.history.seal();
        self.goal = None;
        self.area.move_cursor(if down {
            CursorMove::Down
        } else {
            CursorMove::Up
        });
    }

    /// Moves the cursor to the start of the next (or previous) `marker`
    /// in the text, going round the end.
    pub fn jump_to(&mut self, marker: &str, forward: bool) -> Found {
        self.history.seal();
        self.goal = None;
        if marker.is_empty() {
            return Found::None;
        }
        let at: Vec<(usize, usize)> = self
            .area
            .lines()
            .iter()
            .enumerate()
            .flat_map(|(row, line)| {
                line.match_indices(marker)
                    .map(move |(b, _)| (row, line[..b].chars().count()))
            })
            .collect();
        let here = self.cursor();
        let (target, found) = if forward {
            match at.iter().find(|p| **p > here) {
                Some(p) => (Some(*p), Found::Next),
                None => (at.first().copied(), Found::Wrapped),
            }
        } else {
            match at.iter().rev().find(|p| **p < here) {
                Some(p) => (Some(*p), Found::Next),
                None => (at.last().copied(), Found::Wrapped),
            }
        };
        match target {
            Some(p) => {
                self.set_cursor(p);
                found
            }
            None => Found::None,
        }
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
mod tests;
