//! Delivery leases: a failed or abandoned delivery is claimed by one
//! process before it is retried, and that process renews its claim just
//! before each try, so two senders never deliver the same thing twice.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use crate::domain::event::format_time;

/// Where one kind of delivery keeps its lease: the table and the column
/// naming what is delivered. Message deliveries and alert deliveries are
/// claimed and renewed the same way; only these names differ.
#[derive(Clone, Copy)]
pub(super) struct LeaseTable {
    table: &'static str,
    key_column: &'static str,
}

pub(super) const MESSAGE_DELIVERY_LEASES: LeaseTable = LeaseTable {
    table: "deliveries",
    key_column: "message_id",
};

pub(super) const ALERT_DELIVERY_LEASES: LeaseTable = LeaseTable {
    table: "alert_deliveries",
    key_column: "alert_key",
};

impl LeaseTable {
    /// Takes a failed (or stale pending) delivery for a retry: marks it
    /// pending as of `now`. True for the one process whose update hit the
    /// row.
    pub(super) fn claim(
        self,
        tx: &Transaction<'_>,
        key: &dyn rusqlite::ToSql,
        sink: &str,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<bool> {
        let set = "state = 'pending', updated_at = ?4";
        let held = "(state = 'failed' OR (state = 'pending' AND updated_at < ?3))";
        self.stamp(tx, set, held, key, sink, stale_before, now)
    }

    /// Moves a pending delivery's stamp from `held_since` (the stamp this
    /// process set) to `now`; false when the delivery is no longer held
    /// with that stamp (delivered, or claimed by another process).
    pub(super) fn renew(
        self,
        tx: &Transaction<'_>,
        key: &dyn rusqlite::ToSql,
        sink: &str,
        held_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<bool> {
        let held = "state = 'pending' AND updated_at = ?3";
        self.stamp(tx, "updated_at = ?4", held, key, sink, held_since, now)
    }

    /// Applies `set` to the one delivery of `key` through `sink` if it is
    /// `held` (`?3` is `then`, `?4` is `now`); true when it was.
    #[allow(clippy::too_many_arguments)]
    fn stamp(
        self,
        tx: &Transaction<'_>,
        set: &str,
        held: &str,
        key: &dyn rusqlite::ToSql,
        sink: &str,
        then: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<bool> {
        let LeaseTable { table, key_column } = self;
        let n = tx.execute(
            &format!("UPDATE {table} SET {set} WHERE {key_column} = ?1 AND sink = ?2 AND {held}"),
            params![key, sink, format_time(then), format_time(now)],
        )?;
        Ok(n == 1)
    }
}
