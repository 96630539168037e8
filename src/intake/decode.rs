//! Decoders: the bytes a sender delivered, turned into alerts. Pure (no
//! I/O, no clock): a payload is accepted whole or refused with a reason
//! that names the field and what was wrong with it.
//!
//! - Prometheus Alertmanager webhook (version 4), which Grafana's webhook
//!   contact point also sends (it says version "1" and adds a few fields).
//! - Wazuh `alerts.json`: one JSON alert per line.
//! - Generic JSON: one object per line; `intake.toml` says which fields
//!   hold the id and the time.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Whether the sender says the alert is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// One alert as delivered, before `intake.toml` maps it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawAlert {
    /// The alert's own identity at the sender (Alertmanager fingerprint,
    /// Wazuh alert id, the generic id field).
    pub id: String,
    pub status: AlertStatus,
    /// When the sender says it started (the detection time).
    pub starts_at: DateTime<Utc>,
    /// When it ended (resolved alerts).
    pub ends_at: Option<DateTime<Utc>>,
    /// The fields mapping reads, by dotted path (`labels.severity`,
    /// `rule.level`, `groupKey`).
    pub fields: Value,
    /// The alert as received (JSON), kept as evidence.
    pub raw: String,
}

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

fn bad(msg: impl Into<String>) -> DecodeError {
    DecodeError(msg.into())
}

/// Alertmanager's "no end time" value.
const ZERO_TIME_YEAR: i32 = 1;

/// Decodes one Alertmanager (or Grafana) webhook body.
pub fn alertmanager(body: &[u8]) -> Result<Vec<RawAlert>, DecodeError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("not JSON: {e}")))?;
    alertmanager_value(v)
}

/// Decodes one webhook payload already parsed as JSON.
pub fn alertmanager_value(v: Value) -> Result<Vec<RawAlert>, DecodeError> {
    let Value::Object(top) = v else {
        return Err(bad("the payload is not a JSON object"));
    };
    match top.get("version") {
        None => {}
        // 4: Alertmanager; 1: Grafana's webhook contact point.
        Some(Value::String(s)) if s == "4" || s == "1" => {}
        Some(other) => {
            return Err(bad(format!(
                "'version' is {other}; this reads Alertmanager webhook version \"4\" (and Grafana's \"1\")"
            )));
        }
    }
    let group_key = opt_str(&top, "groupKey", "")?;
    let alerts = match top.get("alerts") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad("'alerts' is not an array")),
        None => return Err(bad("'alerts' is missing")),
    };
    // What every alert of the group shares, so mapping can read it.
    let mut shared = Map::new();
    for k in [
        "receiver",
        "groupKey",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "orgId",
        "title",
        "message",
    ] {
        if let Some(v) = top.get(k) {
            shared.insert(k.to_string(), v.clone());
        }
    }
    let mut out = Vec::with_capacity(alerts.len());
    for (i, a) in alerts.iter().enumerate() {
        let at = format!("alerts[{i}]");
        let Value::Object(alert) = a else {
            return Err(bad(format!("{at} is not an object")));
        };
        let status = match alert.get("status").and_then(Value::as_str) {
            Some("firing") => AlertStatus::Firing,
            Some("resolved") => AlertStatus::Resolved,
            Some(s) => {
                return Err(bad(format!(
                    "{at}.status is \"{s}\"; expected \"firing\" or \"resolved\""
                )));
            }
            None => return Err(bad(format!("{at}.status is missing or not a string"))),
        };
        let labels = match alert.get("labels") {
            Some(Value::Object(l)) => l,
            Some(_) => return Err(bad(format!("{at}.labels is not an object"))),
            None => return Err(bad(format!("{at}.labels is missing"))),
        };
        for (k, v) in labels {
            if !v.is_string() {
                return Err(bad(format!("{at}.labels.{k} is not a string")));
            }
        }
        let starts_raw = opt_str(alert, "startsAt", &at)?
            .ok_or_else(|| bad(format!("{at}.startsAt is missing")))?;
        let starts_at = rfc3339(&starts_raw).map_err(|e| bad(format!("{at}.startsAt: {e}")))?;
        let ends_at = match opt_str(alert, "endsAt", &at)? {
            None => None,
            Some(s) => {
                let t = rfc3339(&s).map_err(|e| bad(format!("{at}.endsAt: {e}")))?;
                (chrono::Datelike::year(&t) > ZERO_TIME_YEAR).then_some(t)
            }
        };
        // Older Alertmanagers send no fingerprint: the labels identify the
        // alert (that is how Alertmanager computes it).
        let id = match opt_str(alert, "fingerprint", &at)? {
            Some(f) if !f.is_empty() => f,
            _ => label_fingerprint(labels),
        };
        let mut fields = shared.clone();
        for (k, v) in alert {
            fields.insert(k.clone(), v.clone());
        }
        fields.insert("fingerprint".into(), Value::String(id.clone()));
        if let Some(g) = &group_key {
            fields.insert("groupKey".into(), Value::String(g.clone()));
        }
        let raw = serde_json::to_string(a).unwrap_or_default();
        out.push(RawAlert {
            id,
            status,
            starts_at,
            ends_at,
            fields: Value::Object(fields),
            raw,
        });
    }
    Ok(out)
}

