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
//! timezone = "Europe/Berlin" # zone of the logs' zone-less stamps (default: local)
//!
//! [[log]]                    # a log with a zone of its own
//! path = "/srv/relay/ny-*.log"
//! timezone = "America/New_York"
//!
//! [[journal]]                # the system journal (sshd, sudo, PAM)
//! matches = ["_SYSTEMD_UNIT=ssh.service"]
//!
//! [[journal]]                # journals forwarded by systemd-journal-remote
//! directory = "/var/log/journal/remote"
//!
//! [[wazuh]]                  # a Wazuh alerts.json: alerts, mapped by intake.toml
//! path = "/var/ossec/logs/alerts/alerts.json"
//!
//! [ignore]                   # hits no rule counts (shown as ignored hits)
//! cidrs = ["10.0.0.0/8", "192.0.2.7"]    # addresses and ranges (src or key)
//! keys = ["bastion-1", "nagios"]          # exact keys
//! lines = ['for nagios from']             # regexes matched against the line
//! ```
//!
//! `[ignore]` applies in the console's watcher, in `warroom watch` (which
//! reads it from this file too) and in `scan --watch-toml FILE`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::follow::{FollowConfig, IntakeFollow};
use super::journal::JournalSource;
use super::logfile::{LogAccess, user_id};
use super::rules::{Allowlist, IgnoreEntry};
use super::zone::LogZone;
use crate::intake::config::{Format, IntakeConfig, Mapping};

/// What the console's watcher follows, from `watch.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchSetup {
    #[serde(default)]
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
    /// The zone of zone-less stamps in `logs` (default: this host's).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Logs with a zone of their own.
    #[serde(default, rename = "log")]
    pub log_sources: Vec<LogSetup>,
    /// Journals followed beside the files.
    #[serde(default, rename = "journal")]
    pub journals: Vec<JournalSetup>,
    /// Wazuh `alerts.json` files followed as intake sources.
    #[serde(default, rename = "wazuh")]
    pub wazuh: Vec<WazuhSetup>,
    /// Hits no rule counts, for every rule loaded.
    #[serde(default)]
    pub ignore: IgnoreSetup,
    /// intake.toml's `[wazuh]` mapping, read by `load` when `wazuh` lists
    /// a file (the defaults when there is no intake.toml).
    #[serde(skip)]
    pub wazuh_mapping: Option<Mapping>,
}

/// `[ignore]`: watch.toml's allowlist, beside the rule files' own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreSetup {
    /// Addresses and ranges (CIDR, IPv4 and IPv6).
    #[serde(default)]
    pub cidrs: Vec<String>,
    /// Exact keys (a host name, a user name).
    #[serde(default)]
    pub keys: Vec<String>,
    /// Regexes matched against the line.
    #[serde(default)]
    pub lines: Vec<String>,
}

impl IgnoreSetup {
    /// The allowlist, or the first bad entry and what is wrong with it.
    pub fn allowlist(&self) -> Result<Allowlist, (String, String)> {
        let mut list = Allowlist::default();
        for c in &self.cidrs {
            match IgnoreEntry::parse(c) {
                Ok(e @ IgnoreEntry::Net(_)) => list.add(e),
                Ok(IgnoreEntry::Key(_)) => {
                    let msg = format!(
                        "ignore.cidrs: '{}' is not an address or range (exact keys go in ignore.keys)",
                        c.trim()
                    );
                    return Err((c.clone(), msg));
                }
                Err(e) => return Err((c.clone(), format!("ignore.cidrs: {e}"))),
            }
        }
        for k in &self.keys {
            if k.trim().is_empty() {
                return Err((k.clone(), "ignore.keys: empty key".into()));
            }
            list.add(IgnoreEntry::Key(k.trim().to_string()));
        }
        for l in &self.lines {
            let r = regex::Regex::new(l).map_err(|e| {
                let reason = e.to_string();
                let reason = reason
                    .lines()
                    .map(str::trim)
                    .rfind(|x| !x.is_empty())
                    .unwrap_or("")
                    .to_string();
                (l.clone(), format!("ignore.lines: bad regex: {reason}"))
            })?;
            list.add_line(r);
        }
        Ok(list)
    }
}

/// Only the `[ignore]` table of a watch.toml (the rest is the console's).
#[derive(Deserialize)]
struct IgnoreOnly {
    #[serde(default)]
    ignore: IgnoreSetup,
}

/// The `[ignore]` allowlist of the watch.toml at `path` (None when there is
/// no such file), for `warroom watch` and `scan --watch-toml`: the rest of
/// the file is not needed there and not checked. Mistakes name
/// file:line:col.
pub fn load_ignore(path: &Path) -> anyhow::Result<Option<Allowlist>> {
    let text = match std::fs::read(path) {
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
    let only: IgnoreOnly = toml::from_str(&text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
        anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message().trim())
    })?;
    only.ignore
        .allowlist()
        .map(Some)
        .map_err(|bad| ignore_error(path, &text, bad))
}

