//! The board: every open incident with its most urgent clock.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use crate::domain::Policy;
use crate::domain::sla::{clocks, format_countdown, most_urgent};
use crate::domain::{Incident, Status};
use crate::store::BoardRow;
use crate::text::display_safe;
use crate::tui::kit::layout::input_line;
use crate::tui::kit::theme::{Theme, Urgency, short_kind, state_word};
use crate::tui::screens::board::state::{BoardFeed, BoardState};
use crate::tui::screens::ctx::Ctx;

/// The board and what it is lent, as the drawing reads them.
struct Board<'a> {
    board: &'a BoardState,
    rows: &'a [BoardRow],
    policy: &'a Policy,
    no_color: bool,
    feed: &'a BoardFeed,
}

impl Board<'_> {
    fn selected_row(&self) -> Option<&BoardRow> {
        self.board.selected_row(self.rows)
    }
}

pub fn render(
    board: &BoardState,
    ctx: &Ctx<BoardFeed>,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let v = &Board {
        board,
        rows: ctx.rows,
        policy: ctx.policy,
        no_color: ctx.no_color,
        feed: ctx.feed,
    };
    let [bar, table, strip] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(4),
    ])
    .areas(area);
    render_bar(v, frame, bar);
    if v.board.order.is_empty() {
        render_empty(v, frame, table);
    } else {
        render_table(v, frame, table, now);
    }
    render_strip(v, frame, strip, now);
}

fn render_bar(v: &Board, frame: &mut Frame, area: Rect) {
    let t = Theme::new(v.no_color);
    let b = &v.board;
    let mut spans = vec![
        Span::styled(" Sort ", t.bold()),
        Span::raw(format!("{}  ", b.sort.label())),
        Span::styled("Severity ", t.bold()),
        Span::raw(format!(
            "{}  ",
            b.severity_filter
                .map_or("all".to_string(), |s| s.to_string())
        )),
        Span::styled("Status ", t.bold()),
        Span::raw(format!(
            "{}  ",
            b.status_filter.map_or("all".to_string(), |s| s.to_string())
        )),
        Span::styled("Closed ", t.bold()),
        Span::raw(if b.show_closed { "shown  " } else { "hidden  " }),
        Span::styled("Filter /", t.bold()),
    ];
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = usize::from(area.width).saturating_sub(used + 1) as u16;
    if b.filtering || !b.filter.is_blank() {
        spans.extend(input_line(&b.filter, room, b.filtering).spans);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_empty(v: &Board, frame: &mut Frame, area: Rect) {
    let closed_hidden = v
        .rows
        .iter()
        .filter(|r| r.incident.status == Status::Closed)
        .count();
    let text = if !v.feed.loaded {
        vec![Line::from("Loading incidents…")]
    } else if v.rows.is_empty() {
        vec![
            Line::from("No incidents yet."),
            Line::from(""),
            Line::from("  Press n to declare a new incident."),
            Line::from("  Or run `warroom demo` to load a drill (exercise incidents in"),
            Line::from("  different phases) and see a live war room."),
            Line::from(""),
            Line::from("  Press ? for every key."),
        ]
    } else if !v.board.show_closed && closed_hidden == v.rows.len() {
        vec![Line::from(format!(
            "No open incidents. {closed_hidden} closed: press c to show them, n to declare one."
        ))]
    } else {
        vec![Line::from("No incident matches the filter. Esc clears it.")]
    };
    let block = Block::new().borders(Borders::TOP).title(" Incidents ");
    frame.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        area,
    );
}

/// Width of the board's clock column.
const CLOCK_W: usize = 25;

/// The most urgent live clock as board text: `+03:12 resp BREACHED`.
fn clock_cell(incident: &Incident, v: &Board, now: DateTime<Utc>) -> (String, Urgency) {
    let cs = clocks(incident, v.policy, now);
    match most_urgent(&cs) {
        Some(c) => {
            let u = Urgency::of(c, now);
            // A breach under an earlier severity says which.
            let marker = match c.breached_at {
                Some(_) if c.severity != incident.severity => {
                    format!("{} {}", u.marker(), c.severity)
                }
                _ => state_word(c, now).to_string(),
            };
            let countdown = format_countdown(c.remaining);
            let kind = short_kind(&c.kind);
            let mut text = format!("{countdown:>9} {kind:<6} {marker}");
            // The column holds CLOCK_W: give up padding rather than the
            // severity a breach happened under.
            let excess = text.chars().count().saturating_sub(CLOCK_W);
            if excess > 0 {
                let pad = text.len() - text.trim_start().len();
                text = text[pad.min(excess)..].to_string();
            }
            (text.trim_end().to_string(), u)
        }
        None => ("        — all met".to_string(), Urgency::Met),
    }
}

/// Resolved, past the review's due time, and the review is not complete.
fn review_overdue_at(v: &Board, i: &Incident, now: DateTime<Utc>) -> bool {
    let complete = v.feed.complete_reviews.contains(i.id.as_str());
    crate::domain::review::review_overdue(i, complete, v.policy, now)
}

fn status_text(s: Status, narrow: bool) -> &'static str {
    match (s, narrow) {
        (Status::Investigating, true) => "investig.",
        (s, _) => s.as_str(),
    }
}

