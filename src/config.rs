//! Where things live (XDG directories, `--db`, `WARROOM_DB`) and loading the
//! user's overrides of the shipped policy and playbook.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::comms::CommsConfig;
use crate::domain::{Playbook, Policy, SourceError};

/// The database used when neither `--db` nor `WARROOM_DB` is given:
/// `$XDG_DATA_HOME/warroom/warroom.db` (`~/.local/share/warroom/warroom.db`).
pub fn default_db_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("warroom")
        .join("warroom.db")
}

/// `$XDG_CONFIG_HOME/warroom` (`~/.config/warroom`): policy.toml,
/// playbook.toml and, later, templates and rules overrides.
pub fn config_dir() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("warroom")
}

/// `$XDG_STATE_HOME/warroom/warroom.log`: the log never goes to the
/// terminal, which the console owns.
pub fn default_log_path() -> PathBuf {
    dirs::state_dir()
        .or_else(dirs::data_dir)
        .unwrap_or_else(|| PathBuf::from("."))
        .join("warroom")
        .join("warroom.log")
}

/// The policy, playbook and comms settings in force: the user's files when
/// present, else the shipped ones.
#[derive(Debug, Clone)]
pub struct Settings {
    pub policy: Policy,
    pub playbook: Playbook,
    /// `comms.toml`: contact, recipients, sinks, alert settings, and where
    /// the user's templates are.
    pub comms: CommsConfig,
}

impl Settings {
    /// Loads overrides from `dir` (normally [`config_dir`]). A broken file is
    /// an error naming file:line:col, never a silent fallback.
    pub fn load(dir: &Path) -> Result<Settings> {
        let policy = match read_optional(&dir.join("policy.toml"))? {
            Some((path, text)) => Policy::from_toml(&text).map_err(|e| located(&path, &text, e))?,
            None => Policy::builtin(),
        };
        let playbook = match read_optional(&dir.join("playbook.toml"))? {
            Some((path, text)) => {
                Playbook::from_toml(&text).map_err(|e| located(&path, &text, e))?
            }
            None => Playbook::builtin(),
        };
        let comms = CommsConfig::load(dir)?;
        Ok(Settings {
            policy,
            playbook,
            comms,
        })
    }

    pub fn builtin() -> Settings {
        Settings {
            policy: Policy::builtin(),
            playbook: Playbook::builtin(),
            comms: CommsConfig::builtin(&config_dir()),
        }
    }
}

/// What every command and the console run with: the database, who is
/// acting, and the settings in force. It lives here, below both `cli` and
/// `tui`, so neither front end imports the other.
pub struct AppContext {
    pub db: PathBuf,
    pub actor: String,
    pub settings: Settings,
    /// Where policy.toml, playbook.toml and watch.toml are looked for.
    pub config_dir: PathBuf,
}

impl AppContext {
    pub fn open_store(&self) -> Result<crate::store::Store> {
        let mut store = crate::store::Store::open(&self.db).map_err(anyhow::Error::new)?;
        store.set_policy(self.settings.policy.clone());
        Ok(store)
    }
}

fn located(path: &Path, text: &str, e: SourceError) -> anyhow::Error {
    anyhow::anyhow!(e.located(path, text))
}

/// The largest configuration file read (policy, playbook): far above any
/// real one, small enough that a wrong path cannot exhaust memory.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

fn read_optional(path: &Path) -> Result<Option<(PathBuf, String)>> {
    match read_user_file(path, MAX_CONFIG_BYTES) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not valid UTF-8 (byte {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                )
            })?;
            Ok(Some((path.to_path_buf(), text)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("{}: cannot read: {e}", path.display())),
    }
}

/// Reads a file of the user's configuration (policy, playbook, a template,
/// comms.toml)
/// whole. Anything but a regular file is refused (a FIFO would block the
/// reader, `/dev/zero` would never end), and so is a file over `max` bytes;
/// both errors are `InvalidInput` and read as the problem itself ("not a
/// regular file"). The file is opened without blocking, so even a FIFO
/// swapped in after a check cannot stall us.
pub(crate) fn read_user_file(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    if meta.len() > max {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{} bytes; at most {max} are read", meta.len()),
        ));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("over {max} bytes; at most {max} are read"),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_overrides_mean_builtin() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(dir.path()).unwrap();
        assert_eq!(s.policy, Policy::builtin());
        assert_eq!(s.playbook, Playbook::builtin());
    }

    #[test]
    fn a_user_policy_overrides_and_errors_name_file_line_col() {
        let dir = tempfile::tempdir().unwrap();
        let text = crate::domain::policy::DEFAULT_POLICY_TOML
            .replace("response = \"15m\"", "response = \"30m\"");
        std::fs::write(dir.path().join("policy.toml"), &text).unwrap();
        let s = Settings::load(dir.path()).unwrap();
        assert_eq!(
            s.policy
                .level(crate::domain::Severity::P1)
                .response
                .as_secs(),
            1800
        );

        let broken = text.replace("response = \"30m\"", "response = \"half an hour\"");
        std::fs::write(dir.path().join("policy.toml"), &broken).unwrap();
        let err = Settings::load(dir.path()).unwrap_err().to_string();
        let line = broken
            .lines()
            .position(|l| l.contains("half an hour"))
            .unwrap()
            + 1;
        assert!(
            err.contains(&format!("policy.toml:{line}:12: levels.P1.response")),
            "{err}"
        );
    }
}
