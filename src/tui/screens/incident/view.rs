//! The incident view: summary, clocks, checklist, roles and timeline panes.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use crate::domain::Phase;
use crate::domain::playbook::ItemState;
use crate::domain::roles::Role;
use crate::domain::sla::{ClockKind, clocks, format_countdown};
use crate::store::IncidentDetail;
use crate::text::{display_safe, display_safe_lines};
use crate::tui::kit::layout::short_time;
use crate::tui::kit::theme::{Theme, Urgency, earlier_breach, state_word};
use crate::tui::screens::ctx::Ctx;
use crate::tui::screens::incident::glance::{Glance, strip};
use crate::tui::screens::incident::state::{IncidentState, Origins, Pane};

pub fn render(state: &IncidentState, ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let now = ctx.now;
    let Some(detail) = state.detail.as_ref() else {
        let text = format!("Loading {}…", state.id);
        frame.render_widget(Paragraph::new(text).block(Block::bordered()), area);
        return;
    };
    let top_h = if area.height >= 30 { 10 } else { 8 };
    let timeline_h = (area.height * 3 / 10).max(5);
    let [glance_row, top, middle, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(top_h),
        Constraint::Min(7),
        Constraint::Length(timeline_h),
    ])
    .areas(area);
    let summary_share = if area.width >= 110 { 55 } else { 46 };
    let [summary, clocks_area] = Layout::horizontal([
        Constraint::Percentage(summary_share),
        Constraint::Percentage(100 - summary_share),
    ])
    .areas(top);
    let [checklist, roles] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(middle);
    render_summary(ctx, state, detail, frame, summary);
    render_clocks(ctx, state, detail, frame, clocks_area, now);
    render_checklist(ctx, state, detail, frame, checklist, now);
    render_roles(ctx, state, detail, frame, roles, now);
    let glance = Glance {
        detail,
        present: ctx.present,
        me: ctx.console,
        last_customer_update: state.origins.last_customer_update,
    };
    frame.render_widget(
        Paragraph::new(strip(&glance, now, glance_row.width, ctx.no_color)),
        glance_row,
    );
    // A campaign's sources table shares the bottom with the timeline.
    if state.origins.sources.len() >= 2 {
        let [timeline, sources] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(bottom);
        render_timeline(ctx, state, detail, frame, timeline, now);
        render_sources(ctx, state, frame, sources);
    } else {
        render_timeline(ctx, state, detail, frame, bottom, now);
    }
}

/// A campaign's sources: every key with its count, first and last seen.
fn render_sources(ctx: &Ctx, state: &IncidentState, frame: &mut Frame, area: Rect) {
    let block = pane_block(ctx, state, Pane::Sources, String::new());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let sources = &state.origins.sources;
    let offset = state
        .sources_scroll
        .min(super::sources::max_offset(sources.len(), inner.height));
    super::sources::draw(frame, inner, sources, offset, ctx.no_color);
}

fn pane_block(ctx: &Ctx, state: &IncidentState, pane: Pane, extra: String) -> Block<'static> {
    let t = Theme::new(ctx.no_color);
    let focused = state.pane == pane;
    let title = if focused {
        format!("▶ {}{extra} ", pane.title())
    } else {
        format!(" {}{extra} ", pane.title())
    };
    let block = Block::bordered().title(title);
    if focused {
        block.border_style(t.focused_border()).title_style(t.bold())
    } else {
        block
    }
}

