//! `books`: every book of one database, live or a tombstone, with the columns the UI never sees
//! (`deleted`, `server_version`) and the folded copies of title and author that search and the
//! Title/Author sorts read. Only this module writes the table, so [`fold`] is applied in exactly
//! one place.

use std::collections::HashMap;

use bookwish_ipc::{Book, BookId, ListedBook, Sort, Status, StatusCounts};
use rusqlite::{params, CachedStatement, Connection, OptionalExtension, Row, Transaction};
use uuid::Uuid;

use crate::error::Result;
use crate::fields::Fields;
use crate::fold::fold;
use crate::table::{count, parse_column};

/// The columns of a [`Book`], in the order [`book_from_row`] reads them.
const BOOK_COLUMNS: &str = "id, title, author, status, notes, rating, started_on, finished_on, \
                            isbn, created_at, updated_at";

/// The columns of a [`ListedBook`] (what a row of the list shows), in the order
/// [`listed_from_row`] reads them.
const LISTED_COLUMNS: &str = "id, title, author, status, rating";

/// A book row with the columns the UI never sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredBook {
    pub(crate) book: Book,
    pub(crate) deleted: bool,
    /// The server's version of the row as last pulled or acknowledged; `None`: never synced.
    pub(crate) server_version: Option<i64>,
}

/// Book `id`, deleted or not.
pub(crate) fn load(conn: &Connection, id: BookId) -> Result<Option<StoredBook>> {
    let stored = conn
        .prepare_cached(&format!(
            "SELECT {BOOK_COLUMNS}, deleted, server_version FROM books WHERE id = ?1"
        ))?
        .query_row([id.to_string()], |row| {
            Ok(StoredBook {
                book: book_from_row(row)?,
                deleted: row.get(11)?,
                server_version: row.get(12)?,
            })
        })
        .optional()?;
    Ok(stored)
}

/// Inserts a new, never-synced, live book.
pub(crate) fn insert(tx: &Transaction<'_>, book: &Book) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO books (id, title, author, status, notes, rating, started_on, finished_on,
                            isbn, created_at, updated_at, title_fold, author_fold)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        book.id.to_string(),
        book.title,
        book.author,
        book.status.as_str(),
        book.notes,
        book.rating,
        book.started_on,
        book.finished_on,
        book.isbn,
        book.created_at,
        book.updated_at,
        fold(&book.title),
        fold(&book.author),
    ])?;
    Ok(())
}

/// Writes the editable fields of book `id`; `updated_at` is `None` when the change is not the
/// user's own (a server value shown again) and the row keeps its time.
pub(crate) fn write_fields(
    tx: &Transaction<'_>,
    id: BookId,
    fields: &Fields,
    updated_at: Option<i64>,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE books SET title = ?2, author = ?3, status = ?4, notes = ?5, rating = ?6,
                          started_on = ?7, finished_on = ?8, isbn = ?12,
                          updated_at = ifnull(?9, updated_at),
                          title_fold = ?10, author_fold = ?11
         WHERE id = ?1",
    )?
    .execute(params![
        id.to_string(),
        fields.title,
        fields.author,
        fields.status.as_str(),
        fields.notes,
        fields.rating,
        fields.started_on,
        fields.finished_on,
        updated_at,
        fold(&fields.title),
        fold(&fields.author),
        fields.isbn.map(|isbn| isbn.to_string()),
    ])?;
    Ok(())
}

/// Flips the tombstone of book `id`; `updated_at` as in [`write_fields`].
pub(crate) fn write_deleted(
    tx: &Transaction<'_>,
    id: BookId,
    deleted: bool,
    updated_at: Option<i64>,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE books SET deleted = ?2, updated_at = ifnull(?3, updated_at) WHERE id = ?1",
    )?
    .execute(params![id.to_string(), deleted, updated_at])?;
    Ok(())
}

/// Notes that the server holds at least `version` of book `id`.
pub(crate) fn acknowledge(tx: &Transaction<'_>, id: BookId, version: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE books SET server_version = max(ifnull(server_version, 0), ?2) WHERE id = ?1",
    )?
    .execute(params![id.to_string(), version])?;
    Ok(())
}

/// Forgets the server version of book `id` (the server no longer has the row).
pub(crate) fn forget_server_version(tx: &Transaction<'_>, id: BookId) -> Result<()> {
    tx.prepare_cached("UPDATE books SET server_version = NULL WHERE id = ?1")?
        .execute([id.to_string()])?;
    Ok(())
}

/// A server row as it is written locally: already validated, with this device's pending fields
/// already put back on top.
pub(crate) struct ServerRow<'a> {
    pub(crate) id: BookId,
    pub(crate) fields: &'a Fields,
    pub(crate) deleted: bool,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) version: i64,
}

/// Writes server rows, one prepared statement for a whole page.
pub(crate) struct Upsert<'c>(CachedStatement<'c>);

