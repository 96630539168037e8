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
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

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
        Ok(Some(setup))
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
