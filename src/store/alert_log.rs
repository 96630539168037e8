//! Alerts as every console sees them. Raising an alert is once across all
//! processes (its key), and so is delivering it through the sinks; showing
//! it is per console: each console reads every alert raised after the last
//! one it has shown (`alerts_after`), with whether its incident has been
//! acknowledged, and each user gets a desktop notification of it once
//! (`claim_desktop_notification`), whichever of their consoles claims it.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::comms::NewAlert;
use super::migration::Migration;
use super::rows::{parse_opt_time, parse_time};
use super::{Result, Store};
use crate::domain::event::format_time;

/// 9: alert deliveries may be `cancelled`; every alert raised gets a
/// number in the order raised (`alert_log`, filled by a trigger so no
/// writer can forget it); who has had each desktop notification.
pub(super) const MIGRATION: Migration = Migration {
    version: 9,
    sql: r#"
CREATE TABLE alert_deliveries_v9 (
    alert_key TEXT NOT NULL REFERENCES alerts (key) ON DELETE CASCADE,
    sink TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    detail TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (alert_key, sink)
) WITHOUT ROWID;
INSERT INTO alert_deliveries_v9 (alert_key, sink, state, detail, attempts, updated_at)
    SELECT alert_key, sink, state, detail, attempts, updated_at FROM alert_deliveries;
DROP TABLE alert_deliveries;
ALTER TABLE alert_deliveries_v9 RENAME TO alert_deliveries;
CREATE INDEX alert_deliveries_open ON alert_deliveries (state, alert_key)
    WHERE state NOT IN ('delivered', 'cancelled');

CREATE TABLE alert_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE REFERENCES alerts (key) ON DELETE CASCADE
);
INSERT INTO alert_log (key) SELECT key FROM alerts ORDER BY raised_at, key;
CREATE TRIGGER alerts_logged AFTER INSERT ON alerts
BEGIN
    INSERT INTO alert_log (key) VALUES (NEW.key);
END;

CREATE TABLE alert_notified (
    alert_key TEXT NOT NULL REFERENCES alerts (key) ON DELETE CASCADE,
    user TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (alert_key, user)
) WITHOUT ROWID;
"#,
};

/// An alert as a console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RaisedAlert {
    /// Its number in the order alerts were raised (a console's cursor).
    pub id: i64,
    pub alert: NewAlert,
    /// When its incident was acknowledged, if it has one and it was.
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Every alert raised after the one numbered `after` (0: from the
    /// first), oldest first, at most `limit`: what a console shows as
    /// toasts and keeps in its alert list, whoever raised them.
    pub fn alerts_after(&self, after: i64, limit: usize) -> Result<Vec<RaisedAlert>> {
        self.query_all(
            "SELECT l.id, a.key, a.incident_id, a.kind, a.text, a.recipient, a.raised_by,
                    a.raised_at, i.acknowledged_at
             FROM alert_log l JOIN alerts a ON a.key = l.key
             LEFT JOIN incidents i ON i.id = a.incident_id
             WHERE l.id > ?1 ORDER BY l.id LIMIT ?2",
            params![after, limit.min(i64::MAX as usize) as i64],
            |r| {
                Ok(RaisedAlert {
                    id: r.get(0)?,
                    alert: NewAlert {
                        key: r.get(1)?,
                        incident_id: r.get(2)?,
                        kind: r.get(3)?,
                        text: r.get(4)?,
                        recipient: r.get(5)?,
                        raised_by: r.get(6)?,
                        raised_at: parse_time(r, 7)?,
                    },
                    acknowledged_at: parse_opt_time(r, 8)?,
                })
            },
        )
    }

    /// The number of the newest alert raised (0 when none): where a
    /// console that should show only what comes next starts.
    pub fn last_alert_id(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM alert_log", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))
    }

    /// Takes the desktop notification of an alert for `user`: true for the
    /// one call (of all that user's consoles) that should show it.
    pub fn claim_desktop_notification(
        &mut self,
        key: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "INSERT INTO alert_notified (alert_key, user, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![key, user, format_time(now)],
            )?;
            Ok(n == 1)
        })
    }
}
