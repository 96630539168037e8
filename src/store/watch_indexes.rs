//! Indexes for every query on a delivery or detection path. A flood of
//! detections made some of them full-table scans (an alert's detection
//! looked up by its key scanned every detection: quadratic delivery); the
//! query-plan test (`query_plan_tests.rs`) runs each statement those paths
//! execute through `EXPLAIN QUERY PLAN` and fails on a scan of a big table.

use super::migration::Migration;

/// 12: indexes for the watcher's and the alert deliveries' lookups.
pub(super) const MIGRATION: Migration = Migration {
    version: 13,
    sql: r#"
-- The detection an alert was raised for (what its delivery says).
CREATE INDEX detections_by_alert ON detections (alert_key, id) WHERE alert_key IS NOT NULL;
-- The open detections a watcher restores, and those a resolved incident closes.
CREATE INDEX detections_by_open ON detections (open, id);
-- The replay marks of a detection: its foreign key is checked against them
-- on every detection inserted (and deleted with a drill).
CREATE INDEX detection_replays_by_detection ON detection_replays (detection_id);
"#,
};
