//! `comms.toml` in the config dir: the contact block of messages, the sender
//! and recipients of email audiences, the delivery sinks, and the alert
//! settings (when a clock counts as nearing its deadline, whom a response
//! breach escalates to). Every problem is reported as file:line:col.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::Audience;
pub use super::mailbox::Mailbox;
use crate::domain::SourceError;
use crate::domain::policy::parse_duration;

/// The file's name inside the config dir.
pub const FILE_NAME: &str = "comms.toml";

/// A comms.toml larger than this is refused.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Default share of a clock's time after which it counts as nearing.
pub const DEFAULT_NEAR_THRESHOLD: f64 = 0.75;
/// Default time a command sink may run.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a command sink may run: a minute under
/// `sinks::STALE_PENDING`, so a delivery still running never looks
/// abandoned to another process's retry.
pub const MAX_COMMAND_TIMEOUT: Duration = Duration::from_secs(4 * 60);
/// Default cap of an OSC 52 copy: terminals refuse (or truncate) larger
/// sequences; 75,000 bytes is 100,000 bytes of base64.
pub const DEFAULT_OSC52_MAX_BYTES: usize = 75_000;

/// Recipients of one audience. An audience with recipients is an *email
/// audience*: its messages go out as RFC 5322 messages (`.eml`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceConfig {
    pub to: Vec<Mailbox>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkKind {
    /// One file per message in `dir` (created 0700 when missing).
    Outbox { dir: PathBuf },
    /// A program run with `argv` (no shell), the message on its stdin.
    Command {
        argv: Vec<String>,
        timeout: Duration,
    },
    /// The clipboard of the user's own terminal (works over SSH).
    Osc52 { max_bytes: usize },
}

impl SinkKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SinkKind::Outbox { .. } => "outbox",
            SinkKind::Command { .. } => "command",
            SinkKind::Osc52 { .. } => "osc52",
        }
    }
}

/// One configured place messages are delivered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkConfig {
    /// Unique; recorded in `deliveries` and used by `--sink NAME`.
    pub name: String,
    pub kind: SinkKind,
    /// Only these audiences use the sink by default (`None`: all).
    pub audiences: Option<Vec<Audience>>,
    /// Used when no sink is named. Default true, except for OSC 52, which
    /// needs a terminal and so is used only when named.
    pub default: bool,
}

