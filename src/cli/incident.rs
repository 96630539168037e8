//! `warroom incident`: declare, list, show, set, acknowledge, assign,
//! checklist, notes; and how an incident prints.

use std::io::Write;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use super::{Failure, evidence, human_time, print_json, review, stdout};
use crate::config::AppContext;
use crate::domain::clock_history::parse_detected;
use crate::domain::event::Event;
use crate::domain::playbook::ItemState;
use crate::domain::roles::Role;
use crate::domain::sla::{ClockState, clocks, format_countdown, most_urgent};
use crate::domain::version::Version;
use crate::domain::{Cia, IncidentId, Phase, Severity, Source, Status};
use crate::report::json;
use crate::store::{IncidentPatch, NewIncident};
use crate::text::display_safe;

#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// Declare a new incident; prints its id
    New(NewArgs),
    /// List incidents (open ones unless --all)
    List {
        /// Include closed incidents
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show one incident: fields, roles, clocks, checklist, timeline
    Show {
        id: IncidentId,
        #[arg(long)]
        json: bool,
    },
    /// Change fields of an incident
    Set(SetArgs),
    /// Acknowledge: someone has taken charge (meets the response clock)
    Ack {
        id: IncidentId,
        #[arg(long)]
        json: bool,
    },
    /// Give a role (commander, security, ops, comms, legal) to a person
    Assign {
        id: IncidentId,
        role: Role,
        person: String,
        /// Refuse if what this changes was changed after version N (from `incident show --json`)
        #[arg(long, value_name = "N")]
        if_version: Option<Version>,
        #[arg(long)]
        json: bool,
    },
    /// Mark a checklist item done (or not applicable, or open again)
    Check {
        id: IncidentId,
        /// The item id that `incident show` lists, e.g. contain.isolate
        item: String,
        /// Mark not applicable, with the reason
        #[arg(long, value_name = "REASON", conflicts_with = "undo")]
        na: Option<String>,
        /// Open the item again
        #[arg(long)]
        undo: bool,
        /// Refuse if what this changes was changed after version N (from `incident show --json`)
        #[arg(long, value_name = "N")]
        if_version: Option<Version>,
        #[arg(long)]
        json: bool,
    },
    /// Pause a clock (waiting on a customer or a third party), with the reason; regulatory clocks never pause
    Pause(super::clocks::PauseArgs),
    /// Resume a paused clock
    Resume(super::clocks::ResumeArgs),
    /// Place an incident under legal hold, or lift it with --release
    Hold(evidence::HoldArgs),
    /// Add a note to the timeline
    Note {
        id: IncidentId,
        text: String,
        /// The note records an action taken (listed under ACTIONS TAKEN in messages)
        #[arg(long)]
        action: bool,
        /// Written for customers: customer messages list it under ACTIONS TAKEN
        #[arg(long)]
        customer: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct NewArgs {
    #[arg(long)]
    pub title: String,
    /// P1 (critical) to P4 (low)
    #[arg(long)]
    pub severity: Severity,
    #[arg(long, default_value = "")]
    pub summary: String,
    /// siem, automated-alert, customer-report, rule-watcher or manual
    #[arg(long, default_value = "manual")]
    pub source: Source,
    /// Affected region and services
    #[arg(long, default_value = "")]
    pub affected: String,
    /// Confidentiality/integrity/availability impact, e.g. high/none/low
    #[arg(long)]
    pub cia: Option<Cia>,
    #[arg(long, default_value = "")]
    pub customer_impact: String,
    /// Personal data is involved: starts the regulatory clocks
    #[arg(long)]
    pub personal_data: bool,
    /// An exercise: marked DRILL everywhere and kept out of metrics
    #[arg(long)]
    pub drill: bool,
    /// When it was detected, if before now: RFC 3339 or relative (-15m); clocks count from it
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub detected: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    pub id: IncidentId,
    #[arg(long)]
    pub severity: Option<Severity>,
    /// investigating, identified, contained, monitoring, resolved, closed
    #[arg(long)]
    pub status: Option<Status>,
    /// detection, triage, containment, eradication, recovery, review
    #[arg(long)]
    pub phase: Option<Phase>,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub summary: Option<String>,
    #[arg(long)]
    pub source: Option<Source>,
    #[arg(long)]
    pub affected: Option<String>,
    #[arg(long)]
    pub cia: Option<Cia>,
    #[arg(long)]
    pub customer_impact: Option<String>,
    /// What customers are told happened (customer messages use this, never --summary)
    #[arg(long, value_name = "TEXT")]
    pub customer_summary: Option<String>,
    /// true or false
    #[arg(long, value_name = "BOOL")]
    pub personal_data: Option<bool>,
    /// Close although the review is incomplete (the commander only), with the reason
    #[arg(long, value_name = "REASON")]
    pub override_reason: Option<String>,
    /// Correct the detection time (RFC 3339 or relative, -15m); needs --reason
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub detected: Option<String>,
    /// Why: required to lower the severity after a breach and to change the detection time; recorded in the timeline
    #[arg(long, value_name = "REASON")]
    pub reason: Option<String>,
    /// Refuse if a field this changes was changed after version N (from `incident show --json`)
    #[arg(long, value_name = "N")]
    pub if_version: Option<Version>,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn incident(
    ctx: &AppContext,
    cmd: IncidentCmd,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let policy = &ctx.settings.policy;
    match cmd {
        IncidentCmd::New(a) => {
            let mut store = ctx.open_store()?;
            let new = NewIncident {
                title: a.title,
                severity: a.severity,
                summary: a.summary,
                source: a.source,
                affected: a.affected,
                cia: a.cia.unwrap_or_default(),
                customer_impact: a.customer_impact,
                personal_data_breach: a.personal_data,
                drill: a.drill,
                detected_at: a
                    .detected
                    .as_deref()
                    .map(|d| parse_detected(d, now))
                    .transpose()
                    .map_err(|e| Failure::Usage(format!("--detected: {e}")))?,
            };
            let i = store.create_incident(&new, &ctx.settings.playbook, &ctx.actor, now)?;
            if a.json {
                print_json(&json::incident(&i, policy))?;
            } else {
                println!("{}", i.id);
            }
        }
        IncidentCmd::List { all, json: as_json } => {
            let store = ctx.open_store()?;
            // Versions first: a change landing before the rows are read
            // then makes a stale-looking version (a needless conflict),
            // never a fresh-looking one over old values.
            let versions = if as_json {
                store.versions()?
            } else {
                Default::default()
            };
            let rows = store.board(all)?;
            if as_json {
                let complete = review::completeness(&store)?;
                let list: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        let done = complete.contains(r.incident.id.as_str());
                        let version = versions.get(r.incident.id.as_str()).copied();
                        json::BoardRowJson::new(r, policy, now)
                            .with_review(r, done, policy, now)
                            .with_version(version)
                    })
                    .collect();
                print_json(&list)?;
            } else {
                print_list(&rows, ctx, now)?;
            }
        }
        IncidentCmd::Show { id, json: as_json } => {
            let store = ctx.open_store()?;
            let detail = store.detail(&id, None)?;
            if as_json {
                let mut v = json::incident_detail(&detail, policy, now);
                // A campaign's sources: every key with its count and times.
                let sources = serde_json::to_value(store.incident_sources(&id)?)
                    .unwrap_or(serde_json::Value::Null);
                if let serde_json::Value::Object(m) = &mut v {
                    m.insert("sources".into(), sources);
                }
                print_json(&v)?;
            } else {
                print_detail(&detail, ctx, now)?;
            }
        }
        IncidentCmd::Set(a) => {
            let patch = IncidentPatch {
                title: a.title,
                summary: a.summary,
                severity: a.severity,
                status: a.status,
                phase: a.phase,
                source: a.source,
                affected: a.affected,
                cia: a.cia,
                customer_impact: a.customer_impact,
                personal_data_breach: a.personal_data,
                customer_summary: a.customer_summary,
                close_override: a.override_reason,
                reason: a.reason.clone(),
            };
            if patch.is_empty() && a.detected.is_none() {
                return Err(Failure::Usage(
                    "nothing to change: give at least one of --severity, --status, --phase, --title, --summary, --source, --affected, --cia, --customer-impact, --customer-summary, --personal-data, --detected".into(),
                ));
            }
            // The detection time is written by its own transaction: under
            // --if-version a conflict in the second would leave the first
            // written, so the two are not combined there.
            if a.if_version.is_some() && a.detected.is_some() && !patch.is_empty() {
                return Err(Failure::Usage(
                    "--if-version: change --detected in a command of its own, so a conflict leaves nothing half-written".into(),
                ));
            }
            let mut store = ctx.open_store()?;
            let mut i = match &a.detected {
                Some(d) => super::clocks::set_detected(
                    &mut store,
                    ctx,
                    &a.id,
                    d,
                    a.reason.as_deref(),
                    a.if_version,
                    now,
                )?,
                None => store.incident(&a.id)?,
            };
            if !patch.is_empty() {
                i = store.update_incident_based(&a.id, &patch, a.if_version, &ctx.actor, now)?;
            }
            if a.json {
                print_json(&json::incident(&i, policy))?;
            } else {
                println!("{} updated", i.id);
            }
        }
        IncidentCmd::Ack { id, json: as_json } => super::clocks::ack(ctx, &id, as_json, now)?,
        IncidentCmd::Pause(a) => super::clocks::pause(ctx, a, now)?,
        IncidentCmd::Resume(a) => super::clocks::resume(ctx, a, now)?,
        IncidentCmd::Assign {
            id,
            role,
            person,
            if_version,
            json: as_json,
        } => {
            let mut store = ctx.open_store()?;
            let (a, acknowledged) =
                store.assign_role_based(&id, role, &person, if_version, &ctx.actor, now)?;
            if as_json {
                let mut v = serde_json::to_value(&a).context("encoding assignment")?;
                v["acknowledged"] = serde_json::Value::Bool(acknowledged);
                print_json(&v)?;
            } else {
                println!("{id}: {} is now {}", display_safe(&a.person), role.title());
                if acknowledged {
                    println!("{id}: acknowledged (a commander has taken charge)");
                }
            }
        }
        IncidentCmd::Check {
            id,
            item,
            na,
            undo,
            if_version,
            json: as_json,
        } => {
            let state = match (&na, undo) {
                (Some(_), _) => ItemState::NotApplicable,
                (None, true) => ItemState::Open,
                (None, false) => ItemState::Done,
            };
            let mut store = ctx.open_store()?;
            let c = store.set_checklist_item_based(
                &id,
                &item,
                state,
                na.as_deref(),
                if_version,
                &ctx.actor,
                now,
            )?;
            if as_json {
                print_json(&serde_json::to_value(&c).context("encoding checklist item")?)?;
            } else {
                println!("{id}: {} is {}", c.id, c.state.as_str().replace('_', " "));
            }
        }
        IncidentCmd::Hold(a) => evidence::hold(ctx, a, now)?,
        IncidentCmd::Note {
            id,
            text,
            action,
            customer,
            json: as_json,
        } => {
            let mut store = ctx.open_store()?;
            let flags = crate::store::NoteFlags { action, customer };
            let e = store.note(&id, &text, flags, &ctx.actor, now)?;
            if as_json {
                print_json(&json::event(&e))?;
            } else {
                println!("{id}: note added (event {})", e.seq);
            }
        }
    }
    Ok(())
}

fn print_list(rows: &[crate::store::BoardRow], ctx: &AppContext, now: DateTime<Utc>) -> Result<()> {
    let mut out = stdout();
    if rows.is_empty() {
        writeln!(
            out,
            "no open incidents (warroom incident new --title T --severity P1, or warroom demo)"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<14} {:<3} {:<13} {:<12} {:<14} {:<24} TITLE",
        "ID", "SEV", "STATUS", "PHASE", "COMMANDER", "CLOCK"
    )?;
    for r in rows {
        let i = &r.incident;
        let all = clocks(i, &ctx.settings.policy, now);
        let clock = most_urgent(&all).map_or_else(
            || "-".to_string(),
            |c| {
                let mark = match c.state {
                    ClockState::Breached => " BREACHED",
                    ClockState::DueNow => " DUE NOW",
                    ClockState::Paused => " PAUSED",
                    _ => "",
                };
                format!("{} {}{mark}", c.kind.key(), format_countdown(c.remaining))
            },
        );
        let commander = r
            .commander
            .as_deref()
            .map_or_else(|| "-".into(), |c| display_safe(c).into_owned());
        let drill = if i.drill { "[DRILL] " } else { "" };
        writeln!(
            out,
            "{:<14} {:<3} {:<13} {:<12} {:<14} {:<24} {drill}{}",
            i.id.as_str(),
            i.severity.as_str(),
            i.status.as_str(),
            i.phase.as_str(),
            commander,
            clock,
            display_safe(&i.title)
        )?;
    }
    out.flush()?;
    Ok(())
}

fn print_detail(
    d: &crate::store::IncidentDetail,
    ctx: &AppContext,
    now: DateTime<Utc>,
) -> Result<()> {
    let i = &d.incident;
    let level = ctx.settings.policy.level(i.severity);
    let mut out = stdout();
    let drill = if i.drill { "  [DRILL]" } else { "" };
    writeln!(out, "{}  {} {}{drill}", i.id, i.severity, level.label)?;
    writeln!(out, "Title:     {}", display_safe(&i.title))?;
    writeln!(out, "Criteria:  {}", level.criteria)?;
    writeln!(
        out,
        "Status:    {}    Phase: {} ({})",
        i.status,
        i.phase,
        i.phase.title()
    )?;
    writeln!(out, "Source:    {}    CIA: {}", i.source, i.cia)?;
    writeln!(
        out,
        "Detected:  {}    Declared: {}",
        human_time(i.detected_at),
        human_time(i.declared_at)
    )?;
    if !i.affected.is_empty() {
        writeln!(out, "Affected:  {}", display_safe(&i.affected))?;
    }
    if !i.summary.is_empty() {
        writeln!(out, "Summary:   {}", display_safe(&i.summary))?;
    }
    if !i.customer_impact.is_empty() {
        writeln!(out, "Customer impact: {}", display_safe(&i.customer_impact))?;
    }
    if !i.customer_summary.is_empty() {
        writeln!(out, "For customers: {}", display_safe(&i.customer_summary))?;
    }
    writeln!(out, "\nRoles")?;
    for role in Role::ALL {
        match d.holder(role) {
            Some(a) => writeln!(
                out,
                "  {:<10} {} (since {})",
                role.as_str(),
                display_safe(&a.person),
                human_time(a.since)
            )?,
            None => writeln!(out, "  {:<10} -", role.as_str())?,
        }
    }
    writeln!(out, "\nClocks")?;
    for c in clocks(i, &ctx.settings.policy, now) {
        let state = match (c.state, c.met_at) {
            (ClockState::Met, _) => "met".to_string(),
            (ClockState::Breached, Some(_)) => format!(
                "BREACHED (met {} late)",
                format_countdown(-c.remaining).trim_start_matches('+')
            ),
            (ClockState::Breached, None) => format!("BREACHED {}", format_countdown(c.remaining)),
            (ClockState::Running, _) => format!("{} left", format_countdown(c.remaining)),
            (ClockState::DueNow, _) => {
                format!("DUE NOW ({} of grace left)", format_countdown(c.remaining))
            }
            (ClockState::Paused, _) => {
                format!(
                    "PAUSED ({} left when resumed)",
                    format_countdown(c.remaining)
                )
            }
        };
        let state = match c.breached_at {
            Some(at) => format!("{state}, breached {} at {}", human_time(at), c.severity),
            None => state,
        };
        writeln!(
            out,
            "  {:<30} due {}  {state}",
            c.kind.label(),
            human_time(c.due)
        )?;
    }
    writeln!(out, "\nChecklist")?;
    for c in &d.checklist {
        let mark = match c.state {
            ItemState::Open => "[ ]",
            ItemState::Done => "[x]",
            ItemState::NotApplicable => "[-]",
        };
        let who = match (&c.by, c.at) {
            (Some(by), Some(at)) => format!("  ({}, {})", display_safe(by), human_time(at)),
            _ => String::new(),
        };
        let reason = c
            .reason
            .as_deref()
            .map_or(String::new(), |r| format!("  n/a: {}", display_safe(r)));
        // Item ids and texts come from the user's playbook file.
        writeln!(
            out,
            "  {mark} {:<20} {}{reason}{who}",
            display_safe(&c.id),
            display_safe(&c.text)
        )?;
    }
    writeln!(out, "\nTimeline (newest first)")?;
    for e in &d.timeline {
        print_event(&mut out, e)?;
    }
    out.flush()?;
    Ok(())
}

pub(super) fn print_event(out: &mut impl Write, e: &Event) -> Result<()> {
    writeln!(
        out,
        "  #{:<6} {}  {:<12} {:<22} {}",
        e.seq,
        human_time(e.at),
        display_safe(&e.actor),
        e.kind,
        display_safe(&e.detail)
    )?;
    Ok(())
}
