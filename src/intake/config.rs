//! `intake.toml` in the config directory: how alerts from each format are
//! mapped to detections (title, summary, severity, source, grouping key)
//! and which open incidents, which only notify and which are dropped.
//! Every section is optional; a missing one takes the defaults below.
//! Every problem is reported as file:line:col.
//!
//! ```toml
//! [alertmanager]
//! name = "alertmanager"              # detections are recorded under this name
//! source = "automated-alert"         # or "siem"
//! title = "{annotations.summary|commonAnnotations.summary|labels.alertname}"
//! summary = "{annotations.description|commonAnnotations.description|-}"
//! group_by = ["groupKey"]            # fields joined; none present: the alert's fingerprint
//! severity_field = "labels.severity"
//! severity = { critical = "P1", error = "P2", warning = "P3", info = "P4" }
//! default_severity = "P3"            # field missing or not in the table
//! open_incident_at = "P3"            # P1..P3 open incidents
//! notify_at = "P4"                   # below that, down to P4: an alert only
//! notify = ["oncall"]                # whom those alerts are delivered to
//! drop = [{ field = "labels.alertname", equals = "Watchdog" }]
//!
//! [wazuh]
//! severity_field = "rule.level"
//! levels = [{ min = 12, severity = "P1" }, { min = 10, severity = "P2" },
//!           { min = 7, severity = "P3" }, { min = 0, severity = "P4" }]
//!
//! [json]
//! id_field = "id"                    # absent: the line's hash
//! time_field = "time"
//! status_field = "status"            # firing/resolved; absent: firing
//! ```
//!
//! Templates: `{a.b|c|-}` is the first of the fields present, or the text
//! after the last `|` when it is not a field path (`-` here).

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::{Severity, Source, SourceError};

/// The file's name inside the config dir.
pub const FILE_NAME: &str = "intake.toml";

/// An intake.toml larger than this is refused.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

pub use super::format::Format;

/// A numeric level range: values at least `min` get `severity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRange {
    pub min: i64,
    pub severity: Severity,
}

/// Drop alerts whose `field` equals `equals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropMatch {
    pub field: String,
    pub equals: String,
}

/// How one format's alerts are mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub name: String,
    pub source: Source,
    pub title: String,
    pub summary: String,
    pub group_by: Vec<String>,
    pub severity_field: String,
    /// Text values (lowercased) to severities.
    pub severity: BTreeMap<String, Severity>,
    /// Numeric values to severities, highest `min` first.
    pub levels: Vec<LevelRange>,
    pub default_severity: Severity,
    pub open_incident_at: Severity,
    pub notify_at: Severity,
    pub notify: Vec<String>,
    pub drop: Vec<DropMatch>,
    pub id_field: Option<String>,
    pub time_field: String,
    pub status_field: Option<String>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeConfig {
    pub alertmanager: Mapping,
    pub wazuh: Mapping,
    pub json: Mapping,
    /// `[listen]`: the webhook listener the console runs, if any.
    pub listen: Option<super::listen_config::ListenConfig>,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            alertmanager: Mapping::default_for(Format::Alertmanager),
            wazuh: Mapping::default_for(Format::Wazuh),
            json: Mapping::default_for(Format::Json),
            listen: None,
        }
    }
}

impl IntakeConfig {
    pub fn mapping(&self, format: Format) -> &Mapping {
        match format {
            Format::Alertmanager => &self.alertmanager,
            Format::Wazuh => &self.wazuh,
            Format::Json => &self.json,
        }
    }