/// An `[ignore]` mistake at the place its value is written.
fn ignore_error(path: &Path, text: &str, (value, msg): (String, String)) -> anyhow::Error {
    let table = text.find("[ignore]").unwrap_or(0);
    let at = [format!("\"{value}\""), format!("'{value}'")]
        .iter()
        .filter_map(|q| text[table..].find(q.as_str()).map(|i| table + i))
        .min()
        .unwrap_or(table);
    let (line, col) = line_col(text, at);
    anyhow::anyhow!("{}:{line}:{col}: {msg}", path.display())
}

/// `[[wazuh]]`: a Wazuh `alerts.json` (one JSON alert per line).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WazuhSetup {
    pub path: PathBuf,
}

/// `[[log]]`: a log (path or glob) and the zone its stamps are in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSetup {
    pub path: PathBuf,
    #[serde(default)]
    pub timezone: Option<String>,
}

/// `[[journal]]`: the system journal, or journal files or a directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalSetup {
    #[serde(default)]
    pub matches: Vec<String>,
    #[serde(default)]
    pub directory: Option<PathBuf>,
    #[serde(default)]
    pub files: Vec<PathBuf>,
}

impl JournalSetup {
    pub fn source(&self) -> JournalSource {
        JournalSource {
            files: self.files.clone(),
            directory: self.directory.clone(),
            matches: self.matches.clone(),
            since: None,
            until: None,
        }
    }
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
        let mut setup: WatchSetup = toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
            anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message().trim())
        })?;
        if setup.logs.is_empty()
            && setup.log_sources.is_empty()
            && setup.journals.is_empty()
            && setup.wazuh.is_empty()
        {
            return Err(anyhow::anyhow!(
                "{}:1:1: 'logs' lists no file to follow (and no [[log]], [[journal]] or [[wazuh]] is given)",
                path.display()
            ));
        }
        let zones = setup
            .timezone
            .iter()
            .chain(setup.log_sources.iter().filter_map(|l| l.timezone.as_ref()));
        for zone in zones {
            if let Err(e) = LogZone::parse(zone) {
                let at = text.find(&format!("\"{zone}\"")).unwrap_or(0);
                let (line, col) = line_col(&text, at);
                return Err(anyhow::anyhow!("{}:{line}:{col}: {e}", path.display()));
            }
        }
        if let Err(bad) = setup.ignore.allowlist() {
            return Err(ignore_error(&path, &text, bad));
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
        if !setup.wazuh.is_empty() {
            // A broken intake.toml is said with its own file:line:col.
            setup.wazuh_mapping = Some(IntakeConfig::load(dir)?.wazuh);
        }
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

impl WatchSetup {
    /// Puts the zones, the `[[log]]` paths and the journals into the
    /// follower's configuration (zone names were checked by `load`).
    pub fn apply(&self, config: &mut FollowConfig) {
        let zone = |z: &Option<String>| z.as_deref().and_then(|z| LogZone::parse(z).ok());
        if let Some(z) = zone(&self.timezone) {
            config.zone = z;
        }
        for l in &self.log_sources {
            let p = std::path::absolute(&l.path).unwrap_or_else(|_| l.path.clone());
            if let Some(z) = zone(&l.timezone) {
                config.zones.push((p.clone(), z));
            }
            if !config.patterns.contains(&p) {
                config.patterns.push(p);
            }
        }
        config
            .journals
            .extend(self.journals.iter().map(JournalSetup::source));
        // Checked by `load`; a list that does not build adds nothing.
        if let Ok(list) = self.ignore.allowlist() {
            config.ignore.extend(&list);
        }
        for w in &self.wazuh {
            let p = std::path::absolute(&w.path).unwrap_or_else(|_| w.path.clone());
            let mapping = self
                .wazuh_mapping
                .clone()
                .unwrap_or_else(|| Mapping::default_for(Format::Wazuh));
            config.intake.push(IntakeFollow::wazuh(p, mapping));
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_and_zones_are_read_and_applied() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("watch.toml"),
            r#"timezone = "Europe/Berlin"

[[log]]
path = "/srv/relay/ny-*.log"
timezone = "America/New_York"

[[journal]]
matches = ["_SYSTEMD_UNIT=ssh.service"]

[[journal]]
directory = "/var/log/journal/remote"
"#,
        )
        .unwrap();
        let s = WatchSetup::load(dir.path()).unwrap().unwrap();
        let mut config = FollowConfig::new(Vec::new());
        s.apply(&mut config);
        assert_eq!(config.zone, LogZone::parse("Europe/Berlin").unwrap());
        assert_eq!(config.patterns, [PathBuf::from("/srv/relay/ny-*.log")]);
        assert_eq!(
            config.zone_for(Path::new("/srv/relay/ny-1.log")),
            LogZone::parse("America/New_York").unwrap()
        );
        assert_eq!(
            config.zone_for(Path::new("/var/log/auth.log")),
            LogZone::parse("Europe/Berlin").unwrap()
        );
        let keys: Vec<String> = config.journals.iter().map(JournalSource::key).collect();
        assert_eq!(
            keys,
            [
                "journal:system _SYSTEMD_UNIT=ssh.service",
                "journal:/var/log/journal/remote"
            ]
        );

        std::fs::write(
            dir.path().join("watch.toml"),
            "logs = [\"/var/log/auth.log\"]\n\n[[log]]\npath = \"/x.log\"\ntimezone = \"Europe/Berlinn\"\n",
        )
        .unwrap();
        let err = WatchSetup::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("watch.toml:5:12: unknown time zone 'Europe/Berlinn'"),
            "{err}"
        );
    }

    #[test]
    fn a_wazuh_alerts_file_is_followed_with_the_intake_mapping() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("watch.toml"),
            "[[wazuh]]\npath = \"/var/ossec/logs/alerts/alerts.json\"\n",
        )
        .unwrap();
        let s = WatchSetup::load(dir.path()).unwrap().unwrap();
        let mut config = FollowConfig::new(Vec::new());
        s.apply(&mut config);
        assert_eq!(config.intake.len(), 1);
        assert_eq!(
            config.intake[0].path,
            PathBuf::from("/var/ossec/logs/alerts/alerts.json")
        );
        assert_eq!(
            config.intake[0].mapping,
            Mapping::default_for(Format::Wazuh)
        );

        std::fs::write(dir.path().join("intake.toml"), "[wazuh]\nname = \"siem\"\n").unwrap();
        let s = WatchSetup::load(dir.path()).unwrap().unwrap();
        let mut config = FollowConfig::new(Vec::new());
        s.apply(&mut config);
        assert_eq!(config.intake[0].mapping.name, "siem");

        // Mistakes name their file, line and column.
        std::fs::write(
            dir.path().join("intake.toml"),
            "[wazuh]\nopen_incident_at = \"P9\"\n",
        )
        .unwrap();
        let err = WatchSetup::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("intake.toml:2:20"), "{err}");
        std::fs::write(
            dir.path().join("watch.toml"),
            "[[wazuh]]\npaht = \"/x.json\"\n",
        )
        .unwrap();
        let err = WatchSetup::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("watch.toml:2:1"), "{err}");
    }
}

