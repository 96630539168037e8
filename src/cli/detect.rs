//! `warroom scan` and `warroom rules check`: the detection room's commands.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::AppContext;
use crate::comms::sinks::{AlertResult, deliver_alerts};
use crate::detect::engine::window_of;
use crate::detect::journal::Committed;
use crate::detect::logfile::recorded_upto;
use crate::detect::persist::Recorder;
use crate::detect::rules::{Matcher, Rule};
use crate::detect::scan::{scan_files, scan_journal};
use crate::detect::watch::host_name;
use crate::detect::{Change, DEFAULT_MAX_KEYS, Detection, Engine, RuleSet};
use crate::domain::event::format_time;
use crate::store::{CommitOutcome, WatchBatch};
use crate::text::display_safe;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Rule files (warroom YAML/JSON or Sigma) [default: the shipped Linux rules]
    #[arg(long = "rules", value_name = "FILE", num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// Log files to replay, oldest first
    #[arg(value_name = "LOG", required_unless_present_any = ["journal", "journal_files", "journal_dir"])]
    pub logs: Vec<PathBuf>,
    #[command(flatten)]
    pub sources: super::sources::SourceArgs,
    /// Journal entries from this time on (journalctl's --since syntax)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Journal entries up to this time (journalctl's --until syntax)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// One JSON object per detection on each line
    #[arg(long)]
    pub json: bool,
    /// Most keys (e.g. source addresses) each rule tracks at once
    #[arg(long, default_value_t = DEFAULT_MAX_KEYS, value_name = "N")]
    pub max_keys: usize,
    /// Also record the detections in the database: open their incidents,
    /// raise their alerts. Replaying the same files again records nothing twice.
    #[arg(long)]
    pub commit: bool,
    /// Apply the [ignore] allowlist (cidrs, keys, lines) of this watch.toml,
    /// as `watch` and the console's watcher do
    #[arg(long = "watch-toml", value_name = "FILE")]
    pub watch_toml: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCmd {
    /// Validate rule files: every problem with file:line:col; exits 1 if any rule is refused
    Check {
        /// Rule files [default: the shipped Linux rules]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

pub fn load_rules(files: &[PathBuf]) -> RuleSet {
    if files.is_empty() {
        RuleSet::builtin()
    } else {
        RuleSet::load(files)
    }
}

/// A detection as `scan --json` prints it.
#[derive(Serialize)]
struct DetectionJson<'a> {
    rule: &'a str,
    key: &'a str,
    count: u64,
    first_seen: String,
    last_seen: String,
    severity: &'static str,
    group_by: &'a str,
    window_seconds: Option<i64>,
    notify: &'a [String],
    create_incident: bool,
    /// How its detections become incidents (per_key, per_rule, per_host).
    incident: &'static str,
    lines: &'a [String],
}

fn detection_json<'a>(rule: &'a Rule, d: &'a Detection) -> DetectionJson<'a> {
    DetectionJson {
        rule: &d.rule,
        key: &d.key,
        count: d.count,
        first_seen: format_time(d.first_seen),
        last_seen: format_time(d.last_seen),
        severity: rule.severity.as_str(),
        group_by: rule.group_by.describe(),
        window_seconds: window_of(rule).map(|w| w.num_seconds()),
        notify: &rule.notify,
        create_incident: rule.create_incident,
        incident: rule.incident.as_str(),
        lines: &d.lines,
    }
}

pub fn scan(ctx: &AppContext, args: ScanArgs, now: DateTime<Utc>) -> Result<ExitCode> {
    let set = load_rules(&args.rules);
    for p in &set.problems {
        eprintln!("warning: {} (rule refused)", display_safe(&p.to_string()));
    }
    for w in &set.warnings {
        tracing::warn!("{}", display_safe(&w.to_string()));
        eprintln!("warning: {}", display_safe(&w.to_string()));
    }
    if set.rules.is_empty() {
        anyhow::bail!("no rules loaded; nothing to scan for");
    }
    let mut engine = Engine::new(Arc::new(set), args.max_keys);
    if let Some(toml) = &args.watch_toml {
        let list = crate::detect::setup::load_ignore(toml)?.ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no such file",
                display_safe(&toml.display().to_string())
            )
        })?;
        engine.add_ignore(&list);
    }
    let started = Instant::now();
    // Detections that closed during the replay (rules without incident
    // that went quiet), and the changes to commit.
    let mut closed: Vec<(usize, Detection)> = Vec::new();
    let mut recorder = Recorder::default();
    // With --commit, lines a watcher already committed (same file, up to
    // its committed position) are recognised: their detections are the
    // watcher's, not new ones to open and alert again.
    let mut store = if args.commit {
        Some(ctx.open_store()?)
    } else {
        None
    };
    let mut lookup_failed = None;
    let mut recorded_changes = 0u64;
    let zone = args.sources.zone()?;
    let mut stats = scan_files(
        &mut engine,
        &args.logs,
        zone,
        now,
        |source, file| match &store {
            Some(s) => match s.source_reads(source) {
                Ok(reads) => recorded_upto(file, &reads),
                Err(e) => {
                    lookup_failed.get_or_insert(e);
                    0
                }
            },
            None => 0,
        },
        |engine, change, path, recorded| {
            if let Change::Closed { rule, detection } = change {
                closed.push((*rule, detection.clone()));
            }
            if args.commit {
                if recorded {
                    recorded_changes += 1;
                    recorder.note_recorded(change, engine);
                } else {
                    recorder.note(change, &path.to_string_lossy());
                }
            }
        },
    )
    .map_err(|(path, e)| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let Some(e) = lookup_failed {
        // Committing without knowing what a watcher recorded could open
        // and alert its detections again.
        return Err(anyhow::Error::new(e).context("reading what watchers committed"));
    }
    if let Some(mut journal) = args.sources.journal() {
        journal.since = args.since.clone();
        journal.until = args.until.clone();
        let key = journal.key();
        // As for files: what a watcher of this journal committed is its.
        let committed = match &store {
            Some(s) => Committed::new(
                s.journal_cursors(&key)
                    .context("reading what watchers committed")?,
            ),
            None => Committed::default(),
        };
        let js = scan_journal(
            &mut engine,
            &journal,
            committed,
            |engine, change, recorded| {
                if let Change::Closed { rule, detection } = change {
                    closed.push((*rule, detection.clone()));
                }
                if args.commit {
                    if recorded {
                        recorded_changes += 1;
                        recorder.note_recorded(change, engine);
                    } else {
                        recorder.note(change, &key);
                    }
                }
            },
        )?;
        stats.add(&js, key.into());
    }
    let elapsed = started.elapsed();
    // Committed detections of notify rules are delivered to the rule's
    // recipients through the alert sinks after the commit (the commit
    // took the alert keys with their pending deliveries).
    let mut delivered: Vec<AlertResult> = Vec::new();
    let committed = if let Some(store) = store.as_mut() {
        let sinks = ctx.settings.comms.escalation_sinks(store.path());
        let batch = WatchBatch {
            watcher: "scan".into(),
            replay: true,
            detections: recorder.take_changes(&engine),
            notify_sinks: sinks.iter().map(|s| s.name.clone()).collect(),
            // A replay reports everything it recorded at once.
            flush: true,
            ..WatchBatch::default()
        };
        let outcome = store.commit_watch_batch(
            &batch,
            &ctx.settings.playbook,
            &ctx.actor,
            &host_name(),
            now,
        )?;
        delivered = deliver_alerts(
            store,
            &outcome.deliver,
            &sinks,
            &ctx.settings.comms,
            &ctx.actor,
            now,
        );
        Some(outcome)
    } else {
        None
    };

    let mut detections: Vec<(usize, &Detection)> = engine.detections().collect();
    detections.extend(closed.iter().map(|(r, d)| (*r, d)));
    detections
        .sort_by(|a, b| (a.1.first_seen, a.0, &a.1.key).cmp(&(b.1.first_seen, b.0, &b.1.key)));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        for (ri, d) in &detections {
            crate::text::json::to_writer(&mut out, &detection_json(engine.rule(*ri), d))?;
            writeln!(out)?;
        }
        out.flush()?;
        if let Some(c) = &committed {
            // stdout is the JSON stream; say what was recorded on stderr.
            eprintln!("{}", commit_summary(c, recorded_changes));
            for r in &delivered {
                eprintln!("{}", delivery_line(r));
            }
        }
        return Ok(delivery_status(&delivered));
    }
    let secs = elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "scanned {} lines ({:.1} MB) from {} file(s) in {:.3}s: {:.0} lines/s",
        stats.lines,
        stats.bytes as f64 / 1e6,
        stats.files.len(),
        secs,
        stats.lines as f64 / secs
    )?;
    if stats.truncated + stats.lossy + stats.untimed > 0 {
        writeln!(
            out,
            "  {} lines cut at the length limit, {} not valid UTF-8, {} without a timestamp",
            stats.truncated, stats.lossy, stats.untimed
        )?;
    }
    // IGNORED: hits an allowlist (`ignore`, `ignore_lines`) left
    // uncounted, part of HITS.
    writeln!(
        out,
        "\n{:<40} {:>8} {:>8} {:>10}",
        "RULE", "HITS", "IGNORED", "DETECTIONS"
    )?;
    for (ri, rule) in engine.rules().rules.iter().enumerate() {
        let n = detections.iter().filter(|(r, _)| *r == ri).count();
        writeln!(
            out,
            "{:<40} {:>8} {:>8} {:>10}",
            display_safe(&rule.name),
            engine.hits[ri],
            engine.ignored[ri],
            n
        )?;
    }
    writeln!(out, "\n{} detection(s)", detections.len())?;
    for (ri, d) in &detections {
        let rule = engine.rule(*ri);
        let action = match (rule.create_incident, rule.alert) {
            (true, _) => "incident",
            (false, true) => "notify",
            (false, false) => "record",
        };
        writeln!(
            out,
            "  {} {:<32} {}={:<18} count={:<5} {} .. {}  [{action}]",
            rule.severity,
            display_safe(&d.rule),
            rule.group_by.describe(),
            display_safe(&d.key),
            d.count,
            format_time(d.first_seen),
            format_time(d.last_seen),
        )?;
    }
    if let Some(c) = &committed {
        writeln!(out, "\n{}", commit_summary(c, recorded_changes))?;
        for o in &c.opened {
            if let Some(id) = &o.incident {
                writeln!(
                    out,
                    "  {id} {} {}: {}",
                    o.severity,
                    display_safe(&o.rule),
                    display_safe(&o.key)
                )?;
            }
        }
        for r in &delivered {
            writeln!(out, "{}", delivery_line(r))?;
        }
    }
    out.flush()?;
    Ok(delivery_status(&delivered))
}

