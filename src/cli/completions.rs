//! `warroom completions SHELL`: shell completion through clap's dynamic
//! engine. The script a shell loads only registers a function that asks
//! the binary itself (`WARROOM_COMPLETE=SHELL warroom -- WORDS...`) what
//! can come next, so completions follow the clap definitions of the
//! installed binary and offer live values: open incident ids from the
//! database, template names, sink names and rule names from the
//! configuration. A value lookup that fails offers nothing; it never
//! prints an error into the user's prompt.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::{CompleteEnv, Shells};

use super::Cli;

/// The environment variable that turns a run of the binary into a
/// completion request. Named for warroom so a stray `COMPLETE` set for
/// another tool never changes what warroom does.
pub const COMPLETE_VAR: &str = "WARROOM_COMPLETE";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for
    pub shell: Shell,
}

/// Answers a completion request when the shell's script made this run one,
/// then exits; otherwise returns at once. Called before anything else reads
/// the arguments or writes to stdout.
pub fn answer_if_asked() {
    CompleteEnv::with_factory(command)
        .var(COMPLETE_VAR)
        .complete();
}

/// The clap tree with value completers attached. Attached here, by argument
/// id, rather than on each definition, so the commands' own files stay about
/// their commands.
pub fn command() -> clap::Command {
    decorate(Cli::command())
}

fn decorate(cmd: clap::Command) -> clap::Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    let mut cmd = cmd;
    for id in ids {
        let completer = match id.as_str() {
            "id" | "incident" => Some(ArgValueCompleter::new(incident_ids)),
            "template" => Some(ArgValueCompleter::new(template_names)),
            "sinks" | "sink" => Some(ArgValueCompleter::new(sink_names)),
            "rule" | "rule_name" => Some(ArgValueCompleter::new(rule_names)),
            _ => None,
        };
        if let Some(c) = completer {
            cmd = cmd.mut_arg(id, |a| a.add(c));
        }
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, decorate);
    }
    cmd
}

/// `warroom completions SHELL`: the script to load (bash: save it as
/// `/usr/share/bash-completion/completions/warroom` or source it).
pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let shells = Shells::builtins();
    let shell = shells
        .completer(args.shell.name())
        .with_context(|| format!("no completion support for {}", args.shell.name()))?;
    let mut script = Vec::new();
    shell
        .write_registration(COMPLETE_VAR, "warroom", "warroom", "warroom", &mut script)
        .context("writing the completion script")?;
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The value of a global option on the command line being completed
/// (`--db PATH` or `--db=PATH`), else its environment variable.
fn option_value(flag: &str, env: &str) -> Option<PathBuf> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let with_eq = format!("{flag}=");
    for (i, a) in args.iter().enumerate() {
        let Some(s) = a.to_str() else { continue };
        if s == flag {
            return args.get(i + 1).map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix(&with_eq) {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os(env)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn db_path() -> PathBuf {
    option_value("--db", "WARROOM_DB").unwrap_or_else(crate::config::default_db_path)
}

fn config_dir() -> PathBuf {
    option_value("--config-dir", "WARROOM_CONFIG_DIR").unwrap_or_else(crate::config::config_dir)
}

fn matching(current: &OsStr, values: impl IntoIterator<Item = String>) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    values
        .into_iter()
        .filter(|v| v.starts_with(prefix.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

fn incident_ids(current: &OsStr) -> Vec<CompletionCandidate> {
    let ids = crate::store::open_incident_ids(&db_path()).unwrap_or_default();
    matching(current, ids)
}

fn template_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let dir = config_dir().join("templates");
    let names = crate::comms::Templates::load(&dir)
        .map(|t| t.list().into_iter().map(|i| i.name).collect::<Vec<_>>())
        .unwrap_or_default();
    matching(current, names)
}

fn sink_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let names = crate::comms::CommsConfig::load(&config_dir())
        .map(|c| c.sinks.into_iter().map(|s| s.name).collect::<Vec<_>>())
        .unwrap_or_default();
    matching(current, names)
}

/// Rule names from the rule files watch.toml names, else the shipped ones.
fn rule_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let files = crate::detect::setup::WatchSetup::load(&config_dir())
        .ok()
        .flatten()
        .map(|s| s.rules)
        .unwrap_or_default();
    let set = super::detect::load_rules(&files);
    matching(current, set.rules.into_iter().map(|r| r.name))
}
