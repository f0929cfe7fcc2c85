//! The engine's side of the local SQLite file: taking outbox batches, recording what the server
//! answered, applying pulled pages with their cursor, and the `conflicts` and `rejections` the
//! user reviews (their tables are in the core's migration `0002_conflicts_rejections.sql`).
//!
//! [`LocalDb`] holds its own connection to the file the app's [`bookwish_core::Store`] writes
//! (WAL lets both work at once; writers wait for each other through `busy_timeout`), so a long
//! pull never holds the lock the UI's store sits behind.
//!
//! Invariants kept here:
//! - a pulled page and its cursor commit in one transaction: a crash repeats a page, never
//!   skips one;
//! - a pulled row never overwrites a field this device still has pending in its outbox;
//! - an outbox entry is removed only if its mutation id is the one the server answered for (an
//!   edit made during the push renewed it and stays queued);
//! - mutation ids go to the server strictly increasing per device, even after the wall clock
//!   went back.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use bookwish_core::hlc::{self, Clock, Stamp};
use bookwish_core::Store;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::Result;
use crate::remote::{Mutation, PullPage, PushResult};

const CURSOR: &str = "sync_cursor";
const LAST_SYNC: &str = "sync_last_success";
const RESYNC: &str = "sync_full_resync";
const SENT_THROUGH: &str = "sync_sent_through";
const IN_FLIGHT: &str = "sync_in_flight";
const HLC: &str = "hlc";

/// One conflict kept for the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// Row id (to dismiss it).
    pub id: i64,
    /// The book.
    pub book_id: Uuid,
    /// The field both devices changed (`deleted` for delete-vs-edit).
    pub field: String,
    /// The value the book has now.
    pub kept_value: Value,
    /// The value that lost.
    pub lost_value: Value,
    /// `client` if this device's value won, `server` if another device's did.
    pub winner: String,
    /// When it was detected (ms since the Unix epoch).
    pub detected_at: i64,
}

/// One change the server refused, kept for the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Row id (to dismiss it).
    pub id: i64,
    /// The book.
    pub book_id: Uuid,
    /// The refused mutation.
    pub mutation_id: Uuid,
    /// The refused fields and values.
    pub patch: Map<String, Value>,
    /// The server's stable code (`check_violation`, `id_taken`, `forbidden`, …).
    pub code: String,
    /// The server's readable reason.
    pub message: String,
    /// When it was refused (ms since the Unix epoch).
    pub rejected_at: i64,
}

/// What recording one push answer did locally.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Mutations applied (including conflicts, whose non-conflicting fields applied).
    pub applied: usize,
    /// Mutations the server had already applied (a retry).
    pub duplicates: usize,
    /// Books whose mutation was refused; their server copy should be fetched.
    pub rejected: Vec<Uuid>,
    /// Field conflicts recorded.
    pub conflicts: usize,
}

/// The engine's connection to the local database.
#[derive(Debug)]
pub struct LocalDb {
    conn: Connection,
    device_id: Uuid,
}

impl LocalDb {
    /// Opens the database at `path` (migrating it through [`Store::open`] first) with a
    /// connection of the engine's own.
    pub fn open(path: &Path) -> Result<LocalDb> {
        let device_id = Store::open(path)?.device_id();
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(LocalDb { conn, device_id })
    }

