//! The conflict dialog drawn over whatever screen is on top (pure). Every
//! value and name in it came from someone: shown through `display_safe`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::state::ConflictDialog;
use crate::text::display_safe;
use crate::tui::kit::fields::view::lines_rows;
use crate::tui::kit::layout::{centered, frame_box, input_line, wrap};
use crate::tui::kit::theme::Theme;

/// Lines of a value shown before it is cut (the rest is in the timeline).
const VALUE_LINES: usize = 3;

pub fn render(d: &ConflictDialog, no_color: bool, frame: &mut Frame, body: Rect) {
    let t = Theme::new(no_color);
    let width = body.width.saturating_sub(4).min(96);
    let lines = lines(d, &t, usize::from(width.saturating_sub(2)));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let title = format!(
        " Changed meanwhile: {} ",
        display_safe(&d.conflict.incident)
    );
    frame_box(frame, centered(body, width, height), title, lines);
}

/// The dialog's lines for an inner width of `width` columns.
pub fn lines(d: &ConflictDialog, t: &Theme, width: usize) -> Vec<Line<'static>> {
    let c = &d.conflict;
    let theirs = &c.theirs;
    let who = display_safe(&theirs.actor).into_owned();
    let at = theirs.at.format("%H:%M:%S UTC");
    let value = |v: &Option<String>| match v {
        Some(v) if !v.is_empty() => display_safe(v).into_owned(),
        _ => "(none)".to_string(),
    };
    let said = if d.is_handover() {
        let role = c.field.trim_start_matches("role:");
        format!(
            "{role} was handed to {} by {who} at {at} (event #{}): hand it to {} anyway?",
            value(&theirs.new),
            theirs.seq,
            value(&c.mine),
        )
    } else {
        format!(
            "{} was changed by {who} at {at} (event #{}) after you read it (version {}).",
            display_safe(&c.what),
            theirs.seq,
            c.base
        )
    };
    let mut out: Vec<Line<'static>> = Vec::new();
    for l in wrap(&[said], width.saturating_sub(1)) {
        out.push(Line::from(format!(" {l}")));
    }
    out.push(Line::from(""));
    let labelled = |out: &mut Vec<Line<'static>>, label: &str, text: String| {
        let room = width.saturating_sub(10);
        let mut rows = wrap(&[text], room);
        if rows.len() > VALUE_LINES {
            rows.truncate(VALUE_LINES);
            if let Some(last) = rows.last_mut() {
                last.push('…');
            }
        }
        for (i, row) in rows.into_iter().enumerate() {
            let head = if i == 0 { label } else { "" };
            out.push(Line::from(vec![
                Span::styled(format!(" {head:<8} "), t.bold()),
                Span::raw(row),
            ]));
        }
    };
    labelled(&mut out, "Theirs", value(&theirs.new));
    match &d.merge {
        Some(input) => {
            out.push(Line::from(""));
            let mut spans = vec![Span::styled(" Merged   ".to_string(), t.bold())];
            let room = u16::try_from(width.saturating_sub(10)).unwrap_or(u16::MAX);
            spans.extend(input_line(input, room, true).spans);
            out.push(Line::from(spans));
        }
        None => match &d.merge_lines {
            Some(lines) => {
                out.push(Line::from(" Merged (Enter is a new line)".to_string()));
                let room = u16::try_from(width.saturating_sub(2)).unwrap_or(u16::MAX);
                for row in lines_rows(lines, room, true) {
                    let mut spans = vec![Span::raw(" ")];
                    spans.extend(row);
                    out.push(Line::from(spans));
                }
            }
            None => labelled(&mut out, "Mine", value(&c.mine)),
        },
    }
    out.push(Line::from(""));
    if let Some(e) = &d.error {
        out.push(Line::styled(format!(" ✗ {}", display_safe(e)), t.error()));
    }
    out.push(keys_line(d, t));
    out
}

fn keys_line(d: &ConflictDialog, t: &Theme) -> Line<'static> {
    let keys: Vec<(&str, String)> = if d.merge_lines.is_some() {
        vec![
            ("Ctrl-S", "save the merged text over theirs".into()),
            ("Esc", "back".into()),
        ]
    } else if d.merge.is_some() {
        vec![
            ("Enter", "save the merged text over theirs".into()),
            ("Esc", "back".into()),
        ]
    } else if d.is_handover() {
        vec![
            ("k", "yes, hand it over".into()),
            ("t/Esc", "no, leave it".into()),
        ]
    } else {
        let mut keys = vec![
            ("k", "keep mine".to_string()),
            ("t/Esc", "take theirs".to_string()),
        ];
        if d.my_text().is_some() {
            keys.push(("m", "merge by hand".into()));
        }
        keys
    };
    let mut spans = vec![Span::raw(" ")];
    for (k, what) in keys {
        spans.push(Span::styled(k.to_string(), t.key()));
        spans.push(Span::raw(format!(" {what}   ")));
    }
    Line::from(spans)
}
