//! The command line: clap definitions and the headless commands. Every
//! command calls the same store and domain code the console does.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

pub use crate::config::AppContext;
use crate::config::{self, Settings};
use crate::store::StoreError;
use crate::text::display_safe;

mod clocks;
mod completions;
mod detect;
mod doctor;
mod doctor_checks;
mod doctor_env;
mod doctor_host;
mod doctor_watch;
mod evidence;
mod finding;
mod incident;
mod ingest;
mod manual;
mod notify;
mod report;
mod review;
mod roster;
mod sources;
mod verify;
mod watch;
mod who;

use incident::incident;
pub use incident::{IncidentCmd, NewArgs, SetArgs};
pub use roster::RosterCmd;
use roster::roster;
use verify::verify;

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
    /// Who has a console open now, and which incident each is viewing
    Who(who::WhoArgs),
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

/// How a command failed: bad input (exit 2) or a runtime problem (exit 1).
enum Failure {
    Usage(String),
    Runtime(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast_ref::<StoreError>() {
            Some(StoreError::Invalid(msg)) => Failure::Usage(msg.clone()),
            // A stale --if-version: say what came in between and the way on.
            Some(StoreError::Conflict(c)) => Failure::Runtime(anyhow::anyhow!(
                "{e}; run `warroom incident show {}` and retry",
                c.incident
            )),
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
            eprintln!("{} (see {} --help)", clap_one_line(&e), clap_command(&e));
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

/// clap's error on one line for a script's log: what is wrong and the
/// lines that name it (the missing arguments, the valid values, a likely
/// spelling), without the usage block.
fn clap_one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let text = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        "error: invalid arguments".into()
    } else {
        text
    }
}

/// The (sub)command the error is about, from clap's usage line:
/// `warroom incident new`, so the hint leads to the right help.
fn clap_command(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let words: Vec<&str> = rendered
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .map(|u| {
            u.split_whitespace()
                .take_while(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                .take_while(|w| !w.starts_with('-'))
                .collect()
        })
        .unwrap_or_default();
    if words.first() == Some(&"warroom") {
        words.join(" ")
    } else {
        "warroom".into()
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
        Command::Who(a) => who::run(&ctx, a, now)?,
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
