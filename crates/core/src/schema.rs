//! The SQLite schema, as an append-only list of migrations tracked by `PRAGMA user_version`.
//!
//! The SQL lives in `migrations/sqlite/` beside this crate, one file per migration, numbered.
//! A file never changes once it has shipped: a change to the schema is a new file.

//!
//! SQLite cannot run Rust, so a migration that must compute values with the app's own code (0004
//! rewrites the folded columns with [`crate::fold::fold`]) runs a hook after its SQL, inside the
//! same transaction: the database is never seen half-migrated. So does one that edits a table's
//! definition in place (0005): SQLite needs the new schema version set as a literal.

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
        M::up_with_hook(
            include_str!("../migrations/sqlite/0005_status_check_without_a_list.sql"),
            reload_schema,
        ),
        M::up(include_str!(
            "../migrations/sqlite/0006_list_indexes_tie_by_rowid.sql"
        )),
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

/// 0005's hook: the last step of editing a table's definition in `sqlite_schema` — a new schema
/// version, so that every other connection open on the file reads the definition again.
fn reload_schema(tx: &Transaction<'_>) -> HookResult {
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
    tx.pragma_update(None, "schema_version", version + 1)?;
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

    /// The opcodes SQLite runs for `sql` on `conn` (`EXPLAIN`).
    fn opcodes(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<Vec<String>> {
        let mut statement = conn.prepare(&format!("EXPLAIN {sql}"))?;
        // Parameters left unbound: EXPLAIN only compiles the statement.
        let mut rows = statement.raw_query();
        let mut ops = Vec::new();
        while let Some(row) = rows.next()? {
            ops.push(row.get(1)?);
        }
        Ok(ops)
    }

    #[test]
    fn checking_a_book_against_the_schema_builds_no_table_per_row() -> crate::Result<()> {
        #[allow(clippy::disallowed_methods)] // a test's own scratch database
        let mut conn = rusqlite::Connection::open_in_memory()?;
        MIGRATIONS.to_latest(&mut conn)?;
        // Every CHECK of `books` runs on an insert; an update runs those of the columns it sets.
        for sql in [
            "INSERT INTO books (id, title, author, status, notes, rating, started_on, finished_on,
                                deleted, created_at, updated_at, server_version, title_fold,
                                author_fold, isbn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            "UPDATE books SET status = ?2, title = ?3, isbn = ?4 WHERE id = ?1",
        ] {
            let ops = opcodes(&conn, sql)?;
            assert!(
                !ops.iter().any(|op| op == "OpenEphemeral"),
                "writing one book must not build a temporary table to check it (an `IN` list of \
                 three or more values in a CHECK does, for every row): {sql}"
            );
        }
        Ok(())
    }

    #[test]
    fn the_schema_still_refuses_a_status_the_app_does_not_know() -> crate::Result<()> {
        #[allow(clippy::disallowed_methods)] // a test's own scratch database
        let mut conn = rusqlite::Connection::open_in_memory()?;
        MIGRATIONS.to_latest(&mut conn)?;
        let insert = |n: u32, status: &str| {
            conn.execute(
                "INSERT INTO books (id, title, status, created_at, updated_at, title_fold,
                                    author_fold)
                 VALUES (?1, 'Dune', ?2, 1, 1, 'dune', '')",
                (format!("00000000-0000-7000-8000-{n:012}"), status),
            )
        };
        for (n, status) in ["Wishlist", "Reading", "Finished"].into_iter().enumerate() {
            assert!(
                insert(u32::try_from(n).unwrap_or(0), status).is_ok(),
                "the schema stores each of the three statuses, {status} included"
            );
        }
        for (n, status) in ["Lost", "reading", ""].into_iter().enumerate() {
            let refused = insert(10 + u32::try_from(n).unwrap_or(0), status);
            assert!(
                matches!(
                    &refused,
                    Err(rusqlite::Error::SqliteFailure(error, _))
                        if error.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_CHECK
                ),
                "a status outside the three is refused by the table's CHECK, {status:?} \
                 included: {refused:?}"
            );
        }
        Ok(())
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
