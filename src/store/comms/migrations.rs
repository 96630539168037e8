//! The comms room's schema steps: messages, deliveries and alerts (5);
//! escalation deliveries (6). Listed in order in `schema::MIGRATIONS`.

use super::super::migration::Migration;

/// 5: sent messages, deliveries, alerts.
pub(in crate::store) const MIGRATION: Migration = Migration {
    version: 5,
    sql: r#"
-- A message as sent: never changed (triggers), deleted only with a drill.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    audience TEXT NOT NULL
        CHECK (audience IN ('customers', 'internal', 'executives', 'regulator')),
    template TEXT,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    author TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    drill INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_by_incident ON messages (incident_id, audience, id);

CREATE TRIGGER messages_immutable_update BEFORE UPDATE ON messages
BEGIN
    SELECT RAISE(ABORT, 'sent messages are immutable');
END;
CREATE TRIGGER messages_immutable_delete BEFORE DELETE ON messages
WHEN OLD.drill = 0
BEGIN
    SELECT RAISE(ABORT, 'sent messages are immutable');
END;

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
CREATE INDEX deliveries_open ON deliveries (state, message_id) WHERE state <> 'delivered';

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
CREATE INDEX alerts_by_time ON alerts (raised_at);
"#,
};

/// 6: escalations delivered through the sinks, one row per alert and sink,
/// inserted with the alert in one transaction and retried like message
/// deliveries.
pub(in crate::store) const MIGRATION_ESCALATIONS: Migration = Migration {
    version: 6,
    sql: r#"
CREATE TABLE alert_deliveries (
    alert_key TEXT NOT NULL REFERENCES alerts (key) ON DELETE CASCADE,
    sink TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    detail TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (alert_key, sink)
) WITHOUT ROWID;
CREATE INDEX alert_deliveries_open ON alert_deliveries (state, alert_key)
    WHERE state <> 'delivered';
"#,
};

/// 16: what customers are told, kept apart from the internal summary; and
/// how far each delivery went (`sent`, or only `outbox` / `clipboard`, where
/// a person must still send it), so nothing reports an outbox file as sent.
/// Rows delivered before this step have no handover (shown as delivered).
pub(in crate::store) const MIGRATION_CUSTOMER: Migration = Migration {
    version: 16,
    sql: r#"
ALTER TABLE incidents ADD COLUMN customer_summary TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN handover TEXT
    CHECK (handover IS NULL OR handover IN ('sent', 'outbox', 'clipboard'));
"#,
};
