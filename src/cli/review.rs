//! `warroom review ...`: the post-incident review from the command line.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};

use super::{AppContext, Failure, print_json};
use crate::domain::IncidentId;
use crate::domain::review::{ActionStatus, parse_date};
use crate::domain::version::Version;
use crate::report::model::{ActionJson, ReviewJson};
use crate::store::{NewAction, ReviewPatch, Store};
use crate::text::display_safe;

#[derive(Debug, Subcommand)]
pub enum ReviewCmd {
    /// Show the review: 5 whys, root cause, actions, lessons, due date
    Show {
        id: IncidentId,
        #[arg(long)]
        json: bool,
    },
    /// Set parts of the review (each given option replaces that part)
    Set(SetArgs),
    /// Corrective actions
    #[command(subcommand)]
    Action(ActionCmd),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    pub id: IncidentId,
    /// The incident statement the whys start from
    #[arg(long)]
    pub statement: Option<String>,
    /// One why; repeat up to five times, in order (replaces all whys)
    #[arg(long = "why", value_name = "WHY")]
    pub whys: Vec<String>,
    /// Remove every why
    #[arg(long, conflicts_with = "whys")]
    pub clear_whys: bool,
    #[arg(long)]
    pub root_cause: Option<String>,
    /// Lessons learned
    #[arg(long)]
    pub lessons: Option<String>,
    /// What went well
    #[arg(long)]
    pub went_well: Option<String>,
    /// What did not go well
    #[arg(long)]
    pub went_badly: Option<String>,
    /// No corrective action is needed, and why (satisfies the closing gate with a root cause)
    #[arg(long, value_name = "REASON")]
    pub no_action: Option<String>,
    /// Withdraw the "no action" reason
    #[arg(long, conflicts_with = "no_action")]
    pub clear_no_action: bool,
    /// Refuse if a part this changes was changed after version N (from `incident show --json`)
    #[arg(long, value_name = "N")]
    pub if_version: Option<Version>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ActionCmd {
    /// Add a corrective action (open)
    Add {
        id: IncidentId,
        #[arg(long)]
        description: String,
        #[arg(long)]
        owner: String,
        /// YYYY-MM-DD
        #[arg(long, value_parser = parse_due)]
        due: Option<NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// Set an action's status: open, done or dropped (dropped needs --reason)
    Set {
        id: IncidentId,
        /// The action number that `review show` lists
        action: i64,
        #[arg(long)]
        status: ActionStatus,
        #[arg(long)]
        reason: Option<String>,
        /// Refuse if this action's status was changed after version N
        #[arg(long, value_name = "N")]
        if_version: Option<Version>,
        #[arg(long)]
        json: bool,
    },
}

fn parse_due(s: &str) -> Result<NaiveDate, String> {
    parse_date(s)
}

/// Ids of incidents whose review is complete (for the board's overdue flag).
pub(super) fn completeness(store: &Store) -> anyhow::Result<HashSet<String>> {
    Ok(store
        .reviews()?
        .into_iter()
        .filter(|(_, r)| r.is_complete())
        .map(|(id, _)| id)
        .collect())
}

pub(super) fn run(ctx: &AppContext, cmd: ReviewCmd, now: DateTime<Utc>) -> Result<(), Failure> {
    let policy = &ctx.settings.policy;
    match cmd {
        ReviewCmd::Show { id, json } => {
            let store = ctx.open_store()?;
            let incident = store.incident(&id)?;
            let review = store.review(&id)?;
            let rj = ReviewJson::new(&review, &incident, policy, now);
            if json {
                print_json(&rj)?;
            } else {
                print_review(&id, incident.drill, &rj);
            }
        }
        ReviewCmd::Set(a) => {
            let patch = ReviewPatch {
                statement: a.statement,
                whys: if a.clear_whys {
                    Some(Vec::new())
                } else if a.whys.is_empty() {
                    None
                } else {
                    Some(a.whys)
                },
                root_cause: a.root_cause,
                lessons: a.lessons,
                went_well: a.went_well,
                went_badly: a.went_badly,
                no_action_reason: if a.clear_no_action {
                    Some(None)
                } else {
                    a.no_action.map(Some)
                },
            };
            if patch.is_empty() {
                return Err(Failure::Usage(
                    "nothing to change: give at least one of --statement, --why, --root-cause, --lessons, --went-well, --went-badly, --no-action".into(),
                ));
            }
            let mut store = ctx.open_store()?;
            let r = store.update_review_based(&a.id, &patch, a.if_version, &ctx.actor, now)?;
            if a.json {
                let incident = store.incident(&a.id)?;
                print_json(&ReviewJson::new(&r, &incident, policy, now))?;
            } else {
                println!(
                    "{}: review updated ({})",
                    a.id,
                    r.gate_problem()
                        .unwrap_or_else(|| "complete: the incident may close".into())
                );
            }
        }
        ReviewCmd::Action(ActionCmd::Add {
            id,
            description,
            owner,
            due,
            json,
        }) => {
            let mut store = ctx.open_store()?;
            let a = store.add_action(
                &id,
                &NewAction {
                    description,
                    owner,
                    due,
                },
                &ctx.actor,
                now,
            )?;
            if json {
                print_json(&ActionJson::new(&a, now))?;
            } else {
                println!("{id}: corrective action #{} added", a.id);
            }
        }
        ReviewCmd::Action(ActionCmd::Set {
            id,
            action,
            status,
            reason,
            if_version,
            json,
        }) => {
            let mut store = ctx.open_store()?;
            let a = store.set_action_status_based(
                &id,
                action,
                status,
                reason.as_deref(),
                if_version,
                &ctx.actor,
                now,
            )?;
            if json {
                print_json(&ActionJson::new(&a, now))?;
            } else {
                println!("{id}: corrective action #{} is {}", a.id, a.status);
            }
        }
    }
    Ok(())
}

fn print_review(id: &IncidentId, drill: bool, r: &ReviewJson) {
    let s = |t: &str| {
        if t.trim().is_empty() {
            "-".to_string()
        } else {
            display_safe(t).into_owned()
        }
    };
    println!(
        "{id}{} post-incident review: {}",
        if drill { " [DRILL]" } else { "" },
        if r.complete {
            "complete".to_string()
        } else {
            format!("incomplete ({})", r.gate_problem.as_deref().unwrap_or("-"))
        }
    );
    println!(
        "Due:        {}{}",
        r.due.as_deref().unwrap_or("- (set on resolution)"),
        if r.overdue { "  OVERDUE" } else { "" }
    );
    println!("Statement:  {}", s(&r.statement));
    for (n, w) in r.whys.iter().enumerate() {
        println!("Why {}:      {}", n + 1, s(w));
    }
    println!("Root cause: {}", s(&r.root_cause));
    if let Some(n) = &r.no_action_reason {
        println!("No action:  {}", s(n));
    }
    println!("Actions:");
    if r.actions.is_empty() {
        println!("  (none)");
    }
    for a in &r.actions {
        println!(
            "  #{:<4} {:<8} {:<12} due {:<10}{} {}{}",
            a.id,
            a.status,
            s(&a.owner),
            a.due.as_deref().unwrap_or("-"),
            if a.overdue { " OVERDUE" } else { "" },
            s(&a.description),
            a.reason
                .as_deref()
                .map_or(String::new(), |r| format!(" ({})", s(r)))
        );
    }
    println!("Lessons:    {}", s(&r.lessons));
    println!("Went well:  {}", s(&r.went_well));
    println!("Went badly: {}", s(&r.went_badly));
}