fn render_summary(
    ctx: &Ctx,
    state: &IncidentState,
    d: &IncidentDetail,
    frame: &mut Frame,
    area: Rect,
) {
    let t = Theme::new(ctx.no_color);
    let i = &d.incident;
    let level = ctx.policy.level(i.severity);
    let mut head = vec![
        Span::styled(format!("{} ", i.id), t.bold()),
        Span::styled(i.severity.as_str(), t.severity(i.severity)),
        Span::raw(" "),
    ];
    if i.drill {
        head.push(Span::styled("DRILL ", t.drill()));
    }
    head.push(Span::styled(display_safe(&i.title).into_owned(), t.bold()));
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name}: "), t.bold()),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        Line::from(head),
        field(
            "Severity",
            format!(
                "{} {} — {}",
                i.severity,
                display_safe(&level.label),
                display_safe(&level.criteria)
            ),
        ),
        field(
            "Status",
            format!(
                "{}   Phase {}/6 {}",
                i.status,
                i.phase.index() + 1,
                i.phase.title()
            ),
        ),
        field(
            "Source",
            format!(
                "{}   CIA {}{}",
                i.source,
                i.cia,
                if i.personal_data_breach {
                    "   personal data"
                } else {
                    ""
                }
            ),
        ),
    ];
    lines.extend(
        origin_lines(&state.origins)
            .into_iter()
            .map(|(k, v)| field(k, v)),
    );
    if !i.affected.is_empty() {
        lines.push(field("Affected", display_safe(&i.affected).into_owned()));
    }
    if !i.customer_impact.is_empty() {
        lines.push(field(
            "Customer impact",
            display_safe(&i.customer_impact).into_owned(),
        ));
    }
    let summary = display_safe_lines(&i.summary);
    lines.push(field(
        "Summary",
        summary.first().cloned().unwrap_or_default(),
    ));
    lines.extend(summary.into_iter().skip(1).map(Line::from));
    // What customers are told, apart from the internal summary above.
    if !i.customer_summary.is_empty() {
        let told = display_safe_lines(&i.customer_summary);
        lines.push(field(
            "For customers",
            told.first().cloned().unwrap_or_default(),
        ));
        lines.extend(told.into_iter().skip(1).map(Line::from));
    }
    let scroll = u16::try_from(state.summary_scroll).unwrap_or(u16::MAX);
    frame.render_widget(
        Paragraph::new(lines)
            .block(pane_block(ctx, state, Pane::Summary, String::new()))
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

fn render_clocks(
    ctx: &Ctx,
    state: &IncidentState,
    d: &IncidentDetail,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let narrow = area.width < 50;
    let mut notes: Vec<Line> = Vec::new();
    let rows: Vec<Row> = clocks(&d.incident, ctx.policy, now)
        .into_iter()
        .map(|c| {
            let u = Urgency::of(&c, now);
            let due = short_time(c.due, now);
            let left = format_countdown(c.remaining);
            let state_text = match (u, c.met_at) {
                (_, Some(m)) if u == Urgency::Breached => {
                    format!("BREACHED (met {})", short_time(m, now))
                }
                _ => match state_word(&c, now) {
                    "" => "running".to_string(),
                    word => word.to_string(),
                },
            };
            let label = match (&c.kind, narrow) {
                (ClockKind::CustomerNotice, true) => "Notice".to_string(),
                (ClockKind::NextUpdate, true) => "Update".to_string(),
                (ClockKind::Regulatory(_), true) => "Regulator".to_string(),
                (kind, _) => kind.label(),
            };
            if let Some(note) = earlier_breach(&c, d.incident.severity) {
                notes.push(Line::styled(
                    format!("{}: {note}", display_safe(&label)),
                    t.breached(),
                ));
            }
            Row::new(vec![
                Cell::from(display_safe(&label).into_owned()),
                Cell::from(due),
                Cell::from(if c.met_at.is_some() {
                    String::new()
                } else {
                    left
                }),
                Cell::from(Span::styled(state_text, u.style(&t))),
            ])
            .style(if u == Urgency::Breached {
                t.bold()
            } else {
                Style::new()
            })
        })
        .collect();
    let table_h = u16::try_from(rows.len() + 1).unwrap_or(u16::MAX);
    let table = Table::new(
        rows,
        [
            Constraint::Min(9),
            Constraint::Length(11),
            Constraint::Length(9),
            Constraint::Length(8),
        ],
    )
    .header(Row::new(vec!["CLOCK", "DUE (UTC)", "LEFT", "STATE"]).style(t.bold()))
    .column_spacing(1);
    let block = pane_block(ctx, state, Pane::Clocks, String::new());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Breaches under an earlier severity stay said below the table.
    let [table_area, notes_area] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(inner);
    frame.render_widget(table, table_area);
    frame.render_widget(Paragraph::new(notes), notes_area);
}

fn item_marker(s: ItemState) -> &'static str {
    match s {
        ItemState::Open => "[ ]",
        ItemState::Done => "[x]",
        ItemState::NotApplicable => "[-]",
    }
}

fn render_checklist(
    ctx: &Ctx,
    state: &IncidentState,
    d: &IncidentDetail,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let current = d.incident.phase;
    let focused = state.pane == Pane::Checklist;
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0;
    for phase in Phase::ALL {
        let items: Vec<(usize, &crate::domain::ChecklistItem)> = d
            .checklist
            .iter()
            .enumerate()
            .filter(|(_, c)| c.phase == *phase)
            .collect();
        let done = items
            .iter()
            .filter(|(_, c)| c.state != ItemState::Open)
            .count();
        let here = *phase == current;
        let head = format!(
            "{} {}. {} ({done}/{}){}",
            if here { "●" } else { "○" },
            phase.index() + 1,
            phase.title(),
            items.len(),
            if here { "  ← current phase" } else { "" }
        );
        lines.push(Line::styled(head, if here { t.bold() } else { t.dim() }));
        for (idx, item) in items {
            let selected = idx == state.checklist_cursor;
            if selected {
                cursor_line = lines.len();
            }
            let mut spans = vec![
                Span::raw(if selected && focused { "▶ " } else { "  " }),
                Span::raw(format!("{} ", item_marker(item.state))),
                Span::raw(display_safe(&item.text).into_owned()),
            ];
            if let Some(r) = &item.reason {
                spans.push(Span::raw(format!(" (n/a: {})", display_safe(r))));
            }
            if let (Some(by), Some(at)) = (&item.by, item.at)
                && item.state != ItemState::Open
            {
                spans.push(Span::styled(
                    format!(" — {} {}", display_safe(by), short_time(at, now)),
                    t.dim(),
                ));
            }
            let mut line = Line::from(spans);
            if selected {
                line = line.style(if focused { t.selected() } else { t.bold() });
            }
            lines.push(line);
        }
    }
    let inner_h = usize::from(area.height.saturating_sub(2)).max(1);
    let offset = cursor_line
        .saturating_sub(inner_h / 2)
        .min(lines.len().saturating_sub(inner_h));
    let done = d
        .checklist
        .iter()
        .filter(|c| c.state == ItemState::Done)
        .count();
    let extra = format!(" {done}/{} done", d.checklist.len());
    frame.render_widget(
        Paragraph::new(lines)
            .block(pane_block(ctx, state, Pane::Checklist, extra))
            .scroll((u16::try_from(offset).unwrap_or(0), 0)),
        area,
    );
}

