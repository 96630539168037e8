//! Autosaved drafts: one body per (owner, key), e.g. ("alice", "new-incident")
//! or ("alice", "compose:INC-2026-001:customers"). The body is opaque to the
//! store (the console keeps JSON there).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::domain::event::format_time;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub owner: String,
    pub key: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
}

fn draft_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Draft> {
    Ok(Draft {
        owner: r.get(0)?,
        key: r.get(1)?,
        body: r.get(2)?,
        updated_at: super::rows::parse_time(r, 3)?,
    })
}

impl Store {
    /// Saves (replaces) a draft. Cheap enough to call every few seconds.
    pub fn save_draft(
        &mut self,
        owner: &str,
        key: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO drafts (owner, key, body, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (owner, key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                params![owner, key, body, format_time(now)],
            )?;
            Ok(())
        })
    }

    pub fn load_draft(&self, owner: &str, key: &str) -> Result<Option<Draft>> {
        self.conn
            .query_row(
                "SELECT owner, key, body, updated_at FROM drafts WHERE owner = ?1 AND key = ?2",
                params![owner, key],
                draft_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Drafts of one owner whose key starts with `prefix`, newest first.
    pub fn drafts(&self, owner: &str, prefix: &str) -> Result<Vec<Draft>> {
        self.query_all(
            "SELECT owner, key, body, updated_at FROM drafts
                 WHERE owner = ?1 AND substr(key, 1, length(?2)) = ?2 ORDER BY updated_at DESC",
            params![owner, prefix],
            draft_from_row,
        )
    }

    pub fn delete_draft(&mut self, owner: &str, key: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM drafts WHERE owner = ?1 AND key = ?2",
                params![owner, key],
            )?;
            Ok(())
        })
    }
}
