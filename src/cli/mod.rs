//! The command line: clap definitions and the headless commands. Every
//! command calls the same store and domain code the console does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

pub use crate::config::AppContext;
use crate::config::{self, Settings};
use crate::domain::clock_history::parse_detected;
use crate::domain::event::Event;
use crate::domain::playbook::ItemState;
use crate::domain::roles::{Person, Role};
use crate::domain::sla::{ClockState, clocks, format_countdown, most_urgent};
use crate::domain::{Cia, IncidentId, Phase, Severity, Source, Status};
use crate::report::json;
use crate::store::{Checkpoint, IncidentPatch, NewIncident, StoreError};
use crate::text::display_safe;

mod clocks;
mod completions;
mod detect;
mod doctor;
mod doctor_checks;
mod doctor_env;
mod evidence;
mod finding;
mod ingest;
mod manual;
mod notify;
mod report;
mod review;
mod sources;
mod watch;

#[derive(Debug, Parser)]
#[command(
    name = "warroom",
    version,
    about = "A terminal war-room console for security incident response.",
    long_about = "A terminal war-room console for security incident response.\n\n\
        Run with no command to open the console; every command works headless \
        on the same database for scripts, cron and systemd."
)]
pub struct Cli {
    /// Database file [default: $XDG_DATA_HOME/warroom/warroom.db]
    #[arg(long, global = true, env = "WARROOM_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Who is acting, as recorded in the timeline [default: your OS user]
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub actor: Option<String>,

