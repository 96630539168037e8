//! The rule watcher screen: the files followed, hits per rule, and the
//! latest matching lines (log lines are untrusted: all through display_safe),
//! and the alerts taken in from other tools.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::intake_view;
use super::state::{WatcherScreen, WatcherState};
use crate::detect::follow::{FileState, FollowStatus};
use crate::text::display_safe;
use crate::tui::kit::theme::Theme;
use crate::tui::screens::ctx::Ctx;

pub fn render(screen: &WatcherScreen, ctx: &Ctx<WatcherState>, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let w = ctx.feed;
    // Alerts from other tools, below whatever the rule watcher shows.
    let [area, intake] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(intake_view::height(w.intake.len())),
    ])
    .areas(area);
    if !w.intake.is_empty() {
        intake_view::render(frame, intake, &t, &w.intake);
    }
    let Some(setup) = &w.setup else {
        let text = vec![
            Line::from(Span::styled(
                "The rule watcher is not configured.",
                t.bold(),
            )),
            Line::from(""),
            Line::from("  To follow logs from the console, write watch.toml in the config"),
            Line::from("  directory ($XDG_CONFIG_HOME/warroom, or --config-dir):"),
            Line::from(""),
            Line::from("    logs = [\"/var/log/auth.log\", \"/var/log/app/*.log\"]"),
            Line::from("    rules = []        # rule files; empty: the shipped Linux rules"),
            Line::from(""),
            Line::from("  Headless, for systemd: warroom watch LOG..."),
            Line::from(""),
            Line::from("  Esc goes back to the board."),
        ];
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Rule watcher "),
            ),
            area,
        );
        return;
    };
    let empty = FollowStatus::default();
    let status = w.status.as_ref().unwrap_or(&empty);
    let files_h = (status.files.len().max(1) as u16 + 3)
        .min(area.height / 3)
        .max(4);
    let problems_h = if w.problems.is_empty() {
        0
    } else {
        (w.problems.len() as u16 + 2).min(5)
    };
    let [files, problems, lower] = Layout::vertical([
        Constraint::Length(files_h),
        Constraint::Length(problems_h),
        Constraint::Min(4),
    ])
    .areas(area);
    let rules_w = (area.width / 3).clamp(24, 44);
    let [rules, recent] =
        Layout::horizontal([Constraint::Length(rules_w), Constraint::Min(20)]).areas(lower);

    // Files followed.
    let rows: Vec<Row> = status
        .files
        .iter()
        .map(|f| {
            let mut notes = Vec::new();
            let (state, style) = match &f.state {
                FileState::Following => ("following", t.met()),
                FileState::Waiting => ("waiting", t.soon()),
                FileState::Error(e) => {
                    notes.push(e.clone());
                    ("ERROR", t.breached())
                }
            };
            if f.rotations > 0 {
                notes.push(format!("{} rotation(s)", f.rotations));
            }
            if f.truncated > 0 {
                notes.push(format!("{} cut", f.truncated));
            }
            if f.lossy > 0 {
                notes.push(format!("{} not UTF-8", f.lossy));
            }
            Row::new(vec![
                Cell::from(display_safe(&f.path).into_owned()),
                Cell::from(Span::styled(state, style)),
                Cell::from(f.lines.to_string()),
                Cell::from(f.offset.to_string()),
                Cell::from(display_safe(&notes.join(", ")).into_owned()),
            ])
        })
        .collect();
    let title = format!(
        " Files followed ({}) · watcher \"{}\" · {} open detection(s) ",
        status.files.len(),
        display_safe(&setup.name),
        status.open_detections
    );
    if let Some(standby) = &w.standby {
        // Another run follows these files; nothing here is live until it
        // stops and this console takes over.
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                display_safe(standby).into_owned(),
                t.soon(),
            )))
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(title)),
            files,
        );
    } else {
        render_files(frame, files, &t, rows, title);
    }

    if problems_h > 0 {
        let lines: Vec<Line> = w
            .problems
            .iter()
            .map(|p| Line::from(Span::styled(display_safe(p).into_owned(), t.error())))
            .collect();
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Problems ")),
            problems,
        );
    }

    // Hits per rule, busiest first.
    let mut by_hits: Vec<&(String, u64)> = status.rules.iter().collect();
    by_hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let name_w = usize::from(rules_w).saturating_sub(12);
    let rule_rows: Vec<Row> = by_hits
        .iter()
        .map(|(name, hits)| {
            let name: String = display_safe(name).chars().take(name_w).collect();
            let style = if *hits > 0 { t.bold() } else { t.dim() };
            Row::new(vec![
                Cell::from(Span::styled(name, style)),
                Cell::from(hits.to_string()),
            ])
        })
        .collect();
    frame.render_widget(
        Table::new(rule_rows, [Constraint::Min(8), Constraint::Length(8)])
            .header(Row::new(["RULE", "HITS"]).style(t.bold()))
            .block(Block::default().borders(Borders::ALL).title(" Hits ")),
        rules,
    );

    // Latest matching lines, newest first.
    let scroll = screen.scroll(status.recent.len());
    let room = usize::from(recent.height.saturating_sub(2));
    let lines: Vec<Line> = status
        .recent
        .iter()
        .rev()
        .skip(scroll)
        .take(room)
        .map(|m| {
            Line::from(vec![
                Span::styled(m.at.format("%H:%M:%S ").to_string(), t.dim()),
                Span::styled(format!("{} ", display_safe(&m.rule)), t.bold()),
                Span::styled(format!("{} ", display_safe(&m.key)), t.key()),
                Span::raw(display_safe(&m.line).into_owned()),
            ])
        })
        .collect();
    let title = if status.recent.is_empty() {
        " Latest matches (none yet) ".to_string()
    } else {
        format!(
            " Latest matches ({}/{}, newest first; j/k scroll) ",
            scroll + 1,
            status.recent.len()
        )
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        recent,
    );
}

fn render_files(frame: &mut Frame, area: Rect, t: &Theme, rows: Vec<Row<'_>>, title: String) {
    let table = if rows.is_empty() {
        Table::new(
            vec![Row::new(vec![Cell::from("starting…")])],
            [Constraint::Min(10)],
        )
    } else {
        Table::new(
            rows,
            [
                Constraint::Min(20),
                Constraint::Length(12),
                Constraint::Length(9),
                Constraint::Length(12),
                Constraint::Min(24),
            ],
        )
        .header(Row::new(["FILE", "STATE", "LINES", "OFFSET", "NOTES"]).style(t.bold()))
    };
    frame.render_widget(
        table.block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}
