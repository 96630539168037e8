//! The messages screen: each message sent for the incident (UTC time,
//! audience, author, whether every sink took it), under it the state of
//! its delivery through each sink (attempts, when, where it went or why it
//! failed), and the selected message's text below.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::store::{DeliveryState, SentMessage};
use crate::text::{display_safe, display_safe_lines};
use crate::tui::kit::layout::{short_time, wrap};
use crate::tui::kit::theme::Theme;
use crate::tui::screens::ctx::Ctx;
use crate::tui::screens::messages::state::MessagesState;

pub fn render(state: &MessagesState, ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let now = ctx.now;
    let [head, list, text_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(4),
        Constraint::Length(if area.height >= 30 { 10 } else { 6 }),
    ])
    .areas(area);
    render_head(ctx, state, frame, head);
    let Some(messages) = state.list.as_ref() else {
        let text = match &state.error {
            Some(e) => format!("Messages not shown: {}", display_safe(e)),
            None => format!("Loading the messages of {}…", state.id),
        };
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(" Messages sent ")),
            list.union(text_area),
        );
        return;
    };
    if messages.is_empty() {
        frame.render_widget(
            Paragraph::new(vec![
                Line::from("No message sent for this incident yet."),
                Line::from(""),
                Line::from("  Esc goes back to the incident, where c writes one."),
            ])
            .block(
                Block::new()
                    .borders(Borders::TOP)
                    .title(" Messages sent (0) "),
            ),
            list.union(text_area),
        );
        return;
    }
    if state.reading {
        if let Some(m) = state.selected() {
            render_text(
                ctx,
                m,
                (state.text_scroll, true),
                frame,
                list.union(text_area),
            );
        }
        return;
    }
    render_list(ctx, state, messages, frame, list, now);
    if let Some(m) = state.selected() {
        render_text(ctx, m, (state.text_scroll, false), frame, text_area);
    }
}

fn render_head(ctx: &Ctx, state: &MessagesState, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let mut first = vec![Span::styled(format!(" {} ", state.id), t.bold())];
    if let Some(d) = ctx.detail.filter(|d| d.incident.id == state.id) {
        let i = &d.incident;
        first.push(Span::styled(
            format!("{} ", i.severity),
            t.severity(i.severity),
        ));
        if i.drill {
            first.push(Span::styled("DRILL ", t.drill()));
        }
        first.push(Span::raw(display_safe(&i.title).into_owned()));
    }
    let (failed, pending) = state.undelivered();
    let second = if state.retrying {
        Line::styled(" Retrying the deliveries not delivered…", t.soon())
    } else if state.list.is_none() {
        Line::from("")
    } else if failed + pending == 0 {
        // Never "every message was delivered" over none or outbox files.
        let list = state.list.as_deref().unwrap_or_default();
        let (text, attention) = crate::comms::reach::messages_summary(list);
        Line::styled(
            format!(" {text}"),
            if attention { t.soon() } else { t.met() },
        )
    } else {
        let mut parts = Vec::new();
        if failed > 0 {
            parts.push(format!(
                "{failed} deliver{} FAILED",
                if failed == 1 { "y" } else { "ies" }
            ));
        }
        if pending > 0 {
            parts.push(format!("{pending} pending"));
        }
        Line::from(vec![
            Span::styled(format!(" {}", parts.join(", ")), t.breached()),
            Span::raw(" · r retries them, as warroom notify retry does"),
        ])
    };
    frame.render_widget(Paragraph::new(vec![Line::from(first), second]), area);
}