/// Decodes one line of Wazuh's `alerts.json`.
pub fn wazuh(line: &str) -> Result<RawAlert, DecodeError> {
    let v: Value = serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Value::Object(obj) = &v else {
        return Err(bad("the line is not a JSON object"));
    };
    let Some(Value::Object(rule)) = obj.get("rule") else {
        return Err(bad("'rule' is missing or not an object"));
    };
    match rule.get("level") {
        Some(Value::Number(n)) if n.as_u64().is_some_and(|l| l <= 16) => {}
        Some(other) => {
            return Err(bad(format!(
                "'rule.level' is {other}; expected a number from 0 to 16"
            )));
        }
        None => return Err(bad("'rule.level' is missing")),
    }
    match rule.get("id") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => return Err(bad("'rule.id' is missing or not a string")),
    }
    let ts = match obj.get("timestamp") {
        Some(Value::String(s)) => s,
        _ => return Err(bad("'timestamp' is missing or not a string")),
    };
    let starts_at = wazuh_time(ts).map_err(|e| bad(format!("'timestamp': {e}")))?;
    // Every alert has a unique id ("1704103200.12345"); without one the
    // whole line identifies it.
    let id = match obj.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) | None => hex::encode(Sha256::digest(line.trim().as_bytes())),
        Some(other) => return Err(bad(format!("'id' is {other}; expected a string"))),
    };
    Ok(RawAlert {
        id,
        status: AlertStatus::Firing,
        starts_at,
        ends_at: None,
        raw: line.trim_end().to_string(),
        fields: v,
    })
}

/// Decodes one generic JSON line: `id_field` (optional: the line's hash
/// otherwise), `time_field` (required), `status_field` (optional).
pub fn generic(
    line: &str,
    id_field: Option<&str>,
    time_field: &str,
    status_field: Option<&str>,
) -> Result<RawAlert, DecodeError> {
    let v: Value = serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
    if !v.is_object() {
        return Err(bad("the line is not a JSON object"));
    }
    let id = match id_field {
        Some(f) => match lookup(&v, f) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(bad(format!("'{f}' is not a string or number"))),
            None => return Err(bad(format!("'{f}' (the id field) is missing"))),
        },
        None => hex::encode(Sha256::digest(line.trim().as_bytes())),
    };
    let starts_at = match lookup(&v, time_field) {
        Some(Value::String(s)) => any_time(s).map_err(|e| bad(format!("'{time_field}': {e}")))?,
        Some(Value::Number(n)) => n
            .as_f64()
            .and_then(|secs| {
                Utc.timestamp_opt(secs.trunc() as i64, (secs.fract() * 1e9) as u32)
                    .single()
            })
            .ok_or_else(|| bad(format!("'{time_field}' is not a Unix time")))?,
        Some(_) => return Err(bad(format!("'{time_field}' is not a time"))),
        None => return Err(bad(format!("'{time_field}' (the time field) is missing"))),
    };
    let status = match status_field.and_then(|f| lookup(&v, f).map(|s| (f, s))) {
        None => AlertStatus::Firing,
        Some((f, s)) => match s.as_str().map(str::to_ascii_lowercase).as_deref() {
            Some("firing" | "open" | "alerting" | "problem") => AlertStatus::Firing,
            Some("resolved" | "ok" | "closed" | "recovered") => AlertStatus::Resolved,
            _ => {
                return Err(bad(format!("'{f}' is {s}; expected firing or resolved")));
            }
        },
    };
    Ok(RawAlert {
        id,
        status,
        starts_at,
        ends_at: None,
        raw: line.trim_end().to_string(),
        fields: v,
    })
}

/// The value at a dotted path (`labels.severity`, `rule.level`). A key
/// that itself holds a dot is found too (`data.win.system` style keys are
/// nested in Wazuh; Alertmanager labels may not contain dots).
pub fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(direct) = v.get(path) {
        return Some(direct);
    }
    let (head, rest) = path.split_once('.')?;
    lookup(v.get(head)?, rest)
}

/// A field as text: strings as they are, numbers and booleans printed,
/// anything else (missing, null, objects) none.
pub fn text_at(v: &Value, path: &str) -> Option<String> {
    match lookup(v, path)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn opt_str(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<String>, DecodeError> {
    let name = if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    };
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("{name} is not a string"))),
    }
}

fn rfc3339(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("\"{s}\" is not an RFC 3339 time ({e})"))
}

/// Wazuh writes `2024-01-01T10:00:00.123+0000` (no colon in the offset).
fn wazuh_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::<FixedOffset>::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| rfc3339(s))
        .map_err(|_| format!("\"{s}\" is not a time like 2024-01-01T10:00:00.123+0000"))
}

/// RFC 3339, Wazuh's form, or a zone-less time taken as UTC.
fn any_time(s: &str) -> Result<DateTime<Utc>, String> {
    wazuh_time(s).or_else(|_| {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
            .map(|n| n.and_utc())
            .map_err(|_| format!("\"{s}\" is not a time (RFC 3339 expected)"))
    })
}

/// A stable identity from an alert's labels (sorted), for senders that
/// give no fingerprint.
fn label_fingerprint(labels: &Map<String, Value>) -> String {
    let mut pairs: Vec<(&String, &Value)> = labels.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = Sha256::new();
    for (k, v) in pairs {
        h.update(k.as_bytes());
        h.update([0xff]);
        h.update(v.as_str().unwrap_or_default().as_bytes());
        h.update([0xfe]);
    }
    hex::encode(&h.finalize()[..8])
}

#[cfg(test)]
#[path = "decode_tests.rs"]
pub(crate) mod tests;