fn phase_short(p: crate::domain::Phase) -> &'static str {
    use crate::domain::Phase::*;
    match p {
        Detection => "detect",
        Triage => "triage",
        Containment => "contain",
        Eradication => "eradicate",
        Recovery => "recover",
        Review => "review",
    }
}

/// The fewest title characters the board keeps: other columns are
/// shortened, then dropped, before the title goes below this.
pub const TITLE_MIN: u16 = 30;

/// Which columns the board shows at a width, besides the selection mark,
/// id, severity, clock and title, which it always shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    status: Option<u16>,
    phase: bool,
    commander: Option<u16>,
}

impl Columns {
    /// Widest first; the first that leaves the title [`TITLE_MIN`] wins.
    /// Status and commander of the selected incident stay in the strip below.
    const STEPS: [Columns; 5] = [
        Columns {
            status: Some(13),
            phase: true,
            commander: Some(12),
        },
        Columns {
            status: Some(13),
            phase: false,
            commander: Some(12),
        },
        Columns {
            status: Some(10),
            phase: false,
            commander: Some(8),
        },
        Columns {
            status: Some(10),
            phase: false,
            commander: None,
        },
        Columns {
            status: None,
            phase: false,
            commander: None,
        },
    ];

    fn at(width: u16) -> Columns {
        let fits = |c: &&Columns| c.others() + TITLE_MIN <= width;
        Columns::STEPS
            .iter()
            .find(fits)
            .copied()
            .unwrap_or(Columns::STEPS[Columns::STEPS.len() - 1])
    }

    /// Cells left of the title, with one of space after each column.
    fn others(&self) -> u16 {
        self.widths().iter().map(|w| w + 1).sum()
    }

    fn widths(&self) -> Vec<u16> {
        let mut w = vec![2, 12, 3];
        w.extend(self.status);
        if self.phase {
            w.push(9);
        }
        w.extend(self.commander);
        w.push(CLOCK_W as u16);
        w
    }
}

fn render_table(v: &Board, frame: &mut Frame, area: Rect, now: DateTime<Utc>) {
    let t = Theme::new(v.no_color);
    let cols = Columns::at(area.width);
    let block = Block::new().borders(Borders::TOP).title(format!(
        " Incidents ({} shown of {}) ",
        v.board.order.len(),
        v.rows.len()
    ));
    let inner_h = usize::from(area.height.saturating_sub(2)).max(1);
    // Keep the selection in view without stored scroll state: centre it.
    let n = v.board.order.len();
    let sel = v.board.selected.min(n.saturating_sub(1));
    let offset = sel
        .saturating_sub(inner_h / 2)
        .min(n.saturating_sub(inner_h));
    let visible = &v.board.order[offset..(offset + inner_h).min(n)];

    let rows: Vec<Row> = visible
        .iter()
        .enumerate()
        .filter_map(|(i, idx)| v.rows.get(*idx).map(|r| (offset + i, r)))
        .map(|(pos, r)| board_row(v, r, pos == sel, cols, &t, now))
        .collect();
    let mut widths: Vec<Constraint> = cols.widths().into_iter().map(Constraint::Length).collect();
    widths.push(Constraint::Min(8));
    let mut header = vec!["", "ID", "SEV"];
    if cols.status.is_some() {
        header.push("STATUS");
    }
    if cols.phase {
        header.push("PHASE");
    }
    match cols.commander {
        Some(w) if w >= 12 => header.push("COMMANDER"),
        Some(_) => header.push("IC"),
        None => {}
    }
    header.extend(["MOST URGENT CLOCK", "TITLE"]);
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.bold()))
        .column_spacing(1)
        .block(block);
    frame.render_widget(table, area);
}

