//! `warroom who`: the consoles open now and the incident each is viewing,
//! from the presence rows the consoles beat. `--stay` beats such a row
//! from this process until it is stopped (for scripts, and to check
//! presence headless).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;

use super::{AppContext, Failure, human_time, print_json};
use crate::domain::IncidentId;
use crate::store::{ConsoleId, HEARTBEAT_EVERY, Presence, STALE_AFTER};
use crate::text::display_safe;

#[derive(Debug, Args)]
pub struct WhoArgs {
    /// Only the consoles viewing this incident
    #[arg(long, value_name = "ID")]
    pub incident: Option<IncidentId>,
    #[arg(long)]
    pub json: bool,
    /// Be present (viewing --incident, if given) until SIGTERM or SIGINT,
    /// beating every 2 s like a console; leaves on the way out
    #[arg(long, conflicts_with = "json")]
    pub stay: bool,
}

pub(super) fn run(ctx: &AppContext, a: WhoArgs, now: DateTime<Utc>) -> Result<(), Failure> {
    if a.stay {
        return stay(ctx, a.incident.as_ref(), now);
    }
    let mut store = ctx.open_store()?;
    let rows: Vec<Presence> = store
        .present(now, STALE_AFTER)?
        .into_iter()
        .filter(|p| {
            a.incident
                .as_ref()
                .is_none_or(|id| p.incident.as_deref() == Some(id.as_str()))
        })
        .collect();
    if a.json {
        print_json(&rows)?;
        return Ok(());
    }
    if rows.is_empty() {
        println!("no console open");
    }
    for p in &rows {
        println!(
            "{:<14} {:<16} {}@{} since {}",
            p.incident.as_deref().unwrap_or("(board)"),
            display_safe(&p.actor),
            p.pid,
            display_safe(&p.host),
            human_time(p.started_at)
        );
    }
    Ok(())
}

/// Beats until stopped. Times run on from `now` by the monotonic clock, so
/// a fixed --now still ages the row as a real console's would.
fn stay(
    ctx: &AppContext,
    incident: Option<&IncidentId>,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")
            .map_err(Failure::Runtime)?;
    }
    let mut store = ctx.open_store()?;
    if let Some(id) = incident {
        store.incident(id)?;
    }
    let host = whoami::fallible::hostname().unwrap_or_else(|_| "localhost".into());
    let me = ConsoleId::this_process(&ctx.actor, &host, now);
    let start = Instant::now();
    let at = || now + chrono::Duration::from_std(start.elapsed()).unwrap_or_default();
    let step = std::time::Duration::from_millis(100);
    while !stop.load(Ordering::Relaxed) {
        store.heartbeat(&me, incident, at())?;
        let beat = Instant::now();
        while beat.elapsed() < HEARTBEAT_EVERY && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(step);
        }
    }
    store.leave(&me.id)?;
    Ok(())
}
