//! From bytes to a committed batch: decode with the format's decoder, map
//! with `intake.toml`, commit through the store's intake path. Shared by
//! `warroom ingest` (files, standard input) and the webhook listener.

use super::config::{Format, Mapping};
use super::decode::{self, AlertStatus, DecodeError, RawAlert};
use super::map::{Action, map};
use crate::store::{IntakeAlert, IntakeBatch};

/// One payload's alerts, or the reason it was refused.
pub fn decode_payload(
    format: Format,
    mapping: &Mapping,
    body: &[u8],
) -> Result<Vec<RawAlert>, DecodeError> {
    match format {
        Format::Alertmanager => decode::alertmanager(body),
        Format::Wazuh | Format::Json => {
            let text = std::str::from_utf8(body)
                .map_err(|e| DecodeError(format!("not UTF-8 (byte {})", e.valid_up_to())))?;
            let mut out = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let a = decode_line(format, mapping, line)
                    .map_err(|e| DecodeError(format!("line {}: {e}", n + 1)))?;
                out.push(a);
            }
            Ok(out)
        }
    }
}

/// One line of a line format (Wazuh, generic JSON).
pub fn decode_line(format: Format, mapping: &Mapping, line: &str) -> Result<RawAlert, DecodeError> {
    match format {
        Format::Wazuh => decode::wazuh(line),
        Format::Json => decode::generic(
            line,
            mapping.id_field.as_deref(),
            &mapping.time_field,
            mapping.status_field.as_deref(),
        ),
        Format::Alertmanager => Err(DecodeError(
            "an Alertmanager payload is a whole JSON document, not a line".into(),
        )),
    }
}

/// Maps decoded alerts into one batch (dropped ones only counted).
pub fn batch(
    format: Format,
    mapping: &Mapping,
    alerts: &[RawAlert],
    notify_sinks: &[String],
) -> IntakeBatch {
    let mut b = IntakeBatch {
        intake: mapping.name.clone(),
        format: format.as_str().into(),
        notify_sinks: notify_sinks.to_vec(),
        ..IntakeBatch::default()
    };
    for a in alerts {
        let m = map(mapping, a);
        if m.action == Action::Drop {
            tracing::debug!(
                alert = %crate::text::display_safe(&a.id),
                why = m.dropped_because.as_deref().unwrap_or(""),
                "alert dropped"
            );
            b.dropped += 1;
            continue;
        }
        b.alerts.push(IntakeAlert {
            alert_id: a.id.clone(),
            resolved: a.status == AlertStatus::Resolved,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            group_by: m.group_by,
            key: m.key,
            title: m.title,
            summary: m.summary,
            severity: m.severity,
            source: m.source,
            create_incident: m.action == Action::Incident,
            notify: mapping.notify.clone(),
            raw: a.raw.clone(),
        });
    }
    b
}

#[cfg(test)]
#[path = "ingest_tests.rs"]
mod tests;
