//! The alert list: newest first, one alert a row (time in UTC, incident,
//! kind, whether the incident is acknowledged, text), and the selected
//! alert in full below. Alert text names incidents by their titles, which
//! others typed, so every text goes through `display_safe`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::state::{AlertLog, AlertsState};
use crate::store::RaisedAlert;
use crate::text::display_safe;
use crate::tui::kit::theme::Theme;
use crate::tui::screens::ctx::Ctx;

pub fn render(state: &AlertsState, ctx: &Ctx<AlertLog>, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let log = ctx.feed;
    let [head, list, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(if area.height >= 30 { 6 } else { 4 }),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" Alerts ", t.bold()),
            Span::styled(
                format!(
                    "({}) newest first · Enter opens the alert's incident",
                    log.len()
                ),
                t.dim(),
            ),
        ])),
        head,
    );
    if log.is_empty() {
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(""),
                Line::from("  No alert raised yet. Alerts raised by any console, the watcher"),
                Line::from("  or `warroom alerts` are listed here as they come."),
            ])
            .block(Block::new().borders(Borders::TOP)),
            list.union(detail),
        );
        return;
    }
    // The acknowledgement as the board last loaded it (fresher than the
    // alert's own, read when it was raised).
    let acked: HashMap<&str, Option<DateTime<Utc>>> = ctx
        .rows
        .iter()
        .map(|r| (r.incident.id.as_str(), r.incident.acknowledged_at))
        .collect();
    // Narrow terminals drop the year and the seconds (the detail below
    // has the full time).
    let (time_format, time_width) = if area.width >= 100 {
        ("%Y-%m-%d %H:%M:%S", 19)
    } else {
        ("%m-%d %H:%M", 11)
    };
    let rows: Vec<Row> = log
        .iter_newest()
        .map(|a| {
            let ack = a
                .alert
                .incident_id
                .as_deref()
                .and_then(|id| acked.get(id).copied())
                .unwrap_or(a.acknowledged_at);
            let ack_cell = match (&a.alert.incident_id, ack) {
                (None, _) => Cell::from("-"),
                (Some(_), Some(at)) => {
                    Cell::from(format!("yes {}", at.format("%H:%M"))).style(t.met())
                }
                (Some(_), None) => Cell::from("NO").style(t.breached()),
            };
            Row::new(vec![
                Cell::from(a.alert.raised_at.format(time_format).to_string()),
                Cell::from(
                    display_safe(a.alert.incident_id.as_deref().unwrap_or("-")).into_owned(),
                ),
                Cell::from(display_safe(&a.alert.kind).into_owned()),
                ack_cell,
                Cell::from(display_safe(&a.alert.text).into_owned()),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(time_width),
            Constraint::Length(13),
            Constraint::Length(14),
            Constraint::Length(9),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["Time (UTC)", "Incident", "Kind", "Acked", "Alert"]).style(t.bold()))
    .row_highlight_style(t.selected())
    .highlight_symbol("▶ ")
    .block(Block::new().borders(Borders::TOP | Borders::BOTTOM));
    let mut ts = TableState::default().with_selected(Some(state.cursor));
    frame.render_stateful_widget(table, list, &mut ts);
    if let Some(a) = log.newest(state.cursor) {
        render_detail(&t, a, frame, detail);
    }
}

fn render_detail(t: &Theme, a: &RaisedAlert, frame: &mut Frame, area: Rect) {
    let mut lines = vec![Line::from(vec![
        Span::styled(format!(" #{} ", a.id), t.bold()),
        Span::styled(
            format!(
                "raised {} UTC by {}",
                a.alert.raised_at.format("%Y-%m-%d %H:%M:%S"),
                display_safe(&a.alert.raised_by)
            ),
            t.dim(),
        ),
    ])];
    if let Some(r) = &a.alert.recipient {
        lines.push(Line::styled(format!(" for {}", display_safe(r)), t.dim()));
    }
    lines.push(Line::from(format!(" {}", display_safe(&a.alert.text))));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
