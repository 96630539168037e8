//! Presence: who has a console open, and on which incident. Each console
//! beats a row every few seconds; a row not beaten for `stale_after` is
//! gone (a console killed without a word drops out by itself) and is pruned
//! the next time anyone asks. Not part of the record: no timeline events.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::migration::Migration;
use super::rows::parse_time;
use super::{Result, Store, StoreError};
use crate::domain::IncidentId;
use crate::domain::event::format_time;

/// 15: one row per running console.
pub(super) const MIGRATION: Migration = Migration {
    version: 15,
    sql: r#"
CREATE TABLE presence (
    console_id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    -- No foreign key: a purged drill must not wait for its viewers.
    incident_id TEXT NULL,
    started_at TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE INDEX presence_by_seen ON presence (seen_at);
"#,
};

/// How often a console beats.
pub const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// A row not beaten for this long is gone: three missed beats, so a
/// console killed without a word drops out within 6 to 8 seconds.
pub const STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(6);

/// Who a console is: fixed for its run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleId {
    pub id: String,
    pub actor: String,
    pub pid: u32,
    pub host: String,
}

impl ConsoleId {
    /// This process, as `actor`: unique per host, process and start.
    pub fn this_process(actor: &str, host: &str, started: DateTime<Utc>) -> ConsoleId {
        let pid = std::process::id();
        ConsoleId {
            id: format!("{host}:{pid}:{}", started.timestamp_millis()),
            actor: actor.to_string(),
            pid,
            host: host.to_string(),
        }
    }
}

/// One console seen recently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Presence {
    pub console_id: String,
    pub actor: String,
    pub pid: u32,
    pub host: String,
    /// The incident it is viewing, if any.
    pub incident: Option<String>,
    #[serde(serialize_with = "ser_time")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub seen_at: DateTime<Utc>,
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

impl Store {
    /// The console is alive at `now`, viewing `incident` (or the board).
    pub fn heartbeat(
        &mut self,
        console: &ConsoleId,
        incident: Option<&IncidentId>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if console.id.trim().is_empty() || console.actor.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a console's presence needs an id and an actor".into(),
            ));
        }
        let now_s = format_time(now);
        self.write(|tx| {
            tx.execute(
                "INSERT INTO presence (console_id, actor, pid, host, incident_id, started_at, seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT (console_id) DO UPDATE SET
                    actor = excluded.actor, incident_id = excluded.incident_id,
                    seen_at = excluded.seen_at",
                params![
                    console.id,
                    console.actor,
                    console.pid,
                    console.host,
                    incident.map(IncidentId::as_str),
                    now_s
                ],
            )?;
            Ok(())
        })
    }

    /// The console is closing: its row goes now, not after `stale_after`.
    pub fn leave(&mut self, console_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM presence WHERE console_id = ?1", [console_id])?;
            Ok(())
        })
    }

    /// Consoles seen within `stale_after` of `now`, by incident then actor;
    /// older rows are pruned in the same transaction.
    pub fn present(
        &mut self,
        now: DateTime<Utc>,
        stale_after: chrono::Duration,
    ) -> Result<Vec<Presence>> {
        let cutoff = format_time(now - stale_after);
        self.write(|tx| {
            tx.execute("DELETE FROM presence WHERE seen_at < ?1", [&cutoff])?;
            let mut stmt = tx.prepare_cached(
                "SELECT console_id, actor, pid, host, incident_id, started_at, seen_at
                 FROM presence ORDER BY incident_id IS NULL, incident_id, actor, console_id",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Presence {
                        console_id: r.get(0)?,
                        actor: r.get(1)?,
                        pid: r.get(2)?,
                        host: r.get(3)?,
                        incident: r.get(4)?,
                        started_at: parse_time(r, 5)?,
                        seen_at: parse_time(r, 6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::store::test_fixtures::{open_temp, t0};

    fn console(id: &str, actor: &str) -> ConsoleId {
        ConsoleId {
            id: id.into(),
            actor: actor.into(),
            pid: 4242,
            host: "ops-1".into(),
        }
    }

    #[test]
    fn a_console_is_present_while_it_beats_and_gone_after() {
        let (_dir, mut store) = open_temp();
        let stale = Duration::seconds(6);
        let inc: IncidentId = "INC-2026-001".parse().unwrap();
        let (a, b) = (console("a", "alice"), console("b", "bob"));
        store.heartbeat(&a, Some(&inc), t0()).unwrap();
        store.heartbeat(&b, None, t0()).unwrap();
        let seen = store.present(t0() + Duration::seconds(1), stale).unwrap();
        let who: Vec<_> = seen
            .iter()
            .map(|p| (p.actor.as_str(), p.incident.as_deref()))
            .collect();
        assert_eq!(who, [("alice", Some("INC-2026-001")), ("bob", None)]);

        // alice keeps beating, bob was killed at t0.
        store
            .heartbeat(&a, Some(&inc), t0() + Duration::seconds(4))
            .unwrap();
        let seen = store.present(t0() + Duration::seconds(7), stale).unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].actor, "alice");
        assert_eq!(seen[0].started_at, t0());
        assert_eq!(seen[0].seen_at, t0() + Duration::seconds(4));
        // bob's row was pruned, not just hidden: a wider window still misses it.
        let seen = store
            .present(t0() + Duration::seconds(7), Duration::hours(1))
            .unwrap();
        assert_eq!(seen.len(), 1);

        // A console that closes leaves at once.
        store.leave("a").unwrap();
        assert!(
            store
                .present(t0() + Duration::seconds(5), stale)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_beat_moves_the_console_to_another_incident() {
        let (_dir, mut store) = open_temp();
        let a = console("a", "alice");
        let one: IncidentId = "INC-2026-001".parse().unwrap();
        let two: IncidentId = "INC-2026-002".parse().unwrap();
        store.heartbeat(&a, Some(&one), t0()).unwrap();
        store
            .heartbeat(&a, Some(&two), t0() + Duration::seconds(2))
            .unwrap();
        let seen = store
            .present(t0() + Duration::seconds(3), Duration::seconds(6))
            .unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].incident.as_deref(), Some("INC-2026-002"));
        assert_eq!(seen[0].started_at, t0());
        assert!(store.heartbeat(&console(" ", "x"), None, t0()).is_err());
    }
}
