//! Bulk loads into an empty `books` table: the first download of an account's 100,000 books
//! writes the rows first and builds the list's indexes once at the end — SQLite sorts each
//! index in one pass — instead of inserting every row into every index at a random place.
//!
//! The dropped indexes' statements are kept in `sync_meta` in the same transaction that drops
//! them, so they are built again at the load's end, when a pull fails, or — after a crash — by
//! the next open of the file (`db.rs`, before any migration runs). Only plain indexes are
//! dropped: none that enforces a rule (unique), so every row is checked as it is written.

use rusqlite::{Connection, Transaction};

use crate::error::Result;
use crate::table::books;
use crate::table::meta::{self, Key};

/// Drops the plain indexes of `books` if it is empty, remembering them; whether it did (or a
/// load already had).
pub(crate) fn begin(tx: &Transaction<'_>) -> Result<bool> {
    if meta::get(tx, Key::DeferredIndexes)?.is_some() {
        return Ok(true);
    }
    if !books::is_empty(tx)? {
        return Ok(false);
    }
    let indexes = books::plain_indexes(tx)?;
    if indexes.is_empty() {
        return Ok(false);
    }
    meta::set(tx, Key::DeferredIndexes, &serde_json::to_string(&indexes)?)?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX {}", quoted(name)))?;
    }
    tracing::debug!(
        count = indexes.len(),
        "list indexes deferred for a bulk load"
    );
    Ok(true)
}

/// Builds the remembered indexes again (each `IF NOT EXISTS`) and forgets them; whether there
/// were any.
pub(crate) fn end(tx: &Transaction<'_>) -> Result<bool> {
    let Some(saved) = meta::get(tx, Key::DeferredIndexes)? else {
        return Ok(false);
    };
    let indexes: Vec<(String, String)> = serde_json::from_str(&saved)?;
    for (name, sql) in &indexes {
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)",
            [name],
            |row| row.get(0),
        )?;
        if !exists {
            tx.execute_batch(sql)?;
        }
    }
    meta::delete(tx, Key::DeferredIndexes)?;
    tracing::debug!(
        count = indexes.len(),
        "list indexes built after a bulk load"
    );
    Ok(true)
}

/// After a crash during a bulk load: builds the indexes it had dropped. A file without the
/// bookkeeping table yet (new) has nothing to recover.
pub(crate) fn recover(conn: &mut Connection) -> Result<()> {
    let has_meta: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_meta')",
        [],
        |row| row.get(0),
    )?;
    if !has_meta {
        return Ok(());
    }
    if meta::get(conn, Key::DeferredIndexes)?.is_none() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if end(&tx)? {
        tracing::info!("list indexes left out by an interrupted download were built again");
    }
    tx.commit()?;
    Ok(())
}

/// `name` as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
