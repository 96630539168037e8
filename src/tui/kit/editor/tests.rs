//! The editor's tests: the gate, lines and screen rows, markers, undo.

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

fn alt(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::ALT)
}

/// Draws the editor `width` cells wide, as the composer does: the
/// textarea learns its wrapping from the last draw.
fn draw(e: &Editor, width: u16) {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::widgets::Widget;
    let area = Rect::new(0, 0, width, 10);
    e.view().render(area, &mut Buffer::empty(area));
}

const WORDS: &str = "the quick brown fox jumps over the lazy dog and runs far away";

#[test]
fn up_and_down_move_by_line_alt_by_screen_row() {
    let text = format!("{WORDS}\n{WORDS}\nshort\n{WORDS}");
    let mut e = Editor::new(&text, (0, 6));
    draw(&e, 20);
    // A line of the text, though the first spans several screen rows.
    e.key(key(KeyCode::Down));
    assert_eq!(e.cursor(), (1, 6));
    // The column is aimed at again past a shorter line.
    e.key(key(KeyCode::Down));
    assert_eq!(e.cursor(), (2, 5));
    e.key(key(KeyCode::Down));
    assert_eq!(e.cursor(), (3, 6));
    e.key(key(KeyCode::Up));
    e.key(key(KeyCode::Up));
    assert_eq!(e.cursor(), (1, 6));
    // Alt moves a row as drawn: still the same line, further along.
    e.key(alt(KeyCode::Down));
    let (row, col) = e.cursor();
    assert_eq!(row, 1);
    assert!(col > 6 && col < WORDS.len(), "{col}");
    e.key(alt(KeyCode::Up));
    assert_eq!(e.cursor(), (1, 6));
    // At the ends: to the first line's start, the last line's end.
    e.key(key(KeyCode::Up));
    e.key(key(KeyCode::Up));
    assert_eq!(e.cursor(), (0, 0));
    e.set_cursor((3, 2));
    e.key(key(KeyCode::Down));
    assert_eq!(e.cursor(), (3, WORDS.len()));
}

#[test]
fn next_and_previous_marker_wrap_round_and_say_when_there_is_none() {
    let text = "Dear [FILL IN: name],\nno marker here\nsee [FILL IN: link] and [FILL IN: date]";
    let mut e = Editor::new(text, (0, 0));
    assert_eq!(e.jump_to("[FILL IN:", true), Found::Next);
    assert_eq!(e.cursor(), (0, 5));
    assert_eq!(e.jump_to("[FILL IN:", true), Found::Next);
    assert_eq!(e.cursor(), (2, 4));
    assert_eq!(e.jump_to("[FILL IN:", true), Found::Next);
    assert_eq!(e.cursor(), (2, 24));
    assert_eq!(e.jump_to("[FILL IN:", true), Found::Wrapped);
    assert_eq!(e.cursor(), (0, 5));
    assert_eq!(e.jump_to("[FILL IN:", false), Found::Wrapped);
    assert_eq!(e.cursor(), (2, 24));
    assert_eq!(e.jump_to("[FILL IN:", false), Found::Next);
    assert_eq!(e.cursor(), (2, 4));
    let mut done = Editor::new("all filled in", (0, 3));
    assert_eq!(done.jump_to("[FILL IN:", true), Found::None);
    assert_eq!(done.jump_to("[FILL IN:", false), Found::None);
    assert_eq!(done.cursor(), (0, 3));
    // Columns are characters, not bytes.
    let mut wide = Editor::new("é✓ [FILL IN: x]", (0, 0));
    wide.jump_to("[FILL IN:", true);
    assert_eq!(wide.cursor(), (0, 3));
}

#[test]
fn ctrl_k_on_a_long_line_is_undone_in_one_step() {
    let paragraph: String = WORDS.repeat(5).chars().take(283).collect();
    assert_eq!(paragraph.chars().count(), 283);
    let text = format!("Hello,\n{paragraph}\nRegards");
    let mut e = Editor::new(&text, (1, 0));
    assert!(e.key(ctrl('k')));
    assert_eq!(e.lines(), ["Hello,", "", "Regards"]);
    assert!(e.undo());
    assert_eq!(e.text(), text);
    assert_eq!(e.cursor(), (1, 0));
    // And again, as often as wanted.
    assert!(e.redo());
    assert_eq!(e.lines(), ["Hello,", "", "Regards"]);
    assert!(e.undo());
    assert_eq!(e.text(), text);
    assert!(!e.undo());
}

#[test]
fn typed_text_comes_back_a_word_at_a_time_not_a_character() {
    let mut e = Editor::new("", (0, 0));
    for c in "status update".chars() {
        e.key(key(KeyCode::Char(c)));
    }
    assert!(e.undo());
    assert_eq!(e.text(), "status");
    assert!(e.undo());
    assert_eq!(e.text(), "");
    assert!(!e.undo());
    assert!(e.redo());
    assert!(e.redo());
    assert_eq!(e.text(), "status update");
    // A move ends a run: what is typed after it is a step of its own.
    e.key(key(KeyCode::Left));
    e.key(key(KeyCode::Char('s')));
    assert_eq!(e.text(), "status updatse");
    assert!(e.undo());
    assert_eq!(e.text(), "status update");
}

#[test]
fn a_pasted_block_goes_and_comes_back_in_one_step() {
    let mut e = Editor::new("before\nafter", (1, 0));
    let block = "line one\nline two\nline three\n";
    e.paste(block);
    assert_eq!(e.text(), "before\nline one\nline two\nline three\nafter");
    assert!(e.undo());
    assert_eq!(e.text(), "before\nafter");
    assert!(e.redo());
    assert_eq!(e.text(), "before\nline one\nline two\nline three\nafter");
    // Selected (Shift-Down three times) and deleted: one step back.
    e.set_cursor((1, 0));
    for _ in 0..3 {
        e.key(KeyEvent::new(KeyCode::Down, KeyModifiers::SHIFT));
    }
    assert!(e.key(key(KeyCode::Backspace)));
    assert_eq!(e.text(), "before\nafter");
    assert!(e.undo());
    assert_eq!(e.text(), "before\nline one\nline two\nline three\nafter");
    // Enter and Backspace across lines undo too.
    let mut e = Editor::new("ab", (0, 1));
    e.key(key(KeyCode::Enter));
    assert_eq!(e.lines(), ["a", "b"]);
    e.key(key(KeyCode::Backspace));
    e.key(key(KeyCode::Backspace));
    assert_eq!(e.lines(), ["b"]);
    assert!(e.undo());
    assert!(e.undo());
    assert!(e.undo());
    assert_eq!(e.lines(), ["ab"]);
    // Alt-Up is a move, not an edit.
    assert!(!e.key(alt(KeyCode::Up)));
}