#[cfg(test)]
mod ignore_tests {
    use super::*;

    fn with(text: &str) -> (tempfile::TempDir, anyhow::Result<Option<WatchSetup>>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("watch.toml"), text).unwrap();
        let r = WatchSetup::load(dir.path());
        (dir, r)
    }

    #[test]
    fn the_ignore_table_is_read_checked_and_applied() {
        let (dir, s) = with(
            "logs = [\"/var/log/auth.log\"]\n\n[ignore]\ncidrs = [\"10.0.0.0/8\", \"192.0.2.7\"]\nkeys = [\"bastion-1\"]\nlines = ['for nagios from']\n",
        );
        let s = s.unwrap().unwrap();
        let mut config = FollowConfig::new(Vec::new());
        s.apply(&mut config);
        let list = &config.ignore;
        assert_eq!(list.len(), 4);
        assert!(list.covers("10.200.0.1", None, ""));
        assert!(list.covers("alice", Some("192.0.2.7"), ""));
        assert!(!list.covers("192.0.2.8", None, ""));
        assert!(list.covers("bastion-1", None, ""));
        assert!(list.covers("x", None, "Failed password for nagios from 1.2.3.4"));
        // `watch` and `scan` read the same table alone.
        let only = load_ignore(&dir.path().join("watch.toml"))
            .unwrap()
            .unwrap();
        assert_eq!(only.len(), 4);
        assert!(
            load_ignore(&dir.path().join("none.toml"))
                .unwrap()
                .is_none()
        );
        // Without [ignore], nothing is ignored.
        let (_d, s) = with("logs = [\"/var/log/auth.log\"]\n");
        let mut config = FollowConfig::new(Vec::new());
        s.unwrap().unwrap().apply(&mut config);
        assert!(config.ignore.is_empty());
    }

    #[test]
    fn ignore_mistakes_name_file_line_and_column() {
        let cases = [
            (
                "cidrs = [\"10.0.0.0/8\", \"10.0.0.0/33\"]",
                "watch.toml:4:24: ignore.cidrs: '10.0.0.0/33' is not an address range",
            ),
            (
                "cidrs = [\"bastion-1\"]",
                "watch.toml:4:10: ignore.cidrs: 'bastion-1' is not an address or range",
            ),
            (
                "lines = ['(unclosed']",
                "watch.toml:4:10: ignore.lines: bad regex",
            ),
            ("keys = [\"\"]", "watch.toml:4:9: ignore.keys: empty key"),
            (
                "cidr = [\"10.0.0.0/8\"]",
                "watch.toml:4:1: unknown field `cidr`",
            ),
        ];
        for (entry, want) in cases {
            let text = format!("logs = [\"/var/log/auth.log\"]\n\n[ignore]\n{entry}\n");
            let (dir, s) = with(&text);
            let err = s.unwrap_err().to_string();
            assert!(err.contains(want), "{entry}: {err}");
            // `watch` and `scan` refuse it the same way.
            let err = load_ignore(&dir.path().join("watch.toml"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{entry}: {err}");
        }
    }
}
