//! The evidence screen: the incident's items (kind, hash, size, when and by
//! whom, source, description, verification state), the selected item in
//! full and its chain of custody.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use crate::domain::evidence::{CustodyEvent, EvidenceItem, EvidenceKind};
use crate::text::{display_safe, display_safe_lines};
use crate::tui::kit::layout::short_time;
use crate::tui::kit::theme::Theme;
use crate::tui::screens::ctx::Ctx;
use crate::tui::screens::evidence::state::{EvidenceData, EvidencePane, EvidenceState};

pub fn render(state: &EvidenceState, ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let now = ctx.now;
    let [head, rest] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    render_head(ctx, state, frame, head);
    let Some(data) = state.data.as_ref() else {
        let text = match &state.error {
            Some(e) => format!("Evidence not shown: {}", display_safe(e)),
            None => format!("Loading the evidence of {}…", state.id),
        };
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(" Evidence ")),
            rest,
        );
        return;
    };
    if data.items.is_empty() {
        let lines = vec![
            Line::from("No evidence collected yet."),
            Line::from(""),
            Line::from("  a  adds a note, a log excerpt (pasted lines) or a file (copied"),
            Line::from("     into the evidence store, hashed and made read-only)."),
            Line::from("  h  sets a legal hold; Esc goes back to the incident."),
        ];
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(" Evidence (0 items) ")),
            rest,
        );
        return;
    }
    let items_h = u16::try_from(data.items.len())
        .unwrap_or(u16::MAX)
        .saturating_add(3)
        .min(rest.height / 3)
        .max(4);
    let detail_h = if rest.height >= 30 { 8 } else { 6 };
    let [items, detail, custody] = Layout::vertical([
        Constraint::Length(items_h),
        Constraint::Length(detail_h),
        Constraint::Min(3),
    ])
    .areas(rest);
    render_items(ctx, state, data, frame, items, now);
    if let Some(item) = state.selected() {
        render_detail(ctx, data, item, frame, detail);
        render_custody(ctx, state, data, item, frame, custody, now);
    }
}

fn render_head(ctx: &Ctx, state: &EvidenceState, frame: &mut Frame, area: Rect) {
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
    let second = match state.data.as_ref().and_then(|d| d.hold.as_ref()) {
        Some(h) => Line::from(vec![
            Span::styled(" LEGAL HOLD ", t.breached()),
            Span::raw(format!(
                " since {} by {}: {}",
                h.set_at.format("%Y-%m-%d %H:%M UTC"),
                display_safe(&h.set_by),
                display_safe(&h.reason)
            )),
        ]),
        None => Line::styled(
            " No legal hold. Opening this list is recorded in the chain of custody.",
            t.dim(),
        ),
    };
    frame.render_widget(Paragraph::new(vec![Line::from(first), second]), area);
}

/// The verification state of an item, as text.
fn check_text(data: &EvidenceData, item: i64, now: DateTime<Utc>) -> (String, bool) {
    match data.last_check(item) {
        None => ("unchecked".into(), false),
        Some(c) => match c.result.as_deref() {
            Some("ok") => (format!("ok {}", short_time(c.at, now)), false),
            Some(r) => (r.to_uppercase(), true),
            None => ("?".into(), true),
        },
    }
}

fn human_size(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", n as f64 / 1_048_576.0),
        _ => format!("{:.1} GiB", n as f64 / 1_073_741_824.0),
    }
}

fn source_of(i: &EvidenceItem) -> String {
    match (&i.kind, &i.source_path) {
        (EvidenceKind::Note, _) => format!("{} (written)", display_safe(&i.source_host)),
        (_, Some(p)) => format!("{}:{}", display_safe(&i.source_host), display_safe(p)),
        (_, None) => display_safe(&i.source_host).into_owned(),
    }
}

fn render_items(
    ctx: &Ctx,
    state: &EvidenceState,
    data: &EvidenceData,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let wide = area.width >= 110;
    let inner_h = usize::from(area.height.saturating_sub(3)).max(1);
    let n = data.items.len();
    let sel = state.cursor.min(n.saturating_sub(1));
    let offset = sel
        .saturating_sub(inner_h / 2)
        .min(n.saturating_sub(inner_h));
    let rows: Vec<Row> = data
        .items
        .iter()
        .enumerate()
        .skip(offset)
        .take(inner_h)
        .map(|(pos, i)| {
            let (check, bad) = check_text(data, i.id, now);
            let mut cells = vec![
                Cell::from(if pos == sel { "▶" } else { " " }),
                Cell::from(format!("#{}", i.id)),
                Cell::from(i.kind.as_str()),
                Cell::from(i.sha256.chars().take(12).collect::<String>()),
                Cell::from(human_size(i.size)),
                Cell::from(i.collected_at.format("%m-%d %H:%M").to_string()),
                Cell::from(display_safe(&i.collected_by).into_owned()),
                Cell::from(Span::styled(
                    check,
                    if bad { t.breached() } else { t.met() },
                )),
            ];
            if wide {
                cells.push(Cell::from(source_of(i)));
                cells.push(Cell::from(display_safe(&i.description).into_owned()));
            } else {
                cells.push(Cell::from(display_safe(&i.description).into_owned()));
            }
            let row = Row::new(cells);
            // Reversed while the keys move here; ▶ marks it either way.
            if pos == sel && state.pane == EvidencePane::Items {
                row.style(t.selected())
            } else {
                row
            }
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(14),
    ];
    let mut header = vec!["", "#", "KIND", "SHA-256", "SIZE", "UTC", "BY", "CHECK"];
    if wide {
        widths.push(Constraint::Length(28));
        header.push("SOURCE");
    }
    widths.push(Constraint::Min(6));
    header.push("DESCRIPTION");
    let verified = data
        .items
        .iter()
        .filter(|i| {
            data.last_check(i.id)
                .is_some_and(|c| c.result.as_deref() == Some("ok"))
        })
        .count();
    let title = format!(
        " Evidence ({n} item{}, {verified} last checked ok) ",
        if n == 1 { "" } else { "s" }
    );
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(t.bold()))
            .column_spacing(1)
            .block(Block::new().borders(Borders::TOP).title(title)),
        area,
    );
}