    /// `intake.toml` in `dir`; the defaults when there is none. A broken
    /// file is an error naming file:line:col.
    pub fn load(dir: &Path) -> anyhow::Result<IntakeConfig> {
        let path = dir.join(FILE_NAME);
        match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(IntakeConfig::default());
            }
            Err(e) => anyhow::bail!("{}: cannot read: {e}", path.display()),
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                anyhow::bail!("{}: larger than {MAX_FILE_BYTES} bytes", path.display())
            }
            Ok(_) => {}
        }
        let bytes = std::fs::read(&path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow::anyhow!(
                "{}: not valid UTF-8 (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        IntakeConfig::parse(&text).map_err(|e| anyhow::anyhow!(e.located(&path, &text)))
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<IntakeConfig, SourceError> {
        let raw: RawFile = toml::from_str(text).map_err(SourceError::from_toml)?;
        Ok(IntakeConfig {
            alertmanager: Mapping::from_raw(Format::Alertmanager, raw.alertmanager)?,
            wazuh: Mapping::from_raw(Format::Wazuh, raw.wazuh)?,
            json: Mapping::from_raw(Format::Json, raw.json)?,
            listen: raw
                .listen
                .map(super::listen_config::ListenConfig::from_raw)
                .transpose()?,
        })
    }
}

impl Mapping {
    /// What a format's alerts map to without an intake.toml.
    pub fn default_for(format: Format) -> Mapping {
        let words = |pairs: &[(&str, Severity)]| {
            pairs
                .iter()
                .map(|(k, s)| (k.to_string(), *s))
                .collect::<BTreeMap<_, _>>()
        };
        let text_levels = words(&[
            ("critical", Severity::P1),
            ("error", Severity::P2),
            ("high", Severity::P2),
            ("warning", Severity::P3),
            ("medium", Severity::P3),
            ("info", Severity::P4),
            ("low", Severity::P4),
            ("none", Severity::P4),
        ]);
        let base = Mapping {
            name: format.as_str().into(),
            source: Source::AutomatedAlert,
            title: String::new(),
            summary: String::new(),
            group_by: Vec::new(),
            severity_field: String::new(),
            severity: text_levels,
            levels: Vec::new(),
            default_severity: Severity::P3,
            open_incident_at: Severity::P3,
            notify_at: Severity::P4,
            notify: Vec::new(),
            drop: Vec::new(),
            id_field: None,
            time_field: "time".into(),
            status_field: None,
        };
        match format {
            Format::Alertmanager => Mapping {
                title: "{annotations.summary|commonAnnotations.summary|labels.alertname|title}"
                    .into(),
                summary: "{annotations.description|commonAnnotations.description|annotations.summary|-}"
                    .into(),
                group_by: vec!["groupKey".into()],
                severity_field: "labels.severity".into(),
                ..base
            },
            // Wazuh's levels: 12 and up are high-importance events, 7-9
            // are "bad word" matches, below 7 mostly noise.
            Format::Wazuh => Mapping {
                source: Source::Siem,
                title: "{rule.description} ({agent.name|-})".into(),
                summary: "Wazuh rule {rule.id} level {rule.level} on agent {agent.name|-}, source address {data.srcip|-}\n\n{full_log|-}".into(),
                group_by: vec!["rule.id".into(), "agent.name".into()],
                severity_field: "rule.level".into(),
                levels: vec![
                    LevelRange { min: 12, severity: Severity::P1 },
                    LevelRange { min: 10, severity: Severity::P2 },
                    LevelRange { min: 7, severity: Severity::P3 },
                    LevelRange { min: 0, severity: Severity::P4 },
                ],
                open_incident_at: Severity::P2,
                notify_at: Severity::P3,
                ..base
            },
            Format::Json => Mapping {
                title: "{title|summary|message|name}".into(),
                summary: "{description|details|-}".into(),
                severity_field: "severity".into(),
                ..base
            },
        }
    }

    fn from_raw(format: Format, raw: Option<RawMapping>) -> Result<Mapping, SourceError> {
        let d = Mapping::default_for(format);
        let Some(r) = raw else {
            return Ok(d);
        };
        let at = |s: &Spanned<String>| Some(s.span().start);
        let sev = |s: &Spanned<String>| {
            Severity::from_str(s.get_ref()).map_err(|e| SourceError::new(e.to_string(), at(s)))
        };
        let nonempty = |s: &Spanned<String>, what: &str| {
            if s.get_ref().trim().is_empty() {
                Err(SourceError::new(
                    format!("'{what}' must not be empty"),
                    at(s),
                ))
            } else {
                Ok(s.get_ref().clone())
            }
        };
        let source = match &r.source {
            None => d.source,
            Some(s) => match Source::from_str(s.get_ref()) {
                Ok(v @ (Source::Siem | Source::AutomatedAlert)) => v,
                _ => {
                    return Err(SourceError::new(
                        format!(
                            "'source' is \"{}\"; expected \"siem\" or \"automated-alert\"",
                            s.get_ref()
                        ),
                        at(s),
                    ));
                }
            },
        };
        let mut severity = d.severity.clone();
        if let Some(table) = &r.severity {
            severity.clear();
            for (k, v) in table {
                severity.insert(k.trim().to_ascii_lowercase(), sev(v)?);
            }
        }
        let mut levels = d.levels.clone();
        if let Some(list) = &r.levels {
            levels.clear();
            for l in list {
                levels.push(LevelRange {
                    min: l.min,
                    severity: sev(&l.severity)?,
                });
            }
            levels.sort_by_key(|l| std::cmp::Reverse(l.min));
        }
        let group_by = match &r.group_by {
            None => d.group_by.clone(),
            Some(list) => {
                let mut out = Vec::new();
                for f in list {
                    out.push(nonempty(f, "group_by")?);
                }
                out
            }
        };
        let open_incident_at = r
            .open_incident_at
            .as_ref()
            .map(sev)
            .transpose()?
            .unwrap_or(d.open_incident_at);
        let notify_at = match &r.notify_at {
            None => d.notify_at.max(open_incident_at),
            Some(s) => {
                let v = sev(s)?;
                if v < open_incident_at {
                    return Err(SourceError::new(
                        format!(
                            "'notify_at' ({v}) is more severe than 'open_incident_at' ({open_incident_at}); alerts from P1 to open_incident_at open incidents, those below down to notify_at only notify"
                        ),
                        at(s),
                    ));
                }
                v
            }
        };
        let mut drop = Vec::new();
        for m in r.drop.unwrap_or_default() {
            drop.push(DropMatch {
                field: nonempty(&m.field, "drop.field")?,
                equals: m.equals,
            });
        }
        for t in [&r.title, &r.summary].into_iter().flatten() {
            check_template(t.get_ref()).map_err(|e| SourceError::new(e, at(t)))?;
        }
        Ok(Mapping {
            name: match &r.name {
                Some(n) => nonempty(n, "name")?,
                None => d.name,
            },
            source,
            title: match &r.title {
                Some(t) => nonempty(t, "title")?,
                None => d.title,
            },
            summary: r.summary.map(Spanned::into_inner).unwrap_or(d.summary),
            group_by,
            severity_field: match &r.severity_field {
                Some(f) => nonempty(f, "severity_field")?,
                None => d.severity_field,
            },
            severity,
            levels,
            default_severity: r
                .default_severity
                .as_ref()
                .map(sev)
                .transpose()?
                .unwrap_or(d.default_severity),
            open_incident_at,
            notify_at,
            notify: r.notify.unwrap_or(d.notify),
            drop,
            id_field: match &r.id_field {
                Some(f) => Some(nonempty(f, "id_field")?),
                None => d.id_field,
            },
            time_field: match &r.time_field {
                Some(f) => nonempty(f, "time_field")?,
                None => d.time_field,
            },
            status_field: match &r.status_field {
                Some(f) => Some(nonempty(f, "status_field")?),
                None => d.status_field,
            },
        })
    }
}

/// Checks `{...}` placeholders are closed and not empty.
fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("unclosed '{{' in template \"{t}\""));
        };
        if after[..close].trim().is_empty() {
            return Err(format!("empty '{{}}' in template \"{t}\""));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    alertmanager: Option<RawMapping>,
    wazuh: Option<RawMapping>,
    json: Option<RawMapping>,
    listen: Option<super::listen_config::RawListen>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    name: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    group_by: Option<Vec<Spanned<String>>>,
    severity_field: Option<Spanned<String>>,
    severity: Option<BTreeMap<String, Spanned<String>>>,
    levels: Option<Vec<RawLevel>>,
    default_severity: Option<Spanned<String>>,
    open_incident_at: Option<Spanned<String>>,
    notify_at: Option<Spanned<String>>,
    notify: Option<Vec<String>>,
    drop: Option<Vec<RawDrop>>,
    id_field: Option<Spanned<String>>,
    time_field: Option<Spanned<String>>,
    status_field: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    min: i64,
    severity: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrop {
    field: Spanned<String>,
    equals: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        let e = IntakeConfig::parse(text).unwrap_err();
        e.located(Path::new("intake.toml"), text)
    }

    #[test]
    fn no_sections_means_the_defaults() {
        assert_eq!(IntakeConfig::parse("").unwrap(), IntakeConfig::default());
        let d = IntakeConfig::default();
        assert_eq!(d.wazuh.group_by, ["rule.id", "agent.name"]);
        assert_eq!(d.wazuh.source, Source::Siem);
        assert_eq!(d.alertmanager.group_by, ["groupKey"]);
    }

    #[test]
    fn a_section_overrides_only_what_it_names() {
        let c = IntakeConfig::parse(
            "[alertmanager]\nsource = \"siem\"\nseverity = { page = \"P1\", ticket = \"P4\" }\nopen_incident_at = \"P2\"\nnotify = [\"oncall\"]\ndrop = [{ field = \"labels.alertname\", equals = \"Watchdog\" }]\n\n[wazuh]\nlevels = [{ min = 5, severity = \"P4\" }, { min = 13, severity = \"P1\" }]\n",
        )
        .unwrap();
        let am = &c.alertmanager;
        assert_eq!(am.source, Source::Siem);
        assert_eq!(am.severity.get("page"), Some(&Severity::P1));
        assert_eq!(
            am.severity.get("critical"),
            None,
            "a table replaces the default"
        );
        assert_eq!(am.open_incident_at, Severity::P2);
        assert_eq!(am.notify_at, Severity::P4);
        assert_eq!(am.notify, ["oncall"]);
        assert_eq!(am.drop[0].equals, "Watchdog");
        assert_eq!(am.group_by, ["groupKey"], "default kept");
        assert_eq!(c.wazuh.levels[0].min, 13, "highest first");
        assert_eq!(c.json, Mapping::default_for(Format::Json));
    }

    #[test]
    fn errors_name_the_line_and_column() {
        assert_eq!(
            err("[wazuh]\nsource = \"customer-report\"\n"),
            "intake.toml:2:10: 'source' is \"customer-report\"; expected \"siem\" or \"automated-alert\""
        );
        assert!(
            err("[alertmanager]\nseverity = { critical = \"P9\" }\n")
                .starts_with("intake.toml:2:25: invalid severity 'P9'"),
            "{}",
            err("[alertmanager]\nseverity = { critical = \"P9\" }\n")
        );
        assert!(
            err("[alertmanager]\ncolour = 1\n")
                .starts_with("intake.toml:2:1: unknown field `colour`")
        );
        assert!(err("[graylog]\n").starts_with("intake.toml:1:2: unknown field `graylog`"));
        assert!(
            err("[json]\nopen_incident_at = \"P3\"\nnotify_at = \"P1\"\n")
                .starts_with("intake.toml:3:13: 'notify_at' (P1) is more severe")
        );
        assert!(err("[json]\ntitle = \"{title\"\n").starts_with("intake.toml:2:9: unclosed '{'"));
        assert!(
            err("[json]\ngroup_by = [\"\"]\n")
                .starts_with("intake.toml:2:13: 'group_by' must not be empty")
        );
    }

    #[test]
    fn load_reads_the_file_and_locates_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            IntakeConfig::load(dir.path()).unwrap(),
            IntakeConfig::default()
        );
        std::fs::write(
            dir.path().join(FILE_NAME),
            "[wazuh]\nopen_incident_at = \"soon\"\n",
        )
        .unwrap();
        let e = IntakeConfig::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("intake.toml:2:20: invalid severity 'soon'"),
            "{e}"
        );
    }
}
