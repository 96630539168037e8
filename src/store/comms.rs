//! Communications: messages sent (immutable, like the timeline), their
//! delivery through each sink, and responder alerts recorded under a unique
//! key before they are shown, so each fires once across every process.

use super::schema::Migration;

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
