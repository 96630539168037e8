//! Applying `intake.toml` to a decoded alert: what the detection is called,
//! how severe it is, what it is grouped under and what it asks of people.
//! Pure.

use serde_json::Value;

use super::config::Mapping;
use super::decode::{RawAlert, lookup, text_at};
use crate::domain::{Severity, Source};

/// What an alert asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open (or add to) an incident.
    Incident,
    /// Raise an alert to responders, no incident.
    Notify,
    /// Count it and do nothing else.
    Drop,
}

/// An alert mapped to what the store records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub action: Action,
    pub title: String,
    pub summary: String,
    pub severity: Severity,
    pub source: Source,
    /// The fields grouped by, as recorded (`groupKey`, `rule.id+agent.name`).
    pub group_by: String,
    /// Their values: alerts with the same key add to one detection.
    pub key: String,
    /// Why it was dropped (for the log).
    pub dropped_because: Option<String>,
}

/// Maps one alert.
pub fn map(m: &Mapping, a: &RawAlert) -> Mapped {
    let severity = severity(m, &a.fields);
    let mut parts = Vec::with_capacity(m.group_by.len());
    for f in &m.group_by {
        if let Some(v) = text_at(&a.fields, f) {
            parts.push(v);
        }
    }
    // None of the grouping fields: the alert groups only with itself.
    let (group_by, key) = if parts.is_empty() {
        ("id".to_string(), a.id.clone())
    } else {
        (m.group_by.join("+"), parts.join(" / "))
    };
    let dropped_because = m
        .drop
        .iter()
        .find(|d| text_at(&a.fields, &d.field).is_some_and(|v| v == d.equals))
        .map(|d| format!("{} = {}", d.field, d.equals))
        .or_else(|| {
            (severity > m.notify_at).then(|| format!("{severity} is below {}", m.notify_at))
        });
    let action = if dropped_because.is_some() {
        Action::Drop
    } else if severity <= m.open_incident_at {
        Action::Incident
    } else {
        Action::Notify
    };
    let mut title = render(&m.title, &a.fields);
    if title.trim().is_empty() {
        title = format!("{} alert {}", m.name, a.id);
    }
    Mapped {
        action,
        title,
        summary: render(&m.summary, &a.fields),
        severity,
        source: m.source,
        group_by,
        key,
        dropped_because,
    }
}

fn severity(m: &Mapping, fields: &Value) -> Severity {
    let Some(v) = lookup(fields, &m.severity_field) else {
        return m.default_severity;
    };
    let number = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    if let Some(n) = number
        && !m.levels.is_empty()
    {
        return m
            .levels
            .iter()
            .find(|l| n >= l.min)
            .map_or(m.default_severity, |l| l.severity);
    }
    let text = match v {
        Value::String(s) => s.trim().to_ascii_lowercase(),
        Value::Number(n) => n.to_string(),
        _ => return m.default_severity,
    };
    m.severity
        .get(&text)
        .copied()
        .or_else(|| text.parse().ok())
        .unwrap_or(m.default_severity)
}

