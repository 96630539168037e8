//! `warroom watch`: follow log files headless (for systemd), opening
//! incidents as rules fire. Logs go to the log file; stdout gets one short
//! line per detection opened. SIGTERM and SIGINT commit what was read and
//! exit 0.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use super::AppContext;
use super::detect::load_rules;
use crate::comms::delivery_queue::{DeliveryQueue, QUEUE_BATCHES};
use crate::detect::follow::{FollowConfig, Follower, IntakeFollow, system_clock};
use crate::detect::logfile::LogAccess;
use crate::detect::rule_file::kind_of;
use crate::detect::setup::{load_ignore, trusted_owners};
use crate::detect::watch::{WatchEvent, WatchOptions, host_name, run_leased, this_run};
use crate::detect::{DEFAULT_MAX_KEYS, Engine};
use crate::domain::event::format_time;
use crate::intake::IntakeConfig;
use crate::store::CommitOutcome;
use crate::text::display_safe;

/// How long a stopping watcher waits for alert deliveries in flight.
const DELIVERY_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Rule files (warroom YAML/JSON or Sigma) [default: the shipped Linux rules]
    #[arg(long = "rules", value_name = "FILE", num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// Log files or globs to follow (quote globs: the watcher expands them
    /// itself and picks up files that appear later)
    #[arg(value_name = "LOG", required_unless_present_any = ["journal", "journal_files", "journal_dir", "wazuh"])]
    pub logs: Vec<PathBuf>,
    /// Follow a Wazuh alerts.json (one JSON alert per line) as an intake
    /// source: each alert is mapped by intake.toml's [wazuh] section, like
    /// `ingest --format wazuh`, and committed with the file's checkpoint
    #[arg(long = "wazuh", value_name = "ALERTS_JSON")]
    pub wazuh: Vec<PathBuf>,
    #[command(flatten)]
    pub sources: super::sources::SourceArgs,
    /// Name of this watcher: its checkpoints and windows are kept under it
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub name: String,
    /// On the first start, read files that already exist from their
    /// beginning (default: from their end; later starts resume where the
    /// last one stopped either way)
    #[arg(long)]
    pub from_beginning: bool,
    /// Poll interval in milliseconds when no file notification comes
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub poll_ms: u64,
    /// Most keys (e.g. source addresses) each rule tracks at once
    #[arg(long, default_value_t = DEFAULT_MAX_KEYS, value_name = "N")]
    pub max_keys: usize,
    /// Follow a symbolic link at a log's path (by default a link is
    /// refused: one planted in a log directory could point anywhere)
    #[arg(long)]
    pub allow_symlinks: bool,
    /// Also read log files owned by this user (name or id); by default
    /// only files of root, the log directory's owner and the user running
    /// warroom are read
    #[arg(long = "trusted-owner", value_name = "USER")]
    pub trusted_owners: Vec<String>,
    /// Take the [ignore] allowlist (cidrs, keys, lines) from this
    /// watch.toml [default: watch.toml in the config directory, if any]
    #[arg(long = "watch-toml", value_name = "FILE")]
    pub watch_toml: Option<PathBuf>,
}

