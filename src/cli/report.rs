//! `warroom report` and `warroom metrics`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};

use super::{AppContext, Failure, print_json, stdout};
use crate::domain::IncidentId;
use crate::report::file::{self, ReportFormat};
use crate::report::metrics::{self, Metrics, Period};
use crate::report::model::{Report, ReportInput, human_duration};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Md,
    Json,
    Html,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    pub id: IncidentId,
    #[arg(long, value_enum, default_value = "md")]
    pub format: Format,
    /// Write to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Incidents detected from this day (YYYY-MM-DD) or time (RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Incidents detected up to this day (inclusive) or time (exclusive)
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Count drills too
    #[arg(long)]
    pub include_drills: bool,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn report(ctx: &AppContext, a: ReportArgs, now: DateTime<Utc>) -> Result<(), Failure> {
    let format = match a.format {
        Format::Md => ReportFormat::Md,
        Format::Html => ReportFormat::Html,
        Format::Json => ReportFormat::Json,
    };
    let mut store = ctx.open_store()?;
    match &a.out {
        Some(path) => {
            let policy = &ctx.settings.policy;
            let w = file::write_report(&mut store, &a.id, format, path, policy, &ctx.actor, now)?;
            println!("{}: report written to {}", a.id, w.path.display());
        }
        None => {
            let input = ReportInput::load(&store, &a.id)?;
            let text = format.render(&Report::build(&input, &ctx.settings.policy, now));
            // A report that includes evidence is an access to it.
            let purpose = file::access_purpose(format, "standard output");
            store.record_evidence_access(&a.id, &purpose, &ctx.actor, now)?;
            let mut out = stdout();
            out.write_all(text.as_bytes()).context("writing report")?;
            out.flush().context("writing report")?;
        }
    }
    Ok(())
}

pub(super) fn metrics(ctx: &AppContext, a: MetricsArgs, now: DateTime<Utc>) -> Result<(), Failure> {
    let bound = |s: &Option<String>, end| {
        s.as_deref()
            .map(|s| metrics::parse_bound(s, end))
            .transpose()
            .map_err(Failure::Usage)
    };
    let period = Period {
        since: bound(&a.since, false)?,
        until: bound(&a.until, true)?,
        include_drills: a.include_drills,
    };
    let store = ctx.open_store()?;
    let incidents = store.incidents(true)?;
    let reviews: HashMap<_, _> = store.reviews()?.into_iter().collect();
    let m = metrics::compute(&incidents, &reviews, &ctx.settings.policy, period, now);
    if a.json {
        print_json(&m)?;
    } else {
        print_metrics(&m).context("writing metrics")?;
    }
    Ok(())
}

fn print_metrics(m: &Metrics) -> std::io::Result<()> {
    let mut out = stdout();
    let stat = |s: &metrics::Stat| match (s.mean_seconds, s.median_seconds) {
        (Some(mean), Some(median)) => format!(
            "mean {:>10}  median {:>10}  (n={})",
            human_duration(mean),
            human_duration(median),
            s.count
        ),
        _ => "-".into(),
    };
    writeln!(
        out,
        "Incidents: {}{}   period: {} .. {}",
        m.incidents,
        if m.include_drills {
            format!(" (drills included: {})", m.drills)
        } else {
            " (drills excluded)".into()
        },
        m.since.as_deref().unwrap_or("start"),
        m.until.as_deref().unwrap_or("now")
    )?;
    let sev: Vec<String> = m
        .by_severity
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    writeln!(out, "By severity: {}", sev.join("  "))?;
    let src: Vec<String> = m
        .by_source
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    writeln!(
        out,
        "By source:   {}",
        if src.is_empty() {
            "-".into()
        } else {
            src.join("  ")
        }
    )?;
    writeln!(out, "Time to acknowledge: {}", stat(&m.time_to_acknowledge))?;
    writeln!(out, "Time to contain:     {}", stat(&m.time_to_contain))?;
    writeln!(out, "Time to resolve:     {}", stat(&m.time_to_resolve))?;
    writeln!(out, "SLA compliance (met / breached / running):")?;
    for r in &m.sla {
        writeln!(
            out,
            "  {}  {:>3} incident(s)  response {}/{}/{}   customer notice {}/{}/{}",
            r.severity,
            r.incidents,
            r.response.met,
            r.response.breached,
            r.response.running,
            r.customer_notice.met,
            r.customer_notice.breached,
            r.customer_notice.running
        )?;
    }
    writeln!(
        out,
        "Corrective actions: {} open ({} overdue)",
        m.open_corrective_actions, m.overdue_corrective_actions
    )?;
    let overdue: Vec<String> = m
        .overdue_reviews
        .iter()
        .map(|o| format!("{} (due {})", o.incident, o.due))
        .collect();
    writeln!(
        out,
        "Overdue reviews: {}",
        if overdue.is_empty() {
            "none".into()
        } else {
            overdue.join(", ")
        }
    )?;
    out.flush()
}
