//! Undo by step, not by keystroke. A step is the run of lines an edit
//! replaced and what replaced them, so a deleted line or a pasted block
//! comes back whole; typed characters join the step before them while
//! the typing goes on in the same word.

use std::collections::VecDeque;

/// At most this many steps are kept, and at most [`MAX_BYTES`] of text
/// in them: the oldest go first.
const MAX_STEPS: usize = 500;
const MAX_BYTES: usize = 8 * 1024 * 1024;

/// One undoable change: `removed` (the lines from `row` before it) became
/// `inserted`. Both hold at least one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Step {
    pub row: usize,
    pub removed: Vec<String>,
    pub inserted: Vec<String>,
    /// The cursor before and after the change, as (row, column).
    pub before: (usize, usize),
    pub after: (usize, usize),
    /// A run of typed characters, which the next typed one may join.
    typing: bool,
}

impl Step {
    fn bytes(&self) -> usize {
        let sum = |v: &[String]| v.iter().map(String::len).sum::<usize>();
        sum(&self.removed) + sum(&self.inserted)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct History {
    undo: VecDeque<Step>,
    redo: Vec<Step>,
    bytes: usize,
    /// The last step is typing still going on (no move or other key since).
    open_run: bool,
    last_typed: Option<char>,
}

impl History {
    /// Records the change from `old` to `new` (the whole text before and
    /// after one edit). `typed` is the character a plain key inserted.
    pub fn record(
        &mut self,
        old: &[String],
        new: &[String],
        before: (usize, usize),
        after: (usize, usize),
        typed: Option<char>,
    ) {
        let Some(step) = diff(old, new, before, after, typed.is_some()) else {
            return;
        };
        self.redo.clear();
        if let Some(c) = typed
            && self.open_run
            && self.joins(&step, c)
            && let Some(last) = self.undo.back_mut()
        {
            self.bytes = self.bytes.saturating_sub(last.bytes());
            last.inserted = step.inserted;
            last.after = step.after;
            self.bytes += last.bytes();
            self.last_typed = Some(c);
            self.trim();
            return;
        }
        self.bytes += step.bytes();
        self.undo.push_back(step);
        self.open_run = typed.is_some();
        self.last_typed = typed;
        self.trim();
    }

    /// Whether typing `c` (as `step`) continues the last step: same line,
    /// the cursor where that step left it, and not the first space after
    /// a word (so undo takes typing back a word at a time).
    fn joins(&self, step: &Step, c: char) -> bool {
        let Some(last) = self.undo.back() else {
            return false;
        };
        let word_ends = c.is_whitespace() && !self.last_typed.is_some_and(char::is_whitespace);
        last.typing
            && !word_ends
            && last.row == step.row
            && last.after == step.before
            && last.inserted == step.removed
            && step.removed.len() == 1
            && step.inserted.len() == 1
    }

    /// Ends a typing run: the next typed character starts a new step.
    pub fn seal(&mut self) {
        self.open_run = false;
    }

    /// The step to take back, moved to the redo list.
    pub fn undo(&mut self) -> Option<Step> {
        self.open_run = false;
        let step = self.undo.pop_back()?;
        self.bytes = self.bytes.saturating_sub(step.bytes());
        self.redo.push(step.clone());
        Some(step)
    }

    /// The step to make again, moved back to the undo list.
    pub fn redo(&mut self) -> Option<Step> {
        self.open_run = false;
        let step = self.redo.pop()?;
        self.bytes += step.bytes();
        self.undo.push_back(step.clone());
        Some(step)
    }

    fn trim(&mut self) {
        while self.undo.len() > MAX_STEPS || (self.bytes > MAX_BYTES && self.undo.len() > 1) {
            match self.undo.pop_front() {
                Some(old) => self.bytes = self.bytes.saturating_sub(old.bytes()),
                None => break,
            }
        }
    }
}

/// The smallest run of whole lines that changed, widened by a line when
/// one side would be empty (so a step always replaces lines by lines).
fn diff(
    old: &[String],
    new: &[String],
    before: (usize, usize),
    after: (usize, usize),
    typing: bool,
) -> Option<Step> {
    let most = old.len().min(new.len());
    let mut head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    if head == old.len() && head == new.len() {
        return None;
    }
    let mut tail = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(most - head)
        .take_while(|(a, b)| a == b)
        .count();
    if old.len() - head - tail == 0 || new.len() - head - tail == 0 {
        if head > 0 {
            head -= 1;
        } else {
            tail = tail.saturating_sub(1);
        }
    }
    Some(Step {
        row: head,
        removed: old[head..old.len() - tail].to_vec(),
        inserted: new[head..new.len() - tail].to_vec(),
        before,
        after,
        typing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_step_replaces_lines_by_lines() {
        let s = diff(&v(&["a", "b", "c"]), &v(&["a", "c"]), (1, 0), (1, 0), false);
        let s = s.expect("a change");
        assert_eq!(
            (s.row, s.removed, s.inserted),
            (0, v(&["a", "b"]), v(&["a"]))
        );
        let s = diff(&v(&["b", "c"]), &v(&["c"]), (0, 0), (0, 0), false).expect("a change");
        assert_eq!(
            (s.row, s.removed, s.inserted),
            (0, v(&["b", "c"]), v(&["c"]))
        );
        let s = diff(&v(&["x", "x"]), &v(&["x", "xa"]), (1, 1), (1, 2), true).expect("a change");
        assert_eq!((s.row, s.removed, s.inserted), (1, v(&["x"]), v(&["xa"])));
        assert!(diff(&v(&["a"]), &v(&["a"]), (0, 0), (0, 0), false).is_none());
    }

    #[test]
    fn typing_joins_until_a_word_ends_or_the_run_is_sealed() {
        let mut h = History::default();
        let mut text = String::new();
        for c in "ab cd".chars() {
            let old = v(&[&text]);
            text.push(c);
            let n = text.chars().count();
            h.record(&old, &v(&[&text]), (0, n - 1), (0, n), Some(c));
        }
        // "ab" and " cd".
        assert_eq!(h.undo.len(), 2);
        h.seal();
        h.record(&v(&["ab cd"]), &v(&["ab cdx"]), (0, 5), (0, 6), Some('x'));
        assert_eq!(h.undo.len(), 3);
        let last = h.undo().expect("a step");
        assert_eq!(last.removed, v(&["ab cd"]));
        assert!(h.redo().is_some());
    }

    #[test]
    fn old_steps_make_way() {
        let mut h = History::default();
        for i in 0..MAX_STEPS + 10 {
            h.record(&v(&[""]), &v(&[&i.to_string()]), (0, 0), (0, 1), None);
        }
        assert_eq!(h.undo.len(), MAX_STEPS);
    }
}
