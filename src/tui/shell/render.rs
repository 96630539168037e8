//! Pure views: `render(&App, &mut Frame, now)`. They read the state and the
//! time they are given and draw; they never read the clock or the store.
//! Every piece of text that came from outside goes through `display_safe`.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::text::display_safe;
pub use crate::tui::kit::layout::{MIN_HEIGHT, MIN_WIDTH};
use crate::tui::kit::theme::Theme;
use crate::tui::shell::app::{App, Modal};
use crate::tui::shell::keymap::hints;

pub fn render(app: &App, frame: &mut Frame, now: DateTime<Utc>) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(app, frame, header, now);
    super::screens::render(app, frame, body, now);
    crate::tui::shell::alerts::view::toast(app, frame, body);
    render_footer(app, frame, footer);
    super::screens::render_dialog(app, frame, body, now);
    match &app.modal {
        Some(Modal::Help { scroll, under }) => {
            super::overlays::help(app, *scroll, *under, frame, body)
        }
        Some(Modal::Fields(d)) => {
            crate::tui::kit::fields::view::render(app.no_color, d, frame, body)
        }
        None => {}
    }
    super::conflict::render(app, frame, body);
    if app.confirm_quit {
        super::overlays::confirm_quit(app, frame, body);
    }
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = format!(
        "Terminal too small: {}x{}. warroom needs at least {MIN_WIDTH}x{MIN_HEIGHT}. Enlarge the window (q quits).",
        area.width, area.height
    );
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

fn render_header(app: &App, frame: &mut Frame, area: Rect, now: DateTime<Utc>) {
    let t = Theme::new(app.no_color);
    // Drills are counted apart: "2 open incidents (+1 drill)".
    let (drills, open) = app
        .rows
        .iter()
        .filter(|r| r.incident.status.is_open())
        .fold((0, 0), |(d, o), r| {
            if r.incident.drill {
                (d + 1, o)
            } else {
                (d, o + 1)
            }
        });
    let clock = now.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let right = format!(" {clock}  {} ", display_safe(&app.actor));
    let mut left = vec![
        Span::styled(" WARROOM ", t.title()),
        Span::raw(format!(
            " {open} open incident{}{} ",
            if open == 1 { "" } else { "s" },
            match drills {
                0 => String::new(),
                1 => " (+1 drill)".to_string(),
                d => format!(" (+{d} drills)"),
            }
        )),
    ];
    // Who else has a console open on this database, in what room is left.
    let used: usize = left.iter().map(|s| s.content.chars().count()).sum();
    let room = usize::from(area.width).saturating_sub(used + right.chars().count());
    let others = super::presence::others(&app.present, &app.console_id);
    let others: Vec<String> = others
        .iter()
        .map(|n| display_safe(n).into_owned())
        .collect();
    if let Some(text) = super::presence::bridge_text(&others, room) {
        left.push(Span::styled(text, t.bold()));
    }
    let [l, r] = Layout::horizontal([
        Constraint::Min(1),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), l);
    frame.render_widget(Paragraph::new(right).style(t.dim()), r);
}

fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let t = Theme::new(app.no_color);
    let line = match &app.message {
        Some(m) if m.error => Line::from(vec![
            Span::styled(" ERROR ", t.breached()),
            Span::raw(" "),
            Span::raw(display_safe(&m.text).into_owned()),
        ]),
        Some(m) => Line::from(format!(" {}", display_safe(&m.text))),
        None => {
            let mut spans = vec![Span::raw(" ")];
            let focus = app.focus();
            let unseen = app.alerts.unseen;
            // Once the toasts are gone; the toast says it while up.
            if unseen > 0 && app.alerts.current().is_none() && app.stack.alerts().is_none() {
                spans.push(Span::styled("!", t.key()));
                spans.push(Span::styled(
                    format!(
                        " {unseen} new alert{}  ",
                        if unseen == 1 { "" } else { "s" }
                    ),
                    t.breached(),
                ));
            }
            if crate::tui::shell::keymap::chain(focus)
                .contains(&crate::tui::shell::keymap::Context::Navigation)
            {
                spans.push(Span::styled("?", t.key()));
                spans.push(Span::raw(" keys  "));
            }
            for (key, what) in hints(focus, 9) {
                spans.push(Span::styled(key, t.key()));
                spans.push(Span::raw(format!(" {what}  ")));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}