    /// The device id the store made for this database.
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// Books with a change not yet acknowledged by the server.
    pub fn pending(&self) -> Result<u32> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |row| row.get(0))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Conflicts plus rejections waiting for the user.
    pub fn attention(&self) -> Result<u32> {
        let n: i64 = self.conn.query_row(
            "SELECT (SELECT count(*) FROM conflicts) + (SELECT count(*) FROM rejections)",
            [],
            |row| row.get(0),
        )?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The pull cursor: the highest server version applied.
    pub fn cursor(&self) -> Result<i64> {
        Ok(meta_get(&self.conn, CURSOR)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// When a sync last finished without error.
    pub fn last_success(&self) -> Result<Option<i64>> {
        Ok(meta_get(&self.conn, LAST_SYNC)?.and_then(|v| v.parse().ok()))
    }

    /// Notes a successful sync at `at_ms`.
    pub fn record_success(&self, at_ms: i64) -> Result<()> {
        meta_set(&self.conn, LAST_SYNC, &at_ms.to_string())
    }

    /// The next batch to push: at most `limit` entries, in mutation-id order (the server wants
    /// ids increasing). Marks it in flight, so a retry after a lost answer resends the same ids
    /// (answered "duplicate"), while entries never sent get ids above every id sent before.
    pub fn take_batch(&mut self, limit: usize) -> Result<Vec<Mutation>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sent_through = meta_get(&tx, SENT_THROUGH)?.and_then(|v| Uuid::try_parse(&v).ok());
        let in_flight: HashSet<Uuid> = match meta_get(&tx, IN_FLIGHT)? {
            Some(text) => serde_json::from_str(&text)?,
            None => HashSet::new(),
        };
        let mut entries = outbox_entries(&tx)?;
        // A mutation id at or below one already sent that was not itself in flight was made
        // while the wall clock stood behind an earlier one: the server's ledger would answer it
        // "duplicate" and drop it. Renew it above everything sent.
        if let Some(floor) = sent_through {
            let mut last = floor;
            let mut renewed = false;
            for entry in entries.iter_mut() {
                if entry.mutation_id <= floor && !in_flight.contains(&entry.mutation_id) {
                    let id = id_after(last);
                    tx.prepare_cached("UPDATE outbox SET mutation_id = ?2 WHERE book_id = ?1")?
                        .execute(params![entry.book_id.to_string(), id.to_string()])?;
                    entry.mutation_id = id;
                    last = id;
                    renewed = true;
                }
            }
            if renewed {
                entries.sort_by_key(|entry| entry.mutation_id);
            }
        }
        entries.truncate(limit);
        if let Some(last) = entries.last() {
            let top = sent_through.map_or(last.mutation_id, |s| s.max(last.mutation_id));
            meta_set(&tx, SENT_THROUGH, &top.to_string())?;
            let ids: Vec<Uuid> = entries.iter().map(|e| e.mutation_id).collect();
            meta_set(&tx, IN_FLIGHT, &serde_json::to_string(&ids)?)?;
        }
        tx.commit()?;
        Ok(entries)
    }

    /// Records the server's answers to `sent` in one transaction.
    pub fn record_push(
        &mut self,
        sent: &[Mutation],
        results: &[PushResult],
    ) -> Result<PushOutcome> {
        let now = now_ms();
        let by_id: HashMap<Uuid, &Mutation> = sent.iter().map(|m| (m.mutation_id, m)).collect();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcome = PushOutcome::default();
        for answer in results {
            let Some(mutation) = by_id.get(&answer.mutation_id) else {
                tracing::warn!(mutation = %answer.mutation_id, "answer for a mutation not sent");
                continue;
            };
            // A retry is answered "duplicate" with the first answer when it is still known.
            let effective = match (&*answer.result, &answer.original) {
                ("duplicate", Some(original)) => {
                    outcome.duplicates += 1;
                    PushResult::clone(original)
                }
                ("duplicate", None) => {
                    outcome.duplicates += 1;
                    PushResult {
                        result: "applied".to_owned(),
                        ..answer.clone()
                    }
                }
                _ => answer.clone(),
            };
            let book = mutation.book_id.to_string();
            match &*effective.result {
                "applied" | "conflict" => {
                    outcome.applied += 1;
                    tx.prepare_cached(
                        "DELETE FROM outbox WHERE book_id = ?1 AND mutation_id = ?2",
                    )?
                    .execute(params![book, mutation.mutation_id.to_string()])?;
                    if let Some(version) = effective.version {
                        tx.prepare_cached(
                            "UPDATE books SET server_version = max(ifnull(server_version, 0), ?2)
                             WHERE id = ?1",
                        )?
                        .execute(params![book, version])?;
                    }
                    for conflict in effective.conflicts.iter().flatten() {
                        outcome.conflicts += 1;
                        let client_won = conflict.winner == "client";
                        let (kept, lost) = if client_won {
                            (&conflict.client_value, &conflict.server_value)
                        } else {
                            (&conflict.server_value, &conflict.client_value)
                        };
                        tx.prepare_cached(
                            "INSERT INTO conflicts (book_id, field, kept_value, lost_value, winner,
                                                    detected_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )?
                        .execute(params![
                            book,
                            conflict.field,
                            kept.to_string(),
                            lost.to_string(),
                            if client_won { "client" } else { "server" },
                            now
                        ])?;
                        if !client_won {
                            // The server kept its value and will not send the row again unless
                            // it changes: show its value now, unless the user changed the field
                            // again meanwhile.
                            set_field_unless_pending(&tx, mutation.book_id, &conflict.field, kept)?;
                        }
                    }
                }
                "rejected" => {
                    tx.prepare_cached(
                        "INSERT INTO rejections (book_id, mutation_id, patch, code, message,
                                                 rejected_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (mutation_id) DO NOTHING",
                    )?
                    .execute(params![
                        book,
                        mutation.mutation_id.to_string(),
                        Value::Object(mutation.patch.clone()).to_string(),
                        effective.code.as_deref().unwrap_or("error"),
                        effective
                            .message
                            .as_deref()
                            .unwrap_or("refused by the server"),
                        now
                    ])?;
                    tx.prepare_cached(
                        "DELETE FROM outbox WHERE book_id = ?1 AND mutation_id = ?2",
                    )?
                    .execute(params![book, mutation.mutation_id.to_string()])?;
                    outcome.rejected.push(mutation.book_id);
                }
                other => {
                    tracing::warn!(
                        result = other,
                        "unknown push result; the entry stays queued"
                    );
                }
            }
        }
        meta_delete(&tx, IN_FLIGHT)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Applies one pulled page and moves the cursor to its end, in one transaction. Returns the
    /// number of rows written.
    pub fn apply_page(&mut self, page: &PullPage) -> Result<usize> {
        let device_id = self.device_id;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let resync = meta_get(&tx, RESYNC)?.is_some();
        let written = apply_rows(&tx, device_id, &page.rows, resync)?;
        meta_set(&tx, CURSOR, &page.next_cursor.to_string())?;
        if resync && !page.has_more {
            finish_resync(&tx)?;
        }
        tx.commit()?;
        Ok(written)
    }

    /// Applies server rows fetched outside a pull (after a rejection), without moving the cursor.
    pub fn apply_fetched(&mut self, rows: &[crate::remote::ServerBook]) -> Result<usize> {
        let device_id = self.device_id;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let written = apply_rows(&tx, device_id, rows, false)?;
        tx.commit()?;
        Ok(written)
    }

    /// Starts a full re-download (the cursor is older than the server's tombstone purge): the
    /// cursor goes back to 0, the outbox stays, and when the last page is applied every synced
    /// book the server did not send again is dropped.
    pub fn begin_full_resync(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if meta_get(&tx, RESYNC)?.is_none() {
            tx.execute("DELETE FROM sync_resync_seen", [])?;
            meta_set(&tx, RESYNC, "1")?;
        }
        meta_set(&tx, CURSOR, "0")?;
        tx.commit()?;
        Ok(())
    }

    /// Whether a full re-download is under way.
    pub fn resync_in_progress(&self) -> Result<bool> {
        Ok(meta_get(&self.conn, RESYNC)?.is_some())
    }

    /// Conflicts kept for the user, newest first.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, book_id, field, kept_value, lost_value, winner, detected_at
             FROM conflicts ORDER BY id DESC",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, i64>(6)?,
            ))
        })?;
        let mut conflicts = Vec::new();
        for row in rows {
            let (id, book, field, kept, lost, winner, detected_at) = row?;
            conflicts.push(Conflict {
                id,
                book_id: Uuid::try_parse(&book).unwrap_or_default(),
                field,
                kept_value: serde_json::from_str(&kept)?,
                lost_value: serde_json::from_str(&lost)?,
                winner,
                detected_at,
            });
        }
        Ok(conflicts)
    }

    /// Changes the server refused, newest first.
    pub fn rejections(&self) -> Result<Vec<Rejection>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, book_id, mutation_id, patch, code, message, rejected_at
             FROM rejections ORDER BY id DESC",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, i64>(6)?,
            ))
        })?;
        let mut rejections = Vec::new();
        for row in rows {
            let (id, book, mutation, patch, code, message, rejected_at) = row?;
            rejections.push(Rejection {
                id,
                book_id: Uuid::try_parse(&book).unwrap_or_default(),
                mutation_id: Uuid::try_parse(&mutation).unwrap_or_default(),
                patch: serde_json::from_str(&patch)?,
                code,
                message,
                rejected_at,
            });
        }
        Ok(rejections)
    }
}

