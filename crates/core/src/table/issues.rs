//! What sync leaves for the user to review: `conflicts` (a field two devices changed; the
//! losing value), `rejections` (a change the server refused) and `unreadable` (a pulled row this
//! version cannot store). The sync side writes them, the store reads and settles them.

use bookwish_ipc::BookId;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;
use uuid::Uuid;

use crate::error::Result;
use crate::fields::Field;
use crate::table::outbox::Patch;
use crate::table::{count, parse_column};

/// Longest raw row kept in `unreadable`, in bytes: enough to see what is wrong, never a
/// stranger-sized value.
const RAW_MAX: usize = 4096;

/// Longest server message kept with a rejection, in characters.
const MESSAGE_MAX: usize = 500;

/// A conflict as stored.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ConflictRow {
    pub(crate) id: i64,
    pub(crate) book_id: BookId,
    /// A synced field name (kept as text: a newer app may have written a field this one
    /// does not know).
    pub(crate) field: String,
    pub(crate) kept: Value,
    pub(crate) lost: Value,
    pub(crate) client_won: bool,
    pub(crate) detected_at: i64,
}

/// A refused change as stored.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RejectionRow {
    pub(crate) id: i64,
    pub(crate) book_id: BookId,
    pub(crate) mutation_id: Uuid,
    pub(crate) patch: Patch,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) rejected_at: i64,
}

/// A pulled row kept aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UnreadableRow {
    pub(crate) id: i64,
    pub(crate) book_id: Option<BookId>,
    pub(crate) raw: String,
    pub(crate) reason: String,
    pub(crate) seen_at: i64,
}

/// Keeps the value of `field` that lost (or was replaced) for the user.
pub(crate) fn add_conflict(
    tx: &Transaction<'_>,
    book: BookId,
    field: Field,
    kept: &Value,
    lost: &Value,
    client_won: bool,
    at: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO conflicts (book_id, field, kept_value, lost_value, winner, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        book.to_string(),
        field.name(),
        kept.to_string(),
        lost.to_string(),
        if client_won { "client" } else { "server" },
        at
    ])?;
    Ok(())
}