impl<'c> Upsert<'c> {
    pub(crate) fn new(tx: &'c Transaction<'_>) -> Result<Upsert<'c>> {
        Ok(Upsert(tx.prepare_cached(
            "INSERT INTO books (id, title, author, status, notes, rating, started_on, finished_on,
                                deleted, created_at, updated_at, server_version, title_fold,
                                author_fold, isbn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT (id) DO UPDATE SET
                 title = excluded.title, author = excluded.author, status = excluded.status,
                 notes = excluded.notes, rating = excluded.rating,
                 started_on = excluded.started_on, finished_on = excluded.finished_on,
                 isbn = excluded.isbn, deleted = excluded.deleted,
                 updated_at = max(books.updated_at, excluded.updated_at),
                 server_version = excluded.server_version,
                 title_fold = excluded.title_fold, author_fold = excluded.author_fold
             WHERE excluded.server_version >= ifnull(books.server_version, 0)
               AND (books.server_version IS NOT excluded.server_version
                    OR books.title IS NOT excluded.title OR books.author IS NOT excluded.author
                    OR books.status IS NOT excluded.status OR books.notes IS NOT excluded.notes
                    OR books.rating IS NOT excluded.rating
                    OR books.started_on IS NOT excluded.started_on
                    OR books.finished_on IS NOT excluded.finished_on
                    OR books.isbn IS NOT excluded.isbn
                    OR books.deleted IS NOT excluded.deleted)",
        )?))
    }

    /// Writes `row` unless the local copy is already newer or already the same (the echo of
    /// this device's own push); the number of rows written, i.e. changed.
    pub(crate) fn write(&mut self, row: &ServerRow<'_>) -> Result<usize> {
        let fields = row.fields;
        Ok(self.0.execute(params![
            row.id.to_string(),
            fields.title,
            fields.author,
            fields.status.as_str(),
            fields.notes,
            fields.rating,
            fields.started_on,
            fields.finished_on,
            row.deleted,
            row.created_at,
            row.updated_at,
            row.version,
            fold(&fields.title),
            fold(&fields.author),
            fields.isbn.map(|isbn| isbn.to_string()),
        ])?)
    }
}

/// Whether the table holds no book at all, live or deleted.
pub(crate) fn is_empty(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT NOT EXISTS (SELECT 1 FROM books)")?
        .query_row([], |row| row.get(0))?)
}

/// The indexes of `books` a bulk load may drop and build again afterwards: those made by
/// `CREATE INDEX` that enforce nothing (not unique), as `(name, CREATE statement)`.
pub(crate) fn plain_indexes(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut statement = conn.prepare_cached(
        "SELECT m.name, m.sql FROM pragma_index_list('books') AS i
         JOIN sqlite_master AS m ON m.type = 'index' AND m.name = i.name
         WHERE i.origin = 'c' AND i.\"unique\" = 0 AND m.sql IS NOT NULL
         ORDER BY m.name",
    )?;
    let indexes = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(indexes)
}

/// Drops synced books the server did not send during a full re-download (their tombstones were
/// purged there), keeping any with a change still pending.
pub(crate) fn drop_unseen(tx: &Transaction<'_>) -> Result<usize> {
    let dropped = tx.execute(
        "DELETE FROM books
         WHERE server_version IS NOT NULL
           AND id NOT IN (SELECT id FROM sync_resync_seen)
           AND id NOT IN (SELECT book_id FROM outbox)",
        [],
    )?;
    tx.execute("DELETE FROM sync_resync_seen", [])?;
    Ok(dropped)
}

/// Remembers that a full re-download sent book `id`.
pub(crate) fn mark_seen(tx: &Transaction<'_>, id: BookId) -> Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO sync_resync_seen (id) VALUES (?1)")?
        .execute([id.to_string()])?;
    Ok(())
}

/// Starts the bookkeeping of a full re-download.
pub(crate) fn forget_seen(tx: &Transaction<'_>) -> Result<()> {
    tx.execute("DELETE FROM sync_resync_seen", [])?;
    Ok(())
}

pub(crate) fn book_from_row(row: &Row<'_>) -> rusqlite::Result<Book> {
    Ok(Book {
        id: parse_column(row, 0, Uuid::try_parse)?,
        title: row.get(1)?,
        author: row.get(2)?,
        status: parse_column(row, 3, str::parse::<Status>)?,
        notes: row.get(4)?,
        rating: row.get(5)?,
        started_on: row.get(6)?,
        finished_on: row.get(7)?,
        isbn: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
    })
}

pub(crate) fn listed_from_row(row: &Row<'_>) -> rusqlite::Result<ListedBook> {
    Ok(ListedBook {
        id: parse_column(row, 0, Uuid::try_parse)?,
        title: row.get(1)?,
        author: row.get(2)?,
        status: parse_column(row, 3, str::parse::<Status>)?,
        rating: row.get(4)?,
    })
}

/// What a search asks of the list query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SearchBy {
    /// No search.
    Nothing,
    /// `:search` in the folded title or author.
    Text,
    /// That, or an ISBN starting with `:isbn` (as an ISBN-13, or as the ISBN-10 inside it).
    TextOrIsbn,
}