/// The outbox in push order (mutation id), as mutations.
fn outbox_entries(conn: &Connection) -> Result<Vec<Mutation>> {
    let mut statement = conn.prepare_cached(
        "SELECT book_id, patch, base_version, hlc, mutation_id FROM outbox ORDER BY mutation_id",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<i64>>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (book, patch, base_version, hlc, mutation) = row?;
        let (Ok(book_id), Ok(mutation_id)) = (Uuid::try_parse(&book), Uuid::try_parse(&mutation))
        else {
            tracing::warn!(%book, "outbox entry with a malformed id skipped");
            continue;
        };
        out.push(Mutation {
            mutation_id,
            book_id,
            base_version,
            hlc,
            patch: serde_json::from_str(&patch)?,
        });
    }
    Ok(out)
}

/// A UUIDv7 greater than `last`: now, or `last`'s millisecond plus one if the clock is behind.
fn id_after(last: Uuid) -> Uuid {
    let now = Uuid::now_v7();
    if now > last {
        return now;
    }
    let (secs, nanos) = last.get_timestamp().map_or((0, 0), |ts| ts.to_unix());
    let millis = secs * 1000 + u64::from(nanos) / 1_000_000 + 1;
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        millis / 1000,
        u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
    );
    Uuid::new_v7(ts)
}

