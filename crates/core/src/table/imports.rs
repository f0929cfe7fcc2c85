//! `imports` and `import_changes`: what each import from a file did to each book, kept so the
//! whole import can be undone at once (`store/importing.rs`).

use bookwish_ipc::BookId;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::table::outbox::Patch;
use crate::table::parse_column;

/// How many imports can still be undone; older ones forget what they did.
const KEPT: i64 = 20;

/// What one import did to one book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Added it (or brought a deleted one back).
    Added(BookId),
    /// Changed some of its fields: their values before, and what the import wrote.
    Updated {
        /// The book.
        id: BookId,
        /// The changed fields' values before the import.
        before: Patch,
        /// The values the import wrote.
        after: Patch,
    },
}

/// Records a new import of `format` at `now_ms`; its id.
pub(crate) fn begin(tx: &Transaction<'_>, format: &str, now_ms: i64) -> Result<i64> {
    tx.prepare_cached("INSERT INTO imports (format, imported_at) VALUES (?1, ?2)")?
        .execute(params![format, now_ms])?;
    Ok(tx.last_insert_rowid())
}

/// Writes what import `import_id` did.
pub(crate) fn record(tx: &Transaction<'_>, import_id: i64, changes: &[Change]) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO import_changes (import_id, book_id, kind, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for change in changes {
        match change {
            Change::Added(id) => {
                insert.execute(params![
                    import_id,
                    id.to_string(),
                    "added",
                    None::<String>,
                    None::<String>
                ])?;
            }
            Change::Updated { id, before, after } => {
                insert.execute(params![
                    import_id,
                    id.to_string(),
                    "updated",
                    serde_json::to_string(before)?,
                    serde_json::to_string(after)?
                ])?;
            }
        }
    }
    // Only recent imports can be undone: older ones let go of their records.
    tx.prepare_cached(
        "DELETE FROM imports WHERE id NOT IN (SELECT id FROM imports ORDER BY id DESC LIMIT ?1)",
    )?
    .execute([KEPT])?;
    Ok(())
}

/// What import `import_id` did, if it can still be undone; [`Error::ImportNotFound`] if it
/// was undone already, or is too old (or unknown).
pub(crate) fn changes(conn: &Connection, import_id: i64) -> Result<Vec<Change>> {
    let standing: Option<bool> = conn
        .prepare_cached("SELECT undone_at IS NULL FROM imports WHERE id = ?1")?
        .query_row([import_id], |row| row.get(0))
        .optional()?;
    if standing != Some(true) {
        return Err(Error::ImportNotFound { id: import_id });
    }
    let mut statement = conn.prepare_cached(
        "SELECT book_id, kind, before, after FROM import_changes WHERE import_id = ?1",
    )?;
    let rows = statement.query_map([import_id], |row| {
        let id = parse_column(row, 0, Uuid::try_parse)?;
        let kind: String = row.get(1)?;
        Ok(if kind == "added" {
            Change::Added(id)
        } else {
            let patch =
                |index| parse_column(row, index, |text| serde_json::from_str::<Patch>(text));
            Change::Updated {
                id,
                before: patch(2)?,
                after: patch(3)?,
            }
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Marks import `import_id` undone at `now_ms` and lets go of its records.
pub(crate) fn undone(tx: &Transaction<'_>, import_id: i64, now_ms: i64) -> Result<()> {
    tx.prepare_cached("UPDATE imports SET undone_at = ?2 WHERE id = ?1")?
        .execute(params![import_id, now_ms])?;
    tx.prepare_cached("DELETE FROM import_changes WHERE import_id = ?1")?
        .execute([import_id])?;
    Ok(())
}
