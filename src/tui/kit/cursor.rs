//! List cursor arithmetic, once: moving within a list by a key, and
//! cycling through a ring of choices or panes.

use crate::tui::command::Command;

/// Rows a page key moves.
pub const PAGE: usize = 10;

/// The position `cmd` moves `pos` to in a list of `len` (clamped, never
/// past either end); any other command leaves it.
pub fn move_cursor(pos: usize, len: usize, cmd: Command) -> usize {
    let last = len.saturating_sub(1);
    match cmd {
        Command::Up => pos.saturating_sub(1),
        Command::Down => (pos + 1).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        Command::PageUp => pos.saturating_sub(PAGE),
        Command::PageDown => (pos + PAGE).min(last),
        _ => pos,
    }
}

/// `pos` kept inside a list of `len` that may have shrunk (a reload).
pub fn clamp(pos: usize, len: usize) -> usize {
    pos.min(len.saturating_sub(1))
}

/// The next (or previous) position in a ring of `len`, wrapping round.
pub fn cycle(pos: usize, len: usize, forward: bool) -> usize {
    let len = len.max(1);
    if forward {
        (pos + 1) % len
    } else {
        (pos + len - 1) % len
    }
}

/// The choice after (or before) `current` in `all`, wrapping round; the
/// first when `current` is not among them.
pub fn step_in<T: PartialEq + Copy>(all: &[T], current: T, forward: bool) -> T {
    let at = all.iter().position(|x| *x == current).unwrap_or(0);
    all.get(cycle(at, all.len(), forward))
        .copied()
        .unwrap_or(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_stay_inside_the_list() {
        assert_eq!(move_cursor(0, 5, Command::Up), 0);
        assert_eq!(move_cursor(4, 5, Command::Down), 4);
        assert_eq!(move_cursor(3, 5, Command::PageDown), 4);
        assert_eq!(move_cursor(12, 20, Command::PageUp), 2);
        assert_eq!(move_cursor(2, 5, Command::Bottom), 4);
        assert_eq!(move_cursor(2, 0, Command::Bottom), 0);
        assert_eq!(move_cursor(2, 5, Command::Submit), 2);
        assert_eq!(clamp(7, 3), 2);
        assert_eq!(clamp(1, 3), 1);
        assert_eq!(clamp(4, 0), 0);
    }

    #[test]
    fn cycles_wrap_round() {
        assert_eq!(cycle(4, 5, true), 0);
        assert_eq!(cycle(0, 5, false), 4);
        assert_eq!(cycle(0, 0, true), 0);
        assert_eq!(step_in(&['a', 'b', 'c'], 'c', true), 'a');
        assert_eq!(step_in(&['a', 'b', 'c'], 'a', false), 'c');
        assert_eq!(step_in(&[], 'x', true), 'x');
    }
}
