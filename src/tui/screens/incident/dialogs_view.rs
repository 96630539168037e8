//! Dialogs drawn over the board or incident: new-incident form, pickers,
//! text edits, role assignment.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::domain::roles::Role;
use crate::domain::{Severity, Status};
use crate::text::display_safe;
use crate::tui::kit::layout::{centered, frame_box, input_line};
use crate::tui::kit::theme::Theme;
use crate::tui::screens::incident::state::{
    AssignDialog, FormField, NewIncidentForm, Picker, PickerKind, TextDialog, TextKind,
    roster_matches,
};
use crate::tui::shell::app::App;

fn error_line(t: &Theme, e: &str) -> Line<'static> {
    Line::from(vec![
        Span::raw("         "),
        Span::styled(format!("✗ {}", display_safe(e)), t.error()),
    ])
}

pub fn new_incident(app: &App, form: &NewIncidentForm, frame: &mut Frame, body: Rect) {
    let t = Theme::new(app.no_color);
    let area = centered(body, 76, 18);
    let field_w = area.width.saturating_sub(13);
    let mut lines = Vec::new();
    if let Some(note) = &form.restored {
        lines.push(Line::styled(format!(" ({note})"), t.dim()));
    }
    lines.push(Line::from(""));
    for field in FormField::ALL {
        let focused = form.focus == field;
        let label = format!("{}{:<9}", if focused { "▶" } else { " " }, field.label());
        let mut spans = vec![Span::styled(
            label,
            if focused { t.bold() } else { t.dim() },
        )];
        let arrows = |s: String| {
            if focused { format!("◀ {s} ▶") } else { s }
        };
        match field {
            FormField::Title => spans.extend(input_line(&form.title, field_w, focused).spans),
            FormField::Summary => spans.extend(input_line(&form.summary, field_w, focused).spans),
            FormField::Severity => {
                let text = match form.severity {
                    Some(s) => {
                        let level = app.policy.level(s);
                        format!(
                            "{s} {} — {}",
                            display_safe(&level.label),
                            display_safe(&level.criteria)
                        )
                    }
                    None => "(choose: ←/→ or 1-4)".into(),
                };
                let style = form.severity.map_or(t.dim(), |s| t.severity(s));
                spans.push(Span::styled(arrows(text), style));
            }
            FormField::Source => spans.push(Span::raw(arrows(form.source.to_string()))),
            FormField::Detected if form.detected.is_blank() && !focused => spans.push(
                Span::styled("now (or e.g. -15m, 2026-03-01T14:30:00Z)", t.dim()),
            ),
            FormField::Detected => spans.extend(input_line(&form.detected, field_w, focused).spans),
        }
        lines.push(Line::from(spans));
        match form.error(field) {
            Some(e) => lines.push(error_line(&t, e)),
            None => lines.push(Line::from("")),
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled(" Enter", t.key()),
        Span::raw(" declare  "),
        Span::styled("Tab", t.key()),
        Span::raw(" next field  "),
        Span::styled("←/→", t.key()),
        Span::raw(" choose  "),
        Span::styled("Esc", t.key()),
        Span::raw(" close (kept as draft)"),
    ]));
    lines.push(Line::styled(
        " Drafts autosave every second and survive a dropped connection.",
        t.dim(),
    ));
    frame_box(frame, area, " New incident ".into(), lines);
}

pub fn picker(app: &App, p: &Picker, frame: &mut Frame, body: Rect) {
    let t = Theme::new(app.no_color);
    let choices: Vec<(String, ratatui::style::Style)> = match p.kind {
        PickerKind::Severity => Severity::ALL
            .iter()
            .map(|s| {
                let l = app.policy.level(*s);
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
    let current = app.detail().map(|d| match p.kind {
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

pub fn text(app: &App, d: &TextDialog, frame: &mut Frame, body: Rect) {
    let t = Theme::new(app.no_color);
    let area = centered(body, 76, 9);
    let mut lines = Vec::new();
    if let TextKind::NotApplicable { text, .. } = &d.kind {
        lines.push(Line::from(format!(" Item: {}", display_safe(text))));
    } else if d.restored {
        lines.push(Line::styled(" (continuing your saved draft)", t.dim()));
    } else {
        lines.push(Line::from(""));
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

pub fn assign(app: &App, a: &AssignDialog, frame: &mut Frame, body: Rect) {
    let t = Theme::new(app.no_color);
    let area = centered(body, 64, 16);
    let holder = app.detail().and_then(|d| d.holder(a.role)).map_or_else(
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
    let matches = roster_matches(&app.people, a.input.text());
    if matches.is_empty() {
        lines.push(Line::styled(
            if app.people.is_empty() {
                " (the roster is empty: type a name)"
            } else {
                " (no one on the roster matches: Enter uses the typed name)"
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
    let _ = Role::ALL;
}
