//! [`Replica`]: the sync engine's face on one database — everything sync may do to it, and
//! nothing else.
//!
//! The engine (crate `bookwish-sync`) talks to the server; the replica decides what the answers
//! mean locally:
//!
//! - [`Replica::take_batch`] hands out outbox entries in mutation-id order and remembers what is
//!   in flight, so a retry after a lost answer resends the same ids (answered "duplicate") and
//!   entries never sent get ids above every id sent before, even after the clock went back;
//! - [`Replica::record_push`] removes an entry only if its mutation id is the one answered (an
//!   edit made during the push renewed it and stays queued), keeps conflicts and refusals for
//!   the user, and re-queues an answer it cannot match instead of taking it as applied;
//! - [`Replica::apply_page`] validates every pulled row with the same rules as a typed edit,
//!   keeps this device's pending fields on top, keeps a row it cannot store aside for the user
//!   (the pull goes on), and moves the cursor — all in one transaction: a crash repeats a page,
//!   never skips one.

use std::collections::HashSet;
use std::path::Path;

use bookwish_ipc::{BookDraft, BookId};
use rusqlite::Transaction;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::checkpointer::Checkpointer;
use crate::db::Db;
use crate::error::Result;
use crate::fields::{self, Field, Fields};
use crate::hlc::{self, Stamp};
use crate::table::books::{self, ServerRow, Upsert};
use crate::table::issues;
use crate::table::meta::{self, Key};
use crate::table::outbox::{self, OutboxEntry, Patch};
use crate::validate;

/// The page cache of the replica's connection, in KiB: room for the table and every index of
/// 100,000 books (about 45 MiB on disk), so a big pull writes each page once instead of spilling
/// and re-reading it. Taken only as pages are touched; given back after each sync.
pub const PULL_CACHE_KIB: u32 = 64 * 1024;

/// One book as the server holds it, before validation. Field types are the server's; the
/// replica checks every value with the app's rules before anything is stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PulledBook {
    /// The book.
    pub id: BookId,
    /// Title.
    pub title: String,
    /// Author.
    pub author: String,
    /// Status, as text.
    pub status: String,
    /// Notes.
    pub notes: String,
    /// Rating.
    pub rating: Option<i64>,
    /// Start date, as text.
    pub started_on: Option<String>,
    /// Finish date, as text.
    pub finished_on: Option<String>,
    /// ISBN, as text (the server keeps 13 checked digits; an older server sends none).
    pub isbn: Option<String>,
    /// Tombstone.
    pub deleted: bool,
    /// The server version of the row.
    pub version: i64,
    /// The newest clock stamp of the row's fields, if any field was written through sync.
    pub hlc: Option<String>,
    /// Server creation time (ms since the Unix epoch), if readable.
    pub created_at: Option<i64>,
    /// Server update time (ms since the Unix epoch), if readable.
    pub updated_at: Option<i64>,
}

/// One pulled row: a book, or what the engine could not even decode.
#[derive(Clone, Debug, PartialEq)]
pub enum Pulled {
    /// A decoded row (still to be validated).
    Book(PulledBook),
    /// A row that did not decode as a book.
    Undecodable {
        /// Its id, if that much could be read.
        id: Option<BookId>,
        /// Its version, if that much could be read.
        version: Option<i64>,
        /// The row as sent (JSON text).
        raw: String,
        /// Why it did not decode.
        reason: String,
    },
}

/// One page of a pull.
#[derive(Clone, Debug, PartialEq)]
pub struct PulledPage {
    /// Rows with versions above the cursor, in version order.
    pub rows: Vec<Pulled>,
    /// The cursor after this page.
    pub next_cursor: i64,
    /// Whether more rows follow.
    pub has_more: bool,
}

/// A field conflict the server reported.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldConflict {
    /// The field's name (a field this version does not know is logged and skipped).
    pub field: String,
    /// The server's value before the push.
    pub server_value: Value,
    /// This device's value.
    pub client_value: Value,
    /// Whether this device's value was applied.
    pub client_won: bool,
}

/// The server's answer to one pushed mutation.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// Applied (perhaps with field conflicts, whose other fields applied); the book's version.
    Applied {
        /// The book's server version after the mutation.
        version: Option<i64>,
        /// Fields another device changed meanwhile.
        conflicts: Vec<FieldConflict>,
    },
    /// Refused (a rule, a permission, an id taken): kept for the user.
    Rejected {
        /// The server's stable code.
        code: String,
        /// The server's reason.
        message: String,
    },
    /// The book no longer exists on the server (deleted there and purged).
    Gone,
    /// The server had already seen this mutation id from this device; `original` is its first
    /// answer when the server still has it.
    Duplicate {
        /// The first answer.
        original: Option<Box<Answer>>,
    },
    /// An answer this version does not know (a newer server): the entry stays queued.
    Unknown {
        /// The server's word for it.
        result: String,
    },
}

/// An answer with the mutation it answers.
#[derive(Clone, Debug, PartialEq)]
pub struct Answered {
    /// The mutation answered.
    pub mutation_id: Uuid,
    /// The answer.
    pub answer: Answer,
}

/// What recording one push's answers did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Mutations applied (conflicts included).
    pub applied: usize,
    /// Mutations answered "duplicate" whose first answer was known.
    pub duplicates: usize,
    /// Mutations refused (kept for the user).
    pub rejected: usize,
    /// Field conflicts kept for the user.
    pub conflicts: usize,
    /// Mutations whose answer could not be matched: queued again with a new id.
    pub requeued: usize,
    /// Mutations answered `gone` (the book is no longer on the server): the engine downloads
    /// everything again so the list matches the account.
    pub gone: usize,
    /// Books whose server copy should be fetched again (refused, gone or unmatched).
    pub refetch: Vec<BookId>,
}

/// The sync engine's face on a database.
#[derive(Debug)]
pub struct Replica {
    db: Db,
    /// Copies what pulls write to the log into the file, in the background.
    checkpointer: Option<Checkpointer>,
}

