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

#[cfg(test)]
mod upgrade_tests {
    use bookwish_ipc::ListQuery;
    use rusqlite::Connection;

    use crate::{Error, Replica, Store};

    /// A database as Bookwish 0.1.0 left it: its two migrations, and a row in every table.
    fn written_by_0_1_0(path: &std::path::Path) -> rusqlite::Result<()> {
        #[allow(clippy::disallowed_methods)] // playing the old app, which wrote the file itself
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(include_str!(
            "../migrations/sqlite/0001_books_outbox_sync_meta.sql"
        ))?;
        conn.execute_batch(include_str!(
            "../migrations/sqlite/0002_conflicts_rejections.sql"
        ))?;
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO books (id, title, author, status, notes, rating, started_on,
                                finished_on, created_at, updated_at, deleted, server_version,
                                title_fold, author_fold)
             VALUES ('0190c3b2-0000-7000-8000-000000000001', 'Dune', 'Frank Herbert', 'Reading',
                     'Spice', 5, '2024-01-02', NULL, 1700000000000, 1700000000001, 0, 7,
                     'dune', 'frank herbert'),
                    ('0190c3b2-0000-7000-8000-000000000002', 'Emma', '', 'Wishlist', '', NULL,
                     NULL, NULL, 1700000000002, 1700000000003, 1, 8, 'emma', '');
             INSERT INTO outbox (book_id, patch, base_version, hlc, mutation_id, created_at,
                                 updated_at)
             VALUES ('0190c3b2-0000-7000-8000-000000000001', '{\"notes\":\"Spice\"}', 7,
                     '0001700000000001-00000-0190c3b2-0000-7000-8000-00000000000d',
                     '0190c3b2-0000-7000-8000-0000000000aa', 1700000000001, 1700000000001);
             INSERT INTO sync_meta (key, value) VALUES
                 ('device_id', '0190c3b2-0000-7000-8000-00000000000d'),
                 ('hlc', '0001700000000001-00000-0190c3b2-0000-7000-8000-00000000000d'),
                 ('sync_cursor', '8'),
                 ('setting.local_books', 'kept');
             INSERT INTO conflicts (book_id, field, kept_value, lost_value, winner, detected_at)
             VALUES ('0190c3b2-0000-7000-8000-000000000001', 'title', '\"Dune\"',
                     '\"Dune Messiah\"', 'server', 1700000000004);
             INSERT INTO rejections (book_id, mutation_id, patch, code, message, rejected_at)
             VALUES ('0190c3b2-0000-7000-8000-000000000001',
                     '0190c3b2-0000-7000-8000-0000000000bb', '{\"rating\":9}',
                     'check_violation', 'Rating must be 1 to 5.', 1700000000005);",
        )
    }

    #[test]
    fn a_database_written_by_0_1_0_opens_with_nothing_lost() -> crate::Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("local.sqlite3");
        written_by_0_1_0(&path)?;

        let mut store = Store::open(&path)?;
        let list = store.list(&ListQuery::default())?;
        assert_eq!(
            list.books.len(),
            1,
            "the live book is listed, the tombstone is not"
        );
        let dune = store.get(list.books[0].id)?;
        assert_eq!(
            (dune.title.as_str(), dune.notes.as_str(), dune.rating),
            ("Dune", "Spice", Some(5)),
            "every field of a 0.1.0 book survives the upgrade"
        );
        assert!(
            store.restore(list.books[0].id).is_ok(),
            "books stay editable"
        );
        let outbox = store.outbox()?;
        assert_eq!(
            outbox.len(),
            1,
            "the change 0.1.0 had not pushed yet is still queued"
        );
        assert_eq!(outbox[0].base_version, Some(7), "with its base version");
        let issues = store.sync_issues()?;
        assert_eq!(
            (issues.conflicts.len(), issues.rejections.len()),
            (1, 1),
            "conflicts and refused changes waiting for the user survive"
        );
        assert_eq!(
            store.device_id().to_string(),
            "0190c3b2-0000-7000-8000-00000000000d",
            "the device keeps its id (the server's ledger knows it by that id)"
        );
        drop(store);
        let replica = Replica::open(&path)?;
        assert_eq!(replica.cursor()?, 8, "the pull cursor survives");
        assert_eq!(replica.pending()?, 1, "and the pending count");
        Ok(())
    }

    #[test]
    fn a_database_from_a_newer_app_is_refused_and_left_untouched() -> crate::Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("local.sqlite3");
        written_by_0_1_0(&path)?;
        {
            #[allow(clippy::disallowed_methods)] // playing a newer app
            let conn = Connection::open(&path)?;
            conn.pragma_update(None, "user_version", 99)?;
        }
        let before = std::fs::read(&path).expect("the file");
        let opened = Store::open(&path);
        assert!(
            matches!(opened, Err(Error::TooNew)),
            "a schema ahead of this app's must be refused, not migrated: {opened:?}"
        );
        let message = bookwish_ipc::IpcError::from(Error::TooNew).message;
        assert!(
            message.contains("newer version of Bookwish")
                && message.contains("nothing was changed"),
            "the user learns why and that nothing was lost: {message}"
        );
        assert_eq!(
            std::fs::read(&path).expect("the file"),
            before,
            "the newer app's file is left exactly as it was"
        );
        Ok(())
    }
}
