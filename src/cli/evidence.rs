//! `warroom evidence ...`, `warroom incident hold` and `warroom drill purge`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Offset, Utc};
use clap::{ArgGroup, Args, Subcommand};

use super::{AppContext, Failure, human_time, print_json};
use crate::domain::IncidentId;
use crate::domain::evidence::CheckResult;
use crate::report::model;
use crate::store::{EvidenceContent, NewEvidence, open_regular_file};
use crate::text::display_safe;

#[derive(Debug, Subcommand)]
pub enum EvidenceCmd {
    /// Collect a file (copied, hashed, made read-only), a log excerpt or a note
    Add(AddArgs),
    /// List an incident's evidence with hashes and chain of custody
    List {
        id: IncidentId,
        #[arg(long)]
        json: bool,
    },
    /// Re-hash every stored item (of one incident, or all); exit 1 on any mismatch or missing file
    Verify {
        id: Option<IncidentId>,
        #[arg(long)]
        json: bool,
    },
    /// Record a hand-over of an item (custody event)
    Transfer {
        id: IncidentId,
        /// The item number that `evidence list` shows
        item: i64,
        /// Who receives it
        #[arg(long)]
        to: String,
        /// Why
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        json: bool,
    },
    /// Copy one item out to a new file for analysis (hash checked; recorded as an access)
    Copy {
        id: IncidentId,
        /// The item number that `evidence list` shows
        item: i64,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Why
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a bundle (items, SHA256SUMS, custody log, manifest.json) to a new directory or FILE.tar
    Export {
        id: IncidentId,
        #[arg(long, value_name = "DIR|FILE.tar")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("content").required(true)))]
pub struct AddArgs {
    pub id: IncidentId,
    /// A file to copy into the evidence store
    #[arg(long, group = "content", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Log lines, given inline
    #[arg(long, group = "content", value_name = "TEXT")]
    pub excerpt: Option<String>,
    /// Log lines, read from a file (its path is recorded as the source)
    #[arg(long, group = "content", value_name = "PATH")]
    pub excerpt_file: Option<PathBuf>,
    /// A written observation
    #[arg(long, group = "content", value_name = "TEXT")]
    pub note: Option<String>,
    /// Where an inline excerpt came from (e.g. /var/log/auth.log)
    #[arg(long, value_name = "PATH")]
    pub source_path: Option<String>,
    #[arg(long, default_value = "")]
    pub description: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HoldArgs {
    pub id: IncidentId,
    /// Why the hold is set (or lifted)
    #[arg(long)]
    pub reason: String,
    /// Lift the hold instead of setting it
    #[arg(long)]
    pub release: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum DrillCmd {
    /// Delete every drill incident and the whole drill timeline chain (live records untouched)
    Purge {
        /// Really delete; without it, only show what would go
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
}

/// The purpose recorded when `evidence list` shows an incident's evidence.
pub const LIST_PURPOSE: &str = "listed (warroom evidence list)";

/// This machine's name, for "source host".
fn host() -> String {
    crate::store::this_host()
}

pub(super) fn run(
    ctx: &AppContext,
    cmd: EvidenceCmd,
    now: DateTime<Utc>,
) -> Result<ExitCode, Failure> {
    match cmd {
        EvidenceCmd::Add(a) => {
            let content = if let Some(f) = a.file {
                EvidenceContent::File(f)
            } else if let Some(text) = a.excerpt {
                EvidenceContent::Excerpt {
                    text,
                    source_path: a.source_path,
                }
            } else if let Some(path) = a.excerpt_file {
                // A FIFO or device given as the excerpt file is refused, not
                // read (it would wait for a writer, or never end).
                let mut text = String::new();
                std::io::Read::read_to_string(&mut open_regular_file(&path)?, &mut text)
                    .map_err(|e| Failure::Runtime(anyhow::anyhow!("{}: {e}", path.display())))?;
                let abs = std::path::absolute(&path).unwrap_or(path);
                EvidenceContent::Excerpt {
                    text,
                    source_path: Some(
                        a.source_path
                            .unwrap_or_else(|| abs.to_string_lossy().into_owned()),
                    ),
                }
            } else if let Some(text) = a.note {
                EvidenceContent::Note(text)
            } else {
                return Err(Failure::Usage(
                    "give one of --file, --excerpt, --excerpt-file, --note".into(),
                ));
            };
            let new = NewEvidence {
                content,
                description: a.description,
                source_host: host(),
                tz: chrono::Local::now().offset().fix(),
            };
            let mut store = ctx.open_store()?;
            let item = store.add_evidence(&a.id, &new, &ctx.actor, now)?;
            if a.json {
                print_json(&model::EvidenceJson::new(&item, &[]))?;
            } else {
                println!(
                    "{}: evidence #{} stored, sha256 {} ({} bytes)",
                    a.id, item.id, item.sha256, item.size
                );
            }
        }
        EvidenceCmd::List { id, json } => {
            let mut store = ctx.open_store()?;
            let drill = store.incident(&id)?.drill;
            // Listing is an access: recorded first, so the list shows it.
            store.record_evidence_access(&id, LIST_PURPOSE, &ctx.actor, now)?;
            let items = store.evidence(&id)?;
            let custody = store.custody(&id)?;
            let hold = store.legal_hold(&id)?;
            if json {
                print_json(&serde_json::json!({
                    "incident": id.as_str(),
                    "drill": drill,
                    "legal_hold": hold,
                    "items": items
                        .iter()
                        .map(|i| model::EvidenceJson::new(i, &custody))
                        .collect::<Vec<_>>(),
                }))?;
            } else {
                if drill {
                    println!("[DRILL] {id} is an exercise");
                }
                if let Some(h) = &hold {
                    println!(
                        "LEGAL HOLD since {} by {}: {}",
                        human_time(h.set_at),
                        display_safe(&h.set_by),
                        display_safe(&h.reason)
                    );
                }
                if items.is_empty() {
                    println!("{id}: no evidence yet (warroom evidence add {id} --file PATH)");
                }
                for i in &items {
                    println!(
                        "#{:<4} {:<8} {}  {:>10} bytes  {} by {}  {}",
                        i.id,
                        i.kind.as_str(),
                        i.sha256,
                        i.size,
                        i.collected_at_local,
                        display_safe(&i.collected_by),
                        display_safe(&i.description)
                    );
                    let source = i.source_path.as_deref().unwrap_or("-");
                    println!(
                        "      source {}:{}",
                        display_safe(&i.source_host),
                        display_safe(source)
                    );
                    for c in custody.iter().filter(|c| c.item == i.id) {
                        println!(
                            "      {}  {:<11} {} \u{2192} {} ({}){}",
                            human_time(c.at),
                            c.action,
                            display_safe(&c.from),
                            display_safe(&c.to),
                            display_safe(&c.purpose),
                            c.result
                                .as_deref()
                                .map_or(String::new(), |r| format!(" [{r}]"))
                        );
                    }
                }
            }
        }
        EvidenceCmd::Verify { id, json } => {
            let mut store = ctx.open_store()?;
            let checks = store.verify_evidence(id.as_ref(), &ctx.actor, now)?;
            let bad = checks
                .iter()
                .filter(|c| c.result != CheckResult::Ok)
                .count();
            if json {
                print_json(&serde_json::json!({
                    "checked": checks.len(),
                    "failed": bad,
                    "items": checks,
                }))?;
            } else {
                for c in &checks {
                    let line = match c.result {
                        CheckResult::Ok => "ok".to_string(),
                        CheckResult::Mismatch => format!(
                            "MISMATCH: now {}, recorded {}",
                            c.found.as_deref().unwrap_or("?"),
                            c.expected
                        ),
                        CheckResult::Missing => {
                            format!("MISSING: {}", c.path.display())
                        }
                        CheckResult::Altered => {
                            format!("ALTERED: {}", c.problem.as_deref().unwrap_or("-"))
                        }
                    };
                    println!("{} #{}: {line}", c.incident, c.item);
                }
            }
            if bad > 0 {
                eprintln!(
                    "error: {bad} of {} evidence item(s) failed verification",
                    checks.len()
                );
                return Ok(ExitCode::from(1));
            }
            if !json {
                println!("{} evidence item(s) verified", checks.len());
            }
        }
        EvidenceCmd::Transfer {
            id,
            item,
            to,
            purpose,
            json,
        } => {
            let mut store = ctx.open_store()?;
            let c = store.transfer_evidence(&id, item, &to, &purpose, &ctx.actor, now)?;
            if json {
                print_json(&c)?;
            } else {
                println!(
                    "{id}: evidence #{item} transferred {} \u{2192} {}",
                    display_safe(&c.from),
                    display_safe(&c.to)
                );
            }
        }
        EvidenceCmd::Copy {
            id,
            item,
            out,
            purpose,
            json,
        } => {
            let mut store = ctx.open_store()?;
            let c = store.copy_evidence_out(&id, item, &out, &purpose, &ctx.actor, now)?;
            if json {
                print_json(&c)?;
            } else {
                println!("{id}: evidence #{item} copied to {}", out.display());
            }
        }
        EvidenceCmd::Export { id, out, json } => {
            let mut store = ctx.open_store()?;
            let summary = store.export_evidence(&id, &out, &ctx.actor, now)?;
            if json {
                print_json(&summary)?;
            } else {
                println!(
                    "{id}: {} item(s) exported to {}{}; check with: sha256sum -c SHA256SUMS",
                    summary.items,
                    out.display(),
                    if summary.legal_hold {
                        " (under legal hold, recorded in the bundle)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn hold(ctx: &AppContext, a: HoldArgs, now: DateTime<Utc>) -> Result<(), Failure> {
    let mut store = ctx.open_store()?;
    let h = if a.release {
        store.release_legal_hold(&a.id, &a.reason, &ctx.actor, now)?
    } else {
        store.set_legal_hold(&a.id, &a.reason, &ctx.actor, now)?
    };
    if a.json {
        print_json(&serde_json::json!({
            "incident": a.id.as_str(),
            "legal_hold": !a.release,
            "hold": h,
        }))?;
    } else if a.release {
        println!("{}: legal hold lifted", a.id);
    } else {
        println!("{}: under legal hold", a.id);
    }
    Ok(())
}

pub(super) fn drill(ctx: &AppContext, cmd: DrillCmd, now: DateTime<Utc>) -> Result<(), Failure> {
    match cmd {
        DrillCmd::Purge { yes, json } => {
            let mut store = ctx.open_store()?;
            if !yes {
                let p = store.drill_purge_preview()?;
                if json {
                    print_json(&serde_json::json!({ "purged": false, "would_purge": p }))?;
                } else {
                    println!(
                        "would delete {} drill incident(s) ({}), {} drill-chain event(s), {} evidence item(s){}; run again with --yes",
                        p.incidents.len(),
                        if p.incidents.is_empty() {
                            "none".into()
                        } else {
                            p.incidents.join(" ")
                        },
                        p.events,
                        p.evidence,
                        if p.held.is_empty() {
                            String::new()
                        } else {
                            format!("; REFUSED while under legal hold: {}", p.held.join(" "))
                        }
                    );
                }
                return Ok(());
            }
            let s = store.purge_drills(&ctx.actor, now)?;
            if json {
                print_json(&serde_json::json!({ "purged": true, "summary": s }))?;
            } else {
                println!(
                    "purged {} drill incident(s), {} drill-chain event(s), {} evidence item(s)",
                    s.incidents.len(),
                    s.events,
                    s.evidence
                );
            }
        }
    }
    Ok(())
}
