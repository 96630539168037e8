//! Versioned migrations. `PRAGMA user_version` holds the newest applied;
//! each runs once, inside the same IMMEDIATE transaction that bumps the
//! version, so two processes opening a new file at once cannot both apply it.
//! Each room owns its migrations and lists them in `MIGRATIONS`; versions
//! must count 1, 2, 3... (a unit test checks). 4 is the rule watcher's
//! (`store/watcher.rs`), 5 and 6 are comms' (`store/comms.rs`), 7 the watcher leases'
//! (`store/watch_lease.rs`), 8 the clock history (`store/clocks.rs`), 9 the
//! alert log and cancelled alert deliveries (`store/alert_log.rs`), 10 intake
//! (`store/intake.rs`), 11 source reads, 12 intake ways in (`store/intake_status.rs`),
//! 13 the watcher's lookup indexes (`store/watch_indexes.rs`), 14 campaigns and
//! reports of the watcher's incidents (`store/campaigns.rs`), 15 presence
//! (`store/presence.rs`), 16 the customer summary and delivery handovers
//! (`store/comms`), 17 the roster's roles and on-call (`store/roster.rs`);
//! next free: 18.

/// `PRAGMA application_id` of a warroom database ("WRRM"), so we refuse to
/// write into somebody else's SQLite file.
pub const APPLICATION_ID: i32 = 0x5752_524D;

pub use super::migration::Migration;

pub const MIGRATIONS: &[Migration] = &[
    CORE,
    DRAFTS,
    EVIDENCE_REVIEW,
    super::watcher::MIGRATION,
    super::comms::MIGRATION,
    super::comms::MIGRATION_ESCALATIONS,
    super::watch_lease::MIGRATION,
    super::clocks::MIGRATION,
    super::alert_log::MIGRATION,
    super::intake::MIGRATION,
    super::source_reads::MIGRATION,
    super::intake_status::MIGRATION,
    super::watch_indexes::MIGRATION,
    super::campaigns::MIGRATION,
    super::presence::MIGRATION,
    super::comms::MIGRATION_CUSTOMER,
    super::roster::MIGRATION,
    super::watch_indexes::MIGRATION_ONE_OPEN,
];

/// 1: incidents, checklist, roles, roster, the hash-chained timeline.
const CORE: Migration = Migration {
    version: 1,
    sql: r#"
CREATE TABLE id_sequences (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL CHECK (severity IN ('P1', 'P2', 'P3', 'P4')),
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    source TEXT NOT NULL,
    affected TEXT NOT NULL DEFAULT '',
    cia_confidentiality TEXT NOT NULL DEFAULT 'none',
    cia_integrity TEXT NOT NULL DEFAULT 'none',
    cia_availability TEXT NOT NULL DEFAULT 'none',
    customer_impact TEXT NOT NULL DEFAULT '',
    personal_data_breach INTEGER NOT NULL DEFAULT 0,
    drill INTEGER NOT NULL DEFAULT 0,
    detected_at TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    acknowledged_at TEXT,
    contained_at TEXT,
    resolved_at TEXT,
    closed_at TEXT,
    customer_notified_at TEXT,
    regulator_notified_at TEXT,
    last_update_at TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX incidents_by_status ON incidents (status);

CREATE TABLE checklist (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    phase TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'not_applicable')),
    reason TEXT,
    changed_by TEXT,
    changed_at TEXT,
    PRIMARY KEY (incident_id, item_id)
) WITHOUT ROWID;

CREATE TABLE people (
    handle TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    contact TEXT NOT NULL DEFAULT ''
);

CREATE TABLE role_assignments (
    id INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    person TEXT NOT NULL,
    since TEXT NOT NULL,
    until TEXT,
    assigned_by TEXT NOT NULL
);
-- One current holder per role and incident.
CREATE UNIQUE INDEX role_current ON role_assignments (incident_id, role) WHERE until IS NULL;
CREATE INDEX role_by_incident ON role_assignments (incident_id, role, since);

-- The timeline. Two chains: 'live' for real incidents and the roster,
-- 'drill' for exercises, so drills can be purged as a set without breaking
-- the live chain. chain_seq counts 1, 2, 3... within its chain.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    chain TEXT NOT NULL CHECK (chain IN ('live', 'drill')),
    chain_seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    incident_id TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (chain, chain_seq)
);
CREATE INDEX events_by_incident ON events (incident_id, seq);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'timeline events are append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'timeline events are append-only');
END;
"#,
};

/// 2: drafts in progress (forms, messages), autosaved so a dropped SSH link
/// or a crash loses at most the last few seconds of typing. Not part of the
/// timeline: a draft is scratch until it is submitted or sent.
const DRAFTS: Migration = Migration {
    version: 2,
    sql: r#"
CREATE TABLE drafts (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (owner, key)
) WITHOUT ROWID;
"#,
};

/// 3: evidence with chain of custody, legal holds, post-incident reviews
/// and corrective actions. Evidence rows are append-only like the timeline;
/// drill rows (and the drill chain of the timeline) may be deleted, so that
/// `drill purge` can remove exercises as a set while the live record stays.
const EVIDENCE_REVIEW: Migration = Migration {
    version: 3,
    sql: r#"
CREATE TABLE evidence (
    id INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL CHECK (kind IN ('file', 'excerpt', 'note')),
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    collected_by TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    collected_at_local TEXT NOT NULL,
    source_host TEXT NOT NULL,
    source_path TEXT,
    description TEXT NOT NULL DEFAULT '',
    content TEXT,
    stored_path TEXT NOT NULL,
    drill INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX evidence_by_incident ON evidence (incident_id, id);
CREATE INDEX evidence_by_hash ON evidence (sha256);

CREATE TRIGGER evidence_append_only_update BEFORE UPDATE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only');
END;
CREATE TRIGGER evidence_append_only_delete BEFORE DELETE ON evidence
WHEN OLD.drill = 0
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only');
END;

-- The live chain stays append-only; the drill chain may be purged whole.
DROP TRIGGER events_append_only_delete;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
WHEN OLD.chain <> 'drill'
BEGIN
    SELECT RAISE(ABORT, 'timeline events are append-only');
END;

-- Current legal holds; setting and lifting are in the timeline.
CREATE TABLE legal_holds (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE reviews (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    statement TEXT NOT NULL DEFAULT '',
    whys TEXT NOT NULL DEFAULT '[]',
    root_cause TEXT NOT NULL DEFAULT '',
    lessons TEXT NOT NULL DEFAULT '',
    went_well TEXT NOT NULL DEFAULT '',
    went_badly TEXT NOT NULL DEFAULT '',
    no_action_reason TEXT,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE corrective_actions (
    id INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    owner TEXT NOT NULL,
    due TEXT,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dropped')),
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX actions_by_incident ON corrective_actions (incident_id, id);
"#,
};

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    #[test]
    fn migration_versions_count_from_one_without_gaps() {
        let mut versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        versions.sort();
        let expected: Vec<i64> = (1..=MIGRATIONS.len() as i64).collect();
        assert_eq!(versions, expected);
    }
}
