//! The watcher screen's intake pane: alerts taken in from other tools, per
//! source and way in (listener, ingest, followed files). Names and errors
//! come from senders and files: all through display_safe.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use crate::store::IntakeChannelStats;
use crate::text::display_safe;
use crate::tui::kit::theme::Theme;

/// Rows the pane wants for `n` sources (borders and header included).
pub fn height(n: usize) -> u16 {
    if n == 0 {
        0
    } else {
        (n as u16).saturating_add(3).min(8)
    }
}

pub fn render(frame: &mut Frame, area: Rect, t: &Theme, intake: &[IntakeChannelStats]) {
    let rows: Vec<Row> = intake
        .iter()
        .map(|c| {
            let last = c.last_received_at.map_or_else(|| "-".to_string(), stamp);
            let error = match (&c.last_error, c.last_error_at) {
                (Some(e), Some(at)) => format!("{} {}", stamp(at), e),
                (Some(e), None) => e.clone(),
                _ => String::new(),
            };
            let error_style = if error.is_empty() { t.dim() } else { t.error() };
            Row::new(vec![
                Cell::from(display_safe(&c.name).into_owned()),
                Cell::from(display_safe(&c.channel).into_owned()),
                Cell::from(c.received.to_string()),
                Cell::from(c.deduplicated.to_string()),
                Cell::from((c.dropped + c.refused).to_string()),
                Cell::from(last),
                Cell::from(Span::styled(display_safe(&error).into_owned(), error_style)),
            ])
        })
        .collect();
    let received: u64 = intake.iter().map(|c| c.received).sum();
    let title = format!(
        " Intake ({} way(s) in, {received} alert(s) received) ",
        intake.len()
    );
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(14),
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(7),
                Constraint::Length(11),
                Constraint::Fill(2),
            ],
        )
        .header(
            Row::new([
                "SOURCE",
                "WAY IN",
                "RECEIVED",
                "DEDUP",
                "DROPPED",
                "LAST",
                "LAST ERROR",
            ])
            .style(t.bold()),
        )
        .block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%m-%d %H:%M").to_string()
}
