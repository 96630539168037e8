//! The message composer: picker, editor (with a preview pane when wide),
//! preview, diff with the last message sent, the send question and the
//! delivery results. All text shown goes through `display_safe`; the editor
//! holds only text made safe on its way in (see `tui/editor.rs`).

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::comms::unfilled_placeholders;
use crate::store::DeliveryState;
use crate::text::{display_safe, display_safe_lines};
use crate::tui::kit::layout::centered;
use crate::tui::kit::theme::Theme;
use crate::tui::screens::compose::state::ComposeEnv;
use crate::tui::screens::compose::state::{
    Composer, DiffTag, LastSent, Stage, View, draft_key, line_diff, saved_drafts,
};
use crate::tui::screens::ctx::Ctx;

/// From this width the editor has the preview beside it.
const SIDE_BY_SIDE: u16 = 110;

pub fn render(
    ctx: &Ctx<ComposeEnv>,
    c: &Composer,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    if area.height < 3 || area.width < 10 {
        return;
    }
    let leak = leak_lines(ctx, c, area.width);
    let leak_rows = u16::try_from(leak.len()).unwrap_or(u16::MAX);
    let [bar, note, warn, main] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(leak_rows),
        Constraint::Min(1),
    ])
    .areas(area);
    render_bar(ctx, c, frame, bar, now);
    render_note(ctx, c, frame, note);
    frame.render_widget(Paragraph::new(leak), warn);
    match c.stage {
        Stage::Pick | Stage::Loading => render_picker(ctx, c, frame, main),
        Stage::Edit | Stage::Confirm | Stage::Sending => match c.view {
            View::Edit if main.width >= SIDE_BY_SIDE => {
                let [left, right] =
                    Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                        .areas(main);
                render_editor(ctx, c, frame, left);
                render_preview(ctx, c, frame, right, false);
            }
            View::Edit => render_editor(ctx, c, frame, main),
            View::Preview => render_preview(ctx, c, frame, main, true),
            View::Diff => render_diff(ctx, c, frame, main),
        },
        Stage::Sent => render_sent(ctx, c, frame, main),
    }
    match c.stage {
        Stage::Confirm => render_confirm(ctx, c, frame, main),
        Stage::Sending => {
            let area = centered(main, 30, 3);
            frame.render_widget(Clear, area);
            frame.render_widget(Paragraph::new(" Sending…").block(Block::bordered()), area);
        }
        _ => {}
    }
}