impl SinkConfig {
    pub fn serves(&self, audience: Audience) -> bool {
        self.audiences
            .as_ref()
            .is_none_or(|list| list.contains(&audience))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommsConfig {
    /// The CONTACT block of messages (may span lines). Empty: templates
    /// show a placeholder, which blocks sending until filled in.
    pub contact: String,
    /// The organisation sending (the controller, for regulators).
    pub organization: String,
    /// Sender of email messages.
    pub from: Mailbox,
    pub audiences: BTreeMap<Audience, AudienceConfig>,
    pub sinks: Vec<SinkConfig>,
    /// A clock is "nearing" once this share of its time is used (0 < x < 1).
    pub near_threshold: f64,
    /// Whom a response-time breach escalates to, besides the commander.
    pub escalation: Vec<String>,
    /// The sinks escalations are delivered through (`[alerts] sinks`);
    /// `None`: the default sinks serving the internal audience.
    pub escalation_sinks: Option<Vec<String>>,
    /// Where the user's template overrides are (`<config dir>/templates`).
    pub templates_dir: PathBuf,
}

impl CommsConfig {
    /// The settings with no comms.toml, for a config dir.
    pub fn builtin(config_dir: &Path) -> CommsConfig {
        CommsConfig {
            contact: String::new(),
            organization: String::new(),
            from: Mailbox {
                name: Some("warroom".into()),
                address: "warroom@localhost".into(),
            },
            audiences: BTreeMap::new(),
            sinks: Vec::new(),
            near_threshold: DEFAULT_NEAR_THRESHOLD,
            escalation: Vec::new(),
            escalation_sinks: None,
            templates_dir: config_dir.join("templates"),
        }
    }

    /// Parses a comms.toml; relative outbox dirs are taken from `config_dir`.
    pub fn from_toml(text: &str, config_dir: &Path) -> Result<CommsConfig, SourceError> {
        let raw: RawComms = toml::from_str(text).map_err(SourceError::from_toml)?;
        let mut cfg = CommsConfig::builtin(config_dir);
        let at =
            |span: std::ops::Range<usize>, msg: String| SourceError::new(msg, Some(span.start));
        if let Some(c) = raw.contact {
            cfg.contact = c.trim().to_string();
        }
        if let Some(o) = raw.organization {
            cfg.organization = o.trim().to_string();
        }
        if let Some(f) = raw.from {
            cfg.from =
                Mailbox::parse(f.get_ref()).map_err(|e| at(f.span(), format!("from: {e}")))?;
        }
        for (name, a) in raw.audiences {
            let audience: Audience =
                name.get_ref()
                    .parse()
                    .map_err(|e: crate::domain::incident::ParseError| {
                        at(name.span(), format!("[audiences.{}]: {e}", name.get_ref()))
                    })?;
            let to = a
                .to
                .iter()
                .map(|t| Mailbox::parse(t.get_ref()).map_err(|e| at(t.span(), format!("to: {e}"))))
                .collect::<Result<_, _>>()?;
            cfg.audiences.insert(audience, AudienceConfig { to });
        }
        let mut escalation_sinks: Option<Vec<Spanned<String>>> = None;
        if let Some(alerts) = raw.alerts {
            escalation_sinks = alerts.sinks;
            if let Some(near) = alerts.near {
                cfg.near_threshold = parse_share(near.get_ref())
                    .map_err(|e| at(near.span(), format!("alerts.near: {e}")))?;
            }
            cfg.escalation = alerts
                .escalation
                .into_iter()
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect();
        }
        for s in raw.sinks {
            let name = s.name.get_ref().trim().to_string();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(at(
                    s.name.span(),
                    format!("sink name '{name}': use letters, digits, '-', '_' or '.'"),
                ));
            }
            if cfg.sinks.iter().any(|k| k.name == name) {
                return Err(at(s.name.span(), format!("sink '{name}' is defined twice")));
            }
            let kind = match s.kind.get_ref().as_str() {
                "outbox" => {
                    let Some(dir) = &s.dir else {
                        return Err(at(
                            s.kind.span(),
                            format!("sink '{name}': an outbox needs dir = \"PATH\""),
                        ));
                    };
                    SinkKind::Outbox {
                        dir: resolve_dir(dir.get_ref(), config_dir),
                    }
                }
                "command" => {
                    let Some(argv) = &s.argv else {
                        return Err(at(
                            s.kind.span(),
                            format!(
                                "sink '{name}': a command needs argv = [\"PROGRAM\", \"ARG\"...]"
                            ),
                        ));
                    };
                    if argv.get_ref().first().is_none_or(|p| p.trim().is_empty()) {
                        return Err(at(
                            argv.span(),
                            format!("sink '{name}': argv must name a program"),
                        ));
                    }
                    let timeout = match &s.timeout {
                        Some(t) => match parse_duration(t.get_ref()) {
                            Ok(d) if d > MAX_COMMAND_TIMEOUT => {
                                return Err(at(
                                    t.span(),
                                    format!(
                                        "sink '{name}': timeout must be at most {} (a delivery pending longer is taken as abandoned and retried)",
                                        crate::domain::policy::describe_duration(
                                            MAX_COMMAND_TIMEOUT
                                        )
                                    ),
                                ));
                            }
                            Ok(d) if !d.is_zero() => d,
                            Ok(_) => {
                                return Err(at(
                                    t.span(),
                                    format!("sink '{name}': timeout must be above zero"),
                                ));
                            }
                            Err(e) => {
                                return Err(at(t.span(), format!("sink '{name}': timeout: {e}")));
                            }
                        },
                        None => DEFAULT_COMMAND_TIMEOUT,
                    };
                    SinkKind::Command {
                        argv: argv.get_ref().clone(),
                        timeout,
                    }
                }
                "osc52" => SinkKind::Osc52 {
                    max_bytes: match &s.max_bytes {
                        Some(m) if *m.get_ref() > 0 => *m.get_ref() as usize,
                        Some(m) => {
                            return Err(at(
                                m.span(),
                                format!("sink '{name}': max_bytes must be above zero"),
                            ));
                        }
                        None => DEFAULT_OSC52_MAX_BYTES,
                    },
                },
                other => {
                    return Err(at(
                        s.kind.span(),
                        format!(
                            "sink '{name}': kind '{other}' is not one of outbox, command, osc52"
                        ),
                    ));
                }
            };
            let audiences = match &s.audiences {
                Some(list) => Some(
                    list.iter()
                        .map(|a| {
                            a.get_ref()
                                .parse()
                                .map_err(|e: crate::domain::incident::ParseError| {
                                    at(a.span(), format!("sink '{name}': {e}"))
                                })
                        })
                        .collect::<Result<Vec<Audience>, _>>()?,
                ),
                None => None,
            };
            let default = s.default.unwrap_or(!matches!(kind, SinkKind::Osc52 { .. }));
            cfg.sinks.push(SinkConfig {
                name,
                kind,
                audiences,
                default,
            });
        }
        if let Some(names) = escalation_sinks {
            // The sinks exist once every [[sinks]] table is read; with none
            // configured, the implicit outbox is the one sink.
            let known = cfg.effective_sinks(Path::new("warroom.db"));
            let mut list = Vec::new();
            for n in names {
                let name = n.get_ref().trim();
                match known.iter().find(|s| s.name == name) {
                    Some(s) if matches!(s.kind, SinkKind::Osc52 { .. }) => {
                        return Err(at(
                            n.span(),
                            format!(
                                "alerts.sinks: '{name}' is an OSC 52 sink (your own terminal's clipboard); it cannot deliver an escalation"
                            ),
                        ));
                    }
                    Some(_) => {
                        if !list.iter().any(|l: &String| l == name) {
                            list.push(name.to_string());
                        }
                    }
                    None => {
                        let all: Vec<&str> = known.iter().map(|s| s.name.as_str()).collect();
                        return Err(at(
                            n.span(),
                            format!(
                                "alerts.sinks: no sink '{name}' (configured: {})",
                                all.join(", ")
                            ),
                        ));
                    }
                }
            }
            cfg.escalation_sinks = Some(list);
        }
        Ok(cfg)
    }

    /// Loads `comms.toml` from `config_dir`, or the built-in settings when
    /// there is none. Errors read `PATH:LINE:COL: problem`.
    pub fn load(config_dir: &Path) -> anyhow::Result<CommsConfig> {
        let path = config_dir.join(FILE_NAME);
        match crate::config::read_user_file(&path, MAX_FILE_BYTES) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|e| {
                    anyhow::anyhow!(
                        "{}: not valid UTF-8 (byte {})",
                        path.display(),
                        e.utf8_error().valid_up_to()
                    )
                })?;
                CommsConfig::from_toml(&text, config_dir)
                    .map_err(|e| anyhow::anyhow!(e.located(&path, &text)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(CommsConfig::builtin(config_dir))
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                Err(anyhow::anyhow!("{}: {e}", path.display()))
            }
            Err(e) => {
                Err(anyhow::Error::new(e).context(format!("{}: cannot read", path.display())))
            }
        }
    }