pub fn watch(ctx: &AppContext, args: WatchArgs) -> Result<ExitCode> {
    // First, so a stop request during start-up is honoured too.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    let set = load_rules(&args.rules);
    for p in &set.problems {
        let msg = format!("{p} (rule refused)");
        tracing::warn!("{}", display_safe(&msg));
        eprintln!("warning: {}", display_safe(&msg));
    }
    for w in &set.warnings {
        tracing::warn!("{}", display_safe(&w.to_string()));
        eprintln!("warning: {}", display_safe(&w.to_string()));
    }
    if set.rules.is_empty() {
        anyhow::bail!("no rules loaded; nothing to watch for");
    }
    let name = args.name.trim();
    if name.is_empty() {
        anyhow::bail!("--name must not be empty");
    }
    // Checkpoints name files by absolute path, so a restart from another
    // directory resumes them.
    let absolute = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    let patterns: Vec<PathBuf> = args.logs.iter().map(absolute).collect();
    let wazuh: Vec<PathBuf> = args.wazuh.iter().map(absolute).collect();

    refuse_unreadable(&patterns)?;
    refuse_unreadable(&wazuh)?;
    let owners = trusted_owners(&args.trusted_owners)
        .map_err(|u| anyhow::anyhow!("--trusted-owner: no user '{u}' on this system"))?;

    let mut config = FollowConfig::new(patterns);
    if !wazuh.is_empty() {
        // A broken intake.toml stops here with file:line:col.
        let mapping = IntakeConfig::load(&ctx.config_dir)?.wazuh;
        config.intake = wazuh
            .into_iter()
            .map(|p| IntakeFollow::wazuh(p, mapping.clone()))
            .collect();
    }
    config.from_beginning = args.from_beginning;
    config.access = LogAccess::followed(args.allow_symlinks, owners);
    // The console's allowlist applies here too: one watcher, one list.
    let toml = (args.watch_toml.clone()).unwrap_or_else(|| ctx.config_dir.join("watch.toml"));
    match load_ignore(&toml)? {
        Some(list) if !list.is_empty() => {
            let line = format!("allowlist: {} entries from {}", list.len(), toml.display());
            tracing::info!("{}", display_safe(&line));
            config.ignore = list;
        }
        Some(_) => {}
        None if args.watch_toml.is_some() => {
            anyhow::bail!(
                "{}: no such file",
                display_safe(&toml.display().to_string())
            )
        }
        None => {}
    }
    config.zone = args.sources.zone()?;
    if let Some(journal) = args.sources.journal() {
        // Blind is worse than stopped: no journalctl, or no right to read
        // the journal, ends here with the fix.
        crate::detect::journal::last_cursor(&journal)?;
        config.journals.push(journal);
    }

    let mut store = ctx.open_store()?;
    let rules = Arc::new(set);
    // A notify rule's alert is committed with one pending delivery per
    // alert sink and delivered after the commit, off the loop.
    let sinks = ctx.settings.comms.escalation_sinks(store.path());
    config.notify_sinks = sinks.iter().map(|s| s.name.clone()).collect();
    let delivery = DeliveryQueue::start(
        store.path(),
        sinks,
        &ctx.settings.comms,
        &ctx.actor,
        QUEUE_BATCHES,
    );
    let host = host_name();
    let opts = WatchOptions {
        name: name.to_string(),
        poll: Duration::from_millis(args.poll_ms.clamp(10, 60_000)),
        actor: ctx.actor.clone(),
        lease: Some(this_run(&ctx.actor, &host)),
        host,
    };
    let lines = std::cell::Cell::new(0u64);
    // Hits allowlists left uncounted, per rule (said when stopping).
    let ignored = std::cell::RefCell::new(Vec::<u64>::new());
    // File problems (refused links, unreadable files) already said.
    let said = std::cell::RefCell::new(std::collections::HashSet::<String>::new());
    let say_file_problems = |follower: &Follower| {
        let mut said = said.borrow_mut();
        let now = follower.file_problems();
        for p in &now {
            if said.insert(p.clone()) {
                eprintln!("warning: {}", display_safe(p));
            }
        }
        // A problem that went away may be said again if it comes back.
        said.retain(|p| now.contains(p));
    };
    let stdout = std::io::stdout();
    run_leased(
        &mut store,
        &ctx.settings.playbook,
        &opts,
        &stop,
        |state| {
            let engine = Engine::new(Arc::clone(&rules), args.max_keys);
            Follower::new(engine, config.clone(), state, system_clock())
        },
        |event| match event {
            WatchEvent::StandingBy(lease) => {
                let line = format!(
                    "watcher {name} is run by {} (lease until {}); standing by to take over",
                    lease.holder,
                    format_time(lease.expires_at)
                );
                eprintln!("{}", display_safe(&line));
            }
            WatchEvent::Following(follower) => tracing::info!(
                watcher = name,
                rules = follower.engine().rules().rules.len(),
                logs = ?args.logs,
                "watching"
            ),
            WatchEvent::Lost(e) => eprintln!("warning: {}", display_safe(&e.to_string())),
            WatchEvent::CaughtUp(follower) => say_file_problems(follower),
        },
        |follower, outcome| {
            lines.set(follower.lines());
            ignored.borrow_mut().clone_from(&follower.engine().ignored);
            // After the commit, never holding the loop: a full queue
            // leaves them pending for `warroom alerts`.
            delivery.push(outcome.deliver.clone(), chrono::Utc::now());
            let mut out = stdout.lock();
            for line in status_lines(outcome) {
                tracing::info!("{}", display_safe(&line));
                // A reader that went away must not stop the watcher.
                let _ = writeln!(out, "{}", display_safe(&line));
            }
            let _ = out.flush();
        },
    )?;
    tracing::info!(lines = lines.get(), "stopped; everything read is committed");
    for (rule, n) in rules.rules.iter().zip(ignored.borrow().iter()) {
        if *n == 0 {
            continue;
        }
        let line = format!("ignored {n} hit(s) of {} (allowlisted)", rule.name);
        tracing::info!("{}", display_safe(&line));
        eprintln!("{}", display_safe(&line));
    }
    // Give deliveries in flight a moment; one still running when this
    // gives up stays pending, and `warroom alerts` retries it later.
    if !delivery.finish(DELIVERY_GRACE) {
        tracing::warn!("alert deliveries still running at exit; left pending for a retry");
    }
    Ok(ExitCode::SUCCESS)
}

/// A literal log path naming a directory, FIFO or device is a mistake to
/// stop at, not a file to wait for (a missing file is waited for).
fn refuse_unreadable(patterns: &[PathBuf]) -> Result<()> {
    for p in patterns {
        if p.to_string_lossy().contains(['*', '?', '[']) {
            continue;
        }
        if let Ok(m) = std::fs::metadata(p)
            && !m.is_file()
        {
            anyhow::bail!(
                "{}: {}, not a regular file: watch follows regular log files",
                display_safe(&p.to_string_lossy()),
                kind_of(m.file_type())
            );
        }
    }
    Ok(())
}

/// One line per detection opened, e.g.
/// `2026-11-22T10:00:00.000Z P2 Multiple failed logins key=1.2.3.4 count=11 -> INC-2026-004, alert raised`.
pub fn status_lines(outcome: &CommitOutcome) -> Vec<String> {
    outcome
        .opened
        .iter()
        .map(|o| {
            let mut line = format!(
                "{} {} {} key={} count={} first={}",
                format_time(o.last_seen),
                o.severity,
                o.rule,
                o.key,
                o.count,
                format_time(o.first_seen)
            );
            if let Some(id) = &o.incident {
                let arrow = if o.joined { "joined" } else { "->" };
                line.push_str(&format!(" {arrow} {id}"));
            }
            if let Some((_, raised)) = &o.alert {
                line.push_str(if *raised {
                    ", alert raised"
                } else {
                    ", alert already raised"
                });
            }
            line
        })
        .collect()
}