impl Replica {
    /// Opens the database at `path` (the file the window's `Store` uses) with a connection of
    /// its own, so a long pull never holds the lock the window's store sits behind.
    pub fn open(path: &Path) -> Result<Replica> {
        let db = Db::open(path)?;
        db.set_cache_kib(PULL_CACHE_KIB)?;
        let checkpointer = Checkpointer::start(path);
        if checkpointer.is_some() {
            // The checkpoint thread copies the log after each pull transaction; a commit of
            // this connection never stops to do it.
            db.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        Ok(Replica { db, checkpointer })
    }

    /// After a transaction that wrote pulled rows: the log is copied into the file in the
    /// background.
    fn checkpoint_soon(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.wake();
        }
    }

    #[cfg(test)]
    pub(crate) fn with(db: Db) -> Replica {
        Replica {
            db,
            checkpointer: None,
        }
    }

    /// The database's device id.
    pub fn device_id(&self) -> Uuid {
        self.db.device_id
    }

    /// Books with a change the server has not acknowledged.
    pub fn pending(&self) -> Result<u32> {
        outbox::len(&self.db.conn)
    }

    /// Conflicts, refused changes and unreadable rows waiting for the user.
    pub fn attention(&self) -> Result<u32> {
        issues::attention(&self.db.conn)
    }

    /// The pull cursor: the highest server version applied.
    pub fn cursor(&self) -> Result<i64> {
        Ok(meta::get_i64(&self.db.conn, Key::Cursor)?.unwrap_or(0))
    }

    /// When a sync last finished without error (ms since the Unix epoch).
    pub fn last_success(&self) -> Result<Option<i64>> {
        meta::get_i64(&self.db.conn, Key::LastSync)
    }

    /// Notes a successful sync at `at_ms`.
    pub fn record_success(&mut self, at_ms: i64) -> Result<()> {
        meta::set(&self.db.conn, Key::LastSync, &at_ms.to_string())
    }

