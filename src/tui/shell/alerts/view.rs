//! The alert toast: one line over the foot of the body, for an alert this
//! console read from the alert log. Alert text names incidents by their titles, which
//! others typed, so it is drawn through `display_safe`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::text::display_safe;
use crate::tui::kit::theme::Theme;
use crate::tui::shell::app::App;

pub fn toast(app: &App, frame: &mut Frame, body: Rect) {
    let Some(toast) = app.alerts.current() else {
        return;
    };
    if body.height == 0 || body.width == 0 {
        return;
    }
    let t = Theme::new(app.no_color);
    let area = Rect {
        y: body.y + body.height - 1,
        height: 1,
        ..body
    };
    let waiting = app.alerts.toasts.len().saturating_sub(1);
    let mut spans = vec![
        Span::styled(
            " ALERT ",
            t.breached()
                .add_modifier(ratatui::style::Modifier::REVERSED),
        ),
        Span::styled(format!(" {}", display_safe(&toast.text)), t.bold()),
    ];
    if waiting > 0 {
        spans.push(Span::styled(format!("  (+{waiting} more)"), t.dim()));
    }
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