fn board_row<'a>(
    v: &Board,
    r: &'a BoardRow,
    selected: bool,
    cols: Columns,
    t: &Theme,
    now: DateTime<Utc>,
) -> Row<'a> {
    let i = &r.incident;
    let (clock, urgency) = clock_cell(i, v, now);
    let mut title = Vec::new();
    if i.drill {
        title.push(Span::styled("DRILL ", t.drill()));
    }
    if review_overdue_at(v, i, now) {
        title.push(Span::styled("REVIEW OVERDUE ", t.breached()));
    }
    title.push(Span::raw(display_safe(&i.title).into_owned()));
    let commander = r
        .commander
        .as_deref()
        .map_or_else(|| "—".to_string(), |c| display_safe(c).into_owned());
    let mut cells = vec![
        Cell::from(if selected { "▶" } else { " " }),
        Cell::from(i.id.as_str().to_string()),
        Cell::from(Span::styled(i.severity.as_str(), t.severity(i.severity))),
    ];
    if let Some(w) = cols.status {
        cells.push(Cell::from(status_text(i.status, w < 13)));
    }
    if cols.phase {
        cells.push(Cell::from(phase_short(i.phase)));
    }
    if cols.commander.is_some() {
        cells.push(Cell::from(commander));
    }
    cells.extend([
        Cell::from(Span::styled(clock, urgency.style(t))),
        Cell::from(Line::from(title)),
    ]);
    let row = Row::new(cells);
    if selected {
        row.style(t.selected())
    } else {
        row
    }
}

/// The selected incident in full, below the table (titles are cut there).
fn render_strip(v: &Board, frame: &mut Frame, area: Rect, now: DateTime<Utc>) {
    let t = Theme::new(v.no_color);
    let block = Block::new().borders(Borders::TOP);
    let Some(r) = v.selected_row() else {
        frame.render_widget(block, area);
        return;
    };
    let i = &r.incident;
    let (clock, urgency) = clock_cell(i, v, now);
    let mut first = vec![
        Span::styled(format!("{} ", i.id), t.bold()),
        Span::styled(format!("{} ", i.severity), t.severity(i.severity)),
    ];
    if i.drill {
        first.push(Span::styled("DRILL ", t.drill()));
    }
    if review_overdue_at(v, i, now)
        && let Some(due) = crate::domain::review::review_due(i, v.policy)
    {
        first.push(Span::styled(
            format!("REVIEW OVERDUE (due {}) ", due.format("%Y-%m-%d %H:%M UTC")),
            t.breached(),
        ));
    }
    first.push(Span::raw(display_safe(&i.title).into_owned()));
    let second = Line::from(vec![
        Span::raw(format!(
            "{} · phase {}/6 {} · commander {} · ",
            i.status,
            i.phase.index() + 1,
            i.phase.title(),
            r.commander
                .as_deref()
                .map_or_else(|| "none".to_string(), |c| display_safe(c).into_owned())
        )),
        Span::styled(clock.trim_start().to_string(), urgency.style(&t)),
    ]);
    let third = Line::from(crate::text::display_safe(&i.summary.replace('\n', " ")).into_owned())
        .style(t.dim());
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), second, third]).block(block),
        area,
    );
}