/// Fills `{a|b|-}` placeholders: the first field present, else a last
/// alternative that is not a field path is taken as literal text.
pub fn render(template: &str, fields: &Value) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let alts: Vec<&str> = after[..close].split('|').map(str::trim).collect();
        let found = alts
            .iter()
            .find_map(|f| text_at(fields, f).filter(|v| !v.is_empty()));
        match found {
            Some(v) => out.push_str(&v),
            None if alts.len() > 1 => {
                if let Some(last) = alts.last() {
                    out.push_str(last);
                }
            }
            None => {}
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::super::config::{DropMatch, Format, IntakeConfig, Mapping};
    use super::super::decode::{alertmanager, wazuh};
    use super::*;

    const AM_GROUP: &str = super::super::decode::tests::AM_GROUP;
    const WAZUH_LINE: &str = super::super::decode::tests::WAZUH_LINE;

    #[test]
    fn alertmanager_alerts_map_each_field() {
        let c = IntakeConfig::default();
        let alerts = alertmanager(AM_GROUP.as_bytes()).unwrap();
        let m = map(&c.alertmanager, &alerts[0]);
        assert_eq!(m.title, "Disk almost full on db1");
        assert_eq!(m.summary, "/var is 97% full");
        assert_eq!(m.severity, Severity::P1, "severity=critical");
        assert_eq!(m.source, Source::AutomatedAlert);
        assert_eq!(m.group_by, "groupKey");
        assert_eq!(m.key, "{}/{team=\"infra\"}:{alertname=\"DiskFull\"}");
        assert_eq!(m.action, Action::Incident);
        let second = map(&c.alertmanager, &alerts[1]);
        assert_eq!(second.key, m.key, "one group, one key");
        assert_eq!(
            second.summary, "Disk almost full on db2",
            "falls back to the summary"
        );
    }

    #[test]
    fn severity_words_and_levels_decide_the_action() {
        let c = IntakeConfig::default();
        let am = |sev: &str| {
            let body = AM_GROUP.replace("\"critical\"", &format!("\"{sev}\""));
            map(&c.alertmanager, &alertmanager(body.as_bytes()).unwrap()[0])
        };
        assert_eq!(
            (am("warning").severity, am("warning").action),
            (Severity::P3, Action::Incident)
        );
        assert_eq!(
            (am("info").severity, am("info").action),
            (Severity::P4, Action::Notify)
        );
        assert_eq!(am("P2").severity, Severity::P2, "a P level is read as such");
        assert_eq!(am("whatever").severity, Severity::P3, "default");
        let wz = |level: u32| {
            let line = WAZUH_LINE.replace("\"level\":10", &format!("\"level\":{level}"));
            let m = map(&c.wazuh, &wazuh(&line).unwrap());
            (m.severity, m.action)
        };
        assert_eq!(wz(15), (Severity::P1, Action::Incident));
        assert_eq!(wz(10), (Severity::P2, Action::Incident));
        assert_eq!(wz(7), (Severity::P3, Action::Notify));
        assert_eq!(wz(3), (Severity::P4, Action::Drop));
    }

    #[test]
    fn wazuh_alerts_group_by_rule_and_agent() {
        let c = IntakeConfig::default();
        let m = map(&c.wazuh, &wazuh(WAZUH_LINE).unwrap());
        assert_eq!(
            m.title,
            "sshd: brute force trying to get access to the system. (web-01)"
        );
        assert_eq!(m.group_by, "rule.id+agent.name");
        assert_eq!(m.key, "5712 / web-01");
        assert_eq!(m.source, Source::Siem);
        assert!(
            m.summary.contains("source address 203.0.113.9"),
            "{}",
            m.summary
        );
        assert!(m.summary.contains("Failed password for invalid user admin"));
    }

    #[test]
    fn drop_matches_and_missing_group_fields() {
        let mut mapping = Mapping::default_for(Format::Alertmanager);
        mapping.drop.push(DropMatch {
            field: "labels.instance".into(),
            equals: "db1:9100".into(),
        });
        mapping.group_by = vec!["labels.nothere".into()];
        let alerts = alertmanager(AM_GROUP.as_bytes()).unwrap();
        let m = map(&mapping, &alerts[0]);
        assert_eq!(m.action, Action::Drop);
        assert_eq!(
            m.dropped_because.as_deref(),
            Some("labels.instance = db1:9100")
        );
        let m = map(&mapping, &alerts[1]);
        assert_eq!(m.action, Action::Incident);
        assert_eq!(
            (m.group_by.as_str(), m.key.as_str()),
            ("id", "0a9c41d2be77f310")
        );
    }

    #[test]
    fn templates_take_the_first_field_present_or_the_literal() {
        let v: Value = serde_json::json!({"a": {"b": "x"}, "n": 3, "e": ""});
        assert_eq!(render("{a.b}", &v), "x");
        assert_eq!(render("[{zz|e|a.b}] n={n}", &v), "[x] n=3");
        assert_eq!(render("{zz|-}", &v), "-");
        assert_eq!(render("{zz}", &v), "");
        assert_eq!(render("open {", &v), "open {");
    }
}
