//! The key help overlay, from plain data: sections of (keys, what they
//! do) as `keymap::help_for` gives them. It sizes to the terminal and
//! wraps each description under itself, so nothing is cut at any width;
//! what does not fit in height scrolls.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::layout::{centered, wrap};
use super::theme::Theme;

/// Help sections: (title, [(keys, what they do)]).
pub type Sections = [(&'static str, Vec<(String, &'static str)>)];

/// Room left of the keys, and the widest key column.
const INDENT: usize = 3;
const MAX_KEYS_W: usize = 16;
/// The popup leaves this many columns of the screen on each side.
const MARGIN: u16 = 2;
/// Borders and a column of air on the right.
const CHROME: usize = 3;

/// The help's lines at `width` columns inside the border: section titles,
/// then each key with its description wrapped beside it (a key label wider
/// than the key column has its description on the lines below).
pub fn lines(sections: &Sections, width: usize, t: &Theme) -> Vec<Line<'static>> {
    let width = width.max(1);
    let keys_w = key_column(sections).min(width / 3);
    let desc_at = INDENT + keys_w + 1;
    let desc_w = width.saturating_sub(desc_at).max(1);
    let pad = |n: usize| " ".repeat(n);
    let mut out = Vec::new();
    for (title, rows) in sections.iter().filter(|(_, rows)| !rows.is_empty()) {
        for piece in wrap(&[title.to_string()], width.saturating_sub(1)) {
            out.push(Line::styled(format!(" {piece}"), t.bold()));
        }
        for (keys, what) in rows {
            let mut desc = wrap(&[what.to_string()], desc_w).into_iter();
            let key_w = keys.width();
            if key_w > keys_w {
                out.push(Line::styled(format!("{}{keys}", pad(INDENT)), t.key()));
            } else {
                let first = desc.next().unwrap_or_default();
                out.push(Line::from(vec![
                    Span::styled(
                        format!("{}{keys}{}", pad(INDENT), pad(keys_w - key_w + 1)),
                        t.key(),
                    ),
                    Span::raw(first),
                ]));
            }
            out.extend(desc.map(|d| Line::raw(format!("{}{d}", pad(desc_at)))));
        }
    }
    out
}

/// The widest key label, for the key column.
fn key_column(sections: &Sections) -> usize {
    sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(k, _)| k.width()))
        .max()
        .unwrap_or(0)
        .min(MAX_KEYS_W)
}

/// The width the help wants: every description on one line.
fn wanted_width(sections: &Sections) -> usize {
    let keys_w = key_column(sections);
    sections
        .iter()
        .flat_map(|(title, rows)| {
            let title_w = title.width() + 1;
            rows.iter()
                .map(move |(_, what)| INDENT + keys_w + 1 + what.width())
                .chain(std::iter::once(title_w))
        })
        .max()
        .unwrap_or(0)
        + CHROME
}

/// Where the popup goes in `body`, and its lines and scroll (clamped so
/// the last line can reach the bottom and no further).
pub fn layout(
    sections: &Sections,
    scroll: usize,
    body: Rect,
    t: &Theme,
) -> (Rect, Vec<Line<'static>>, usize) {
    let room = body
        .width
        .saturating_sub(2 * MARGIN)
        .max(body.width.min(20));
    let w = u16::try_from(wanted_width(sections))
        .unwrap_or(u16::MAX)
        .min(room);
    let inner_w = usize::from(w).saturating_sub(CHROME);
    let lines = lines(sections, inner_w, t);
    let tall = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let area = centered(body, w, tall.min(body.height));
    let inner_h = usize::from(area.height.saturating_sub(2));
    let scroll = scroll.min(lines.len().saturating_sub(inner_h));
    (area, lines, scroll)
}

/// Draws the help over `body`.
pub fn render(frame: &mut Frame, body: Rect, sections: &Sections, scroll: usize, t: &Theme) {
    let (area, lines, scroll) = layout(sections, scroll, body, t);
    let inner_h = usize::from(area.height.saturating_sub(2));
    let mut block = Block::bordered().title(" Keys (Esc closes, j/k scroll) ");
    if lines.len() > inner_h {
        let last = (scroll + inner_h).min(lines.len());
        block = block.title_bottom(
            Line::from(format!(" lines {}–{last} of {} ", scroll + 1, lines.len())).right_aligned(),
        );
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::command::Context;
    use crate::tui::shell::keymap::help_for;
    use crate::tui::testkit::lines_text as text;

    /// Every word of every description, in order, in the lines.
    fn nothing_cut(sections: &Sections, lines: &[Line]) {
        let all = text(lines);
        let words: Vec<&str> = all.split_whitespace().collect();
        for (_, rows) in sections {
            for (_, what) in rows {
                let want: Vec<&str> = what.split_whitespace().collect();
                let found = words.windows(want.len()).any(|w| w == want.as_slice());
                assert!(found, "{what:?} is cut in\n{all}");
            }
        }
    }

    #[test]
    fn descriptions_wrap_instead_of_being_cut_at_80_and_120_columns() {
        let t = Theme::new(true);
        for focus in [Context::ComposeEdit, Context::Checklist, Context::Board] {
            let sections = help_for(focus);
            for (w, h) in [(80, 22), (120, 38)] {
                let (area, lines, _) = layout(&sections, 0, Rect::new(0, 0, w, h), &t);
                assert!(area.width <= w - 2 * MARGIN, "{w}: {area:?}");
                let inner = usize::from(area.width) - 2;
                for l in &lines {
                    assert!(l.width() <= inner, "{w}: {:?} is wider than {inner}", l);
                }
                nothing_cut(&sections, &lines);
            }
        }
    }

    #[test]
    fn the_popup_fits_its_content_and_scrolls_when_taller() {
        let t = Theme::new(true);
        let sections = help_for(Context::ComposeEdit);
        let (wide, lines, _) = layout(&sections, 0, Rect::new(0, 0, 200, 60), &t);
        // As wide as its longest line wants, no wider; as tall as its lines.
        assert_eq!(usize::from(wide.width), wanted_width(&sections));
        assert_eq!(usize::from(wide.height), lines.len() + 2);
        let (short, lines, scroll) = layout(&sections, 999, Rect::new(0, 0, 80, 10), &t);
        assert_eq!(short.height, 10);
        assert_eq!(scroll, lines.len() - 8, "the last line reaches the bottom");
        let (_, _, scroll) = layout(&sections, 3, Rect::new(0, 0, 80, 10), &t);
        assert_eq!(scroll, 3);
    }

    #[test]
    fn a_long_key_label_puts_its_description_below() {
        let t = Theme::new(true);
        let sections = [(
            "S",
            vec![
                ("k".to_string(), "short"),
                ("a-very-long-key-label-here".to_string(), "below it"),
            ],
        )];
        let lines = lines(&sections, 40, &t);
        let all = text(&lines);
        assert!(all.contains("   a-very-long-key-label-here\n"), "{all}");
        assert!(all.contains("below it"), "{all}");
    }

    #[test]
    fn never_panics_at_any_size() {
        let t = Theme::new(true);
        let sections = help_for(Context::ComposeEdit);
        for (w, h) in [(1, 1), (2, 1), (5, 3), (20, 4), (300, 2)] {
            let body = Rect::new(0, 0, w, h);
            let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h))
                .expect("test terminal");
            term.draw(|f| render(f, body, &sections, usize::MAX, &t))
                .expect("draw");
        }
    }
}