/// Conflicts, newest first; only conflict `only` when given.
pub(crate) fn conflicts(conn: &Connection, only: Option<i64>) -> Result<Vec<ConflictRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, book_id, field, kept_value, lost_value, winner, detected_at
         FROM conflicts WHERE ?1 IS NULL OR id = ?1 ORDER BY id DESC",
    )?;
    let rows = statement.query_map(params![only], |row| {
        Ok(ConflictRow {
            id: row.get(0)?,
            book_id: parse_column(row, 1, Uuid::try_parse)?,
            field: row.get(2)?,
            kept: parse_column(row, 3, |text| serde_json::from_str::<Value>(text))?,
            lost: parse_column(row, 4, |text| serde_json::from_str::<Value>(text))?,
            client_won: row.get::<_, String>(5)? == "client",
            detected_at: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Forgets conflict `id`; whether it existed.
pub(crate) fn remove_conflict(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM conflicts WHERE id = ?1", [id])? > 0)
}

/// Keeps a refused change for the user (once per mutation).
pub(crate) fn add_rejection(
    tx: &Transaction<'_>,
    book: BookId,
    mutation_id: Uuid,
    patch: &Patch,
    code: &str,
    message: &str,
    at: i64,
) -> Result<()> {
    let message: String = message.chars().take(MESSAGE_MAX).collect();
    tx.prepare_cached(
        "INSERT INTO rejections (book_id, mutation_id, patch, code, message, rejected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (mutation_id) DO NOTHING",
    )?
    .execute(params![
        book.to_string(),
        mutation_id.to_string(),
        serde_json::to_string(patch)?,
        code,
        message,
        at
    ])?;
    Ok(())
}

/// Refused changes, newest first.
pub(crate) fn rejections(conn: &Connection) -> Result<Vec<RejectionRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, book_id, mutation_id, patch, code, message, rejected_at FROM rejections
         ORDER BY id DESC",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(RejectionRow {
            id: row.get(0)?,
            book_id: parse_column(row, 1, Uuid::try_parse)?,
            mutation_id: parse_column(row, 2, Uuid::try_parse)?,
            patch: parse_column(row, 3, |text| serde_json::from_str::<Patch>(text))?,
            code: row.get(4)?,
            message: row.get(5)?,
            rejected_at: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The book of rejection `id`, if it exists.
pub(crate) fn rejected_book(conn: &Connection, id: i64) -> Result<Option<BookId>> {
    Ok(conn
        .query_row(
            "SELECT book_id FROM rejections WHERE id = ?1",
            [id],
            |row| parse_column(row, 0, Uuid::try_parse),
        )
        .optional()?)
}

/// Forgets rejection `id`; whether it existed.
pub(crate) fn remove_rejection(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM rejections WHERE id = ?1", [id])? > 0)
}

/// Keeps a pulled row this version cannot store (replacing an earlier one of the same book).
pub(crate) fn add_unreadable(
    tx: &Transaction<'_>,
    book: Option<BookId>,
    version: Option<i64>,
    raw: &str,
    reason: &str,
    at: i64,
) -> Result<()> {
    let raw = cut(raw, RAW_MAX);
    let reason = cut(reason, RAW_MAX);
    // Pages of one download may be written out of version order: a version older than the
    // book's stored one, or than the unreadable one kept for it, is not news.
    tx.prepare_cached(
        "INSERT INTO unreadable (book_id, version, raw, reason, seen_at)
         SELECT ?1, ?2, ?3, ?4, ?5
          WHERE ?1 IS NULL OR ?2 IS NULL
             OR NOT EXISTS (SELECT 1 FROM books WHERE id = ?1 AND server_version > ?2)
         ON CONFLICT (book_id) DO UPDATE SET
             version = excluded.version, raw = excluded.raw, reason = excluded.reason,
             seen_at = excluded.seen_at
          WHERE excluded.version IS NULL OR unreadable.version IS NULL
             OR excluded.version >= unreadable.version",
    )?
    .execute(params![
        book.map(|id| id.to_string()),
        version,
        raw,
        reason,
        at
    ])?;
    Ok(())
}

/// Whether any pulled row is kept aside (checked once per pull transaction, so a pull into a
/// database without any skips a delete per row).
pub(crate) fn any_unreadable(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM unreadable)")?
        .query_row([], |row| row.get(0))?)
}

/// Forgets the unreadable row of `book` (a readable `version` arrived), unless it is of a
/// newer version.
pub(crate) fn clear_unreadable(tx: &Transaction<'_>, book: BookId, version: i64) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM unreadable
          WHERE book_id = ?1 AND (version IS NULL OR version <= ?2)",
    )?
    .execute(params![book.to_string(), version])?;
    Ok(())
}

/// Pulled rows kept aside, newest first.
pub(crate) fn unreadable(conn: &Connection) -> Result<Vec<UnreadableRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, book_id, raw, reason, seen_at FROM unreadable ORDER BY id DESC",
    )?;
    let rows = statement.query_map([], |row| {
        let book: Option<String> = row.get(1)?;
        Ok(UnreadableRow {
            id: row.get(0)?,
            book_id: book.and_then(|text| Uuid::try_parse(&text).ok()),
            raw: row.get(2)?,
            reason: row.get(3)?,
            seen_at: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Forgets unreadable row `id`; whether it existed.
pub(crate) fn remove_unreadable(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM unreadable WHERE id = ?1", [id])? > 0)
}

/// Conflicts, refused changes and unreadable rows waiting for the user.
pub(crate) fn attention(conn: &Connection) -> Result<u32> {
    Ok(count(conn.query_row(
        "SELECT (SELECT count(*) FROM conflicts) + (SELECT count(*) FROM rejections)
              + (SELECT count(*) FROM unreadable)",
        [],
        |row| row.get(0),
    )?))
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
