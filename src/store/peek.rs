//! Looking into a database without opening it for work: read-only, never
//! creating, migrating or locking it. For shell completion (which must stay
//! quiet and fast) and `warroom doctor` (which must not change what it
//! examines).

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{APPLICATION_ID, Result, StoreError, schema, sqlite_error};

/// What a look into a database file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peek {
    /// `PRAGMA user_version`: 0 for a file no warroom has written yet.
    pub schema: i64,
    /// The newest schema this build knows.
    pub known: i64,
    /// `PRAGMA quick_check`'s findings; empty when the file is sound.
    pub damage: Vec<String>,
}

fn open_read_only(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(path, flags).map_err(|e| sqlite_error(path, e))
}

/// Reads the schema version and checks the file is a warroom database and
/// sound. A missing file is an error (nothing is created).
pub fn peek(path: &Path) -> Result<Peek> {
    let conn = open_read_only(path)?;
    let err = |e| sqlite_error(path, e);
    let (app_id, tables, schema): (i32, i64, i64) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id),
                    (SELECT count(*) FROM sqlite_master),
                    (SELECT user_version FROM pragma_user_version)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(err)?;
    if app_id != APPLICATION_ID && (app_id != 0 || tables > 0) {
        return Err(StoreError::NotWarroom {
            path: path.to_path_buf(),
            detail: format!("application id {app_id:#x}, {tables} schema objects"),
        });
    }
    let known = schema::MIGRATIONS
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    let mut stmt = conn.prepare("PRAGMA quick_check").map_err(err)?;
    let damage = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(err)?
        .collect::<rusqlite::Result<Vec<String>>>()
        .map_err(err)?
        .into_iter()
        .filter(|l| l != "ok")
        .collect();
    Ok(Peek {
        schema,
        known,
        damage,
    })
}

/// The ids of incidents not closed, newest first; empty for a file that
/// does not exist or holds no incidents yet.
pub fn open_incident_ids(path: &Path) -> Result<Vec<String>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn = open_read_only(path)?;
    let err = |e| sqlite_error(path, e);
    let has_table: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'incidents'",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    if !has_table {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare("SELECT id FROM incidents WHERE status != 'closed' ORDER BY year DESC, seq DESC")
        .map_err(err)?;
    stmt.query_map([], |r| r.get::<_, String>(0))
        .map_err(err)?
        .collect::<rusqlite::Result<Vec<String>>>()
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn peeking_never_creates_and_reads_what_store_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        assert!(peek(&path).is_err());
        assert_eq!(open_incident_ids(&path).unwrap(), Vec::<String>::new());
        assert!(!path.exists(), "a peek must not create the database");
        drop(Store::open(&path).unwrap());
        let p = peek(&path).unwrap();
        assert_eq!(p.schema, p.known);
        assert!(p.damage.is_empty());
    }

    #[test]
    fn a_foreign_sqlite_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE t (x)").unwrap();
        drop(c);
        assert!(matches!(peek(&path), Err(StoreError::NotWarroom { .. })));
    }
}
