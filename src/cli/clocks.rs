//! The incident commands that move clocks: acknowledge, pause and resume a
//! clock, correct the detection time.

use chrono::{DateTime, Utc};
use clap::Args;

use super::{AppContext, Failure, human_time, print_json};
use crate::domain::IncidentId;
use crate::domain::clock_history::parse_detected;
use crate::domain::sla::ClockKind;
use crate::report::json;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct PauseArgs {
    pub id: IncidentId,
    /// response, customer-notice or next-update (regulatory clocks never pause)
    pub clock: String,
    /// Why it waits (e.g. "waiting on the customer's logs")
    #[arg(long)]
    pub reason: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    pub id: IncidentId,
    /// The paused clock: response, customer-notice or next-update
    pub clock: String,
    #[arg(long)]
    pub json: bool,
}

fn clock_kind(s: &str) -> Result<ClockKind, Failure> {
    ClockKind::parse(s).map_err(Failure::Usage)
}

pub(super) fn ack(
    ctx: &AppContext,
    id: &IncidentId,
    as_json: bool,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let mut store = ctx.open_store()?;
    let before = store.incident(id)?.acknowledged_at;
    let i = store.acknowledge(id, &ctx.actor, now)?;
    if as_json {
        print_json(&json::incident(&i, &ctx.settings.policy))?;
    } else {
        match before {
            Some(at) => println!("{} was already acknowledged at {}", i.id, human_time(at)),
            None => println!("{} acknowledged at {}", i.id, human_time(now)),
        }
    }
    Ok(())
}

pub(super) fn pause(ctx: &AppContext, a: PauseArgs, now: DateTime<Utc>) -> Result<(), Failure> {
    let kind = clock_kind(&a.clock)?;
    let mut store = ctx.open_store()?;
    let i = store.pause_clock(&a.id, &kind, &a.reason, &ctx.actor, now)?;
    if a.json {
        print_json(&json::incident(&i, &ctx.settings.policy))?;
    } else {
        println!("{}: {} clock paused", i.id, kind.label());
    }
    Ok(())
}

pub(super) fn resume(ctx: &AppContext, a: ResumeArgs, now: DateTime<Utc>) -> Result<(), Failure> {
    let kind = clock_kind(&a.clock)?;
    let mut store = ctx.open_store()?;
    let i = store.resume_clock(&a.id, &kind, &ctx.actor, now)?;
    if a.json {
        print_json(&json::incident(&i, &ctx.settings.policy))?;
    } else {
        println!("{}: {} clock resumed", i.id, kind.label());
    }
    Ok(())
}

/// `incident set --detected T --reason R`: the recorded correction.
pub(super) fn set_detected(
    store: &mut Store,
    ctx: &AppContext,
    id: &IncidentId,
    detected: &str,
    reason: Option<&str>,
    base: Option<crate::domain::version::Version>,
    now: DateTime<Utc>,
) -> Result<crate::domain::Incident, Failure> {
    let at =
        parse_detected(detected, now).map_err(|e| Failure::Usage(format!("--detected: {e}")))?;
    let Some(reason) = reason.filter(|r| !r.trim().is_empty()) else {
        return Err(Failure::Usage(
            "changing the detection time needs --reason".into(),
        ));
    };
    Ok(store.set_detected_based(id, at, reason, base, &ctx.actor, now)?)
}
