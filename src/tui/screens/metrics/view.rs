//! The metrics screen: counts by severity and source as bar charts,
//! detections per day as a sparkline, time to acknowledge / contain /
//! resolve and SLA compliance per severity as tables (numbers read better
//! there), open corrective actions and overdue reviews.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, Borders, Cell, Paragraph, Row, Sparkline, Table, Wrap,
};

use crate::domain::Severity;
use crate::report::metrics::{Compliance, Metrics, Stat};
use crate::report::model::human_duration;
use crate::tui::kit::theme::Theme;
use crate::tui::screens::ctx::Ctx;
use crate::tui::screens::metrics::state::{MetricsState, SPARK_DAYS};

pub fn render(state: &MetricsState, ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let now = ctx.now;
    let Some(m) = state.metrics.as_ref() else {
        frame.render_widget(
            Paragraph::new("Loading metrics…").block(Block::bordered().title(" Metrics ")),
            area,
        );
        return;
    };
    let [head, main, spark, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(12),
        Constraint::Length(if area.height >= 34 { 9 } else { 4 }),
        Constraint::Length(2),
    ])
    .areas(area);
    render_head(ctx, state, m, frame, head, now);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(36), Constraint::Percentage(64)])
            .spacing(2)
            .areas(main);
    let [sev_area, src_area] =
        Layout::vertical([Constraint::Length(6), Constraint::Min(4)]).areas(left);
    render_bars(
        ctx,
        frame,
        sev_area,
        " By severity ",
        m.by_severity
            .iter()
            .map(|(k, v)| (k.to_string(), *v, severity_of(k)))
            .collect(),
    );
    render_bars(
        ctx,
        frame,
        src_area,
        " By source ",
        m.by_source
            .iter()
            .map(|(k, v)| (k.to_string(), *v, None))
            .collect(),
    );
    let [times, sla] = Layout::vertical([Constraint::Length(5), Constraint::Min(6)]).areas(right);
    render_times(ctx, m, frame, times);
    render_sla(ctx, m, frame, sla);
    render_spark(ctx, state, frame, spark, now);
    render_foot(ctx, m, frame, foot);
}

/// The title: the period (from `now`, in UTC days) and how to change it,
/// then the count and the drill toggle.
fn render_head(
    ctx: &Ctx,
    state: &MetricsState,
    m: &Metrics,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let drills = if m.include_drills {
        format!("drills included ({}) · d excludes them", m.drills)
    } else {
        "drills excluded · d includes them".to_string()
    };
    let mut title = vec![
        Span::styled(" Metrics: ", t.bold()),
        Span::styled(state.window.label(now), t.bold()),
        Span::raw(" · p changes the period"),
    ];
    // Where there is room, the command that gives the same figures.
    let args = state.window.cli_args(m.include_drills, now);
    if area.width >= 110 {
        title.push(Span::styled(
            format!(
                " · as warroom metrics{}{args}",
                if args.is_empty() { "" } else { " " }
            ),
            t.dim(),
        ));
    }
    let title = Line::from(title);
    let count = Line::from(vec![
        Span::styled(
            format!(
                " {} incident{} ",
                m.incidents,
                if m.incidents == 1 { "" } else { "s" }
            ),
            t.bold(),
        ),
        Span::raw(format!("detected in the period · {drills}")),
    ]);
    frame.render_widget(Paragraph::new(vec![title, count]), area);
}

fn severity_of(k: &str) -> Option<Severity> {
    k.parse().ok()
}

fn render_bars(
    ctx: &Ctx,
    frame: &mut Frame,
    area: Rect,
    title: &str,
    data: Vec<(String, usize, Option<Severity>)>,
) {
    let t = Theme::new(ctx.no_color);
    let max = data.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = data
        .into_iter()
        .map(|(label, v, sev)| {
            let v = u64::try_from(v).unwrap_or(u64::MAX);
            let bar = Bar::with_label(label, v).text_value(v.to_string());
            match sev {
                Some(s) => bar.style(t.severity(s)),
                None => bar,
            }
        })
        .collect();
    let chart = BarChart::default()
        .direction(Direction::Horizontal)
        .data(BarGroup::default().bars(&bars))
        .bar_width(1)
        .bar_gap(0)
        .max(u64::try_from(max).unwrap_or(1))
        .block(Block::new().borders(Borders::TOP).title(title.to_string()));
    frame.render_widget(chart, area);
}

fn stat_cells(s: &Stat) -> [String; 3] {
    match (s.mean_seconds, s.median_seconds) {
        (Some(mean), Some(median)) => [
            human_duration(mean),
            human_duration(median),
            s.count.to_string(),
        ],
        _ => ["—".into(), "—".into(), "0".into()],
    }
}

