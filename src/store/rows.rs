//! Reading columns back into Rust values, shared by every room of the
//! store: times (RFC 3339 text), enums parsed from their names, and the
//! checks of names and reasons every change asks for.

use chrono::{DateTime, Utc};
use rusqlite::Row;

use super::{Result, Store, StoreError};
use crate::domain::event::format_time;

/// A time serialized as the store writes it (RFC 3339, UTC).
pub(super) fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

pub(super) fn conversion(
    i: usize,
    e: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

pub(super) fn parse_col<T: std::str::FromStr>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    // Borrow the column's text: no allocation per enum column per row.
    r.get_ref(i)?
        .as_str()
        .map_err(|e| conversion(i, e))?
        .parse()
        .map_err(|e| conversion(i, e))
}

pub(super) fn parse_time(r: &Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s = r.get_ref(i)?.as_str().map_err(|e| conversion(i, e))?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| conversion(i, e))
}

pub(super) fn parse_opt_time(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match r.get_ref(i)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => parse_time(r, i).map(Some),
    }
}

/// `text` without its surrounding white space, or `Invalid(missing)` when
/// nothing is left: for the names, reasons and purposes a change needs.
pub(super) fn non_blank<'a>(text: &'a str, missing: &str) -> Result<&'a str> {
    let text = text.trim();
    if text.is_empty() {
        return Err(StoreError::Invalid(missing.to_string()));
    }
    Ok(text)
}

pub(super) fn opt_time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(format_time)
}

impl Store {
    /// Every row `sql` selects with `params`, read by `from_row`, in the
    /// order the query gives (a read outside any write transaction).
    pub(super) fn query_all<T, C, P>(
        &self,
        sql: &str,
        params: P,
        from_row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<C>
    where
        C: FromIterator<T>,
        P: rusqlite::Params,
    {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        stmt.query_map(params, from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}