fn render_roles(
    ctx: &Ctx,
    state: &IncidentState,
    d: &IncidentDetail,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let focused = state.pane == Pane::Roles;
    let wide = area.width >= 50;
    let rows: Vec<Row> = Role::ALL
        .iter()
        .enumerate()
        .map(|(i, role)| {
            let selected = focused && i == state.role_cursor;
            let (who, since) = match d.holder(*role) {
                Some(a) => (
                    display_safe(&a.person).into_owned(),
                    if wide {
                        format!("since {}", short_time(a.since, now))
                    } else {
                        short_time(a.since, now)
                    },
                ),
                None => ("—".to_string(), String::new()),
            };
            let name = if wide { role.title() } else { role.as_str() };
            let row = Row::new(vec![
                Cell::from(if selected { "▶" } else { " " }),
                Cell::from(name),
                Cell::from(who),
                Cell::from(since),
            ]);
            if selected {
                row.style(t.selected())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Length(if wide { 19 } else { 9 }),
            Constraint::Min(6),
            Constraint::Length(if wide { 15 } else { 11 }),
        ],
    )
    .column_spacing(1)
    .block(pane_block(ctx, state, Pane::Roles, String::new()));
    frame.render_widget(table, area);
}

fn render_timeline(
    ctx: &Ctx,
    state: &IncidentState,
    d: &IncidentDetail,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let inner_h = usize::from(area.height.saturating_sub(2));
    let start = state
        .timeline_scroll
        .min(d.timeline.len().saturating_sub(1));
    let lines: Vec<Line> = d
        .timeline
        .iter()
        .skip(start)
        .take(inner_h)
        .map(|e| {
            Line::from(vec![
                Span::styled(format!("{} ", short_time(e.at, now)), t.dim()),
                Span::styled(format!("{} ", display_safe(&e.actor)), t.bold()),
                Span::raw(display_safe(&e.detail).into_owned()),
            ])
        })
        .collect();
    let extra = if d.timeline.is_empty() {
        " (empty)".to_string()
    } else {
        let of = if d.timeline.len() >= crate::tui::screens::incident::state::TIMELINE_LIMIT {
            format!("the latest {}", d.timeline.len())
        } else {
            d.timeline.len().to_string()
        };
        format!(
            " newest first, {}–{} of {of}",
            start + 1,
            (start + inner_h).min(d.timeline.len()),
        )
    };
    frame.render_widget(
        Paragraph::new(lines).block(pane_block(ctx, state, Pane::Timeline, extra)),
        area,
    );
}

/// "Alerts from" (the tools whose alerts opened or joined the incident)
/// and "Sources" (its detections' keys, busiest first) as summary lines.
pub fn origin_lines(o: &Origins) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !o.intake.is_empty() {
        let ways: Vec<String> = o
            .intake
            .iter()
            .map(|w| {
                let last = w
                    .last_received_at
                    .map_or(String::new(), |t| format!(", last {}", t.format("%H:%M")));
                format!(
                    "{} via {} ({} alert(s){last})",
                    display_safe(&w.intake),
                    display_safe(&w.channel),
                    w.alerts
                )
            })
            .collect();
        out.push(("Alerts from", ways.join("; ")));
    }
    if o.sources.len() > 1 {
        let hits: u64 = o.sources.iter().map(|s| s.count).sum();
        let top: Vec<String> = o
            .sources
            .iter()
            .take(3)
            .map(|s| format!("{} ×{}", display_safe(&s.key), s.count))
            .collect();
        out.push((
            "Sources",
            format!(
                "{} keys, {hits} hits; busiest {}",
                o.sources.len(),
                top.join(", ")
            ),
        ));
    }
    out
}