fn render_times(ctx: &Ctx, m: &Metrics, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let rows = [
        ("acknowledge", &m.time_to_acknowledge),
        ("contain", &m.time_to_contain),
        ("resolve", &m.time_to_resolve),
    ]
    .map(|(name, s)| {
        let [mean, median, n] = stat_cells(s);
        Row::new(vec![name.to_string(), mean, median, n])
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(12),
                Constraint::Length(10),
                Constraint::Length(10),
                Constraint::Min(3),
            ],
        )
        .header(Row::new(vec!["TIME TO", "MEAN", "MEDIAN", "N"]).style(t.bold()))
        .column_spacing(1)
        .block(Block::new().borders(Borders::TOP).title(" From detection ")),
        area,
    );
}

/// `3/4 met` with the breaches spelt out; running clocks in brackets.
fn compliance_text(c: &Compliance) -> (String, bool) {
    let decided = c.met + c.breached;
    let mut s = if decided == 0 {
        "—".to_string()
    } else {
        format!("{}/{} met", c.met, decided)
    };
    if c.breached > 0 {
        s.push_str(&format!(", {} BREACHED", c.breached));
    }
    if c.running > 0 {
        s.push_str(&format!(" (+{} running)", c.running));
    }
    (s, c.breached > 0)
}

fn render_sla(ctx: &Ctx, m: &Metrics, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let rows: Vec<Row> = m
        .sla
        .iter()
        .map(|r| {
            let (resp, rb) = compliance_text(&r.response);
            let (notice, nb) = compliance_text(&r.customer_notice);
            let sev = severity_of(r.severity);
            Row::new(vec![
                Cell::from(Span::styled(
                    r.severity,
                    sev.map_or_else(Default::default, |s| t.severity(s)),
                )),
                Cell::from(r.incidents.to_string()),
                Cell::from(Span::styled(resp, if rb { t.breached() } else { t.met() })),
                Cell::from(Span::styled(
                    notice,
                    if nb { t.breached() } else { t.met() },
                )),
            ])
        })
        .collect();
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Percentage(50),
                Constraint::Percentage(50),
            ],
        )
        .header(Row::new(vec!["SEV", "N", "RESPONSE", "CUSTOMER NOTICE"]).style(t.bold()))
        .column_spacing(1)
        .block(Block::new().borders(Borders::TOP).title(" SLA compliance ")),
        area,
    );
}

fn render_spark(
    ctx: &Ctx,
    state: &MetricsState,
    frame: &mut Frame,
    area: Rect,
    now: DateTime<Utc>,
) {
    let t = Theme::new(ctx.no_color);
    let total: u64 = state.per_day.iter().sum();
    let peak = state.per_day.iter().copied().max().unwrap_or(0);
    let first = now.date_naive() - chrono::Duration::days(SPARK_DAYS as i64 - 1);
    let title = format!(
        " Detected per day, {} to {} (UTC): {total} in all, peak {peak}/day ",
        first.format("%m-%d"),
        now.format("%m-%d")
    );
    let [label, chart] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    frame.render_widget(Paragraph::new(Line::styled(title, t.bold())), label);
    // Each day is as many columns wide as fit, so the days read apart.
    let per_col = usize::from(chart.width) / SPARK_DAYS.max(1);
    let wide: Vec<u64> = state
        .per_day
        .iter()
        .flat_map(|v| std::iter::repeat_n(*v, per_col.clamp(1, 4)))
        .collect();
    frame.render_widget(
        Sparkline::default()
            .data(&wide)
            .max(peak.max(1))
            .style(t.key()),
        chart,
    );
}

fn render_foot(ctx: &Ctx, m: &Metrics, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let overdue: Vec<String> = m
        .overdue_reviews
        .iter()
        .map(|o| format!("{} (due {})", o.incident, o.due.get(..10).unwrap_or(&o.due)))
        .collect();
    let mut spans = vec![
        Span::styled(" Corrective actions: ", t.bold()),
        Span::raw(format!("{} open", m.open_corrective_actions)),
    ];
    if m.overdue_corrective_actions > 0 {
        spans.push(Span::styled(
            format!(", {} OVERDUE", m.overdue_corrective_actions),
            t.breached(),
        ));
    }
    spans.push(Span::styled("   Overdue reviews: ", t.bold()));
    if overdue.is_empty() {
        spans.push(Span::raw("none"));
    } else {
        spans.push(Span::styled(
            format!("{} — {}", overdue.len(), overdue.join(", ")),
            t.breached(),
        ));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).wrap(Wrap { trim: false }),
        area,
    );
}
