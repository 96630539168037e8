//! Communications: messages sent (immutable, like the timeline), their
//! delivery through each sink, and responder alerts recorded under a unique
//! key before they are shown, so each fires once across every process.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::schema::Migration;
use super::{Result, Store};
use crate::domain::event::format_time;

/// 5: sent messages, deliveries, alerts.
pub(super) const MIGRATION: Migration = Migration {
    version: 5,
    sql: r#"
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    audience TEXT NOT NULL,
    template TEXT,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    author TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE INDEX messages_by_incident ON messages (incident_id, id);

-- One row per message and sink; a failed delivery stays here to be retried.
CREATE TABLE deliveries (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    sink TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    detail TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (message_id, sink)
) WITHOUT ROWID;

-- An alert is inserted under its key before anyone shows it; whoever's
-- insert wins shows it, everyone else sees the key taken.
CREATE TABLE alerts (
    key TEXT PRIMARY KEY,
    incident_id TEXT REFERENCES incidents (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    recipient TEXT,
    raised_by TEXT NOT NULL,
    raised_at TEXT NOT NULL
) WITHOUT ROWID;
"#,
};

/// An alert to raise once. `key` names the occasion, not the moment, e.g.
/// `clock:INC-2026-001:response:75` or `detect:ssh-brute-force:10.0.0.5:1`,
/// so every process that notices the same occasion computes the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub key: String,
    pub incident_id: Option<String>,
    pub kind: String,
    pub text: String,
    /// Whom it is for (a roster name or an address); `None` for everyone.
    pub recipient: Option<String>,
    pub raised_by: String,
    pub raised_at: DateTime<Utc>,
}

/// Inserts the alert unless its key is taken; true when this call took it
/// (and so must show it). For writers that raise alerts inside their own
/// transaction (the watcher, with its detections).
pub(super) fn insert_alert(tx: &Transaction<'_>, alert: &NewAlert) -> rusqlite::Result<bool> {
    let n = tx.execute(
        "INSERT INTO alerts (key, incident_id, kind, text, recipient, raised_by, raised_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key) DO NOTHING",
        params![
            alert.key,
            alert.incident_id,
            alert.kind,
            alert.text,
            alert.recipient,
            alert.raised_by,
            format_time(alert.raised_at)
        ],
    )?;
    Ok(n == 1)
}

impl Store {
    /// Records the alert under its key; true when this process is the one
    /// that raised it, false when another console or watcher already did.
    pub fn raise_alert(&mut self, alert: &NewAlert) -> Result<bool> {
        self.write(|tx| Ok(insert_alert(tx, alert)?))
    }
}

#[cfg(test)]
mod tests {
    use super::NewAlert;
    use crate::store::Store;

    #[test]
    fn an_alert_key_is_raised_once_across_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let mut a = Store::open(&path).unwrap();
        let mut b = Store::open(&path).unwrap();
        let alert = NewAlert {
            key: "clock:INC-2026-001:response:75".into(),
            incident_id: None,
            kind: "clock-near".into(),
            text: "response clock at 75%".into(),
            recipient: None,
            raised_by: "alice".into(),
            raised_at: "2026-11-22T10:00:00Z".parse().unwrap(),
        };
        assert!(a.raise_alert(&alert).unwrap());
        assert!(!b.raise_alert(&alert).unwrap());
        assert!(!a.raise_alert(&alert).unwrap());
    }
}
