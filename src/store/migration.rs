//! One step of the schema: the version it brings the file to and its SQL.
//! Each room declares its own steps; `schema` lists them in order.

pub struct Migration {
    pub version: i64,
    pub sql: &'static str,
}
