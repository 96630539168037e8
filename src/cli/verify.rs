//! `warroom verify`: the timeline's chains, the rows against them, and an
//! optional checkpoint kept outside the database.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{Failure, print_json};
use crate::config::AppContext;
use crate::store::Checkpoint;
use crate::text::display_safe;

pub(super) fn verify(
    ctx: &AppContext,
    checkpoint: Option<&Path>,
    as_json: bool,
) -> Result<ExitCode, Failure> {
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
