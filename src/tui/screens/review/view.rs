//! The review screen: the 5 whys, what was learned, corrective actions and
//! the "no action" reason, the closing gate's state and the review's due
//! date; the selected row's text in full below.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::domain::review::{ActionStatus, CorrectiveAction, Review, review_due, review_overdue};
use crate::text::{display_safe, display_safe_lines};
use crate::tui::kit::theme::Theme;
use crate::tui::screens::ctx::Ctx;
use crate::tui::screens::review::state::{ReviewField, ReviewPane, ReviewRow, ReviewState, rows};

pub fn render(state: &ReviewState, ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let now = ctx.now;
    let [head, list, selected] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(5),
        Constraint::Length(if area.height >= 30 { 7 } else { 5 }),
    ])
    .areas(area);
    let Some(review) = state.review.as_ref() else {
        render_head(ctx, state, None, frame, head, now);
        frame.render_widget(
            Paragraph::new(format!("Loading the review of {}…", state.id))
                .block(Block::bordered().title(" Review ")),
            list,
        );
        return;
    };
    render_head(ctx, state, Some(review), frame, head, now);
    render_list(ctx, state, review, frame, list, now);
    render_selected(ctx, state, frame, selected);
}

fn render_head(
    ctx: &Ctx,
    state: &ReviewState,
    review: Option<&Review>,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let mut first = vec![Span::styled(format!(" Review of {} ", state.id), t.bold())];
    let detail = ctx.detail.filter(|d| d.incident.id == state.id);
    if let Some(d) = detail {
        let i = &d.incident;
        first.push(Span::styled(
            format!("{} ", i.severity),
            t.severity(i.severity),
        ));
        if i.drill {
            first.push(Span::styled("DRILL ", t.drill()));
        }
        first.push(Span::raw(format!("{} · ", i.status)));
        first.push(Span::raw(display_safe(&i.title).into_owned()));
    }
    let mut second = vec![Span::raw(" Closing gate: ")];
    if let Some(r) = review {
        match r.gate_problem() {
            None => second.push(Span::styled("✓ complete, may close", t.met())),
            Some(p) => second.push(Span::styled(format!("✗ {p}"), t.soon())),
        }
        if let Some(d) = detail
            && let Some(due) = review_due(&d.incident, ctx.policy)
        {
            let overdue = review_overdue(&d.incident, r.is_complete(), ctx.policy, now);
            second.push(Span::raw(format!(
                " · due {}",
                due.format("%Y-%m-%d %H:%M UTC")
            )));
            if overdue {
                second.push(Span::styled(" OVERDUE", t.breached()));
            }
        }
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}

fn action_text(a: &CorrectiveAction, now: DateTime<Utc>) -> String {
    let mut s = format!(
        "#{} [{}] {} — {}",
        a.id,
        a.status,
        display_safe(&a.description),
        display_safe(&a.owner)
    );
    if let Some(d) = a.due {
        s.push_str(&format!(", due {d}"));
        if a.is_overdue(now) {
            s.push_str(" OVERDUE");
        }
    }
    if let (ActionStatus::Dropped, Some(r)) = (a.status, &a.reason) {
        s.push_str(&format!(" (dropped: {})", display_safe(r)));
    }
    s
}

/// The first line of a text, made safe, with a mark when there is more.
fn one_line(text: &str) -> String {
    let lines = display_safe_lines(text.trim());
    let mut first = lines.first().cloned().unwrap_or_default();
    if lines.len() > 1 {
        first.push_str(" …");
    }
    first
}

fn render_list(
    ctx: &Ctx,
    state: &ReviewState,
    r: &Review,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let all = rows(r);
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0;
    for (pos, row) in all.iter().enumerate() {
        // Section headings before the first row of each part.
        match row {
            ReviewRow::Field(ReviewField::Statement) => {
                lines.push(Line::styled("5 whys", t.bold()));
            }
            ReviewRow::Field(ReviewField::Lessons) => {
                lines.push(Line::styled("Learning", t.bold()));
            }
            ReviewRow::Action(0) => {
                lines.push(Line::styled(
                    format!("Corrective actions ({} open)", r.open_actions()),
                    t.bold(),
                ));
            }
            ReviewRow::Field(ReviewField::NoAction) if r.actions.is_empty() => {
                lines.push(Line::styled(
                    "Corrective actions (none yet: a adds one)",
                    t.bold(),
                ));
            }
            _ => {}
        }
        let selected = pos == state.cursor;
        if selected {
            cursor_line = lines.len();
        }
        let mark = if selected { "▶ " } else { "  " };
        let line = match row {
            ReviewRow::Field(f) => {
                let value = f.value(r);
                let shown = if value.trim().is_empty() {
                    Span::styled(
                        match f {
                            ReviewField::Why(i) if *i >= r.whys.len() => {
                                "(add a why: Enter)".to_string()
                            }
                            _ => "—".to_string(),
                        },
                        t.dim(),
                    )
                } else {
                    Span::raw(one_line(&value))
                };
                Line::from(vec![
                    Span::raw(mark),
                    Span::styled(format!("{:<20}", format!("{}:", f.label())), t.bold()),
                    shown,
                ])
            }
            ReviewRow::Action(i) => {
                let text = r
                    .actions
                    .get(*i)
                    .map(|a| action_text(a, now))
                    .unwrap_or_default();
                let overdue = r.actions.get(*i).is_some_and(|a| a.is_overdue(now));
                Line::from(vec![
                    Span::raw(mark),
                    Span::styled(
                        text,
                        if overdue {
                            t.breached()
                        } else {
                            Default::default()
                        },
                    ),
                ])
            }
        };
        lines.push(if selected {
            line.style(t.selected())
        } else {
            line
        });
    }
    let inner_h = usize::from(area.height.saturating_sub(1)).max(1);
    let offset = cursor_line
        .saturating_sub(inner_h / 2)
        .min(lines.len().saturating_sub(inner_h));
    let by = match (&r.updated_by, r.updated_at) {
        (Some(b), Some(at)) => format!(
            " last changed by {} {} ",
            display_safe(b),
            at.format("%Y-%m-%d %H:%M UTC")
        ),
        _ => " not started ".to_string(),
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::new().borders(Borders::TOP).title(by))
            .scroll((u16::try_from(offset).unwrap_or(0), 0)),
        area,
    );
}

fn render_selected(ctx: &Ctx, state: &ReviewState, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let (title, text) = state.selected_text();
    let focused = state.pane == ReviewPane::Text;
    let wrapped =
        crate::tui::kit::layout::wrap(&display_safe_lines(&text), usize::from(area.width));
    let room = usize::from(area.height.saturating_sub(1)).max(1);
    let n = wrapped.len();
    let first = state.text_scroll.min(n.saturating_sub(room));
    let lines: Vec<Line> = if text.trim().is_empty() {
        vec![Line::styled("(empty) Enter edits it.", t.dim())]
    } else {
        wrapped
            .into_iter()
            .skip(first)
            .take(room)
            .map(Line::from)
            .collect()
    };
    let mut title = format!(" {title} ");
    if n > room {
        title.push_str(&format!(
            "· lines {}–{} of {n} ",
            first + 1,
            (first + room).min(n)
        ));
        if !focused {
            title.push_str("· Tab, then j/k scroll it ");
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::new().borders(Borders::TOP).title(Span::styled(
            title,
            if focused {
                t.bold()
            } else {
                Default::default()
            },
        ))),
        area,
    );
}