    /// Directory of policy.toml, playbook.toml, comms.toml and templates/ overrides [default: $XDG_CONFIG_HOME/warroom]
    #[arg(long, global = true, env = "WARROOM_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// Act as if it were this time (RFC 3339): for tests and replays
    #[arg(
        long,
        global = true,
        env = "WARROOM_NOW",
        value_name = "TIME",
        hide = true
    )]
    pub now: Option<DateTime<Utc>>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the console (the default)
    Console,
    /// Load the demo drill (a few exercise incidents in different states), then open the console
    Demo {
        /// Only load the scenario; do not open the console
        #[arg(long)]
        no_console: bool,
    },
    /// Create, list, show and change incidents
    #[command(subcommand)]
    Incident(IncidentCmd),
    /// The people who can hold roles
    #[command(subcommand)]
    Roster(RosterCmd),
    /// Evidence with chain of custody: add, list, verify, transfer, export
    #[command(subcommand)]
    Evidence(evidence::EvidenceCmd),
    /// Post-incident review: 5 whys, root cause, corrective actions, lessons
    #[command(subcommand)]
    Review(review::ReviewCmd),
    /// Write an incident's report as Markdown, JSON or HTML
    Report(report::ReportArgs),
    /// Counts, response times and SLA compliance over a period
    Metrics(report::MetricsArgs),
    /// Exercises: delete every drill incident as a set
    #[command(subcommand)]
    Drill(evidence::DrillCmd),
    /// Replay log files through detection rules by log time (like fail2ban-regex)
    Scan(detect::ScanArgs),
    /// Detection rule files
    #[command(subcommand)]
    Rules(detect::RulesCmd),
    /// Messages: render drafts from templates, send, list, retry deliveries
    #[command(subcommand)]
    Notify(notify::NotifyCmd),
    /// Raise the responder alerts due now (each once across all processes)
    Alerts(notify::AlertsArgs),
    /// Follow log files headless (for systemd), opening incidents as rules fire
    Watch(watch::WatchArgs),
    /// Check the setup (database, configuration, rules, log sources, sinks,
    /// terminal, time zone) and name the fix for each problem; exits 1 if any
    Doctor(doctor::DoctorArgs),
    /// Print the shell completion script for bash, zsh or fish
    Completions(completions::CompletionsArgs),
    /// Write the manual pages into a directory (for packaging)
    #[command(hide = true)]
    Man(manual::ManArgs),
    /// Take alerts from SIEM and monitoring (Alertmanager, Grafana, Wazuh, JSON): from a file or as a webhook listener
    Ingest(ingest::IngestArgs),
    /// Check the timeline's hash chain; exits non-zero naming the first bad event
    Verify {
        /// Compare with (then update) an external checkpoint file, so that
        /// truncation of the newest events is detected too
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

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
        #[arg(long)]
        json: bool,
    },
    /// Pause a clock (waiting on a customer or a third party), with the reason; regulatory clocks never pause
    Pause(clocks::PauseArgs),
    /// Resume a paused clock
    Resume(clocks::ResumeArgs),
    /// Place an incident under legal hold, or lift it with --release
    Hold(evidence::HoldArgs),
    /// Add a note to the timeline
    Note {
        id: IncidentId,
        text: String,
        /// The note records an action taken (listed under ACTIONS TAKEN in messages)
        #[arg(long)]
        action: bool,
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
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum RosterCmd {
    /// Add someone (or update them)
    Add {
        handle: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        contact: String,
    },
    /// List the roster
    List {
        #[arg(long)]
        json: bool,
    },
}

/// How a command failed: bad input (exit 2) or a runtime problem (exit 1).
enum Failure {
    Usage(String),
    Runtime(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast_ref::<StoreError>() {
            Some(StoreError::Invalid(msg)) => Failure::Usage(msg.clone()),
            _ => Failure::Runtime(e),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::from(anyhow::Error::new(e))
    }
}

/// Entry point: parse, dispatch, and turn every failure into one line on
/// stderr and an exit code (2 for usage, 1 for runtime).
pub fn main() -> ExitCode {
    completions::answer_if_asked();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // clap's first line names the bad argument and why; the usage
            // block after it is noise in a script's log.
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .next()
                .unwrap_or("error: invalid arguments");
            eprintln!("{first} (see warroom --help)");
            return ExitCode::from(2);
        }
    };
    crate::logging::init();
    match run(cli) {
        Ok(code) => code,
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {}", display_safe(&msg));
            ExitCode::from(2)
        }
        // `warroom incident list | head`: the reader left; stop quietly.
        Err(Failure::Runtime(e))
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(141)
        }
        Err(Failure::Runtime(e)) => {
            let text = one_line(&e);
            tracing::error!("{text}");
            eprintln!("error: {}", display_safe(&text));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line, each said once: an error that
/// already shows its cause's text (as the store's errors do) ends the
/// walk, so "path: reason: reason: code 14: reason" cannot happen.
fn one_line(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            break;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// The OS user, for the timeline's actor when `--as` is not given.
pub fn os_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(whoami::username)
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let actor = match cli.actor {
        Some(a) if a.trim().is_empty() => return Err(Failure::Usage("--as needs a name".into())),
        Some(a) => a.trim().to_string(),
        None => os_user(),
    };
    let config_dir = cli.config_dir.unwrap_or_else(config::config_dir);
    let db = cli.db.unwrap_or_else(config::default_db_path);
    // These need no loaded settings: doctor reports a broken file itself.
    match &cli.command {
        Some(Command::Doctor(a)) => {
            let setup = doctor::Setup {
                db: &db,
                config_dir: &config_dir,
            };
            return doctor::run(&setup, a).map_err(Failure::Runtime);
        }
        Some(Command::Completions(a)) => return completions::run(a).map_err(Failure::Runtime),
        Some(Command::Man(a)) => return manual::run(a).map_err(Failure::Runtime),
        _ => {}
    }
    let ctx = AppContext {
        db,
        actor,
        settings: Settings::load(&config_dir)?,
        config_dir,
    };
    let now = cli.now.unwrap_or_else(Utc::now);
    match cli.command.unwrap_or(Command::Console) {
        Command::Console => crate::tui::run(&ctx).map_err(Failure::Runtime)?,
        Command::Demo { no_console } => {
            let mut store = ctx.open_store()?;
            let ids = crate::demo::load(&mut store, &ctx.settings.playbook, now)?;
            if no_console {
                println!("demo drill loaded: {}", ids.join(" "));
            } else {
                crate::tui::run(&ctx).map_err(Failure::Runtime)?;
            }
        }
        Command::Incident(cmd) => incident(&ctx, cmd, now)?,
        Command::Roster(cmd) => roster(&ctx, cmd, now)?,
        Command::Evidence(cmd) => return evidence::run(&ctx, cmd, now),
        Command::Review(cmd) => review::run(&ctx, cmd, now)?,
        Command::Report(a) => report::report(&ctx, a, now)?,
        Command::Metrics(a) => report::metrics(&ctx, a, now)?,
        Command::Drill(cmd) => evidence::drill(&ctx, cmd, now)?,
        Command::Scan(args) => return detect::scan(&ctx, args, now).map_err(Failure::Runtime),
        Command::Rules(cmd) => return detect::rules(cmd).map_err(Failure::Runtime),
        Command::Watch(args) => return watch::watch(&ctx, args).map_err(Failure::Runtime),
        Command::Ingest(args) => return ingest::run(&ctx, args, now).map_err(Failure::from),
        Command::Verify { checkpoint, json } => return verify(&ctx, checkpoint.as_deref(), json),
        Command::Notify(cmd) => return notify::run(&ctx, cmd, now),
        Command::Alerts(a) => return notify::alerts(&ctx, a, now),
        Command::Doctor(_) | Command::Completions(_) | Command::Man(_) => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Stdout is line-buffered; a list of 10,000 incidents is hundreds of
/// thousands of lines, so buffer whole and flush once.
fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    let mut out = stdout();
    crate::text::json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Human time: `2026-11-22 18:09:17 UTC`.
pub fn human_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn incident(ctx: &AppContext, cmd: IncidentCmd, now: DateTime<Utc>) -> Result<(), Failure> {
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
            let rows = store.board(all)?;
            if as_json {
                let complete = review::completeness(&store)?;
                let list: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        let done = complete.contains(r.incident.id.as_str());
                        json::BoardRowJson::new(r, policy, now).with_review(r, done, policy, now)
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
                close_override: a.override_reason,
                reason: a.reason.clone(),
            };
            if patch.is_empty() && a.detected.is_none() {
                return Err(Failure::Usage(
                    "nothing to change: give at least one of --severity, --status, --phase, --title, --summary, --source, --affected, --cia, --customer-impact, --personal-data, --detected".into(),
                ));
            }
            let mut store = ctx.open_store()?;
            let mut i = match &a.detected {
                Some(d) => {
                    clocks::set_detected(&mut store, ctx, &a.id, d, a.reason.as_deref(), now)?
                }
                None => store.incident(&a.id)?,
            };
            if !patch.is_empty() {
                i = store.update_incident(&a.id, &patch, &ctx.actor, now)?;
            }
            if a.json {
                print_json(&json::incident(&i, policy))?;
            } else {
                println!("{} updated", i.id);
            }
        }
        IncidentCmd::Ack { id, json: as_json } => clocks::ack(ctx, &id, as_json, now)?,
        IncidentCmd::Pause(a) => clocks::pause(ctx, a, now)?,
        IncidentCmd::Resume(a) => clocks::resume(ctx, a, now)?,
        IncidentCmd::Assign {
            id,
            role,
            person,
            json: as_json,
        } => {
            let mut store = ctx.open_store()?;
            let (a, acknowledged) =
                store.assign_role_acknowledging(&id, role, &person, &ctx.actor, now)?;
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
            json: as_json,
        } => {
            let state = match (&na, undo) {
                (Some(_), _) => ItemState::NotApplicable,
                (None, true) => ItemState::Open,
                (None, false) => ItemState::Done,
            };
            let mut store = ctx.open_store()?;
            let c = store.set_checklist_item(&id, &item, state, na.as_deref(), &ctx.actor, now)?;
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
            json: as_json,
        } => {
            let mut store = ctx.open_store()?;
            let e = if action {
                store.add_action_note(&id, &text, &ctx.actor, now)?
            } else {
                store.add_note(&id, &text, &ctx.actor, now)?
            };
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

fn print_event(out: &mut impl Write, e: &Event) -> Result<()> {
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

fn roster(ctx: &AppContext, cmd: RosterCmd, now: DateTime<Utc>) -> Result<(), Failure> {
    match cmd {
        RosterCmd::Add {
            handle,
            name,
            contact,
        } => {
            let mut store = ctx.open_store()?;
            let p = store.upsert_person(
                &Person {
                    handle,
                    name,
                    contact,
                },
                &ctx.actor,
                now,
            )?;
            println!("{} added", display_safe(&p.handle));
        }
        RosterCmd::List { json: as_json } => {
            let people = ctx.open_store()?.people()?;
            if as_json {
                print_json(&serde_json::to_value(&people).context("encoding roster")?)?;
            } else {
                for p in people {
                    println!(
                        "{:<16} {:<24} {}",
                        display_safe(&p.handle),
                        display_safe(&p.name),
                        display_safe(&p.contact)
                    );
                }
            }
        }
    }
    Ok(())
}

fn verify(ctx: &AppContext, checkpoint: Option<&Path>, as_json: bool) -> Result<ExitCode, Failure> {
    let store = ctx.open_store()?;
    let previous = checkpoint.map(Checkpoint::read).transpose()?.flatten();
    let report = store.verify(previous.as_ref())?;
    if as_json {
        print_json(&serde_json::to_value(&report).context("encoding report")?)?;
    }
    if let Some(f) = &report.failure {
        if !as_json {
            eprintln!("error: timeline verification FAILED at {f}");
        }
        return Ok(ExitCode::from(1));
    }
    if !report.records.is_empty() {
        if !as_json {
            eprintln!(
                "error: verification FAILED: {} stored record(s) contradict the timeline:",
                report.records.len()
            );
            for r in &report.records {
                eprintln!("  {}", display_safe(r));
            }
        }
        return Ok(ExitCode::from(1));
    }
    if let Some(path) = checkpoint {
        Checkpoint {
            chains: report.heads.clone(),
        }
        .write(path)?;
    }
    if !as_json {
        let heads: Vec<String> = report
            .heads
            .iter()
            .map(|h| {
                format!(
                    "{} #{} {}",
                    h.chain,
                    h.chain_seq,
                    &h.hash[..16.min(h.hash.len())]
                )
            })
            .collect();
        let checked = if previous.is_some() {
            ", matches checkpoint"
        } else {
            ""
        };
        println!(
            "timeline intact: {} events{checked}; heads: {}",
            report.events,
            if heads.is_empty() {
                "none".into()
            } else {
                heads.join(", ")
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
