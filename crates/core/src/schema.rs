//! The SQLite schema, as an append-only list of migrations tracked by `PRAGMA user_version`.
//!
//! The SQL lives in `migrations/sqlite/` beside this crate, one file per migration, numbered.
//! A file never changes once it has shipped: a change to the schema is a new file.

use rusqlite_migration::{Migrations, M};

/// Every migration, oldest first.
const MIGRATION_LIST: &[M<'static>] = &[
    M::up(include_str!(
        "../migrations/sqlite/0001_books_outbox_sync_meta.sql"
    )),
    M::up(include_str!(
        "../migrations/sqlite/0002_conflicts_rejections.sql"
    )),
    M::up(include_str!(
        "../migrations/sqlite/0003_unreadable_rows.sql"
    )),
];

/// The schema's migrations, applied by every open (`db.rs`).
pub(crate) const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_LIST);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() -> Result<(), rusqlite_migration::Error> {
        MIGRATIONS.validate()
    }
}
