//! The incident view's dialogs, drawn over it: pickers, text edits, role
//! assignment.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::domain::{Severity, Status};
use crate::text::display_safe;
use crate::tui::kit::fields::lines::{Lines, ROWS};
use crate::tui::kit::fields::view::lines_rows;
use crate::tui::kit::layout::{centered, frame_box, input_line};
use crate::tui::kit::theme::Theme;
use crate::tui::screens::ctx::Ctx;
use crate::tui::screens::incident::state::{
    AssignDialog, IncidentDialog, IncidentState, Picker, PickerKind, TextDialog, TextKind,
    roster_matches,
};

/// The open dialog `d` of `s`.
pub fn render(s: &IncidentState, d: &IncidentDialog, ctx: &Ctx, frame: &mut Frame, body: Rect) {
    match d {
        IncidentDialog::Picker(p) => picker(s, p, ctx, frame, body),
        IncidentDialog::Text(t) => text(t, ctx, frame, body),
        IncidentDialog::Assign(a) => assign(s, a, ctx, frame, body),
    }
}

fn picker(s: &IncidentState, p: &Picker, ctx: &Ctx, frame: &mut Frame, body: Rect) {
    let t = Theme::new(ctx.no_color);
    let choices: Vec<(String, ratatui::style::Style)> = match p.kind {
        PickerKind::Severity => Severity::ALL
            .iter()
            .map(|s| {
                let l = ctx.policy.level(*s);
                (
                    format!(
                        "{s} {} — {}",
                        display_safe(&l.label),
                        display_safe(&l.criteria)
                    ),
                    t.severity(*s),
                )
            })
            .collect(),
        PickerKind::Status => Status::ALL
            .iter()
            .map(|s| (s.to_string(), ratatui::style::Style::new()))
            .collect(),
    };
    let current = s.detail.as_ref().map(|d| match p.kind {
        PickerKind::Severity => d.incident.severity.to_string(),
        PickerKind::Status => d.incident.status.to_string(),
    });
    let title = match p.kind {
        PickerKind::Severity => " Set severity ",
        PickerKind::Status => " Set status ",
    };
    let mut lines = vec![Line::from(format!(" now: {}", current.unwrap_or_default()))];
    for (i, (text, style)) in choices.into_iter().enumerate() {
        let selected = i == p.selected;
        let line = Line::from(vec![
            Span::raw(if selected { " ▶ " } else { "   " }),
            Span::styled(text, style),
        ]);
        lines.push(if selected {
            line.style(t.selected())
        } else {
            line
        });
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(" Enter apply · Esc cancel", t.dim()));
    let h = lines.len() as u16 + 2;
    frame_box(frame, centered(body, 60, h), title.into(), lines);
}

fn text(d: &TextDialog, ctx: &Ctx, frame: &mut Frame, body: Rect) {
    let t = Theme::new(ctx.no_color);
    let area = centered(body, 76, 9);
    let mut lines = Vec::new();
    if let TextKind::NotApplicable { text, .. } = &d.kind {
        lines.push(Line::from(format!(" Item: {}", display_safe(text))));
    } else if d.restored {
        lines.push(Line::styled(" (continuing your saved draft)", t.dim()));
    } else {
        lines.push(Line::from(""));
    }
    if let Some(l) = &d.lines {
        return text_lines(d, l, lines, ctx, frame, body);
    }
    let mut input = vec![Span::raw(" ")];
    input.extend(input_line(&d.input, area.width.saturating_sub(4), true).spans);
    lines.push(Line::from(input));
    match &d.error {
        Some(e) => lines.push(Line::styled(format!(" ✗ {}", display_safe(e)), t.error())),
        None => lines.push(Line::from("")),
    }
    lines.push(Line::styled(
        " Enter save · Esc close (kept as a draft)",
        t.dim(),
    ));
    frame_box(frame, area, format!(" {} ", d.heading()), lines);
}

