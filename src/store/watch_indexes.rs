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

/// 18: one open detection per rule and key, kept by triggers instead of a
/// unique partial index on (rule, key): that index held a second copy of
/// the first two columns of the (rule, key, number) one, 0.43 MB of a
/// 5,000-address flood's 5.7. Lookups of the open detection of a rule and
/// key search that index too, written `+open = 1` so that the planner never
/// takes the (open, id) index instead: that is every open detection.
pub(super) const MIGRATION_ONE_OPEN: Migration = Migration {
    version: 18,
    sql: r#"
DROP INDEX detections_open;
CREATE TRIGGER detections_one_open_insert BEFORE INSERT ON detections
WHEN NEW.open = 1 AND EXISTS (
    SELECT 1 FROM detections WHERE rule = NEW.rule AND key = NEW.key AND +open = 1)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: one open detection per rule and key');
END;
CREATE TRIGGER detections_one_open_update BEFORE UPDATE OF open, rule, key ON detections
WHEN NEW.open = 1 AND EXISTS (
    SELECT 1 FROM detections
    WHERE rule = NEW.rule AND key = NEW.key AND +open = 1 AND id <> NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: one open detection per rule and key');
END;
"#,
};
