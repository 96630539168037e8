//! The watcher's setup file, `watch.toml` in the config directory: what the
//! console's watcher follows. Parsed here, beside the watcher it configures,
//! so the console and the headless commands read it the same way.
//!
//! ```toml
//! # $XDG_CONFIG_HOME/warroom/watch.toml
//! logs = ["/var/log/auth.log", "/var/log/app/*.log"]
//! rules = []                 # rule files; empty: the shipped Linux rules
//! name = "console"           # checkpoints are kept under this name
//! from_beginning = false     # first start: read existing files whole
//! allow_symlinks = false     # follow a symbolic link at a log's path
//! trusted_owners = []        # users (names or ids) whose files are read
//!                            # besides root, the directory's owner and us
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::logfile::{LogAccess, user_id};

/// What the console's watcher follows, from `watch.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchSetup {
    pub logs: Vec<PathBuf>,
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default)]
    pub from_beginning: bool,
    /// Follow symbolic links at log paths (default: refuse them).
    #[serde(default)]
    pub allow_symlinks: bool,
    /// Owners (user names or ids) whose log files are read besides root,
    /// the log directory's owner and the user running warroom.
    #[serde(default)]
    pub trusted_owners: Vec<String>,
}

fn default_name() -> String {
    "console".into()
}

impl WatchSetup {
    /// `watch.toml` in `dir`, if there is one. A broken file is an error
    /// naming file:line:col, like the other configuration files.
    pub fn load(dir: &Path) -> anyhow::Result<Option<WatchSetup>> {
        let path = dir.join("watch.toml");
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not valid UTF-8 (byte {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow::anyhow!("{}: cannot read: {e}", path.display())),
        };
        let setup: WatchSetup = toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
            anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message().trim())
        })?;
        if setup.logs.is_empty() {
            return Err(anyhow::anyhow!(
                "{}:1:1: 'logs' lists no file to follow",
                path.display()
            ));
        }
        if setup.name.trim().is_empty() {
            return Err(anyhow::anyhow!(
                "{}: 'name' must not be empty",
                path.display()
            ));
        }
        setup
            .access()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(Some(setup))
    }

    /// Which log files the watcher may read, from `allow_symlinks` and
    /// `trusted_owners` (an unknown user is an error).
    pub fn access(&self) -> Result<LogAccess, String> {
        let owners = trusted_owners(&self.trusted_owners)
            .map_err(|u| format!("trusted_owners: no user '{u}' on this system"))?;
        Ok(LogAccess::followed(self.allow_symlinks, owners))
    }
}

/// User names or ids as ids; the first unknown name is the error.
pub fn trusted_owners(names: &[String]) -> Result<Vec<u32>, String> {
    names
        .iter()
        .map(|n| user_id(n.trim()).ok_or_else(|| n.clone()))
        .collect()
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
