//! The SQLite schema, as an append-only list of migrations tracked by `PRAGMA user_version`.
//!
//! The SQL lives in `migrations/sqlite/` beside this crate, one file per migration, numbered.
//! A file never changes once it has shipped: a change to the schema is a new file.

//!
//! SQLite cannot run Rust, so a migration that must compute values with the app's own code (0004
//! rewrites the folded columns with [`crate::fold::fold`]) runs a hook after its SQL, inside the
//! same transaction: the database is never seen half-migrated.

use std::sync::LazyLock;

use rusqlite::Transaction;
use rusqlite_migration::{HookError, HookResult, Migrations, M};

use crate::table::books;

/// The schema's migrations, oldest first, applied by every open (`db.rs`).
pub(crate) static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!(
            "../migrations/sqlite/0001_books_outbox_sync_meta.sql"
        )),
        M::up(include_str!(
            "../migrations/sqlite/0002_conflicts_rejections.sql"
        )),
        M::up(include_str!(
            "../migrations/sqlite/0003_unreadable_rows.sql"
        )),
        M::up_with_hook(
            include_str!("../migrations/sqlite/0004_isbn_fold_imports.sql"),
            refold,
        ),
    ])
});

/// 0004's hook: the folded columns, written by 0001–0003 with `to_lowercase`, are rewritten
/// with today's fold (accents removed too), so "godel" finds "Gödel" in an upgraded database.
fn refold(tx: &Transaction<'_>) -> HookResult {
    let rows = books::refold_all(tx).map_err(|error| match error {
        crate::Error::Sqlite(source) => HookError::RusqliteError(source),
        other => HookError::Hook(other.to_string()),
    })?;
    tracing::info!(rows, "folded titles and authors rewritten");
    Ok(())
}

/// Brings `conn` to the schema 0001–0003 made and writes `rows` (title, author) the way that
/// version wrote them (folded with `to_lowercase`): a database as Bookwish left it before 0004.
#[cfg(test)]
pub(crate) fn old_database(
    conn: &mut rusqlite::Connection,
    rows: &[(&str, &str)],
) -> crate::Result<()> {
    Migrations::new(vec![
        M::up(include_str!(
            "../migrations/sqlite/0001_books_outbox_sync_meta.sql"
        )),
        M::up(include_str!(
            "../migrations/sqlite/0002_conflicts_rejections.sql"
        )),
        M::up(include_str!(
            "../migrations/sqlite/0003_unreadable_rows.sql"
        )),
    ])
    .to_latest(conn)?;
    for (n, (title, author)) in rows.iter().enumerate() {
        conn.execute(
            "INSERT INTO books (id, title, author, created_at, updated_at, title_fold,
                                    author_fold)
                 VALUES (?1, ?2, ?3, 1, 1, ?4, ?5)",
            (
                format!("00000000-0000-7000-8000-{n:012}"),
                title,
                author,
                title.to_lowercase(),
                author.to_lowercase(),
            ),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() -> Result<(), rusqlite_migration::Error> {
        MIGRATIONS.validate()
    }

    #[test]
    fn upgrading_refolds_titles_and_authors_with_accents_removed() -> crate::Result<()> {
        #[allow(clippy::disallowed_methods)] // a test's own scratch database
        let mut conn = rusqlite::Connection::open_in_memory()?;
        old_database(
            &mut conn,
            &[
                ("Gödel, Escher, Bach", "Douglas Hofstadter"),
                ("Émile", "Rousseau"),
            ],
        )?;
        MIGRATIONS.to_latest(&mut conn)?;
        let folded: Vec<(String, String)> = conn
            .prepare("SELECT title_fold, author_fold FROM books ORDER BY id")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        assert_eq!(
            folded,
            [
                (
                    "godel, escher, bach".to_owned(),
                    "douglas hofstadter".to_owned()
                ),
                ("emile".to_owned(), "rousseau".to_owned())
            ],
            "0004 rewrites every folded column with the accent-removing fold"
        );
        Ok(())
    }
}
