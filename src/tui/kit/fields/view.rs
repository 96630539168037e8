//! The dialog of fields (evidence, review, report, closing gate).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::text::display_safe;
use crate::tui::kit::fields::lines::{Lines, ROWS};
use crate::tui::kit::fields::state::{FieldValue, FieldsDialog};
use crate::tui::kit::layout::{centered, input_line};
use crate::tui::kit::theme::Theme;

/// Rows `text` takes when wrapped at `width` cells (at least one).
fn wrapped_rows(text: &str, width: u16) -> u16 {
    let w = usize::from(width.max(1));
    let n = UnicodeWidthStr::width(text).div_ceil(w).max(1);
    u16::try_from(n).unwrap_or(u16::MAX)
}

pub fn render(no_color: bool, d: &FieldsDialog, frame: &mut Frame, body: Rect) {
    let t = Theme::new(no_color);
    let width = body.width.min(78);
    // Borders and one column of padding on each side.
    let inner_w = width.saturating_sub(4);
    let label_w = d
        .fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(20)
        + 2;
    let field_w = inner_w.saturating_sub(u16::try_from(label_w).unwrap_or(0) + 1);

    let mut lines: Vec<Line> = Vec::new();
    for n in &d.note {
        lines.push(Line::from(display_safe(n).into_owned()));
    }
    if d.restored {
        lines.push(Line::styled("(continuing your saved draft)", t.dim()));
    }
    lines.push(Line::from(""));
    for (i, f) in d.fields.iter().enumerate() {
        let focused = i == d.focus;
        let label: String = f.label.chars().take(20).collect();
        let mut spans = vec![Span::styled(
            format!(
                "{}{label:<w$}",
                if focused { "▶" } else { " " },
                w = label_w - 1
            ),
            if focused { t.bold() } else { t.dim() },
        )];
        match &f.value {
            FieldValue::Text(input) if input.text().is_empty() && !focused => {
                spans.push(Span::styled(display_safe(&f.hint).into_owned(), t.dim()));
            }
            FieldValue::Text(input) => {
                spans.extend(input_line(input, field_w, focused).spans);
            }
            FieldValue::Lines(l) => {
                let pad = " ".repeat(label_w);
                let mut rows = lines_rows(l, field_w.saturating_sub(2), focused).into_iter();
                let gutter = || Span::styled("│ ", t.dim());
                spans.push(gutter());
                if l.text().is_empty() && !focused {
                    spans.push(Span::styled(display_safe(&f.hint).into_owned(), t.dim()));
                } else if let Some(first) = rows.next() {
                    spans.extend(first);
                }
                lines.push(Line::from(spans));
                for _ in 1..ROWS {
                    let mut row = vec![Span::raw(pad.clone()), gutter()];
                    row.extend(rows.next().unwrap_or_default());
                    lines.push(Line::from(row));
                }
                continue;
            }
            FieldValue::Choice { options, selected } => {
                for (j, o) in options.iter().enumerate() {
                    let o = display_safe(o);
                    if j == *selected {
                        let style = if focused { t.selected() } else { t.bold() };
                        spans.push(Span::styled(format!("[{o}]"), style));
                    } else {
                        spans.push(Span::raw(format!(" {o} ")));
                    }
                    spans.push(Span::raw(" "));
                }
                if focused {
                    spans.push(Span::styled("←/→", t.key()));
                }
            }
        }
        lines.push(Line::from(spans));
    }
    match &d.error {
        Some(e) => lines.push(Line::styled(format!("✗ {}", display_safe(e)), t.error())),
        None => lines.push(Line::from("")),
    }
    let mut keys = if d.focused_is_lines() {
        vec![
            Span::styled("Ctrl-S", t.key()),
            Span::raw(format!(" {}  ", d.verb())),
            Span::styled("Enter", t.key()),
            Span::raw(" new line  "),
        ]
    } else {
        vec![
            Span::styled("Enter", t.key()),
            Span::raw(format!(" {}  ", d.verb())),
        ]
    };
    if d.fields.len() > 1 {
        keys.push(Span::styled("Tab", t.key()));
        keys.push(Span::raw(" next field  "));
    }
    keys.push(Span::styled("Esc", t.key()));
    keys.push(Span::raw(if d.draft_key.is_some() {
        " close (kept as a draft)"
    } else {
        " cancel"
    }));
    lines.push(Line::from(keys));

    let rows: u16 = lines
        .iter()
        .map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            wrapped_rows(&text, inner_w)
        })
        .fold(0u16, u16::saturating_add);
    let area = centered(body, width, rows.saturating_add(2));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                Block::bordered()
                    .padding(Padding::horizontal(1))
                    .title(format!(" {} ", display_safe(&d.title))),
            )
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The rows of a multi-line field as drawn: each line of the text wrapped
/// at `width` cells, [`ROWS`] of them, scrolled so the cursor shows.
pub fn lines_rows(l: &Lines, width: u16, focused: bool) -> Vec<Vec<Span<'static>>> {
    use unicode_width::UnicodeWidthChar;
    let width = usize::from(width).max(1);
    let (cur_row, cur_col) = l.editor().cursor();
    // (cells of one drawn row, the cursor's index in it if it is there)
    let mut drawn: Vec<(Vec<String>, Option<usize>)> = Vec::new();
    for (r, line) in l.editor().lines().iter().enumerate() {
        let mut row: Vec<String> = Vec::new();
        let mut used = 0;
        let mut cursor = None;
        for (c, ch) in line.chars().enumerate() {
            let cell = display_safe(ch.encode_utf8(&mut [0; 4])).into_owned();
            let w = cell.width().max(UnicodeWidthChar::width(ch).unwrap_or(0));
            if used + w > width && !row.is_empty() {
                drawn.push((std::mem::take(&mut row), cursor.take()));
                used = 0;
            }
            if r == cur_row && c == cur_col {
                cursor = Some(row.len());
            }
            used += w;
            row.push(cell);
        }
        if r == cur_row && cur_col >= line.chars().count() {
            if used + 1 > width && !row.is_empty() {
                drawn.push((std::mem::take(&mut row), None));
            }
            cursor = Some(row.len());
        }
        drawn.push((row, cursor));
    }
    let at = drawn.iter().position(|(_, c)| c.is_some()).unwrap_or(0);
    let rows = usize::from(ROWS);
    let start = at.saturating_sub(rows - 1);
    drawn
        .into_iter()
        .skip(start)
        .take(rows)
        .map(|(cells, cursor)| match cursor.filter(|_| focused) {
            Some(i) => {
                let at = cells.get(i).cloned().unwrap_or_else(|| " ".into());
                let after = cells.get(i + 1..).map(|r| r.concat()).unwrap_or_default();
                vec![
                    Span::raw(cells[..i].concat()),
                    Span::styled(
                        at,
                        ratatui::style::Style::new()
                            .add_modifier(ratatui::style::Modifier::REVERSED),
                    ),
                    Span::raw(after),
                ]
            }
            None => vec![Span::raw(cells.concat())],
        })
        .collect()
}