fn render_detail(ctx: &Ctx, data: &EvidenceData, i: &EvidenceItem, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<12}"), t.bold()),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        field("SHA-256", format!("{}  ({} bytes)", i.sha256, i.size)),
        field(
            "Collected",
            format!(
                "{} by {} (collector's time {})",
                i.collected_at.format("%Y-%m-%d %H:%M:%S UTC"),
                display_safe(&i.collected_by),
                display_safe(&i.collected_at_local)
            ),
        ),
        field("Source", source_of(i)),
        field(
            "Held by",
            display_safe(data.holder(i.id).unwrap_or(crate::store::STORE_CUSTODIAN)).into_owned(),
        ),
    ];
    if !i.description.is_empty() {
        lines.push(field(
            "Description",
            display_safe(&i.description).into_owned(),
        ));
    }
    if let Some(text) = &i.content {
        let shown = display_safe_lines(text.trim_end());
        let more = shown.len().saturating_sub(1);
        let mut first = shown.into_iter().next().unwrap_or_default();
        if more > 0 {
            first.push_str(&format!(
                "  (+{more} more line{})",
                if more == 1 { "" } else { "s" }
            ));
        }
        lines.push(field("Content", first));
    }
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::new()
                .borders(Borders::TOP)
                .title(format!(" #{} {} ", i.id, i.kind)),
        ),
        area,
    );
}

fn render_custody(
    ctx: &Ctx,
    state: &EvidenceState,
    data: &EvidenceData,
    i: &EvidenceItem,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let events: Vec<&CustodyEvent> = data.custody_of(i.id).collect();
    let n = events.len();
    // The block's top border and the header row.
    let inner_h = usize::from(area.height.saturating_sub(2)).max(1);
    let focused = state.pane == EvidencePane::Custody;
    let sel = state.custody_position();
    // Newest at the foot while following; else the cursor kept in view.
    let offset = if state.custody_cursor.is_none() {
        n.saturating_sub(inner_h)
    } else {
        sel.saturating_sub(inner_h / 2)
            .min(n.saturating_sub(inner_h))
    };
    let rows: Vec<Row> = events
        .iter()
        .enumerate()
        .skip(offset)
        .take(inner_h)
        .map(|(pos, c)| {
            let result = c.result.as_deref().unwrap_or("");
            let bad = !result.is_empty() && result != "ok";
            let row = Row::new(vec![
                Cell::from(short_time(c.at, now)),
                Cell::from(c.action.clone()),
                Cell::from(format!(
                    "{} → {}",
                    display_safe(&c.from),
                    display_safe(&c.to)
                )),
                Cell::from(display_safe(&c.purpose).into_owned()),
                Cell::from(Span::styled(
                    result.to_uppercase(),
                    if bad { t.breached() } else { t.met() },
                )),
            ]);
            if focused && pos == sel {
                row.style(t.selected())
            } else {
                row
            }
        })
        .collect();
    let shown = n.saturating_sub(offset).min(inner_h);
    let mut title = if shown < n {
        // Which events are on screen, and how to reach the others.
        format!(
            " Chain of custody of #{}: {}–{} of {} ",
            i.id,
            offset + 1,
            offset + shown,
            n
        )
    } else {
        format!(" Chain of custody of #{} ({n}) ", i.id)
    };
    if focused {
        title.push_str(&format!("· event {} of {n} ", sel + 1));
    } else if shown < n {
        title.push_str("· Tab, then j/k/PgUp/g scroll it ");
    }
    let block = Block::new().borders(Borders::TOP).title(Span::styled(
        title,
        if focused { t.bold() } else { Style::new() },
    ));
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(11),
                Constraint::Length(11),
                Constraint::Percentage(45),
                Constraint::Min(10),
                Constraint::Length(8),
            ],
        )
        .header(Row::new(vec!["UTC", "ACTION", "FROM → TO", "PURPOSE", "RESULT"]).style(t.bold()))
        .column_spacing(1)
        .block(block),
        area,
    );
}