/// `  alert to security-team@example.com via outbox: delivered (wrote ...)`
fn delivery_line(r: &AlertResult) -> String {
    format!(
        "  {} via {}: {} ({})",
        r.describe(),
        display_safe(&r.sink),
        if r.delivered { "delivered" } else { "FAILED" },
        display_safe(&r.detail)
    )
}

/// Exit 1 when an alert delivery failed: what was committed stays
/// committed, and the delivery stays retryable.
fn delivery_status(delivered: &[AlertResult]) -> ExitCode {
    let failed: Vec<&AlertResult> = delivered.iter().filter(|r| !r.delivered).collect();
    match failed.first() {
        None => ExitCode::SUCCESS,
        Some(first) => {
            eprintln!(
                "error: {} alert deliveries failed (first: {} via {}: {}); the detections are committed and the deliveries stay retryable (warroom alerts)",
                failed.len(),
                first.describe(),
                display_safe(&first.sink),
                display_safe(&first.detail)
            );
            ExitCode::from(1)
        }
    }
}

/// One line on what `--commit` recorded (and how many detection changes
/// came from lines a watcher had committed already).
fn commit_summary(c: &CommitOutcome, by_watcher: u64) -> String {
    // A key joining its rule's campaign opens no incident of its own.
    let incidents = c
        .opened
        .iter()
        .filter(|o| o.incident.is_some() && !o.joined)
        .count();
    let mut line = format!(
        "committed: {} new detection(s) ({incidents} incident(s) opened), {} event(s) attached to open detections, {} already recorded",
        c.opened.len(),
        c.attached,
        c.unchanged
    );
    if by_watcher > 0 {
        line.push_str(&format!(
            "; {by_watcher} detection update(s) from lines a watcher already committed, left as it recorded them"
        ));
    }
    line
}