fn render_bar(
    ctx: &Ctx<ComposeEnv>,
    c: &Composer,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let mut spans = vec![
        Span::styled(format!(" Message to {} ", c.audience.label()), t.title()),
        Span::styled(format!(" {} ", c.id), t.bold()),
    ];
    if let Some(tpl) = &c.template {
        spans.push(Span::styled(
            format!(" template {} ", display_safe(tpl)),
            t.dim(),
        ));
    }
    if matches!(c.stage, Stage::Edit | Stage::Confirm | Stage::Sending) {
        spans.push(Span::raw(" "));
        for v in View::ALL {
            let label = format!(" {} ", v.title());
            if v == c.view {
                spans.push(Span::styled(format!("[{}]", v.title()), t.selected()));
            } else {
                spans.push(Span::raw(label));
            }
        }
        let state = if c.dirty {
            "  unsaved changes".to_string()
        } else if let Some(at) = c.saved_at {
            format!(
                "  draft saved {}",
                crate::tui::kit::layout::short_time(at, now)
            )
        } else {
            String::new()
        };
        spans.push(Span::styled(state, t.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_note(ctx: &Ctx<ComposeEnv>, c: &Composer, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    // In the picker the error is shown whole, in the box.
    let error = c.error.as_ref().filter(|_| c.stage != Stage::Pick);
    let line = match (error, &c.notice) {
        (Some(e), _) => Line::from(vec![
            Span::styled(" ✗ ", t.breached()),
            Span::styled(display_safe(e).into_owned(), t.error()),
        ]),
        (None, Some(n)) => Line::styled(format!(" {}", display_safe(n)), t.dim()),
        (None, None) => Line::from(""),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The warning that a customer message quotes internal-only text, wrapped
/// to `width` over at most three rows (nothing past the picker).
fn leak_lines(ctx: &Ctx<ComposeEnv>, c: &Composer, width: u16) -> Vec<Line<'static>> {
    let t = Theme::new(ctx.no_color);
    let Some(w) = c.leak.as_ref().filter(|_| c.stage != Stage::Pick) else {
        return Vec::new();
    };
    let mut rows = marked(w, usize::from(width));
    if rows.len() > 3 {
        rows.truncate(3);
        if let Some(last) = rows.last_mut() {
            last.pop();
            last.push('…');
        }
    }
    rows.into_iter()
        .map(|r| Line::styled(r, t.error()))
        .collect()
}

/// A warning made safe and wrapped to `width` columns behind a " ⚠ " mark,
/// its following rows indented under the text.
fn marked(text: &str, width: usize) -> Vec<String> {
    let rows =
        crate::tui::kit::layout::wrap(&[display_safe(text).into_owned()], width.saturating_sub(3));
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| format!("{}{r}", if i == 0 { " ⚠ " } else { "   " }))
        .collect()
}

fn render_picker(ctx: &Ctx<ComposeEnv>, c: &Composer, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let drafts = saved_drafts(ctx.drafts, &c.id);
    let mut lines = vec![Line::styled(" Template", t.bold())];
    for (i, info) in ctx.feed.templates.iter().enumerate() {
        let selected = i == c.pick;
        let mut spans = vec![
            Span::raw(if selected { " ▶ " } else { "   " }),
            Span::styled(format!("{:<10}", display_safe(&info.name)), t.bold()),
            Span::raw(format!(" {}", display_safe(&info.title))),
            Span::styled(format!("  (for {})", info.audience.as_str()), t.dim()),
        ];
        if info.user {
            spans.push(Span::styled(
                format!("  your file {}", display_safe(&info.path)),
                t.dim(),
            ));
        }
        let line = Line::from(spans);
        lines.push(if selected {
            line.style(t.selected())
        } else {
            line
        });
    }
    lines.push(Line::from(""));
    let mut audience = vec![
        Span::styled(" Audience ", t.bold()),
        Span::styled(format!("◀ {} ▶", c.audience.label()), t.key()),
    ];
    let key = draft_key(c.id.as_str(), c.audience.as_str());
    match drafts.iter().find(|(a, _)| *a == c.audience) {
        Some((_, d)) => audience.push(Span::raw(format!(
            "   a draft is saved{}: Enter continues it, d discards it",
            d.saved_at
                .map(|at| format!(" ({})", at.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default()
        ))),
        None if ctx.drafts.contains_key(&key) => {
            audience.push(Span::styled("   damaged draft: d discards it", t.error()))
        }
        None => audience.push(Span::styled("   Enter writes from the template", t.dim())),
    }
    lines.push(Line::from(audience));
    let others: Vec<&str> = drafts
        .iter()
        .filter(|(a, _)| *a != c.audience)
        .map(|(a, _)| a.as_str())
        .collect();
    if !others.is_empty() {
        lines.push(Line::styled(
            format!(" Drafts also saved to: {}", others.join(", ")),
            t.dim(),
        ));
    }
    if c.stage == Stage::Loading {
        lines.push(Line::from(" Rendering the template…"));
    }
    if let Some(e) = &c.error {
        lines.push(Line::from(""));
        lines.push(Line::styled(format!(" ✗ {}", display_safe(e)), t.error()));
    }
    if let Some(e) = &ctx.feed.templates_error {
        lines.push(Line::from(""));
        lines.push(Line::styled(
            format!(
                " ✗ your templates could not be read; the shipped ones are offered: {}",
                display_safe(e)
            ),
            t.error(),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(" Write a message "))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn render_editor(ctx: &Ctx<ComposeEnv>, c: &Composer, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let (row, col) = c.editor.cursor();
    let title = format!(
        " Edit  line {} col {}  {} chars ",
        row + 1,
        col + 1,
        c.editor.chars()
    );
    let focused = c.stage == Stage::Edit && c.view == View::Edit;
    let block = if focused {
        Block::bordered()
            .title(title)
            .border_style(t.focused_border())
            .title_style(t.bold())
    } else {
        Block::bordered().title(title)
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The editor's lines were made safe when they went in.
    frame.render_widget(c.editor.view(), inner);
}

fn placeholder_line(ctx: &Ctx<ComposeEnv>, text: &str) -> Option<Line<'static>> {
    let t = Theme::new(ctx.no_color);
    let open = unfilled_placeholders(text);
    let (line, what) = open.first()?;
    Some(Line::styled(
        format!(
            "⚠ {} placeholder(s) to fill in before sending; line {line}: {}",
            open.len(),
            display_safe(what)
        ),
        t.soon(),
    ))
}

fn render_preview(
    ctx: &Ctx<ComposeEnv>,
    c: &Composer,
    frame: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let t = Theme::new(ctx.no_color);
    let text = c.editor.text();
    let mut lines: Vec<Line> = Vec::new();
    if let Some(p) = placeholder_line(ctx, &text) {
        lines.push(p);
        lines.push(Line::from(""));
    }
    lines.extend(display_safe_lines(&text).into_iter().map(Line::from));
    let block = Block::bordered().title(" Preview (as it will be sent; wrapped to fit) ");
    let block = if focused {
        block.border_style(t.focused_border())
    } else {
        block
    };
    let scroll = if focused { c.scroll } else { 0 };
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        area,
    );
}

fn render_diff(ctx: &Ctx<ComposeEnv>, c: &Composer, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let text = c.editor.text();
    let (head, old) = match &c.last {
        LastSent::Loading => ("loading the last message sent…".to_string(), None),
        LastSent::Failed(e) => (
            format!("the last message could not be loaded: {}", display_safe(e)),
            None,
        ),
        LastSent::Nothing => (
            format!(
                "nothing sent to {} yet: every line is new",
                c.audience.as_str()
            ),
            Some(""),
        ),
        LastSent::Message(m) => (
            format!(
                "against message #{} sent {} by {}",
                m.id,
                m.sent_at.format("%Y-%m-%d %H:%M UTC"),
                display_safe(&m.author)
            ),
            Some(m.body.as_str()),
        ),
    };
    let mut lines = vec![Line::styled(head, t.bold())];
    if let Some(old) = old {
        let diff = line_diff(old, &text);
        let added = diff.iter().filter(|l| l.tag == DiffTag::Added).count();
        let removed = diff.iter().filter(|l| l.tag == DiffTag::Removed).count();
        lines.push(Line::styled(
            format!("+{added} added, -{removed} removed"),
            t.dim(),
        ));
        for l in diff {
            let (mark, style) = match l.tag {
                DiffTag::Same => ("  ", Style::new()),
                DiffTag::Added => ("+ ", t.met()),
                DiffTag::Removed => ("- ", t.breached()),
            };
            lines.push(Line::styled(
                format!("{mark}{}", display_safe(&l.text)),
                style,
            ));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                Block::bordered()
                    .title(" Diff with the last message to this audience ")
                    .border_style(t.focused_border()),
            )
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(c.scroll).unwrap_or(u16::MAX), 0)),
        area,
    );
}

fn render_confirm(ctx: &Ctx<ComposeEnv>, c: &Composer, frame: &mut Frame, main: Rect) {
    let t = Theme::new(ctx.no_color);
    let text = c.editor.text();
    let mut lines = vec![
        Line::from(vec![
            Span::raw(" To: "),
            Span::styled(c.audience.label(), t.bold()),
            Span::raw(format!(
                "   {} lines, {} characters",
                text.lines().count(),
                text.chars().count()
            )),
        ]),
        Line::from(" Through:"),
    ];
    if c.sinks.is_empty() {
        lines.push(Line::styled(
            "   no sink is configured (comms.toml)",
            t.dim(),
        ));
    }
    for (i, s) in c.sinks.iter().enumerate() {
        let here = i == c.sink_cursor;
        let line = Line::from(vec![
            Span::raw(if here { " ▶ " } else { "   " }),
            Span::raw(if s.chosen { "[x] " } else { "[ ] " }),
            Span::styled(format!("{:<10} ", display_safe(&s.name)), t.bold()),
            Span::raw(display_safe(&s.what).into_owned()),
        ]);
        lines.push(if here { line.style(t.selected()) } else { line });
    }
    // Said plainly before anything is sent: an outbox file or a clipboard
    // copy reaches nobody.
    // Wrapped here so the box's height counts its rows exactly.
    let inner = usize::from(main.width.min(76).saturating_sub(2)).max(1);
    if let Some(w) = c.reach_warning(ctx.feed) {
        for row in marked(&w, inner) {
            lines.push(Line::styled(row, t.soon()));
        }
    }
    if c.leak.is_some() {
        lines.push(Line::styled(
            " ⚠ It quotes internal-only text (see the warning above).",
            t.error(),
        ));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(
        " Recorded in the timeline (with its SHA-256) before any delivery.",
        t.dim(),
    ));
    lines.push(Line::from(vec![
        Span::styled(" Enter/y", t.key()),
        Span::raw(" send  "),
        Span::styled("Space", t.key()),
        Span::raw(" use/skip sink  "),
        Span::styled("Esc", t.key()),
        Span::raw(" back"),
    ]));
    // Rows as wrapped inside the box's borders.
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let h = u16::try_from(rows + 2).unwrap_or(u16::MAX);
    let area = centered(main, 76, h);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(" Send this message? "))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn render_sent(ctx: &Ctx<ComposeEnv>, c: &Composer, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let mut lines = Vec::new();
    if let Some(m) = &c.sent {
        lines.push(Line::from(vec![
            Span::styled(format!(" Message #{} ", m.id), t.bold()),
            Span::raw(format!(
                "recorded {} · SHA-256 {}",
                m.sent_at.format("%Y-%m-%d %H:%M:%S UTC"),
                m.sha256.get(..16).unwrap_or(&m.sha256)
            )),
        ]));
        lines.push(Line::from(""));
        for d in &m.deliveries {
            let (mark, state, style) = match d.state {
                DeliveryState::Delivered if d.sent() => ("✓", d.state_text(), t.met()),
                // Written or copied, not sent: nobody has received it yet.
                DeliveryState::Delivered => ("!", d.state_text(), t.soon()),
                DeliveryState::Failed => ("✗", "FAILED", t.breached()),
                DeliveryState::Pending => ("…", "pending", t.soon()),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!(" {mark} {:<10} {state:<9}", display_safe(&d.sink)),
                    style,
                ),
                Span::raw(format!(
                    " (attempt {}) {}",
                    d.attempts,
                    display_safe(&d.detail)
                )),
            ]));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled(" r", t.key()),
            Span::raw(" retry the failed deliveries  "),
            Span::styled("Esc", t.key()),
            Span::raw(" close (they stay ready to retry)"),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(" Deliveries "))
            .wrap(Wrap { trim: false }),
        area,
    );
}
