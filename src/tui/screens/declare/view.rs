//! The new-incident form, drawn over the screen it was opened on.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::state::{FormField, NewIncidentForm};
use crate::text::display_safe;
use crate::tui::kit::layout::{centered, frame_box, input_line};
use crate::tui::kit::theme::Theme;
use crate::tui::screens::ctx::Ctx;

fn error_line(t: &Theme, e: &str) -> Line<'static> {
    Line::from(vec![
        Span::raw("         "),
        Span::styled(format!("✗ {}", display_safe(e)), t.error()),
    ])
}

pub fn render(form: &NewIncidentForm, ctx: &Ctx, frame: &mut Frame, body: Rect) {
    let t = Theme::new(ctx.no_color);
    let area = centered(body, 76, 18);
    let field_w = area.width.saturating_sub(13);
    let mut lines = Vec::new();
    if let Some(note) = &form.restored {
        lines.push(Line::styled(format!(" ({note})"), t.dim()));
    }
    lines.push(Line::from(""));
    for field in FormField::ALL {
        let focused = form.focus == field;
        let label = format!("{}{:<9}", if focused { "▶" } else { " " }, field.label());
        let mut spans = vec![Span::styled(
            label,
            if focused { t.bold() } else { t.dim() },
        )];
        let arrows = |s: String| {
            if focused { format!("◀ {s} ▶") } else { s }
        };
        match field {
            FormField::Title => spans.extend(input_line(&form.title, field_w, focused).spans),
            FormField::Summary => spans.extend(input_line(&form.summary, field_w, focused).spans),
            FormField::Severity => {
                let text = match form.severity {
                    Some(s) => {
                        let level = ctx.policy.level(s);
                        format!(
                            "{s} {} — {}",
                            display_safe(&level.label),
                            display_safe(&level.criteria)
                        )
                    }
                    None => "(choose: ←/→ or 1-4)".into(),
                };
                let style = form.severity.map_or(t.dim(), |s| t.severity(s));
                spans.push(Span::styled(arrows(text), style));
            }
            FormField::Source => spans.push(Span::raw(arrows(form.source.to_string()))),
            FormField::Detected if form.detected.is_blank() && !focused => spans.push(
                Span::styled("now (or e.g. -15m, 2026-03-01T14:30:00Z)", t.dim()),
            ),
            FormField::Detected => spans.extend(input_line(&form.detected, field_w, focused).spans),
        }
        lines.push(Line::from(spans));
        match form.error(field) {
            Some(e) => lines.push(error_line(&t, e)),
            None => lines.push(Line::from("")),
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled(" Enter", t.key()),
        Span::raw(" declare  "),
        Span::styled("Tab", t.key()),
        Span::raw(" next field  "),
        Span::styled("←/→", t.key()),
        Span::raw(" choose  "),
        Span::styled("Esc", t.key()),
        Span::raw(" close (kept as draft)"),
    ]));
    lines.push(Line::styled(
        " Drafts autosave every second and survive a dropped connection.",
        t.dim(),
    ));
    frame_box(frame, area, " New incident ".into(), lines);
}
