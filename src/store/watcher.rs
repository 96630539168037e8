//! The rule watcher's durable state: where each followed file was read up
//! to, the sliding windows of each rule and key, and the detections they
//! produced. All three are written in one transaction, so a watcher killed
//! at any moment restarts exactly where its last commit left it.

use super::schema::Migration;

/// 4: watcher checkpoints, window state and detections.
pub(super) const MIGRATION: Migration = Migration {
    version: 4,
    sql: r#"
-- One row per followed path. A file is the same file when device, inode and
-- the fingerprint of its first bytes all match; otherwise it was rotated.
CREATE TABLE watch_checkpoints (
    path TEXT PRIMARY KEY,
    dev INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    offset INTEGER NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- The events inside each rule's window, per key, so counting resumes.
CREATE TABLE watch_windows (
    rule TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (rule, key)
) WITHOUT ROWID;

-- One open detection per rule and key (suppression); later hits update it.
CREATE TABLE detections (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    key TEXT NOT NULL,
    severity TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    incident_id TEXT REFERENCES incidents (id) ON DELETE CASCADE,
    open INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX detections_open ON detections (rule, key) WHERE open = 1;
"#,
};