/// The synced fields in server order, with the local column holding each.
const FIELDS: [&str; 8] = [
    "title",
    "author",
    "status",
    "notes",
    "rating",
    "started_on",
    "finished_on",
    "deleted",
];

/// Writes `rows` (server books) into `tx`, keeping fields this device has pending on top, and
/// advances the clock past every stamp seen.
fn apply_rows(
    tx: &Transaction<'_>,
    device_id: Uuid,
    rows: &[crate::remote::ServerBook],
    resync: bool,
) -> Result<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let pending = pending_patches(tx)?;
    // Stamps of one width sort as text: keep the greatest string, parse it once per page.
    let mut newest: Option<&str> = None;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO books (id, title, author, status, notes, rating, started_on, finished_on,
                            deleted, created_at, updated_at, server_version, title_fold,
                            author_fold)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET
             title = excluded.title, author = excluded.author, status = excluded.status,
             notes = excluded.notes, rating = excluded.rating, started_on = excluded.started_on,
             finished_on = excluded.finished_on, deleted = excluded.deleted,
             updated_at = max(books.updated_at, excluded.updated_at),
             server_version = excluded.server_version,
             title_fold = excluded.title_fold, author_fold = excluded.author_fold
         WHERE excluded.server_version >= ifnull(books.server_version, 0)",
    )?;
    let mut seen = if resync {
        Some(tx.prepare_cached("INSERT OR IGNORE INTO sync_resync_seen (id) VALUES (?1)")?)
    } else {
        None
    };
    let mut written = 0;
    for row in rows {
        let id = row.id.to_string();
        let merged;
        let local = match pending.get(&row.id) {
            Some(patch) => local_fields(tx, &id)?.map(|local| (patch, local)),
            None => None,
        };
        let book = match local {
            Some((patch, local)) => {
                let mut book = row.clone();
                book.keep_pending(patch, &local);
                merged = book;
                &merged
            }
            _ => row,
        };
        for stamp in row.stamp_texts() {
            if newest.is_none_or(|n| stamp > n) {
                newest = Some(stamp);
            }
        }
        written += upsert.execute(params![
            id,
            book.title,
            book.author,
            book.status,
            book.notes,
            book.rating,
            book.started_on,
            book.finished_on,
            book.deleted,
            book.created_ms(),
            book.updated_ms(),
            book.version,
            book.title.to_lowercase(),
            book.author.to_lowercase(),
        ])?;
        if let Some(seen) = seen.as_mut() {
            seen.execute([&id])?;
        }
    }
    if let Some(remote) = newest.and_then(|text| text.parse::<Stamp>().ok()) {
        observe(tx, device_id, &remote)?;
    }
    Ok(written)
}