fn render_list(
    ctx: &Ctx,
    state: &MessagesState,
    messages: &[SentMessage],
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let mut lines: Vec<Line> = Vec::new();
    let (mut cursor_first, mut cursor_last) = (0, 0);
    for (pos, m) in messages.iter().enumerate() {
        let selected = pos == state.cursor;
        if selected {
            cursor_first = lines.len();
        }
        let delivered = m.delivered();
        let head = Line::from(vec![
            Span::raw(if selected { "▶ " } else { "  " }),
            Span::styled(format!("#{:<4}", m.id), t.bold()),
            Span::raw(format!(
                "{}  {:<10} by {}  ",
                m.sent_at.format("%Y-%m-%d %H:%M:%S UTC"),
                m.audience.as_str(),
                display_safe(&m.author)
            )),
            Span::styled(
                crate::comms::reach::message_state(m),
                if !delivered {
                    t.breached()
                } else if m.sent() {
                    t.met()
                } else {
                    t.soon()
                },
            ),
        ]);
        lines.push(if selected {
            head.style(t.selected())
        } else {
            head
        });
        if m.deliveries.is_empty() {
            lines.push(Line::styled("      (recorded only: no sink)", t.dim()));
        }
        for d in &m.deliveries {
            let bad = d.state != DeliveryState::Delivered;
            lines.push(Line::from(vec![
                Span::raw("      "),
                Span::raw(format!("{:<12} ", display_safe(&d.sink))),
                Span::styled(
                    format!("{:<9}", d.state_text()),
                    if bad { t.breached() } else { t.met() },
                ),
                Span::raw(format!(
                    " {} attempt{}, {}  ",
                    d.attempts,
                    if d.attempts == 1 { "" } else { "s" },
                    short_time(d.updated_at, now)
                )),
                Span::styled(display_safe(&d.detail).into_owned(), t.dim()),
            ]));
        }
        if selected {
            cursor_last = lines.len().saturating_sub(1);
        }
    }
    let inner_h = usize::from(area.height.saturating_sub(1)).max(1);
    // The selected message with its deliveries in view (its head first
    // when they do not all fit).
    let total = lines.len();
    let offset = if cursor_last < inner_h {
        0
    } else {
        (cursor_last + 1 - inner_h)
            .min(cursor_first)
            .min(total.saturating_sub(inner_h))
    };
    let title = format!(
        " Messages sent ({}, oldest first) · message {} of {} ",
        messages.len(),
        state.cursor.min(messages.len().saturating_sub(1)) + 1,
        messages.len()
    );
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::new().borders(Borders::TOP).title(title))
            .scroll((u16::try_from(offset).unwrap_or(u16::MAX), 0)),
        area,
    );
}

/// `(scroll, reading)`: the first wrapped line shown, and whether the text
/// fills the screen.
fn render_text(
    ctx: &Ctx,
    m: &SentMessage,
    (scroll, reading): (usize, bool),
    frame: &mut Frame,
    area: Rect,
) {
    let t = Theme::new(ctx.no_color);
    let body = wrap(
        &display_safe_lines(m.body.trim_end()),
        usize::from(area.width).max(1),
    );
    // One row for the title; one for the "more" line when the text is longer.
    let rows = usize::from(area.height.saturating_sub(1)).max(1);
    let fits = body.len() <= rows;
    let room = if fits {
        rows
    } else {
        rows.saturating_sub(1).max(1)
    };
    let first = scroll.min(body.len().saturating_sub(room));
    let last = (first + room).min(body.len());
    let mut lines: Vec<Line> = body[first..last].iter().cloned().map(Line::from).collect();
    if !fits {
        lines.push(Line::styled(
            format!(
                "lines {}–{last} of {} · Space more · b back · Enter {}",
                first + 1,
                body.len(),
                if reading {
                    "the list"
                } else {
                    "reads it whole"
                }
            ),
            t.dim(),
        ));
    }
    let template = m
        .template
        .as_deref()
        .map_or(String::new(), |n| format!(", from {}", display_safe(n)));
    let title = format!(
        " #{} to {}{template} · sha256 {} ",
        m.id,
        m.audience.as_str(),
        m.sha256.get(..12).unwrap_or(&m.sha256)
    );
    frame.render_widget(
        Paragraph::new(lines).block(Block::new().borders(Borders::TOP).title(title)),
        area,
    );
}