    /// Recipients of an audience; empty for a non-email audience.
    pub fn recipients(&self, audience: Audience) -> &[Mailbox] {
        self.audiences
            .get(&audience)
            .map_or(&[], |a| a.to.as_slice())
    }

    /// The configured sinks, or with none configured one outbox beside the
    /// database (`<db dir>/<db stem>.outbox`), so every message also lands
    /// as a file.
    pub fn effective_sinks(&self, db: &Path) -> Vec<SinkConfig> {
        if !self.sinks.is_empty() {
            return self.sinks.clone();
        }
        vec![SinkConfig {
            name: "outbox".into(),
            kind: SinkKind::Outbox {
                dir: default_outbox_dir(db),
            },
            audiences: None,
            default: true,
        }]
    }

    /// The sinks escalations are delivered through: `[alerts] sinks`, or
    /// by default the default sinks serving the internal audience (never
    /// OSC 52, which reaches only your own terminal).
    pub fn escalation_sinks(&self, db: &Path) -> Vec<SinkConfig> {
        let all = self.effective_sinks(db);
        match &self.escalation_sinks {
            Some(names) => names
                .iter()
                .filter_map(|n| all.iter().find(|s| &s.name == n).cloned())
                .collect(),
            None => all
                .into_iter()
                .filter(|s| {
                    s.default
                        && s.serves(Audience::Internal)
                        && !matches!(s.kind, SinkKind::Osc52 { .. })
                })
                .collect(),
        }
    }