/// The list query, reading [`LISTED_COLUMNS`]; its parameters are `:status`, `:search` and
/// `:isbn` when filtered and searched, and `:limit` when `limited`.
pub(crate) fn list_sql(by_status: bool, search: SearchBy, sort: Sort, limited: bool) -> String {
    let mut sql = format!("SELECT {LISTED_COLUMNS} FROM books");
    sql.push_str(&list_filter(by_status, search));
    sql.push_str(order_by(sort));
    if limited {
        sql.push_str(" LIMIT :limit");
    }
    sql
}

/// How many books the list query matches; the same parameters but `:limit`.
pub(crate) fn count_sql(by_status: bool, search: SearchBy) -> String {
    format!(
        "SELECT count(*) FROM books{}",
        list_filter(by_status, search)
    )
}

/// The WHERE clause of the list query.
fn list_filter(by_status: bool, search: SearchBy) -> String {
    let mut sql = " WHERE deleted = 0".to_owned();
    if by_status {
        sql.push_str(" AND status = :status");
    }
    // instr() on pre-folded text: a literal substring test, so %, _ and \ in the search need
    // no escaping (LIKE would treat them as patterns, and fold ASCII only).
    let text = "instr(title_fold, :search) > 0 OR instr(author_fold, :search) > 0";
    match search {
        SearchBy::Nothing => {}
        SearchBy::Text => sql.push_str(&format!(" AND ({text})")),
        SearchBy::TextOrIsbn => sql.push_str(&format!(
            " AND ({text} OR substr(isbn, 1, length(:isbn)) = :isbn \
             OR substr(isbn, 4, length(:isbn)) = :isbn)"
        )),
    }
    sql
}

/// The ORDER BY of each sort. Each matches an index of the schema column for column, so the
/// unfiltered list is read in index order without a sort step. Ties go by `rowid`, which ends
/// every index entry: the order the books were written in (migration 0006), newest first in
/// the default order.
fn order_by(sort: Sort) -> &'static str {
    match sort {
        Sort::RecentlyAdded => " ORDER BY created_at DESC, rowid DESC",
        Sort::Title => " ORDER BY title_fold, title, created_at, rowid",
        Sort::Author => {
            " ORDER BY author_fold = '', author_fold, title_fold, title, created_at, rowid"
        }
    }
}

/// One live book as import matching sees it: its fields and the folded keys it is found by.
pub(crate) struct MatchKeys {
    pub(crate) book: Book,
    pub(crate) server_version: Option<i64>,
    pub(crate) title_fold: String,
    pub(crate) author_fold: String,
}

/// Every live book with its folded title and author, oldest first (so, of two equal books, the
/// first added is the one an import matches).
pub(crate) fn live_with_keys(conn: &Connection) -> Result<Vec<MatchKeys>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {BOOK_COLUMNS}, server_version, title_fold, author_fold FROM books
         WHERE deleted = 0 ORDER BY created_at, rowid"
    ))?;
    let rows = statement.query_map([], |row| {
        Ok(MatchKeys {
            book: book_from_row(row)?,
            server_version: row.get(11)?,
            title_fold: row.get(12)?,
            author_fold: row.get(13)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The deleted books (tombstones), with their server versions.
pub(crate) fn tombstones(conn: &Connection) -> Result<HashMap<BookId, Option<i64>>> {
    let mut statement =
        conn.prepare_cached("SELECT id, server_version FROM books WHERE deleted = 1")?;
    let rows = statement.query_map([], |row| {
        Ok((parse_column(row, 0, Uuid::try_parse)?, row.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
}

/// Every live book, whole, newest first (the list's default order).
pub(crate) fn live_newest_first(conn: &Connection) -> Result<Vec<Book>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {BOOK_COLUMNS} FROM books WHERE deleted = 0{}",
        order_by(Sort::RecentlyAdded)
    ))?;
    let rows = statement.query_map([], book_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Every live book, oldest first (the order an export writes).
pub(crate) fn live_oldest_first(conn: &Connection) -> Result<Vec<Book>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {BOOK_COLUMNS} FROM books WHERE deleted = 0 ORDER BY created_at, rowid"
    ))?;
    let rows = statement.query_map([], book_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Rewrites the folded columns of every book with [`fold`] (after the fold changed).
pub(crate) fn refold_all(tx: &Transaction<'_>) -> Result<usize> {
    let mut read = tx.prepare("SELECT id, title, author FROM books")?;
    let rows = read
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut write =
        tx.prepare("UPDATE books SET title_fold = ?2, author_fold = ?3 WHERE id = ?1")?;
    for (id, title, author) in &rows {
        write.execute(params![id, fold(title), fold(author)])?;
    }
    Ok(rows.len())
}

/// Live books per status.
pub(crate) fn counts(conn: &Connection) -> Result<StatusCounts> {
    let mut counts = StatusCounts::default();
    let mut statement = conn
        .prepare_cached("SELECT status, count(*) FROM books WHERE deleted = 0 GROUP BY status")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let status = parse_column(row, 0, str::parse::<Status>)?;
        let n = count(row.get(1)?);
        match status {
            Status::Wishlist => counts.wishlist = n,
            Status::Reading => counts.reading = n,
            Status::Finished => counts.finished = n,
        }
    }
    Ok(counts)
}