/// A text of several lines (summary, not-applicable reason): a box of
/// rows scrolling with the cursor; Enter is a newline, Ctrl-S saves.
fn text_lines(
    d: &TextDialog,
    l: &Lines,
    mut lines: Vec<Line<'static>>,
    ctx: &Ctx,
    frame: &mut Frame,
    body: Rect,
) {
    let t = Theme::new(ctx.no_color);
    let width = body.width.min(76);
    let rows = lines_rows(l, width.saturating_sub(6), true);
    for i in 0..usize::from(ROWS) {
        let mut row = vec![Span::styled(" │ ", t.dim())];
        row.extend(rows.get(i).cloned().unwrap_or_default());
        lines.push(Line::from(row));
    }
    match &d.error {
        Some(e) => lines.push(Line::styled(format!(" ✗ {}", display_safe(e)), t.error())),
        None => lines.push(Line::from("")),
    }
    lines.push(Line::styled(
        " Ctrl-S save · Enter new line · Esc close (kept as a draft)",
        t.dim(),
    ));
    let h = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    frame_box(
        frame,
        centered(body, width, h),
        format!(" {} ", d.heading()),
        lines,
    );
}

fn assign(s: &IncidentState, a: &AssignDialog, ctx: &Ctx, frame: &mut Frame, body: Rect) {
    let t = Theme::new(ctx.no_color);
    let area = centered(body, 64, 16);
    let holder = s
        .detail
        .as_ref()
        .and_then(|d| d.holder(a.role))
        .map_or_else(
            || "nobody".to_string(),
            |h| display_safe(&h.person).into_owned(),
        );
    let mut lines = vec![
        Line::from(vec![
            Span::raw(" Role: "),
            Span::styled(format!("◀ {} ▶", a.role.title()), t.bold()),
            Span::styled("  (Tab changes)", t.dim()),
        ]),
        Line::from(format!(" Now held by: {holder}")),
        Line::from(""),
    ];
    let mut name = vec![Span::styled(
        if a.selected.is_none() {
            "▶Name: "
        } else {
            " Name: "
        },
        t.bold(),
    )];
    name.extend(input_line(&a.input, area.width.saturating_sub(10), true).spans);
    lines.push(Line::from(name));
    if let Some(e) = &a.error {
        lines.push(Line::styled(format!(" ✗ {}", display_safe(e)), t.error()));
    }
    if let Some((handle, name)) = &a.ask_add {
        lines.push(Line::from(""));
        lines.push(Line::styled(
            format!(" Not in the roster: add {}?", display_safe(name)),
            t.bold(),
        ));
        lines.push(Line::from(format!(
            " As {}, with no contact yet:",
            display_safe(handle)
        )));
        lines.push(Line::from(
            " escalations cannot reach them until one is set.",
        ));
        lines.push(Line::from(""));
        lines.push(Line::styled(
            " y add and assign · n assign without adding · Esc back",
            t.dim(),
        ));
        frame_box(frame, area, " Assign role ".into(), lines);
        return;
    }
    let matches = roster_matches(ctx.people, a.input.text(), ctx.actor);
    if matches.is_empty() {
        lines.push(Line::styled(
            if ctx.people.is_empty() {
                " (the roster is empty: type a name)"
            } else {
                " (no one on the roster matches: Enter offers to add the name)"
            },
            t.dim(),
        ));
    } else {
        lines.push(Line::styled(" Roster (↑/↓):", t.dim()));
    }
    let room = usize::from(area.height.saturating_sub(lines.len() as u16 + 4));
    let sel = a.selected.unwrap_or(0);
    let offset = sel.saturating_sub(room.saturating_sub(1));
    for (i, p) in matches.iter().enumerate().skip(offset).take(room) {
        let selected = a.selected == Some(i);
        let line = Line::from(format!(
            " {} {:<12} {}",
            if selected { "▶" } else { " " },
            display_safe(&p.handle),
            display_safe(&p.name)
        ));
        lines.push(if selected {
            line.style(t.selected())
        } else {
            line
        });
    }
    lines.push(Line::styled(" Enter assign · Esc cancel", t.dim()));
    frame_box(frame, area, " Assign role ".into(), lines);
}