    /// The next batch to push: at most `limit` entries, in mutation-id order. Marks it in
    /// flight, so a retry after a lost answer resends the same ids, while entries never sent
    /// get ids above every id sent before.
    pub fn take_batch(&mut self, limit: usize) -> Result<Vec<OutboxEntry>> {
        let tx = self.db.write()?;
        let sent_through = meta::get(&tx, Key::SentThrough)?.and_then(|v| Uuid::try_parse(&v).ok());
        let in_flight: HashSet<Uuid> = match meta::get(&tx, Key::InFlight)? {
            Some(text) => serde_json::from_str(&text)?,
            None => HashSet::new(),
        };
        let mut entries = outbox::entries_by_mutation_id(&tx)?;
        // A mutation id at or below one already sent that was not itself in flight was made
        // while the wall clock stood behind an earlier one: the server's ledger would answer it
        // "duplicate". Renew it above everything sent.
        if let Some(floor) = sent_through {
            let mut last = floor;
            let mut renewed = false;
            for entry in entries.iter_mut() {
                if entry.mutation_id <= floor && !in_flight.contains(&entry.mutation_id) {
                    let id = id_after(last);
                    outbox::renew(&tx, entry.book_id, id)?;
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
            meta::set(&tx, Key::SentThrough, &top.to_string())?;
            let ids: Vec<Uuid> = entries.iter().map(|e| e.mutation_id).collect();
            meta::set(&tx, Key::InFlight, &serde_json::to_string(&ids)?)?;
        }
        tx.commit()?;
        Ok(entries)
    }

    /// Records the server's answers to `sent` in one transaction.
    pub fn record_push(
        &mut self,
        sent: &[OutboxEntry],
        answers: &[Answered],
    ) -> Result<PushOutcome> {
        let now = now_ms();
        let tx = self.db.write()?;
        let mut outcome = PushOutcome::default();
        let mut floor = meta::get(&tx, Key::SentThrough)?
            .and_then(|v| Uuid::try_parse(&v).ok())
            .unwrap_or_default();
        for answered in answers {
            let Some(entry) = sent.iter().find(|e| e.mutation_id == answered.mutation_id) else {
                tracing::warn!(mutation = %answered.mutation_id, "answer for a mutation not sent");
                continue;
            };
            let answer = match &answered.answer {
                Answer::Duplicate {
                    original: Some(original),
                } => {
                    outcome.duplicates += 1;
                    original.as_ref()
                }
                other => other,
            };
            match answer {
                Answer::Applied { version, conflicts } => {
                    outcome.applied += 1;
                    outbox::remove(&tx, entry.book_id, entry.mutation_id)?;
                    if let Some(version) = version {
                        books::acknowledge(&tx, entry.book_id, *version)?;
                    }
                    for conflict in conflicts {
                        let Some(field) = Field::named(&conflict.field) else {
                            tracing::warn!(field = %conflict.field, "conflict on an unknown field");
                            continue;
                        };
                        outcome.conflicts += 1;
                        // The server does not echo our own value back: it is in the patch.
                        let sent = entry.patch.get(field.name()).unwrap_or(&Value::Null);
                        let client = if conflict.client_value.is_null() {
                            sent
                        } else {
                            &conflict.client_value
                        };
                        let (kept, lost) = if conflict.client_won {
                            (client, &conflict.server_value)
                        } else {
                            (&conflict.server_value, client)
                        };
                        issues::add_conflict(
                            &tx,
                            entry.book_id,
                            field,
                            kept,
                            lost,
                            conflict.client_won,
                            now,
                        )?;
                        if !conflict.client_won {
                            // The server kept its value and will not send the row again unless
                            // it changes: show its value now, unless the user changed the field
                            // again meanwhile.
                            show_server_value(&tx, entry.book_id, field, kept)?;
                        }
                    }
                }
                Answer::Rejected { code, message } => {
                    reject(&tx, entry, code, message, now, &mut outcome)?;
                }
                Answer::Gone => {
                    outcome.gone += 1;
                    // Deleted elsewhere and purged from the server: a delete of ours is done;
                    // anything else cannot be applied and is shown to the user.
                    if entry.patch.get(Field::Deleted.name()) == Some(&Value::Bool(true)) {
                        outcome.applied += 1;
                        outbox::remove(&tx, entry.book_id, entry.mutation_id)?;
                    } else {
                        reject(
                            &tx,
                            entry,
                            "gone",
                            "This book was deleted on another device and is no longer on the \
                             server, so this change was not saved there.",
                            now,
                            &mut outcome,
                        )?;
                        if outbox::patch_of(&tx, entry.book_id)?.is_none() {
                            books::write_deleted(&tx, entry.book_id, true, None)?;
                        }
                    }
                    books::forget_server_version(&tx, entry.book_id)?;
                }
                Answer::Unknown { result } => {
                    tracing::warn!(%result, "unknown push result; the entry stays queued");
                }
                Answer::Duplicate { .. } => {
                    // The server saw this id before but no longer knows what it answered (or
                    // another copy of this database used it): never take that as applied.
                    // Queue the change again under a new id and fetch the server's copy.
                    // Raising the sent-through mark past now makes the next batch renew the
                    // entry's id above it (see take_batch).
                    floor = floor.max(Uuid::now_v7());
                    outcome.requeued += 1;
                    outcome.refetch.push(entry.book_id);
                }
            }
        }
        if !floor.is_nil() {
            meta::set(&tx, Key::SentThrough, &floor.to_string())?;
        }
        meta::delete(&tx, Key::InFlight)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Applies one pulled page and moves the cursor to its end, in one transaction.
    pub fn apply_page(&mut self, page: &PulledPage) -> Result<PullOutcome> {
        self.apply_pages(std::slice::from_ref(page))
    }

    /// Applies consecutive pulled pages and moves the cursor to the end of the last, all in one
    /// transaction: a crash repeats pages, never skips one. Several pages per transaction cost
    /// less than one each (every commit writes each touched index page to the log again).
    pub fn apply_pages(&mut self, pages: &[PulledPage]) -> Result<PullOutcome> {
        let mut pages = pages.iter();
        self.apply_pages_from(|| pages.next())
    }

    /// [`Replica::apply_pages`] for pages still arriving: the transaction begins with the first
    /// page `next` hands over, applies each as it comes, and commits with the last one's cursor
    /// once `next` answers `None` (it may block meanwhile: nothing waits for a batch to fill).
    pub fn apply_pages_from<P: std::borrow::Borrow<PulledPage>>(
        &mut self,
        mut next: impl FnMut() -> Option<P>,
    ) -> Result<PullOutcome> {
        let Some(first) = next() else {
            return Ok(PullOutcome::default());
        };
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let resync = meta::get(&tx, Key::FullResync)?.is_some();
        let mut applier = Applier::new(&tx, resync)?;
        let mut page = first;
        let last = loop {
            applier.rows(&tx, &page.borrow().rows)?;
            match next() {
                Some(following) => page = following,
                None => break page,
            }
        };
        let last = last.borrow();
        let mut applied = applier.finish(&tx, device_id)?;
        meta::set(&tx, Key::Cursor, &last.next_cursor.to_string())?;
        if resync && !last.has_more {
            let dropped = books::drop_unseen(&tx)?;
            applied.changed += dropped;
            meta::delete(&tx, Key::FullResync)?;
            tracing::info!(dropped, "full re-download finished");
        }
        tx.commit()?;
        self.checkpoint_soon();
        Ok(applied)
    }

    /// Applies server rows fetched outside a pull (after a refusal), without moving the cursor.
    pub fn apply_fetched(&mut self, rows: &[Pulled]) -> Result<PullOutcome> {
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let mut applier = Applier::new(&tx, false)?;
        applier.rows(&tx, rows)?;
        let applied = applier.finish(&tx, device_id)?;
        tx.commit()?;
        Ok(applied)
    }

    /// Starts a bulk load: if no book is stored yet, the list's plain indexes are dropped and
    /// built once by [`Replica::end_bulk_load`] (or by the next open after a crash), which is
    /// much cheaper than inserting 100,000 rows into each at random places. Whether it did.
    pub fn begin_bulk_load(&mut self) -> Result<bool> {
        let tx = self.db.write()?;
        let deferred = crate::bulk::begin(&tx)?;
        tx.commit()?;
        Ok(deferred)
    }

    /// Ends a bulk load: builds the indexes [`Replica::begin_bulk_load`] dropped. Nothing to
    /// do without one.
    pub fn end_bulk_load(&mut self) -> Result<()> {
        let tx = self.db.write()?;
        let built = crate::bulk::end(&tx)?;
        tx.commit()?;
        if built {
            self.checkpoint_soon();
        }
        Ok(())
    }

    /// Gives back the memory of the connection's page cache (large during a big pull; see
    /// `db.rs`) once a sync is over.
    pub fn release_memory(&self) -> Result<()> {
        self.db.release_memory()
    }

    /// Starts a full re-download (the cursor is older than the server's tombstone purge): the
    /// cursor goes back to 0, the outbox stays, and when the last page is applied every synced
    /// book the server did not send again is dropped.
    pub fn begin_full_resync(&mut self) -> Result<()> {
        let tx = self.db.write()?;
        if meta::get(&tx, Key::FullResync)?.is_none() {
            books::forget_seen(&tx)?;
            meta::set(&tx, Key::FullResync, "1")?;
        }
        meta::set(&tx, Key::Cursor, "0")?;
        tx.commit()?;
        Ok(())
    }

    /// Whether a full re-download is under way.
    pub fn resync_in_progress(&self) -> Result<bool> {
        Ok(meta::get(&self.db.conn, Key::FullResync)?.is_some())
    }
}

/// Keeps a refused change for the user and takes it out of the queue.
fn reject(
    tx: &Transaction<'_>,
    entry: &OutboxEntry,
    code: &str,
    message: &str,
    now: i64,
    outcome: &mut PushOutcome,
) -> Result<()> {
    issues::add_rejection(
        tx,
        entry.book_id,
        entry.mutation_id,
        &entry.patch,
        code,
        message,
        now,
    )?;
    outbox::remove(tx, entry.book_id, entry.mutation_id)?;
    outcome.rejected += 1;
    outcome.refetch.push(entry.book_id);
    Ok(())
}

/// What applying pulled rows did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PullOutcome {
    /// Rows received (readable or not).
    pub rows: usize,
    /// Books changed here: rows written that differed from the local copy, plus books dropped
    /// at the end of a full re-download. The echo of this device's own push changes nothing.
    pub changed: usize,
}

/// Writes server books into one transaction, page after page: each row validated like a typed
/// edit, this device's pending fields kept on top, an unreadable row kept aside; at the end the
/// clock moves past every stamp seen.
struct Applier {
    pending: std::collections::HashMap<BookId, Patch>,
    /// Without a row kept aside, a readable row has nothing there to replace.
    any_unreadable: bool,
    resync: bool,
    now: i64,
    /// The greatest stamp seen (stamps of one width sort as text: parsed once, at the end).
    newest: Option<String>,
    applied: PullOutcome,
}

impl Applier {
    fn new(tx: &Transaction<'_>, resync: bool) -> Result<Applier> {
        Ok(Applier {
            pending: outbox::patches(tx)?,
            any_unreadable: issues::any_unreadable(tx)?,
            resync,
            now: now_ms(),
            newest: None,
            applied: PullOutcome::default(),
        })
    }

    fn rows<'r>(
        &mut self,
        tx: &Transaction<'_>,
        rows: impl IntoIterator<Item = &'r Pulled>,
    ) -> Result<()> {
        let now = self.now;
        let mut newest: Option<&str> = None;
        let mut upsert = Upsert::new(tx)?;
        for row in rows {
            self.applied.rows += 1;
            let book = match row {
                Pulled::Book(book) => book,
                Pulled::Undecodable {
                    id,
                    version,
                    raw,
                    reason,
                } => {
                    tracing::warn!(id = ?id, %reason, "a pulled row could not be decoded; kept aside");
                    issues::add_unreadable(tx, *id, *version, raw, reason, now)?;
                    self.any_unreadable = true;
                    continue;
                }
            };
            if self.resync {
                books::mark_seen(tx, book.id)?;
            }
            let mut fields = match readable(book) {
                Ok(fields) => fields,
                Err(refusal) => {
                    tracing::warn!(id = %book.id, %refusal, "a pulled row breaks the app's rules; kept aside");
                    let raw = serde_json::to_string(book)?;
                    issues::add_unreadable(
                        tx,
                        Some(book.id),
                        Some(book.version),
                        &raw,
                        &refusal,
                        now,
                    )?;
                    self.any_unreadable = true;
                    continue;
                }
            };
            if self.any_unreadable {
                issues::clear_unreadable(tx, book.id, book.version)?;
            }
            let mut deleted = book.deleted;
            if let Some(patch) = self.pending.get(&book.id) {
                if let Some(local) = books::load(tx, book.id)? {
                    keep_pending(
                        &mut fields,
                        &mut deleted,
                        patch,
                        &Fields::of(&local.book),
                        local.deleted,
                    );
                }
            }
            if let Some(stamp) = book.hlc.as_deref() {
                if newest.is_none_or(|n| stamp > n) {
                    newest = Some(stamp);
                }
            }
            self.applied.changed += upsert.write(&ServerRow {
                id: book.id,
                fields: &fields,
                deleted,
                created_at: book.created_at.unwrap_or(now),
                updated_at: book.updated_at.unwrap_or(now),
                version: book.version,
            })?;
        }
        if let Some(stamp) = newest {
            if self.newest.as_deref().is_none_or(|n| stamp > n) {
                self.newest = Some(stamp.to_owned());
            }
        }
        Ok(())
    }

    fn finish(self, tx: &Transaction<'_>, device_id: Uuid) -> Result<PullOutcome> {
        if let Some(remote) = self.newest.and_then(|text| text.parse::<Stamp>().ok()) {
            meta::observe(tx, device_id, &remote)?;
        }
        Ok(self.applied)
    }
}

/// The fields of this device's pending `patch` keep their local values over the server's.
fn keep_pending(
    fields: &mut Fields,
    deleted: &mut bool,
    patch: &Patch,
    local: &Fields,
    local_deleted: bool,
) {
    for name in patch.keys() {
        match Field::named(name) {
            Some(Field::Deleted) => *deleted = local_deleted,
            Some(field) => fields.take(local, field),
            None => {}
        }
    }
}

/// A pulled book's editable fields, checked by the rules every stored book follows; the
/// reason, in words, when it breaks one.
fn readable(book: &PulledBook) -> Result<Fields, String> {
    let status = book.status.parse().map_err(|error| format!("{error}."))?;
    let draft = BookDraft {
        title: book.title.clone(),
        author: book.author.clone(),
        status,
        notes: book.notes.clone(),
        // Out of u8's range is out of 1–5 too: the rule below names it.
        rating: book
            .rating
            .map(|stars| u8::try_from(stars).unwrap_or(u8::MAX)),
        started_on: book.started_on.clone(),
        finished_on: book.finished_on.clone(),
        isbn: book.isbn.clone(),
    };
    validate::stored(&draft).map_err(|refusal| refusal.to_string())
}

/// Shows the server's `value` of `field` for book `id` (a conflict it won), unless this device
/// has that field pending or the value breaks the app's rules.
fn show_server_value(tx: &Transaction<'_>, id: BookId, field: Field, value: &Value) -> Result<()> {
    if outbox::patch_of(tx, id)?.is_some_and(|patch| patch.contains_key(field.name())) {
        return Ok(());
    }
    let Some(local) = books::load(tx, id)? else {
        return Ok(());
    };
    if field == Field::Deleted {
        if let Some(deleted) = value.as_bool() {
            books::write_deleted(tx, id, deleted, None)?;
        }
        return Ok(());
    }
    let mut draft = BookDraft::from(&local.book);
    if fields::set(&mut draft, field, value).is_none() {
        tracing::warn!(%id, field = field.name(), "a conflict's server value has the wrong type");
        return Ok(());
    }
    match validate::stored(&draft) {
        Ok(fields) => books::write_fields(tx, id, &fields, None),
        Err(refusal) => {
            tracing::warn!(%id, %refusal, "a conflict's server value breaks the app's rules");
            Ok(())
        }
    }
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

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    i64::try_from(hlc::wall_ms()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use bookwish_ipc::{Book, Status};
    use serde_json::json;

    use super::*;
    use crate::Store;

    /// A store and a replica on one in-memory database, as the shell and the engine share a file.
    fn pair() -> Result<(Store, Replica)> {
        let name = format!("replica-test-{}", Uuid::now_v7());
        Ok((
            Store::with(Db::open_shared_memory(&name)?),
            Replica::with(Db::open_shared_memory(&name)?),
        ))
    }

    fn draft(title: &str) -> BookDraft {
        BookDraft {
            title: title.into(),
            author: "Frank Herbert".into(),
            ..BookDraft::default()
        }
    }

    /// The server's copy of `book` at `version`.
    fn server(book: &Book, version: i64) -> PulledBook {
        PulledBook {
            id: book.id,
            title: book.title.clone(),
            author: book.author.clone(),
            status: book.status.as_str().into(),
            notes: book.notes.clone(),
            rating: book.rating.map(i64::from),
            started_on: book.started_on.clone(),
            finished_on: book.finished_on.clone(),
            isbn: book.isbn.clone(),
            deleted: false,
            version,
            hlc: None,
            created_at: Some(book.created_at),
            updated_at: Some(book.updated_at),
        }
    }

    /// Makes every update that would set a title of "Boom" fail, as a write can fail midway.
    fn fail_writes_titled_boom(store: &Store) -> Result<()> {
        store.conn_for_tests().execute_batch(
            "CREATE TRIGGER boom BEFORE UPDATE ON books WHEN NEW.title = 'Boom'
             BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )?;
        Ok(())
    }

    fn page(rows: Vec<PulledBook>, next_cursor: i64) -> PulledPage {
        PulledPage {
            rows: rows.into_iter().map(Pulled::Book).collect(),
            next_cursor,
            has_more: false,
        }
    }

    fn applied(entry: &OutboxEntry, version: i64) -> Answered {
        Answered {
            mutation_id: entry.mutation_id,
            answer: Answer::Applied {
                version: Some(version),
                conflicts: Vec::new(),
            },
        }
    }

    /// Pushes the whole outbox and has the server apply it at `version`.
    fn push_all(replica: &mut Replica, version: i64) -> Result<PushOutcome> {
        let batch = replica.take_batch(100)?;
        let answers: Vec<Answered> = batch.iter().map(|e| applied(e, version)).collect();
        replica.record_push(&batch, &answers)
    }

    #[test]
    fn a_pulled_row_never_overwrites_a_pending_field() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let book = store.add(&draft("Dune"))?;
        push_all(&mut replica, 1)?;
        store.update(book.id, &draft("Dune (my edition)"))?;

        let mut theirs = server(&book, 2);
        theirs.title = "Dune (their title)".into();
        theirs.rating = Some(5);
        replica.apply_page(&page(vec![theirs], 2))?;

        let now = store.get(book.id)?;
        assert_eq!(
            now.title, "Dune (my edition)",
            "the pending title stays on top"
        );
        assert_eq!(
            now.rating,
            Some(5),
            "fields not pending take the server's value"
        );
        assert_eq!(store.outbox()?.len(), 1, "the pending edit is still queued");
        assert_eq!(replica.cursor()?, 2, "the cursor moved with the page");
        Ok(())
    }

    #[test]
    fn the_echo_of_our_own_push_changes_nothing_and_queues_nothing() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let book = store.add(&draft("Dune"))?;
        let outcome = push_all(&mut replica, 7)?;
        assert_eq!(outcome.applied, 1, "the create was applied");
        assert_eq!(replica.pending()?, 0, "an applied entry leaves the outbox");

        let applied = replica.apply_page(&page(vec![server(&book, 7)], 7))?;
        assert_eq!(
            applied,
            PullOutcome {
                rows: 1,
                changed: 0
            },
            "the echo of our own push is what this device holds: it is counted, and writes nothing"
        );
        assert_eq!(
            store.get(book.id)?.title,
            "Dune",
            "the echo leaves the book as it was"
        );
        assert_eq!(replica.pending()?, 0, "an echo queues nothing");

        let mut stale = server(&book, 5);
        stale.title = "Older".into();
        replica.apply_page(&page(vec![stale], 7))?;
        assert_eq!(
            store.get(book.id)?.title,
            "Dune",
            "a row older than the version already acknowledged is not written"
        );
        Ok(())
    }