/// Ends a full re-download: drops synced books the server no longer sent (purged tombstones),
/// keeping any with a pending change.
fn finish_resync(tx: &Transaction<'_>) -> Result<()> {
    let dropped = tx.execute(
        "DELETE FROM books
         WHERE server_version IS NOT NULL
           AND id NOT IN (SELECT id FROM sync_resync_seen)
           AND id NOT IN (SELECT book_id FROM outbox)",
        [],
    )?;
    tx.execute("DELETE FROM sync_resync_seen", [])?;
    meta_delete(tx, RESYNC)?;
    tracing::info!(dropped, "full re-download finished");
    Ok(())
}

/// Pending patches by book.
fn pending_patches(conn: &Connection) -> Result<HashMap<Uuid, Map<String, Value>>> {
    let mut statement = conn.prepare_cached("SELECT book_id, patch FROM outbox")?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (book, patch) = row?;
        if let Ok(id) = Uuid::try_parse(&book) {
            out.insert(id, serde_json::from_str(&patch)?);
        }
    }
    Ok(out)
}

/// The synced fields of local book `id` as JSON values, if it exists.
fn local_fields(conn: &Connection, id: &str) -> Result<Option<Map<String, Value>>> {
    let fields = conn
        .prepare_cached(
            "SELECT title, author, status, notes, rating, started_on, finished_on, deleted
             FROM books WHERE id = ?1",
        )?
        .query_row([id], |row| {
            let mut map = Map::new();
            map.insert("title".into(), Value::from(row.get::<_, String>(0)?));
            map.insert("author".into(), Value::from(row.get::<_, String>(1)?));
            map.insert("status".into(), Value::from(row.get::<_, String>(2)?));
            map.insert("notes".into(), Value::from(row.get::<_, String>(3)?));
            map.insert(
                "rating".into(),
                row.get::<_, Option<i64>>(4)?
                    .map_or(Value::Null, Value::from),
            );
            map.insert(
                "started_on".into(),
                row.get::<_, Option<String>>(5)?
                    .map_or(Value::Null, Value::from),
            );
            map.insert(
                "finished_on".into(),
                row.get::<_, Option<String>>(6)?
                    .map_or(Value::Null, Value::from),
            );
            map.insert("deleted".into(), Value::from(row.get::<_, bool>(7)?));
            Ok(map)
        })
        .optional()?;
    Ok(fields)
}

/// Sets one synced field of book `id` to `value`, unless the outbox has that field pending.
fn set_field_unless_pending(
    tx: &Transaction<'_>,
    id: Uuid,
    field: &str,
    value: &Value,
) -> Result<()> {
    if !FIELDS.contains(&field) {
        return Ok(());
    }
    let pending = pending_patches(tx)?;
    if pending
        .get(&id)
        .is_some_and(|patch| patch.contains_key(field))
    {
        return Ok(());
    }
    let Some(mut fields) = local_fields(tx, &id.to_string())? else {
        return Ok(());
    };
    fields.insert(field.to_owned(), value.clone());
    let book = crate::remote::ServerBook::from_fields(id, &fields);
    tx.prepare_cached(
        "UPDATE books SET title = ?2, author = ?3, status = ?4, notes = ?5, rating = ?6,
                          started_on = ?7, finished_on = ?8, deleted = ?9, title_fold = ?10,
                          author_fold = ?11
         WHERE id = ?1",
    )?
    .execute(params![
        id.to_string(),
        book.title,
        book.author,
        book.status,
        book.notes,
        book.rating,
        book.started_on,
        book.finished_on,
        book.deleted,
        book.title.to_lowercase(),
        book.author.to_lowercase(),
    ])?;
    Ok(())
}

/// Moves the persisted clock past `remote`, so every later local edit stamps after it.
fn observe(tx: &Transaction<'_>, device_id: Uuid, remote: &Stamp) -> Result<()> {
    let last = meta_get(tx, HLC)?.and_then(|text| text.parse::<Stamp>().ok());
    let mut clock = match last {
        Some(last) => Clock::resume(last, device_id),
        None => Clock::new(device_id),
    };
    match clock.observe(remote, hlc::wall_ms()) {
        Ok(stamp) => meta_set(tx, HLC, &stamp.to_string())?,
        Err(error) => tracing::warn!(%error, "a pulled stamp was not observed"),
    }
    Ok(())
}

fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?)
}

fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute((key, value))?;
    Ok(())
}

fn meta_delete(conn: &Connection, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM sync_meta WHERE key = ?1")?
        .execute([key])?;
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    i64::try_from(hlc::wall_ms()).unwrap_or(i64::MAX)
}
