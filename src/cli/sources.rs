//! The source options `scan` and `watch` share: journals beside the log
//! files, and the zone of the logs' zone-less stamps.

use std::path::PathBuf;

use clap::Args;

use crate::detect::journal::JournalSource;
use crate::detect::zone::LogZone;

#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Read the system journal through journalctl, optionally only entries
    /// matching journalctl matches (e.g. `--journal _SYSTEMD_UNIT=ssh.service`)
    #[arg(long, value_name = "MATCH", num_args = 0..)]
    pub journal: Option<Vec<String>>,
    /// Read this journal file (repeatable), e.g. one forwarded by systemd-journal-remote
    #[arg(long = "journal-file", value_name = "FILE")]
    pub journal_files: Vec<PathBuf>,
    /// Read the journal files in this directory
    #[arg(long = "journal-dir", value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// Zone of zone-less stamps in the log files (IANA name such as
    /// Europe/Berlin, UTC, or local) [default: local: TZ or the system's]
    #[arg(long = "log-tz", value_name = "ZONE")]
    pub log_tz: Option<String>,
}

impl SourceArgs {
    /// The journal asked for, if any.
    pub fn journal(&self) -> Option<JournalSource> {
        if self.journal.is_none() && self.journal_files.is_empty() && self.journal_dir.is_none() {
            return None;
        }
        Some(JournalSource {
            files: self.journal_files.clone(),
            directory: self.journal_dir.clone(),
            matches: self.journal.clone().unwrap_or_default(),
            since: None,
            until: None,
        })
    }

    pub fn zone(&self) -> anyhow::Result<LogZone> {
        match &self.log_tz {
            Some(z) => LogZone::parse(z).map_err(|e| anyhow::anyhow!("--log-tz: {e}")),
            None => Ok(LogZone::local()),
        }
    }
}
