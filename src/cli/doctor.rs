//! `warroom doctor [--json]`: checks the setup a new operator gets wrong
//! and names the fix for each problem. The checks themselves live in
//! `doctor_checks` (warroom's files) and `doctor_watch` (what the watcher
//! reads); this file runs them, prints the findings and chooses the
//! exit code (0 when nothing failed, 1 otherwise); the session's
//! terminal, bus and clock are checked in `doctor_env`. It runs before the
//! configuration is loaded, so a broken file is one finding among the
//! others rather than the end of the run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::doctor_checks as checks;
use super::doctor_env;
use super::doctor_watch;
use super::finding::{Finding, Status};
use crate::text::display_safe;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Also check that this user can read the system journal (as
    /// `watch --journal` needs)
    #[arg(long)]
    pub journal: bool,
    /// Also load these rule files (the ones your watcher is started with)
    #[arg(long = "rules", value_name = "FILE", num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// Also check that these log files exist and are readable
    #[arg(long = "log", value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// The findings as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// Where doctor looks: what `--db` and `--config-dir` resolve to.
pub struct Setup<'a> {
    pub db: &'a Path,
    pub config_dir: &'a Path,
}

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    db: &'a Path,
    config_dir: &'a Path,
    findings: &'a [Finding],
}

pub fn run(setup: &Setup<'_>, args: &DoctorArgs) -> Result<ExitCode> {
    let findings = examine(setup, args);
    let ok = findings.iter().all(|f| f.status != Status::Fail);
    let mut out = std::io::stdout().lock();
    if args.json {
        let report = Report {
            ok,
            db: setup.db,
            config_dir: setup.config_dir,
            findings: &findings,
        };
        crate::text::json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        for f in &findings {
            // Details quote file contents and paths: sanitize them.
            writeln!(
                out,
                "{:<4}  {:<9} {}",
                f.status.label(),
                f.check,
                display_safe(&f.detail)
            )?;
            if let Some(fix) = &f.fix {
                writeln!(out, "{:<16}fix: {}", "", display_safe(fix))?;
            }
        }
        let failed = findings.iter().filter(|f| f.status == Status::Fail).count();
        if ok {
            writeln!(out, "all well")?;
        } else {
            writeln!(out, "{failed} problem(s) to fix")?;
        }
    }
    out.flush()?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Every check, in the order an operator would fix them.
fn examine(setup: &Setup<'_>, args: &DoctorArgs) -> Vec<Finding> {
    let mut f = Vec::new();
    f.extend(checks::database(setup.db));
    let config = checks::config_files(setup.config_dir);
    f.extend(config.findings);
    f.extend(doctor_watch::rules(config.watch.as_ref(), &args.rules));
    f.extend(doctor_watch::sources(config.watch.as_ref(), &args.logs));
    // The journal, when asked or when watch.toml follows one (forwarded
    // journal files and directories go through journalctl too).
    let watched_journal = config
        .watch
        .as_ref()
        .is_some_and(|w| !w.journals.is_empty());
    if args.journal || watched_journal {
        f.push(doctor_watch::journal());
    }
    f.extend(checks::sinks(config.comms.as_ref(), setup.db));
    f.push(doctor_env::desktop_bus());
    f.extend(doctor_env::terminal());
    f.push(doctor_env::time_zone());
    f
}
