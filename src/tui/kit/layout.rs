//! Placing and cutting text: centred boxes, a one-line input, short
//! times, and wrapping that a pane can count lines of.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::input::LineInput;
use crate::text::display_safe;

/// Below this the console says so instead of drawing.
pub const MIN_WIDTH: u16 = 70;
pub const MIN_HEIGHT: u16 = 20;

/// A rectangle of at most `w`x`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A text input as one line `width` cells wide, made safe, scrolled so the
/// cursor shows; the cursor is a reversed cell (no terminal cursor to move).
pub fn input_line(input: &LineInput, width: u16, focused: bool) -> Line<'static> {
    use unicode_width::UnicodeWidthStr;
    let pieces: Vec<String> = input
        .text()
        .chars()
        .map(|c| display_safe(c.encode_utf8(&mut [0; 4])).into_owned())
        .collect();
    let cursor = input.cursor().min(pieces.len());
    let width = usize::from(width).max(1);
    // Scroll right just enough that the cursor cell fits.
    let mut start = 0;
    let span_width = |from: usize| -> usize {
        pieces[from..cursor]
            .iter()
            .map(|p| p.width())
            .sum::<usize>()
            + 1
    };
    while start < cursor && span_width(start) > width {
        start += 1;
    }
    let mut spans = Vec::new();
    let before: String = pieces[start..cursor].concat();
    spans.push(Span::raw(before));
    if focused {
        let at = pieces.get(cursor).cloned().unwrap_or_else(|| " ".into());
        spans.push(Span::styled(
            at,
            Style::new().add_modifier(Modifier::REVERSED),
        ));
        spans.push(Span::raw(
            pieces
                .get(cursor + 1..)
                .map(|p| p.concat())
                .unwrap_or_default(),
        ));
    } else {
        spans.push(Span::raw(pieces[cursor..].concat()));
    }
    Line::from(spans)
}

/// `18:02:11` for today (by `now`), `11-21 18:02` for other days; UTC.
pub fn short_time(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if t.date_naive() == now.date_naive() {
        t.format("%H:%M:%S").to_string()
    } else {
        t.format("%m-%d %H:%M").to_string()
    }
}

/// Lines cut to `width` columns, at the last space that fits where there
/// is one: the lines a text pane shows, so it can say "lines a–b of n"
/// exactly. The input is already safe (`display_safe_lines`).
pub fn wrap(lines: &[String], width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(1);
    let mut out = Vec::new();
    for line in lines {
        let mut rest: &str = line;
        loop {
            let mut used = 0;
            let mut cut = rest.len();
            let mut last_space = None;
            for (i, c) in rest.char_indices() {
                let w = c.width().unwrap_or(0);
                if used + w > width {
                    cut = i;
                    break;
                }
                used += w;
                if c == ' ' {
                    last_space = Some(i + 1);
                }
            }
            if cut == rest.len() {
                out.push(rest.to_string());
                break;
            }
            // At least one character per line, so a narrow pane still ends.
            let cut = last_space
                .filter(|s| *s > 0)
                .unwrap_or(cut.max(rest.chars().next().map_or(1, char::len_utf8)));
            out.push(rest[..cut].trim_end().to_string());
            rest = &rest[cut..];
        }
    }
    out
}

/// A bordered box of lines over whatever is under it.
pub fn frame_box(frame: &mut Frame, area: Rect, title: String, lines: Vec<Line>) {
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(title))
            .wrap(Wrap { trim: false }),
        area,
    );
}
