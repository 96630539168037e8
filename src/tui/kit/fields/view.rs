//! The dialog of fields (evidence, review, report, closing gate).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::text::display_safe;
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
    let mut keys = vec![
        Span::styled("Enter", t.key()),
        Span::raw(format!(" {}  ", d.verb())),
    ];
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
