//! Pure views: `render(&App, &mut Frame, now)`. They read the state and the
//! time they are given and draw; they never read the clock or the store.
//! Every piece of text that came from outside goes through `display_safe`.

mod alerts;
mod board;
mod compose;
mod dialogs;
mod evidence;
mod fields;
mod incident;
mod messages;
mod metrics;
mod review;
mod watcher;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::action::hints;
use super::app::{App, Modal, Screen};
use super::input::LineInput;
use crate::domain::sla::{Clock, ClockKind, ClockState};
use crate::text::display_safe;

/// Below this the console says so instead of drawing.
pub const MIN_WIDTH: u16 = 70;
pub const MIN_HEIGHT: u16 = 20;

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
    match (app.screen, &app.incident) {
        _ if app.compose.is_some() => {
            if let Some(c) = &app.compose {
                compose::render(app, c, frame, body, now);
            }
        }
        (Screen::Incident, Some(state)) => incident::render(app, state, frame, body, now),
        (Screen::Evidence, _) => evidence::render(app, frame, body, now),
        (Screen::Review, _) => review::render(app, frame, body, now),
        (Screen::Metrics, _) => metrics::render(app, frame, body, now),
        (Screen::Messages, _) => messages::render(app, frame, body, now),
        (Screen::Watcher, _) => watcher::render(app, frame, body, now),
        _ => board::render(app, frame, body, now),
    }
    alerts::toast(app, frame, body);
    render_footer(app, frame, footer);
    match &app.modal {
        Some(Modal::Help { scroll, under }) => dialogs::help(app, *scroll, *under, frame, body),
        Some(Modal::NewIncident(form)) => dialogs::new_incident(app, form, frame, body),
        Some(Modal::Picker(p)) => dialogs::picker(app, p, frame, body),
        Some(Modal::Text(t)) => dialogs::text(app, t, frame, body),
        Some(Modal::Assign(a)) => dialogs::assign(app, a, frame, body),
        Some(Modal::Fields(d)) => fields::render(app, d, frame, body),
        None => {}
    }
    if app.confirm_quit {
        dialogs::confirm_quit(app, frame, body);
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
    let t = Theme::new(app);
    let open = app
        .rows
        .iter()
        .filter(|r| r.incident.status.is_open())
        .count();
    let clock = now.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let right = format!(" {clock}  {} ", display_safe(&app.actor));
    let left = vec![
        Span::styled(" WARROOM ", t.title()),
        Span::raw(format!(
            " {open} open incident{} ",
            if open == 1 { "" } else { "s" }
        )),
    ];
    let [l, r] = Layout::horizontal([
        Constraint::Min(1),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), l);
    frame.render_widget(Paragraph::new(right).style(t.dim()), r);
}

fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let t = Theme::new(app);
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
            if super::action::chain(focus).contains(&super::action::Context::Navigation) {
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

/// Styles with and without colour. Without colour, state is carried by
/// text markers and bold/reverse, so nothing depends on colour alone.
pub(crate) struct Theme {
    color: bool,
}

impl Theme {
    pub fn new(app: &App) -> Theme {
        Theme {
            color: !app.no_color,
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Gray)
        } else {
            Style::new()
        }
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn breached(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn soon(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn met(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn drill(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
    pub fn error(&self) -> Style {
        self.fg(Color::Red)
    }
    pub fn focused_border(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn severity(&self, s: crate::domain::Severity) -> Style {
        use crate::domain::Severity::*;
        match s {
            P1 => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            P2 => self.fg(Color::LightRed),
            P3 => self.fg(Color::Yellow),
            P4 => self.fg(Color::Blue),
        }
    }
}

/// How close a clock is to its deadline, for its marker and style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Urgency {
    Met,
    Running,
    Soon,
    Breached,
}

impl Urgency {
    pub fn of(clock: &Clock, now: DateTime<Utc>) -> Urgency {
        match clock.state {
            ClockState::Met => Urgency::Met,
            ClockState::Breached => Urgency::Breached,
            ClockState::Running
                if clock.fraction_used(now) >= 0.75 || clock.remaining.num_seconds() < 300 =>
            {
                Urgency::Soon
            }
            ClockState::Running | ClockState::Paused => Urgency::Running,
            ClockState::DueNow => Urgency::Soon,
        }
    }

    /// The text marker: state is never shown by colour alone.
    pub fn marker(self) -> &'static str {
        match self {
            Urgency::Met => "met",
            Urgency::Running => "",
            Urgency::Soon => "SOON",
            Urgency::Breached => "BREACHED",
        }
    }

    pub fn style(self, t: &Theme) -> Style {
        match self {
            Urgency::Met => t.met(),
            Urgency::Running => Style::new(),
            Urgency::Soon => t.soon(),
            Urgency::Breached => t.breached(),
        }
    }
}

pub(crate) fn short_kind(kind: &ClockKind) -> &'static str {
    match kind {
        ClockKind::Response => "resp",
        ClockKind::CustomerNotice => "notice",
        ClockKind::NextUpdate => "update",
        ClockKind::Regulatory(_) => "legal",
    }
}

/// A rectangle of at most `w`x`h` centred in `area`.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
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
pub(crate) fn input_line(input: &LineInput, width: u16, focused: bool) -> Line<'static> {
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
pub(crate) fn short_time(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
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