#[derive(Serialize)]
struct CheckJson<'a> {
    loaded: Vec<LoadedJson<'a>>,
    refused: Vec<String>,
    /// Loaded, but worth a look (a condition that cannot fire as
    /// written, patterns too large to match in one pass).
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct LoadedJson<'a> {
    rule: &'a str,
    kind: &'static str,
    condition: &'a str,
    severity: &'static str,
    group_by: &'a str,
    /// per_key, per_rule or per_host.
    incident: &'static str,
    /// First and latest lines an incident keeps.
    evidence_lines: usize,
    /// How often at most a campaign's new keys are sent (None: never).
    digest_seconds: Option<u64>,
    at: String,
}

pub fn rules(cmd: RulesCmd) -> Result<ExitCode> {
    let RulesCmd::Check { files, json } = cmd;
    let set = load_rules(&files);
    let loaded: Vec<LoadedJson<'_>> = set
        .rules
        .iter()
        .map(|r| LoadedJson {
            rule: &r.name,
            kind: match r.matcher {
                Matcher::Event(_) => "warroom",
                Matcher::Sigma(_) => "sigma",
            },
            condition: &r.condition,
            severity: r.severity.as_str(),
            group_by: r.group_by.describe(),
            incident: r.incident.as_str(),
            evidence_lines: r.evidence_lines,
            digest_seconds: r.digest.map(|d| d.as_secs()),
            at: r.at.to_string(),
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        let report = CheckJson {
            loaded,
            refused: set.problems.iter().map(ToString::to_string).collect(),
            warnings: set.warnings.iter().map(ToString::to_string).collect(),
        };
        crate::text::json::to_writer_pretty(&mut out, &report).context("encoding report")?;
        writeln!(out)?;
    } else {
        for l in &loaded {
            writeln!(
                out,
                "loaded   {} [{}] {} ({}, per {}) at {}",
                display_safe(l.rule),
                l.kind,
                display_safe(l.condition),
                l.severity,
                l.group_by,
                display_safe(&l.at)
            )?;
        }
        for p in &set.problems {
            writeln!(out, "refused  {}", display_safe(&p.to_string()))?;
        }
        for w in &set.warnings {
            writeln!(out, "warning  {}", display_safe(&w.to_string()))?;
        }
        writeln!(
            out,
            "{} rule(s) loaded, {} problem(s), {} warning(s)",
            loaded.len(),
            set.problems.len(),
            set.warnings.len()
        )?;
    }
    out.flush()?;
    Ok(if set.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