    #[test]
    fn a_page_and_its_cursor_commit_together() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let one = store.add(&draft("One"))?;
        let two = store.add(&draft("Two"))?;
        push_all(&mut replica, 2)?;
        replica.apply_page(&page(vec![server(&one, 1), server(&two, 2)], 2))?;
        // A failure in the middle of the next page (here: a trigger) must roll all of it back.
        fail_writes_titled_boom(&store)?;
        let mut first = server(&one, 3);
        first.title = "One, renamed".into();
        let mut second = server(&two, 4);
        second.title = "Boom".into();
        assert!(
            replica.apply_page(&page(vec![first, second], 4)).is_err(),
            "the failing row fails the page"
        );
        assert_eq!(
            replica.cursor()?,
            2,
            "the cursor did not move past the failed page"
        );
        assert_eq!(
            store.get(one.id)?.title,
            "One",
            "the rows of a failed page before the failure are not written either"
        );
        Ok(())
    }

    #[test]
    fn pages_written_together_commit_with_the_last_cursor_or_not_at_all() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let one = store.add(&draft("One"))?;
        let two = store.add(&draft("Two"))?;
        push_all(&mut replica, 2)?;
        fail_writes_titled_boom(&store)?;
        let mut first = server(&one, 3);
        first.title = "One, renamed".into();
        let mut second = server(&two, 4);
        second.title = "Boom".into();
        let mut pages = [page(vec![first], 3), page(vec![second], 4)];
        pages[0].has_more = true;
        assert!(
            replica.apply_pages(&pages).is_err(),
            "a failing row fails every page of its transaction"
        );
        assert_eq!(replica.cursor()?, 0, "the cursor did not move at all");
        assert_eq!(
            store.get(one.id)?.title,
            "One",
            "an earlier page of the failed transaction is not written either: it is pulled again"
        );

        let mut second = server(&two, 4);
        second.title = "Two, renamed".into();
        let mut first = server(&one, 3);
        first.title = "One, renamed".into();
        let mut pages = [page(vec![first], 3), page(vec![second], 4)];
        pages[0].has_more = true;
        let applied = replica.apply_pages(&pages)?;
        assert_eq!(
            applied,
            PullOutcome {
                rows: 2,
                changed: 2
            },
            "both pages are counted"
        );
        assert_eq!(replica.cursor()?, 4, "the cursor is the last page's end");
        assert_eq!(
            store.get(one.id)?.title,
            "One, renamed",
            "page one is written"
        );
        assert_eq!(
            store.get(two.id)?.title,
            "Two, renamed",
            "page two is written"
        );
        Ok(())
    }

    /// The plain indexes of `books`, as (name, SQL), from the file itself.
    fn book_indexes(store: &Store) -> Result<Vec<(String, String)>> {
        let mut statement = store.conn_for_tests().prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type = 'index' AND tbl_name = 'books' AND sql IS NOT NULL ORDER BY name",
        )?;
        let indexes = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(indexes)
    }

    fn book_rows(count: usize, first_version: i64) -> Vec<PulledBook> {
        (0..count)
            .map(|i| {
                let n = i64::try_from(i).unwrap_or(0);
                PulledBook {
                    id: Uuid::now_v7(),
                    title: format!("Book {i}"),
                    author: format!("Author {}", i % 7),
                    status: "Wishlist".into(),
                    notes: String::new(),
                    rating: None,
                    started_on: None,
                    finished_on: None,
                    isbn: None,
                    deleted: false,
                    version: first_version + n,
                    hlc: None,
                    created_at: Some(1_700_000_000_000 + n),
                    updated_at: Some(1_700_000_000_000 + n),
                }
            })
            .collect()
    }

    #[test]
    fn a_download_into_an_empty_list_builds_its_indexes_once_at_the_end() -> Result<()> {
        let (store, mut replica) = pair()?;
        let before = book_indexes(&store)?;
        assert!(before.len() >= 4, "the list has its indexes: {before:?}");

        assert!(
            replica.begin_bulk_load()?,
            "an empty list defers its indexes"
        );
        assert!(
            book_indexes(&store)?.is_empty(),
            "no plain index is maintained row by row during the download"
        );
        replica.apply_page(&page(book_rows(50, 1), 50))?;
        assert_eq!(
            store.list(&Default::default())?.books.len(),
            50,
            "the window can read the list meanwhile (without its indexes)"
        );
        replica.end_bulk_load()?;
        assert_eq!(
            book_indexes(&store)?,
            before,
            "every index is built again, as it was declared"
        );
        replica.end_bulk_load()?;
        assert_eq!(
            book_indexes(&store)?,
            before,
            "ending twice changes nothing"
        );

        assert!(
            !replica.begin_bulk_load()?,
            "a list with books keeps its indexes for the next download"
        );
        assert_eq!(book_indexes(&store)?, before, "nothing was dropped");
        Ok(())
    }

    #[test]
    fn a_pull_reaches_the_database_file_in_the_background() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("books.sqlite3");
        let mut replica = Replica::open(&path)?;
        let before = std::fs::metadata(&path).expect("the file exists").len();
        replica.apply_page(&page(book_rows(5_000, 1), 5_000))?;

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut size = before;
        while size < before + 500_000 && std::time::Instant::now() < deadline {
            #[allow(clippy::disallowed_methods)] // the poll of a condition, with its deadline
            std::thread::sleep(std::time::Duration::from_millis(10));
            size = std::fs::metadata(&path).expect("the file exists").len();
        }
        assert!(
            size >= before + 500_000,
            "a pull's rows are copied from the log into the file without waiting for an edit or \
             the app's idle checkpoint (the file grew from {before} to {size} bytes)"
        );
        Ok(())
    }

    #[test]
    fn an_interrupted_download_gets_its_indexes_back_on_the_next_open() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("books.sqlite3");
        let before = book_indexes(&Store::open(&path)?)?;
        {
            let mut replica = Replica::open(&path)?;
            assert!(
                replica.begin_bulk_load()?,
                "an empty list defers its indexes"
            );
            replica.apply_page(&page(book_rows(20, 1), 20))?;
            // The app stops here: no end_bulk_load.
        }
        let store = Store::open(&path)?;
        assert_eq!(
            book_indexes(&store)?,
            before,
            "the next open builds the indexes the interrupted download had dropped"
        );
        assert_eq!(
            store.list(&Default::default())?.books.len(),
            20,
            "the rows pulled are kept"
        );
        Ok(())
    }

    #[test]
    fn an_entry_leaves_the_outbox_only_for_its_own_mutation_id() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let book = store.add(&draft("Dune"))?;
        let batch = replica.take_batch(10)?;
        // The user edits while the push is on the wire: the entry gets a new mutation id.
        store.update(book.id, &draft("Dune Messiah"))?;
        let answers: Vec<Answered> = batch.iter().map(|e| applied(e, 1)).collect();
        replica.record_push(&batch, &answers)?;
        let left = store.outbox()?;
        assert_eq!(left.len(), 1, "the edit made during the push stays queued");
        assert_eq!(
            left[0].patch.get("title"),
            Some(&json!("Dune Messiah")),
            "with its new value"
        );
        assert_ne!(
            left[0].mutation_id, batch[0].mutation_id,
            "under its new id"
        );
        Ok(())
    }

    #[test]
    fn mutation_ids_increase_even_after_the_clock_went_back() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        store.add(&draft("Dune"))?;
        // An earlier id was made while the wall clock stood an hour ahead.
        let ahead = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            hlc::wall_ms() / 1000 + 3600,
            0,
        ));
        meta::set(store.conn_for_tests(), Key::SentThrough, &ahead.to_string())?;
        let batch = replica.take_batch(10)?;
        assert!(
            batch[0].mutation_id > ahead,
            "an id made after the clock went back is renewed above every id sent"
        );
        let retried = {
            let again = replica.take_batch(10)?;
            again[0].mutation_id
        };
        assert_eq!(
            retried, batch[0].mutation_id,
            "a batch whose answer was lost is resent with the same ids"
        );
        Ok(())
    }

    #[test]
    fn a_delete_wins_over_an_edit_in_both_directions() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let mine = store.add(&draft("Deleted here"))?;
        let theirs = store.add(&draft("Deleted there"))?;
        push_all(&mut replica, 2)?;

        // Deleted here, edited elsewhere.
        store.delete(mine.id)?;
        let mut edited = server(&mine, 3);
        edited.title = "Edited there".into();
        // Edited here, deleted elsewhere.
        store.update(theirs.id, &draft("Edited here"))?;
        let mut deleted = server(&theirs, 4);
        deleted.deleted = true;
        replica.apply_page(&page(vec![edited, deleted], 4))?;

        assert!(
            store.get(mine.id).is_err(),
            "a local delete stays deleted when another device's edit arrives"
        );
        assert!(
            store.get(theirs.id).is_err(),
            "another device's delete wins over a local edit"
        );
        assert_eq!(
            store.outbox()?.len(),
            2,
            "both local changes are still pushed (the server reports the conflict)"
        );
        Ok(())
    }

    #[test]
    fn a_row_the_app_cannot_read_is_kept_aside_and_the_pull_goes_on() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let good = store.add(&draft("Good"))?;
        let bad = store.add(&draft("Bad"))?;
        push_all(&mut replica, 2)?;
        let mut broken = server(&bad, 3);
        broken.started_on = Some("infinity".into());
        let mut renamed = server(&good, 4);
        renamed.title = "Good, renamed".into();
        let mut rows = page(vec![broken, renamed], 4);
        rows.rows.push(Pulled::Undecodable {
            id: None,
            version: Some(5),
            raw: r#"{"title": 7}"#.into(),
            reason: "invalid type: integer `7`, expected a string".into(),
        });
        rows.next_cursor = 5;
        replica.apply_page(&rows)?;

        assert_eq!(
            replica.cursor()?,
            5,
            "the cursor moves past unreadable rows"
        );
        assert_eq!(
            store.get(good.id)?.title,
            "Good, renamed",
            "the other rows of the page apply"
        );
        assert_eq!(
            store.get(bad.id)?.started_on,
            None,
            "the unreadable value is never stored"
        );
        let issues = store.sync_issues()?;
        assert_eq!(
            issues.unreadable.len(),
            2,
            "both unreadable rows are shown to the user"
        );
        assert!(
            issues
                .unreadable
                .iter()
                .any(|row| row.book_id == Some(bad.id)
                    && row.reason.contains("Start date")
                    && row.book_title.as_deref() == Some("Bad")),
            "the reason names the field: {:?}",
            issues.unreadable
        );
        assert_eq!(replica.attention()?, 2, "they count as needing attention");

        replica.apply_page(&page(vec![server(&bad, 6)], 6))?;
        assert_eq!(
            store.sync_issues()?.unreadable.len(),
            1,
            "a readable version of the book replaces its unreadable one"
        );
        Ok(())
    }

    #[test]
    fn rows_applied_out_of_version_order_end_as_in_order() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let fixed = store.add(&draft("Fixed later"))?;
        let spoilt = store.add(&draft("Spoilt later"))?;
        push_all(&mut replica, 2)?;
        let spoil = |book: &Book, version: i64| {
            let mut row = server(book, version);
            row.started_on = Some("infinity".into());
            row
        };
        // A download in two parts: the second part's pages may be written first.
        let mut renamed = server(&fixed, 6);
        renamed.title = "Fixed".into();
        replica.apply_page(&page(vec![renamed, spoil(&spoilt, 5)], 0))?;
        replica.apply_page(&page(vec![spoil(&fixed, 3), server(&spoilt, 4)], 6))?;

        assert_eq!(
            store.get(fixed.id)?.title,
            "Fixed",
            "an older row never replaces a newer version"
        );
        let unreadable = store.sync_issues()?.unreadable;
        assert_eq!(
            unreadable.iter().map(|row| row.book_id).collect::<Vec<_>>(),
            vec![Some(spoilt.id)],
            "only the newest version's problem is shown: an older unreadable row is not, and \
             an older readable one does not hide a newer unreadable one"
        );
        Ok(())
    }

    #[test]
    fn every_rule_of_a_typed_edit_applies_to_pulled_rows() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let book = store.add(&draft("Dune"))?;
        push_all(&mut replica, 1)?;
        type Spoil = fn(&mut PulledBook);
        let cases: [(&str, Spoil); 11] = [
            ("blank title", |b| b.title = "   ".into()),
            ("wrong ISBN check digit", |b| {
                b.isbn = Some("9780441013594".into())
            }),
            ("ISBN of 12 digits", |b| {
                b.isbn = Some("978044101359".into())
            }),
            ("long title", |b| b.title = "x".repeat(501)),
            ("long author", |b| b.author = "x".repeat(301)),
            ("long notes", |b| b.notes = "x".repeat(10_001)),
            ("unknown status", |b| b.status = "Abandoned".into()),
            ("rating 6", |b| b.rating = Some(6)),
            ("rating -1", |b| b.rating = Some(-1)),
            ("year 10000", |b| b.finished_on = Some("10000-01-01".into())),
            ("BC date", |b| b.started_on = Some("0044-03-15 BC".into())),
        ];
        for (version, (case, spoil)) in (2..).zip(cases) {
            let mut row = server(&book, version);
            spoil(&mut row);
            replica.apply_page(&page(vec![row], version))?;
            assert_eq!(
                store.get(book.id)?,
                book,
                "a pulled row with a {case} must not be stored"
            );
            assert_eq!(replica.cursor()?, version, "the pull goes past a {case}");
        }
        Ok(())
    }

    #[test]
    fn a_pulled_isbn_is_stored_and_a_pending_one_stays_on_top() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let book = store.add(&draft("Dune"))?;
        push_all(&mut replica, 1)?;
        let mut theirs = server(&book, 2);
        theirs.isbn = Some("9780441013593".into());
        replica.apply_page(&page(vec![theirs], 2))?;
        assert_eq!(
            store.get(book.id)?.isbn.as_deref(),
            Some("9780441013593"),
            "an ISBN set on another device arrives with the pull"
        );

        store.update(
            book.id,
            &BookDraft {
                isbn: Some("9780765326355".into()),
                ..draft("Dune")
            },
        )?;
        let mut older = server(&book, 3);
        older.isbn = Some("9780441013593".into());
        replica.apply_page(&page(vec![older], 3))?;
        assert_eq!(
            store.get(book.id)?.isbn.as_deref(),
            Some("9780765326355"),
            "the ISBN typed here and not yet pushed stays on top of the pulled one"
        );
        Ok(())
    }

    #[test]
    fn a_duplicate_without_its_first_answer_is_queued_again_never_dropped() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let book = store.add(&draft("Dune"))?;
        let batch = replica.take_batch(10)?;
        let answers = [Answered {
            mutation_id: batch[0].mutation_id,
            answer: Answer::Duplicate { original: None },
        }];
        let outcome = replica.record_push(&batch, &answers)?;
        assert_eq!(outcome.requeued, 1, "the unmatched answer is counted");
        assert_eq!(
            outcome.refetch,
            [book.id],
            "the server's copy is fetched again"
        );
        assert_eq!(replica.pending()?, 1, "the change is still queued");
        let again = replica.take_batch(10)?;
        assert!(
            again[0].mutation_id > batch[0].mutation_id,
            "it goes out again under a new, higher id"
        );
        Ok(())
    }

    #[test]
    fn a_duplicate_with_its_first_answer_counts_as_that_answer() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        store.add(&draft("Dune"))?;
        let batch = replica.take_batch(10)?;
        let answers = [Answered {
            mutation_id: batch[0].mutation_id,
            answer: Answer::Duplicate {
                original: Some(Box::new(Answer::Applied {
                    version: Some(3),
                    conflicts: Vec::new(),
                })),
            },
        }];
        let outcome = replica.record_push(&batch, &answers)?;
        assert_eq!(
            (outcome.applied, outcome.duplicates),
            (1, 1),
            "applied, as a duplicate"
        );
        assert_eq!(replica.pending()?, 0, "and no longer queued");
        Ok(())
    }

    #[test]
    fn a_refused_change_leaves_the_queue_for_the_review_list() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let book = store.add(&draft("Dune"))?;
        let batch = replica.take_batch(10)?;
        let answers = [Answered {
            mutation_id: batch[0].mutation_id,
            answer: Answer::Rejected {
                code: "check_violation".into(),
                message: "x".repeat(10_000),
            },
        }];
        let outcome = replica.record_push(&batch, &answers)?;
        assert_eq!(outcome.rejected, 1, "counted as refused");
        assert_eq!(
            outcome.refetch,
            [book.id],
            "the server's copy is fetched again"
        );
        assert_eq!(replica.pending()?, 0, "the queue moves on");
        let issues = store.sync_issues()?;
        assert_eq!(issues.rejections.len(), 1, "the refusal waits for the user");
        assert!(
            issues.rejections[0].message.chars().count() <= 500,
            "a stranger-sized server message is kept short"
        );
        Ok(())
    }

    #[test]
    fn a_book_gone_from_the_server_ends_a_delete_and_reports_an_edit() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let deleted = store.add(&draft("Deleted"))?;
        let edited = store.add(&draft("Edited"))?;
        push_all(&mut replica, 2)?;
        store.delete(deleted.id)?;
        store.update(edited.id, &draft("Edited again"))?;
        let batch = replica.take_batch(10)?;
        let gone: Vec<Answered> = batch
            .iter()
            .map(|entry| Answered {
                mutation_id: entry.mutation_id,
                answer: Answer::Gone,
            })
            .collect();
        replica.record_push(&batch, &gone)?;
        assert_eq!(
            replica.pending()?,
            0,
            "nothing stays queued against a purged book"
        );
        let issues = store.sync_issues()?;
        assert_eq!(
            issues.rejections.len(),
            1,
            "the edit that could not be applied is shown, the delete is simply done"
        );
        assert_eq!(issues.rejections[0].code, "gone");
        assert!(
            store.get(edited.id).is_err(),
            "the purged book is deleted here too"
        );
        Ok(())
    }

    #[test]
    fn a_conflict_the_server_won_shows_its_value_unless_pending_again() -> Result<()> {
        let (mut store, mut replica) = pair()?;
        let book = store.add(&BookDraft {
            status: Status::Reading,
            ..draft("Dune")
        })?;
        push_all(&mut replica, 1)?;
        store.update(book.id, &draft("Mine"))?;
        let batch = replica.take_batch(10)?;
        let answers = [Answered {
            mutation_id: batch[0].mutation_id,
            answer: Answer::Applied {
                version: Some(2),
                conflicts: vec![FieldConflict {
                    field: "title".into(),
                    server_value: json!("Theirs"),
                    client_value: json!("Mine"),
                    client_won: false,
                }],
            },
        }];
        let outcome = replica.record_push(&batch, &answers)?;
        assert_eq!(outcome.conflicts, 1, "the conflict is kept");
        assert_eq!(
            store.get(book.id)?.title,
            "Theirs",
            "the winning server value is shown"
        );
        let issues = store.sync_issues()?;
        assert_eq!(
            issues.conflicts[0].other, "Mine",
            "the losing value waits for the user"
        );
        Ok(())
    }
}
