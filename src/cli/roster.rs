//! `warroom roster`: the people roles can be handed to.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::{Failure, print_json};
use crate::config::AppContext;
use crate::domain::roles::Person;
use crate::text::display_safe;

#[derive(Debug, Subcommand)]
pub enum RosterCmd {
    /// Add someone (or update them)
    Add {
        handle: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        contact: String,
        /// The roles they may hold, comma-separated (commander, security,
        /// ops, comms, legal); none: any role
        #[arg(long, value_delimiter = ',')]
        roles: Vec<crate::domain::Role>,
        /// They are on call now (offered first for a role)
        #[arg(long)]
        on_call: bool,
    },
    /// List the roster
    List {
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn roster(ctx: &AppContext, cmd: RosterCmd, now: DateTime<Utc>) -> Result<(), Failure> {
    match cmd {
        RosterCmd::Add {
            handle,
            name,
            contact,
            roles,
            on_call,
        } => {
            let mut store = ctx.open_store()?;
            let p = store.upsert_person(
                &Person {
                    handle,
                    name,
                    contact,
                    roles,
                    on_call,
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
                    let roles = if p.roles.is_empty() {
                        "any role".to_string()
                    } else {
                        crate::domain::roles::roles_text(&p.roles)
                    };
                    println!(
                        "{:<16} {:<24} {:<28} {}{}",
                        display_safe(&p.handle),
                        display_safe(&p.name),
                        display_safe(&p.contact),
                        roles,
                        if p.on_call { "  ON CALL" } else { "" }
                    );
                }
            }
        }
    }
    Ok(())
}