    /// The mailbox an escalation to `who` goes to: `who` itself when it is
    /// an address, else the contact of the roster person with that handle
    /// when it is one; `None` (plain text) otherwise.
    pub fn escalation_mailbox(who: &str, people: &[crate::domain::Person]) -> Option<Mailbox> {
        if let Ok(m) = Mailbox::parse(who) {
            return Some(m);
        }
        let p = people.iter().find(|p| p.handle == who)?;
        let m = Mailbox::parse(&p.contact).ok()?;
        Some(Mailbox {
            name: m.name.or_else(|| {
                let n = p.name.trim();
                (!n.is_empty() && !n.chars().any(char::is_control)).then(|| n.to_string())
            }),
            address: m.address,
        })
    }

    /// The sinks a send uses: the named ones (each must exist), or with no
    /// names the default sinks serving the audience.
    pub fn select_sinks(
        &self,
        names: &[String],
        audience: Audience,
        db: &Path,
    ) -> Result<Vec<SinkConfig>, String> {
        let all = self.effective_sinks(db);
        if names.is_empty() {
            return Ok(all
                .into_iter()
                .filter(|s| s.default && s.serves(audience))
                .collect());
        }
        let mut out: Vec<SinkConfig> = Vec::new();
        for n in names {
            match all.iter().find(|s| &s.name == n) {
                Some(s) if !out.iter().any(|o| o.name == s.name) => out.push(s.clone()),
                Some(_) => {}
                None => {
                    let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                    return Err(format!(
                        "no sink '{n}' (configured: {}; see {FILE_NAME})",
                        known.join(", ")
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// `<db dir>/<db stem>.outbox`, beside the evidence store.
pub fn default_outbox_dir(db: &Path) -> PathBuf {
    let stem = db
        .file_stem()
        .map_or_else(|| "warroom".into(), |s| s.to_string_lossy().into_owned());
    db.parent()
        .unwrap_or_else(|| Path::new("."))
        .join(format!("{stem}.outbox"))
}

fn resolve_dir(dir: &str, config_dir: &Path) -> PathBuf {
    if let Some(rest) = dir.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    let p = PathBuf::from(dir);
    if p.is_absolute() {
        p
    } else {
        config_dir.join(p)
    }
}

/// "75%", 75 or 0.75 -> 0.75; must lie strictly between 0 and 1.
fn parse_share(v: &toml::Value) -> Result<f64, String> {
    let share = match v {
        toml::Value::String(s) => {
            let t = s.trim();
            let n: f64 = t
                .strip_suffix('%')
                .unwrap_or(t)
                .trim()
                .parse()
                .map_err(|_| format!("'{s}' is not a percentage such as \"75%\""))?;
            if t.ends_with('%') || n > 1.0 {
                n / 100.0
            } else {
                n
            }
        }
        toml::Value::Float(f) if *f > 1.0 => f / 100.0,
        toml::Value::Float(f) => *f,
        toml::Value::Integer(i) => *i as f64 / 100.0,
        other => {
            return Err(format!(
                "expected a percentage such as \"75%\", found {}",
                other.type_str()
            ));
        }
    };
    if share > 0.0 && share < 1.0 {
        Ok(share)
    } else {
        Err("must lie between 0% and 100% (exclusive)".into())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComms {
    contact: Option<String>,
    organization: Option<String>,
    from: Option<Spanned<String>>,
    #[serde(default)]
    audiences: BTreeMap<Spanned<String>, RawAudience>,
    alerts: Option<RawAlerts>,
    #[serde(default)]
    sinks: Vec<RawSink>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudience {
    #[serde(default)]
    to: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    near: Option<Spanned<toml::Value>>,
    #[serde(default)]
    escalation: Vec<String>,
    sinks: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSink {
    name: Spanned<String>,
    kind: Spanned<String>,
    dir: Option<Spanned<String>>,
    argv: Option<Spanned<Vec<String>>>,
    timeout: Option<Spanned<String>>,
    max_bytes: Option<Spanned<i64>>,
    audiences: Option<Vec<Spanned<String>>>,
    default: Option<bool>,
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
