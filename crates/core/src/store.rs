//! [`Store`]: the window's face on one database — the reading list, the edits that queue
//! outbox entries, the review of what sync left for the user (`review.rs`), moving books into
//! an account (`moving.rs`), and importing files with their undo (`importing.rs`).

use std::path::Path;

use bookwish_ipc::{Book, BookDraft, BookId, BookList, ListQuery, Status};
use rusqlite::types::ToSql;
use rusqlite::Transaction;
use uuid::Uuid;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::fields::Fields;
use crate::hlc::{self, Stamp};
use crate::table::books::{self, SearchBy, StoredBook};
use crate::table::meta;
use crate::table::outbox::{self, OutboxEntry};
use crate::validate;

mod importing;
mod moving;
mod review;

pub use importing::PROGRESS_EVERY;
pub use moving::Imported;

/// The local database of one account (or of local-only use), as the window uses it.
///
/// Reads take `&self`, edits `&mut self`. A `Store` is `Send` but not `Sync`: share it behind a
/// mutex, or open a second `Store` on the same file (WAL lets readers and one writer overlap).
#[derive(Debug)]
pub struct Store {
    db: Db,
    /// Whether this store committed an edit since its last [`Store::checkpoint`].
    edited_since_checkpoint: bool,
}

impl Store {
    /// Opens (creating if needed, its folder included) the database file at `path` and brings
    /// its schema up to date. [`Error::TooNew`] if a newer Bookwish wrote it.
    pub fn open(path: &Path) -> Result<Store> {
        Ok(Store::with(Db::open(path)?))
    }

    /// A fresh database in memory, for tests and throwaway use.
    pub fn open_in_memory() -> Result<Store> {
        Ok(Store::with(Db::open_in_memory()?))
    }

    pub(crate) fn with(db: Db) -> Store {
        Store {
            db,
            edited_since_checkpoint: false,
        }
    }

    /// This database's device id (UUIDv7, made on first open): ends every clock stamp and names
    /// the device to the server.
    pub fn device_id(&self) -> Uuid {
        self.db.device_id
    }

    pub(crate) fn connection(&self) -> &rusqlite::Connection {
        &self.db.conn
    }

    /// The live books matching `query` in its order, as the list's rows show them (the editor
    /// reads a whole book with [`Store::get`]), with per-status counts of all live books.
    pub fn list(&self, query: &ListQuery) -> Result<BookList> {
        self.list_up_to(query, None)
    }

    /// The first `limit` live books matching `query` in its order — a first screenful, read in
    /// index order without touching the rest — with how many match in all and the per-status
    /// counts.
    pub fn list_first(&self, query: &ListQuery, limit: u32) -> Result<BookList> {
        self.list_up_to(query, Some(limit))
    }

    fn list_up_to(&self, query: &ListQuery, limit: Option<u32>) -> Result<BookList> {
        let search = validate::search(&query.search)?;
        let status = query.status.map(Status::as_str);
        let mut args: Vec<(&str, &dyn ToSql)> = Vec::with_capacity(3);
        if let Some(status) = &status {
            args.push((":status", status));
        }
        let by = match &search {
            None => SearchBy::Nothing,
            Some(search) => {
                args.push((":search", &search.folded));
                match &search.isbn {
                    Some(isbn) => {
                        args.push((":isbn", isbn));
                        SearchBy::TextOrIsbn
                    }
                    None => SearchBy::Text,
                }
            }
        };
        let sql = books::list_sql(status.is_some(), by, query.sort, limit.is_some());
        let filter_args = args.len();
        if let Some(limit) = &limit {
            args.push((":limit", limit));
        }

        let tx = self.db.read()?;
        let books = tx
            .prepare_cached(&sql)?
            .query_map(args.as_slice(), books::listed_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let counts = books::counts(&tx)?;
        let listed = u32::try_from(books.len()).unwrap_or(u32::MAX);
        let matching = match limit {
            // Fewer than asked for: that is all of them.
            Some(limit) if listed >= limit => {
                if status.is_none() && by == SearchBy::Nothing {
                    counts.total()
                } else {
                    tx.prepare_cached(&books::count_sql(status.is_some(), by))?
                        .query_row(&args[..filter_args], |row| row.get(0))?
                }
            }
            _ => listed,
        };
        tx.commit()?;
        Ok(BookList {
            books,
            matching,
            counts,
        })
    }

    /// The live book `id`; [`Error::NotFound`] if it is unknown or deleted.
    pub fn get(&self, id: BookId) -> Result<Book> {
        live(books::load(&self.db.conn, id)?, id).map(|stored| stored.book)
    }

    /// Adds a book made from `draft`, with a new UUIDv7 id, and queues its creation.
    pub fn add(&mut self, draft: &BookDraft) -> Result<Book> {
        let fields = validate::draft(draft)?;
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let (stamp, now_ms) = tick(&tx, device_id)?;
        let id = Uuid::now_v7();
        let patch = outbox::create_patch(&fields);
        let book = fields.into_book(id, now_ms, now_ms);
        books::insert(&tx, &book)?;
        outbox::record(&tx, id, patch, None, stamp, now_ms)?;
        tx.commit()?;
        self.edited_since_checkpoint = true;
        Ok(book)
    }

    /// Replaces the editable fields of book `id` with `draft`. Nothing is written when nothing
    /// changes.
    pub fn update(&mut self, id: BookId, draft: &BookDraft) -> Result<Book> {
        let fields = validate::draft(draft)?;
        self.edit(id, |_| fields)
    }

    /// Moves book `id` to `status`. Moving to Reading fills an empty start date with today;
    /// moving to Finished fills an empty finish date with today (or the start date, if that is
    /// later). Dates already set are kept. Setting the current status writes nothing.
    pub fn set_status(&mut self, id: BookId, status: Status) -> Result<Book> {
        let today = validate::format_date(chrono::Local::now().date_naive());
        self.edit(id, |book| {
            let mut fields = Fields::of(book);
            if fields.status == status {
                return fields;
            }
            fields.status = status;
            match status {
                Status::Wishlist => {}
                Status::Reading => {
                    fields.started_on.get_or_insert(today);
                }
                Status::Finished => {
                    // A start date in the future would put today before it.
                    let finished = match &fields.started_on {
                        Some(started) if *started > today => started.clone(),
                        _ => today,
                    };
                    fields.finished_on.get_or_insert(finished);
                }
            }
            fields
        })
    }

    /// Deletes book `id` (a tombstone, so the delete syncs and can be undone) and returns it as
    /// it was. [`Error::NotFound`] if it is unknown or already deleted.
    pub fn delete(&mut self, id: BookId) -> Result<Book> {
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let stored = live(books::load(&tx, id)?, id)?;
        let now_ms = set_deleted(&tx, device_id, &stored, true)?;
        tx.commit()?;
        self.edited_since_checkpoint = true;
        tracing::debug!(%id, at = now_ms, "book deleted");
        Ok(stored.book)
    }

    /// Undoes the delete of book `id`. Restoring a live book changes nothing;
    /// [`Error::NotFound`] if no book ever had this id.
    pub fn restore(&mut self, id: BookId) -> Result<Book> {
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let stored = books::load(&tx, id)?.ok_or(Error::NotFound { id })?;
        if !stored.deleted {
            return Ok(stored.book);
        }
        let now_ms = set_deleted(&tx, device_id, &stored, false)?;
        tx.commit()?;
        self.edited_since_checkpoint = true;
        Ok(Book {
            updated_at: now_ms,
            ..stored.book
        })
    }

    /// Every pending mutation, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        outbox::entries(&self.db.conn)
    }

    /// Copies committed changes from the write-ahead log into the database file, without
    /// waiting for readers or writers (a passive checkpoint), then restarts the log with a tiny
    /// write so the next edit does not pay for the restart's fsync.
    ///
    /// The shell calls it when the app is idle (a couple of seconds after the last edit).
    /// Edits do not checkpoint by themselves until the log reaches 10,000 pages, because a
    /// checkpoint's fsyncs would make that one edit take milliseconds. Cheap when nothing
    /// changed.
    pub fn checkpoint(&mut self) -> Result<()> {
        crate::db::checkpoint(&self.db.conn, self.edited_since_checkpoint)?;
        self.edited_since_checkpoint = false;
        Ok(())
    }

    /// Changes the editable fields of live book `id` to what `change` returns, writing the row,
    /// the outbox entry and the clock in one transaction — or nothing, if nothing changed.
    fn edit(&mut self, id: BookId, change: impl FnOnce(&Book) -> Fields) -> Result<Book> {
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let stored = live(books::load(&tx, id)?, id)?;
        let new = change(&stored.book);
        let patch = outbox::diff_patch(&Fields::of(&stored.book), &new);
        if patch.is_empty() {
            return Ok(stored.book);
        }
        let (stamp, now_ms) = tick(&tx, device_id)?;
        books::write_fields(&tx, id, &new, Some(now_ms))?;
        outbox::record(&tx, id, patch, stored.server_version, stamp, now_ms)?;
        tx.commit()?;
        self.edited_since_checkpoint = true;
        Ok(new.into_book(id, stored.book.created_at, now_ms))
    }
}

/// A new clock stamp, persisted in `tx`, and the wall time in ms for `created_at`/`updated_at`.
fn tick(tx: &Transaction<'_>, device_id: Uuid) -> Result<(Stamp, i64)> {
    let wall_ms = hlc::wall_ms();
    let stamp = meta::tick(tx, device_id, wall_ms)?;
    Ok((stamp, i64::try_from(wall_ms).unwrap_or(i64::MAX)))
}

/// Flips the tombstone of `stored` and queues the flip; returns the edit's time.
fn set_deleted(
    tx: &Transaction<'_>,
    device_id: Uuid,
    stored: &StoredBook,
    deleted: bool,
) -> Result<i64> {
    let (stamp, now_ms) = tick(tx, device_id)?;
    let id = stored.book.id;
    books::write_deleted(tx, id, deleted, Some(now_ms))?;
    outbox::record(
        tx,
        id,
        outbox::deleted_patch(deleted),
        stored.server_version,
        stamp,
        now_ms,
    )?;
    Ok(now_ms)
}

/// `stored` if it exists and is not deleted, else [`Error::NotFound`].
fn live(stored: Option<StoredBook>, id: BookId) -> Result<StoredBook> {
    stored
        .filter(|stored| !stored.deleted)
        .ok_or(Error::NotFound { id })
}

#[cfg(test)]
impl Store {
    /// The raw connection, for tests that play the sync engine's part.
    pub(crate) fn conn_for_tests(&self) -> &rusqlite::Connection {
        &self.db.conn
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bookwish_ipc::{ListedBook, Sort, StatusCounts};

    use super::*;

    /// Row counts and the clock: everything an edit writes besides the book itself.
    #[derive(Debug, PartialEq, Eq)]
    struct Footprint {
        books: i64,
        outbox: i64,
        clock: Option<Stamp>,
        rows: String,
    }

    impl Store {
        fn footprint(&self) -> Result<Footprint> {
            let count = |table: &str| -> Result<i64> {
                Ok(self
                    .db
                    .conn
                    .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                        row.get(0)
                    })?)
            };
            // A digest of every stored value, so "nothing written" covers changed rows too.
            let rows = self.db.conn.query_row(
                "SELECT group_concat(r, '|') FROM (
                     SELECT id || title || author || status || notes || ifnull(rating, '-')
                         || ifnull(started_on, '-') || ifnull(finished_on, '-') || updated_at
                         || deleted AS r
                     FROM books ORDER BY id)",
                [],
                |row| row.get::<_, Option<String>>(0),
            )?;
            let outbox = self.db.conn.query_row(
                "SELECT group_concat(patch || mutation_id || hlc, '|') FROM outbox",
                [],
                |row| row.get::<_, Option<String>>(0),
            )?;
            Ok(Footprint {
                books: count("books")?,
                outbox: count("outbox")?,
                clock: meta::last_stamp(&self.db.conn)?,
                rows: format!("{rows:?}{outbox:?}"),
            })
        }
    }

    fn draft(title: &str, author: &str) -> BookDraft {
        BookDraft {
            title: title.to_owned(),
            author: author.to_owned(),
            ..BookDraft::default()
        }
    }

    fn today() -> String {
        validate::format_date(chrono::Local::now().date_naive())
    }

    fn titles(list: &BookList) -> Vec<&str> {
        list.books.iter().map(|book| book.title.as_str()).collect()
    }

    fn query(status: Option<Status>, search: &str, sort: Sort) -> ListQuery {
        ListQuery {
            status,
            search: search.to_owned(),
            sort,
        }
    }

    #[test]
    fn added_books_can_be_read_back() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let added = store.add(&BookDraft {
            title: "  Dune ".to_owned(),
            author: "Frank Herbert".to_owned(),
            status: Status::Reading,
            notes: "spice\nmust flow".to_owned(),
            rating: Some(5),
            started_on: Some("2024-01-02".to_owned()),
            finished_on: Some(String::new()),
            isbn: Some("0-441-01359-7".to_owned()),
        })?;
        assert_eq!(added.id.get_version_num(), 7, "book ids are UUIDv7");
        assert_eq!(added.title, "Dune", "the stored title is trimmed");
        assert_eq!(
            added.finished_on, None,
            "an empty date is stored as no date"
        );
        assert_eq!(
            added.created_at, added.updated_at,
            "a new book was created when last updated"
        );
        assert!(
            added.created_at > 1_577_836_800_000,
            "times are ms since the Unix epoch"
        );
        assert_eq!(
            store.get(added.id)?,
            added,
            "get returns exactly what add returned"
        );
        let list = store.list(&ListQuery::default())?;
        assert_eq!(
            list.books,
            vec![ListedBook {
                id: added.id,
                title: "Dune".to_owned(),
                author: "Frank Herbert".to_owned(),
                status: Status::Reading,
                rating: Some(5),
            }],
            "the list holds what a row shows of the added book; the editor gets the rest"
        );
        assert_eq!(
            store.list_first(&ListQuery::default(), 1)?.books,
            list.books,
            "a first screenful holds the same rows as the whole list"
        );
        Ok(())
    }

    #[test]
    fn unknown_ids_are_not_found() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let id = Uuid::now_v7();
        let before = store.footprint()?;
        assert!(matches!(store.get(id), Err(Error::NotFound { id: missing }) if missing == id));
        assert!(matches!(
            store.update(id, &draft("X", "")),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            store.set_status(id, Status::Reading),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(store.delete(id), Err(Error::NotFound { .. })));
        assert!(matches!(store.restore(id), Err(Error::NotFound { .. })));
        assert_eq!(
            store.footprint()?,
            before,
            "edits of unknown ids write nothing"
        );
        Ok(())
    }

    #[test]
    fn update_replaces_the_editable_fields() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let added = store.add(&draft("Dune", "Herbert"))?;
        let updated = store.update(
            added.id,
            &BookDraft {
                title: "Dune Messiah".to_owned(),
                author: "Frank Herbert".to_owned(),
                status: Status::Finished,
                notes: "second".to_owned(),
                rating: Some(3),
                started_on: Some("2024-01-01".to_owned()),
                finished_on: Some("2024-02-01".to_owned()),
                isbn: Some("978-0-441-01359-3".to_owned()),
            },
        )?;
        assert_eq!(updated.id, added.id, "an update keeps the id");
        assert_eq!(
            updated.created_at, added.created_at,
            "an update keeps created_at"
        );
        assert!(
            updated.updated_at >= added.updated_at,
            "an update moves updated_at forward"
        );
        assert_eq!(
            (updated.title.as_str(), updated.status, updated.rating),
            ("Dune Messiah", Status::Finished, Some(3)),
            "the new values are stored"
        );
        assert_eq!(store.get(added.id)?, updated, "get sees the update");
        let cleared = store.update(added.id, &draft("Dune Messiah", ""))?;
        assert_eq!(
            (cleared.rating, cleared.started_on, cleared.notes.as_str()),
            (None, None, ""),
            "an update can clear optional fields"
        );
        Ok(())
    }

    #[test]
    fn an_update_that_changes_nothing_writes_nothing() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let added = store.add(&draft("Dune", "Frank Herbert"))?;
        let before = store.footprint()?;
        let same = store.update(added.id, &draft(" Dune  ", "Frank Herbert "))?;
        assert_eq!(same, added, "a no-op update returns the book unchanged");
        let same = store.set_status(added.id, Status::Wishlist)?;
        assert_eq!(
            same, added,
            "setting the current status returns the book unchanged"
        );
        assert_eq!(
            store.footprint()?,
            before,
            "a no-op edit writes neither the book, the outbox nor the clock"
        );
        Ok(())
    }

    #[test]
    fn rejected_edits_write_nothing() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&draft("Dune", ""))?;
        let long = |n: usize| "x".repeat(n);
        let bad_drafts = [
            ("title", draft("   ", "")),
            ("title", draft(&long(501), "")),
            ("title", draft("Du\u{0}ne", "")),
            ("author", draft("Dune", &long(301))),
            ("author", draft("Dune", "Frank\u{7f}")),
            (
                "notes",
                BookDraft {
                    notes: long(10_001),
                    ..draft("Dune", "")
                },
            ),
            (
                "notes",
                BookDraft {
                    notes: "\u{1b}[31m".to_owned(),
                    ..draft("Dune", "")
                },
            ),
            (
                "rating",
                BookDraft {
                    rating: Some(0),
                    ..draft("Dune", "")
                },
            ),
            (
                "rating",
                BookDraft {
                    rating: Some(6),
                    ..draft("Dune", "")
                },
            ),
            (
                "started_on",
                BookDraft {
                    started_on: Some("2024-1-1".into()),
                    ..draft("Dune", "")
                },
            ),
            (
                "finished_on",
                BookDraft {
                    finished_on: Some("2023-02-29".into()),
                    ..draft("Dune", "")
                },
            ),
            (
                "finished_on",
                BookDraft {
                    started_on: Some("2024-03-01".into()),
                    finished_on: Some("2024-02-01".into()),
                    ..draft("Dune", "")
                },
            ),
        ];
        let before = store.footprint()?;
        for (field, bad) in &bad_drafts {
            for attempt in [store.add(bad), store.update(book.id, bad)] {
                match attempt {
                    Err(Error::Validation {
                        field: rejected, ..
                    }) => {
                        assert_eq!(rejected, *field, "the rejection names the field at fault")
                    }
                    other => panic!("{bad:?} must be rejected on {field}, got {other:?}"),
                }
            }
            assert_eq!(
                store.footprint()?,
                before,
                "a rejected edit ({field}) writes no book, no outbox entry and no clock tick"
            );
        }
        assert_eq!(
            store.get(book.id)?,
            book,
            "the book is unchanged after rejected updates"
        );
        Ok(())
    }

    #[test]
    fn reading_fills_the_start_date_and_finished_the_finish_date() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&draft("Dune", ""))?;
        let reading = store.set_status(book.id, Status::Reading)?;
        assert_eq!(reading.status, Status::Reading, "the status changes");
        assert_eq!(
            reading.started_on,
            Some(today()),
            "starting to read sets started_on=today"
        );
        assert_eq!(
            reading.finished_on, None,
            "starting to read sets no finish date"
        );

        let finished = store.set_status(book.id, Status::Finished)?;
        assert_eq!(
            finished.finished_on,
            Some(today()),
            "finishing sets finished_on=today"
        );
        assert_eq!(
            finished.started_on,
            Some(today()),
            "finishing keeps the start date"
        );

        let back = store.set_status(book.id, Status::Wishlist)?;
        assert_eq!(
            (back.started_on.as_deref(), back.finished_on.as_deref()),
            (Some(today().as_str()), Some(today().as_str())),
            "moving back to the wishlist keeps the dates"
        );
        assert_eq!(store.get(book.id)?, back, "set_status is stored");
        Ok(())
    }

    #[test]
    fn set_status_keeps_dates_already_set() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&BookDraft {
            started_on: Some("2020-01-01".into()),
            finished_on: Some("2020-02-01".into()),
            ..draft("Dune", "")
        })?;
        let reading = store.set_status(book.id, Status::Reading)?;
        assert_eq!(
            reading.started_on.as_deref(),
            Some("2020-01-01"),
            "a set start date is kept"
        );
        let finished = store.set_status(book.id, Status::Finished)?;
        assert_eq!(
            finished.finished_on.as_deref(),
            Some("2020-02-01"),
            "a set finish date is kept"
        );

        let planned = store.add(&BookDraft {
            started_on: Some("2999-01-01".into()),
            ..draft("Planned", "")
        })?;
        let done = store.set_status(planned.id, Status::Finished)?;
        assert_eq!(
            done.finished_on.as_deref(),
            Some("2999-01-01"),
            "finishing never puts the finish date before a future start date"
        );
        let unstarted = store.add(&draft("Skimmed", ""))?;
        let done = store.set_status(unstarted.id, Status::Finished)?;
        assert_eq!(
            done.started_on, None,
            "finishing leaves an empty start date empty"
        );
        Ok(())
    }

    #[test]
    fn delete_leaves_a_tombstone_that_restore_brings_back() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&draft("Dune", ""))?;
        let other = store.add(&draft("Emma", ""))?;
        let deleted = store.delete(book.id)?;
        assert_eq!(
            deleted, book,
            "delete returns the book as it was, for the undo toast"
        );
        assert!(
            matches!(store.get(book.id), Err(Error::NotFound { .. })),
            "a deleted book is not found"
        );
        let list = store.list(&ListQuery::default())?;
        assert_eq!(titles(&list), ["Emma"], "deleted books leave the list");
        assert_eq!(list.counts.total(), 1, "deleted books leave the counts");
        assert!(
            matches!(store.delete(book.id), Err(Error::NotFound { .. })),
            "deleting twice is NotFound"
        );
        assert!(
            matches!(
                store.update(book.id, &draft("X", "")),
                Err(Error::NotFound { .. })
            ),
            "a deleted book cannot be edited"
        );
        let tombstones: i64 =
            store
                .db
                .conn
                .query_row("SELECT count(*) FROM books WHERE deleted = 1", [], |r| {
                    r.get(0)
                })?;
        assert_eq!(tombstones, 1, "delete keeps the row as a tombstone");

        let restored = store.restore(book.id)?;
        assert_eq!(
            Book {
                updated_at: book.updated_at,
                ..restored.clone()
            },
            book,
            "restore brings every field back"
        );
        assert_eq!(
            store.get(book.id)?,
            restored,
            "a restored book is found again"
        );
        assert_eq!(
            store.list(&ListQuery::default())?.books.len(),
            2,
            "and listed again"
        );

        let before = store.footprint()?;
        assert_eq!(
            store.restore(other.id)?,
            other,
            "restoring a live book returns it"
        );
        assert_eq!(
            store.footprint()?,
            before,
            "restoring a live book writes nothing"
        );
        Ok(())
    }

    /// A store holding a small, varied list.
    fn shelf() -> Result<(Store, Vec<Book>)> {
        let mut store = Store::open_in_memory()?;
        let books = [
            ("Émile", "Rousseau", Status::Wishlist),
            ("dune", "Frank Herbert", Status::Reading),
            ("Dune", "Frank Herbert", Status::Finished),
            ("Zen", "", Status::Wishlist),
            ("50% Off", "Ann_Smith", Status::Wishlist),
            ("Back\\slash", "ÖZ", Status::Reading),
            ("apple", "brian", Status::Finished),
        ]
        .into_iter()
        .map(|(title, author, status)| {
            store.add(&BookDraft {
                status,
                ..draft(title, author)
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok((store, books))
    }

    #[test]
    fn recently_added_is_newest_first() -> Result<()> {
        let (store, books) = shelf()?;
        let list = store.list(&query(None, "", Sort::RecentlyAdded))?;
        let expected: Vec<&str> = books.iter().rev().map(|b| b.title.as_str()).collect();
        assert_eq!(
            titles(&list),
            expected,
            "RecentlyAdded lists newest first (the last written first within a millisecond)"
        );
        Ok(())
    }

    #[test]
    fn title_and_author_sorts_ignore_case_and_accents() -> Result<()> {
        let (store, _) = shelf()?;
        let by_title = store.list(&query(None, "", Sort::Title))?;
        assert_eq!(
            titles(&by_title),
            [
                "50% Off",
                "apple",
                "Back\\slash",
                "Dune",
                "dune",
                "Émile",
                "Zen"
            ],
            "Title sorts ignoring case and accents (Émile as emile); equal titles by exact title then creation"
        );
        let by_author = store.list(&query(None, "", Sort::Author))?;
        let authors: Vec<&str> = by_author.books.iter().map(|b| b.author.as_str()).collect();
        assert_eq!(
            authors,
            [
                "Ann_Smith",
                "brian",
                "Frank Herbert",
                "Frank Herbert",
                "ÖZ",
                "Rousseau",
                ""
            ],
            "Author sorts ignoring case and accents (ÖZ as oz), books without an author last"
        );
        assert_eq!(
            titles(&by_author)[2..4],
            ["Dune", "dune"],
            "equal authors are ordered by title"
        );
        Ok(())
    }

    #[test]
    fn status_filter_and_counts() -> Result<()> {
        let (store, _) = shelf()?;
        let reading = store.list(&query(Some(Status::Reading), "", Sort::Title))?;
        assert_eq!(
            titles(&reading),
            ["Back\\slash", "dune"],
            "the filter keeps one status"
        );
        let expected = StatusCounts {
            wishlist: 3,
            reading: 2,
            finished: 2,
        };
        assert_eq!(
            reading.counts, expected,
            "counts cover every live book, ignoring the filter"
        );
        let searched = store.list(&query(Some(Status::Finished), "zzz", Sort::Title))?;
        assert!(searched.books.is_empty(), "nothing matches");
        assert_eq!(searched.counts, expected, "counts ignore the search too");
        Ok(())
    }

    #[test]
    fn a_first_screenful_is_the_head_of_the_list_and_knows_how_many_match() -> Result<()> {
        let (store, _) = shelf()?;
        for q in [
            query(None, "", Sort::Title),
            query(None, "", Sort::RecentlyAdded),
            query(Some(Status::Wishlist), "", Sort::Author),
            query(None, "e", Sort::Title),
            query(Some(Status::Reading), "e", Sort::Title),
        ] {
            let whole = store.list(&q)?;
            assert_eq!(
                whole.matching as usize,
                whole.books.len(),
                "a whole list counts exactly its books ({q:?})"
            );
            for limit in [0, 1, 2, 100] {
                let first = store.list_first(&q, limit)?;
                let head = &whole.books[..whole.books.len().min(limit as usize)];
                assert_eq!(
                    first.books, head,
                    "the first {limit} are the head of the whole list, in its order ({q:?})"
                );
                assert_eq!(
                    first.matching, whole.matching,
                    "a first screenful still says how many books match ({q:?}, {limit})"
                );
                assert_eq!(first.counts, whole.counts, "counts cover every book");
            }
        }
        Ok(())
    }

    #[test]
    fn search_matches_title_or_author_ignoring_case() -> Result<()> {
        let (store, _) = shelf()?;
        let search = |text: &str| -> Result<Vec<String>> {
            let list = store.list(&query(None, text, Sort::Title))?;
            Ok(list.books.into_iter().map(|book| book.title).collect())
        };
        assert_eq!(search("DUNE")?, ["Dune", "dune"], "search ignores case");
        assert_eq!(
            search("herb")?,
            ["Dune", "dune"],
            "search matches the author"
        );
        assert_eq!(
            search("  émi ")?,
            ["Émile"],
            "search folds non-ASCII letters and trims"
        );
        assert_eq!(
            search("öz")?,
            ["Back\\slash"],
            "non-ASCII authors match in any case"
        );
        assert_eq!(
            search("50%")?,
            ["50% Off"],
            "% is matched literally, not as a wildcard"
        );
        assert_eq!(search("%")?, ["50% Off"], "a lone % is not match-all");
        assert_eq!(
            search("_")?,
            ["50% Off"],
            "_ is matched literally, not as any character"
        );
        assert_eq!(
            search("\\")?,
            ["Back\\slash"],
            "a backslash is matched literally"
        );
        assert!(
            search("'; DROP TABLE books; --")?.is_empty(),
            "search text is data, not SQL"
        );
        assert_eq!(search("")?.len(), 7, "a blank search lists everything");
        let reading = store.list(&query(Some(Status::Reading), "e", Sort::Title))?;
        assert_eq!(titles(&reading), ["dune"], "search and filter combine");
        Ok(())
    }

    #[test]
    fn godel_finds_goedel_after_upgrading_a_database_written_by_the_old_fold() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("books.sqlite3");
        {
            #[allow(clippy::disallowed_methods)] // writing a database as an older Bookwish did
            let mut conn = rusqlite::Connection::open(&path)?;
            crate::schema::old_database(
                &mut conn,
                &[
                    ("Gödel, Escher, Bach", "Douglas Hofstadter"),
                    ("The Name of the Rose", "Umberto Eco"),
                ],
            )?;
        }
        let store = Store::open(&path)?;
        let found = store.list(&query(None, "godel", Sort::Title))?;
        assert_eq!(
            titles(&found),
            ["Gödel, Escher, Bach"],
            "after the upgrade, typing without the accent finds the book"
        );
        let found = store.list(&query(None, "GÖDEL", Sort::Title))?;
        assert_eq!(
            titles(&found),
            ["Gödel, Escher, Bach"],
            "and typing with it, in any case, still does"
        );
        Ok(())
    }

    #[test]
    fn an_isbn_is_stored_as_13_digits_and_found_by_its_digits() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let dune = store.add(&BookDraft {
            isbn: Some("0-441-01359-7".to_owned()),
            ..draft("Dune", "Frank Herbert")
        })?;
        assert_eq!(
            dune.isbn.as_deref(),
            Some("9780441013593"),
            "an ISBN-10 is stored as its ISBN-13"
        );
        store.add(&BookDraft {
            isbn: Some("9780765326355".to_owned()),
            ..draft("The Way of Kings", "Brandon Sanderson")
        })?;
        store.add(&draft("1984", "George Orwell"))?;
        let search = |text: &str| -> Result<Vec<String>> {
            let list = store.list(&query(None, text, Sort::Title))?;
            Ok(list.books.into_iter().map(|book| book.title).collect())
        };
        for typed in [
            "9780441013593",
            "978-0-441-01359-3",
            "0441013597",
            "0-441-01359-7",
            "978 0441",
            "04410",
        ] {
            assert_eq!(search(typed)?, ["Dune"], "{typed:?} finds Dune by its ISBN");
        }
        assert_eq!(
            search("1984")?,
            ["1984"],
            "a short number still searches titles, and finds no ISBN"
        );
        assert!(
            search("978-0-441-01359-4")?.is_empty(),
            "a mistyped ISBN finds nothing"
        );

        let (field, message) = match store.add(&BookDraft {
            isbn: Some("978-0-441-01359-4".to_owned()),
            ..draft("Dune", "")
        }) {
            Err(Error::Validation { field, message }) => (field, message),
            other => panic!("a wrong check digit must be refused, got {other:?}"),
        };
        assert_eq!(field, "isbn", "the refusal names the ISBN field");
        assert!(
            message.contains("should be 3"),
            "and the right digit: {message}"
        );
        assert!(
            store
                .conn_for_tests()
                .execute(
                    "UPDATE books SET isbn = '9780441013594' WHERE id = ?1",
                    [dune.id.to_string()]
                )
                .is_err(),
            "the schema's CHECK refuses an ISBN with a wrong check digit, whoever writes it"
        );
        let cleared = store.update(dune.id, &draft("Dune", "Frank Herbert"))?;
        assert_eq!(cleared.isbn, None, "an empty ISBN clears it");
        assert_eq!(
            store.outbox()?[0].patch.get("isbn"),
            Some(&serde_json::Value::Null),
            "the cleared ISBN is queued for sync like any field"
        );
        Ok(())
    }

    #[test]
    fn overlong_search_is_a_validation_error() -> Result<()> {
        let store = Store::open_in_memory()?;
        let result = store.list(&query(None, &"a".repeat(201), Sort::Title));
        assert!(
            matches!(
                result,
                Err(Error::Validation {
                    field: "search",
                    ..
                })
            ),
            "a search over SEARCH_MAX is rejected on the search field: {result:?}"
        );
        Ok(())
    }

    #[test]
    fn unfiltered_lists_read_an_index_instead_of_sorting() -> Result<()> {
        let store = Store::open_in_memory()?;
        for (sort, limited) in Sort::ALL.into_iter().flat_map(|s| [(s, false), (s, true)]) {
            let sql = format!(
                "EXPLAIN QUERY PLAN {}",
                books::list_sql(false, SearchBy::Nothing, sort, limited)
            );
            let limit: &dyn ToSql = &100;
            let params: &[(&str, &dyn ToSql)] = if limited { &[(":limit", limit)] } else { &[] };
            let mut statement = store.db.conn.prepare(&sql)?;
            let plan = statement
                .query_map(params, |row| row.get::<_, String>(3))?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .join("; ");
            assert!(
                plan.contains("USING INDEX") && !plan.contains("TEMP B-TREE"),
                "listing by {sort:?} must walk an index in order, not sort: {plan}"
            );
        }
        let mut statement = store.db.conn.prepare(
            "EXPLAIN QUERY PLAN SELECT status, count(*) FROM books WHERE deleted = 0 GROUP BY status",
        )?;
        let plan = statement
            .query_map([], |row| row.get::<_, String>(3))?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .join("; ");
        assert!(
            plan.contains("COVERING INDEX"),
            "counts read only an index: {plan}"
        );
        Ok(())
    }

    #[test]
    fn the_list_indexes_break_ties_by_rowid_not_by_a_copy_of_the_id() -> Result<()> {
        let store = Store::open_in_memory()?;
        let mut statement = store.db.conn.prepare(
            "SELECT i.name, c.name FROM sqlite_schema AS i, pragma_index_info(i.name) AS c
             WHERE i.type = 'index' AND i.tbl_name = 'books' AND i.sql IS NOT NULL",
        )?;
        let columns = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        assert!(
            columns.iter().any(|(index, _)| index == "books_recent"),
            "the list's indexes are read: {columns:?}"
        );
        let with_id: Vec<_> = columns
            .iter()
            .filter(|(_, column)| column.as_deref() == Some("id"))
            .collect();
        assert!(
            with_id.is_empty(),
            "an index entry ends with its row's rowid, which breaks ties: a copy of the \
             36-character id as well only makes the indexes larger and slower to build: \
             {with_id:?}"
        );
        Ok(())
    }

    #[test]
    fn every_edit_ticks_the_clock_in_the_same_transaction() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&draft("Dune", ""))?;
        let mut last = store.footprint()?.clock.expect("an edit ticks the clock");
        assert_eq!(
            last.device,
            store.device_id(),
            "stamps carry this database's device id"
        );
        type Edit<'a> = &'a dyn Fn(&mut Store) -> Result<Book>;
        let edits: [Edit<'_>; 4] = [
            &|s| s.update(book.id, &draft("Dune 2", "")),
            &|s| s.set_status(book.id, Status::Reading),
            &|s| s.delete(book.id),
            &|s| s.restore(book.id),
        ];
        for edit in edits {
            edit(&mut store)?;
            let stamp = store.footprint()?.clock.expect("clock persisted");
            assert!(
                stamp > last,
                "every edit's stamp is later than the one before"
            );
            last = stamp;
        }
        let entry = &store.outbox()?[0];
        assert_eq!(
            Some(entry.hlc),
            store.footprint()?.clock,
            "the outbox holds the latest stamp"
        );
        Ok(())
    }

    #[test]
    fn a_store_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Store>();
    }

    #[test]
    fn every_connection_gets_the_pragmas() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("books.sqlite3"))?;
        let pragma = |name: &str| -> Result<String> {
            Ok(store
                .db
                .conn
                .query_row(&format!("PRAGMA {name}"), [], |row| {
                    row.get::<_, rusqlite::types::Value>(0)
                        .map(|value| format!("{value:?}"))
                })?)
        };
        assert_eq!(
            pragma("journal_mode")?,
            "Text(\"wal\")",
            "file stores use WAL"
        );
        assert_eq!(
            pragma("foreign_keys")?,
            "Integer(1)",
            "foreign keys are enforced"
        );
        assert_eq!(
            pragma("synchronous")?,
            "Integer(1)",
            "synchronous is NORMAL"
        );
        assert_eq!(
            pragma("busy_timeout")?,
            "Integer(5000)",
            "writers wait 5 s for a lock"
        );
        assert_eq!(
            pragma("wal_autocheckpoint")?,
            "Integer(10000)",
            "edits leave checkpoints to Store::checkpoint, up to the safety limit"
        );
        Ok(())
    }

    #[test]
    fn opening_creates_the_missing_folder() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("accounts").join("user_x.sqlite3");
        let mut store = Store::open(&path)?;
        store.add(&BookDraft {
            title: "Dune".into(),
            ..BookDraft::default()
        })?;
        assert!(
            path.is_file(),
            "the first open of an account's database must create its folder"
        );
        Ok(())
    }

    #[test]
    fn reopening_a_file_keeps_the_books_and_the_device_id() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("books.sqlite3");
        let (book, device_id, stamp) = {
            let mut store = Store::open(&path)?;
            let book = store.add(&draft("Dune", "Frank Herbert"))?;
            (book, store.device_id(), store.footprint()?.clock)
        };
        let mut store = Store::open(&path)?;
        assert_eq!(
            store.get(book.id)?,
            book,
            "books survive closing and reopening"
        );
        assert_eq!(
            store.device_id(),
            device_id,
            "the device id is made once per database"
        );
        assert_eq!(
            store.device_id().get_version_num(),
            7,
            "the device id is a UUIDv7"
        );
        assert_eq!(store.outbox()?.len(), 1, "the outbox survives reopening");
        store.update(book.id, &draft("Dune!", ""))?;
        assert!(
            store.footprint()?.clock > stamp,
            "the clock continues after the persisted stamp"
        );
        let other = Store::open(&dir.path().join("other.sqlite3"))?;
        assert_ne!(
            other.device_id(),
            device_id,
            "each database has its own device id"
        );
        Ok(())
    }

    #[test]
    fn a_copied_database_syncs_as_a_new_device_with_its_changes_kept() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let original = dir.path().join("books.sqlite3");
        let (device_id, book) = {
            let mut store = Store::open(&original)?;
            let book = store.add(&draft("Dune", ""))?;
            store.checkpoint()?;
            (store.device_id(), book)
        };
        let copy = dir.path().join("elsewhere").join("books.sqlite3");
        std::fs::create_dir_all(copy.parent().expect("a folder")).expect("folder");
        std::fs::copy(&original, &copy).expect("copy");
        let copied = Store::open(&copy)?;
        assert_ne!(
            copied.device_id(),
            device_id,
            "a copy opened elsewhere must not sync under the original's device id"
        );
        assert_eq!(copied.get(book.id)?, book, "the copy keeps the books");
        assert_eq!(copied.outbox()?.len(), 1, "and the changes still to push");
        assert_eq!(
            Store::open(&copy)?.device_id(),
            copied.device_id(),
            "the copy keeps its new id from then on"
        );
        assert_eq!(
            Store::open(&original)?.device_id(),
            device_id,
            "the original keeps its id"
        );
        Ok(())
    }

    #[test]
    fn checkpoint_moves_the_log_into_the_file() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("books.sqlite3");
        let mut store = Store::open(&path)?;
        let book = store.add(&draft("Dune", ""))?;
        let log_pages = |store: &Store| -> Result<(i64, i64)> {
            Ok(store
                .db
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                    Ok((row.get(1)?, row.get(2)?))
                })?)
        };
        let (before, _) = log_pages(&store)?;
        store.checkpoint()?;
        let (after, copied) = log_pages(&store)?;
        assert!(
            after < before,
            "the log restarted, holding only the idle-time warm-up write ({after} < {before})"
        );
        assert_eq!(
            after, copied,
            "after a checkpoint every logged page is in the file"
        );
        store.checkpoint()?;
        assert_eq!(
            log_pages(&store)?.0,
            after,
            "a checkpoint with no edit since the last one writes nothing"
        );
        let reader = Store::open(&path)?;
        assert_eq!(reader.get(book.id)?, book, "checkpointed data reads back");
        Store::open_in_memory()?.checkpoint()?;
        Ok(())
    }

    #[test]
    fn two_stores_share_one_file() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("books.sqlite3");
        let mut first = Store::open(&path)?;
        let mut second = Store::open(&path)?;
        assert_eq!(
            first.device_id(),
            second.device_id(),
            "one file, one device id"
        );

        let dune = first.add(&draft("Dune", ""))?;
        assert_eq!(
            second.get(dune.id)?,
            dune,
            "a commit on one connection is seen by the other"
        );
        let emma = second.add(&draft("Emma", ""))?;
        first.set_status(emma.id, Status::Reading)?;
        second.update(dune.id, &draft("Dune Messiah", ""))?;

        // A reader holding a snapshot does not block the writer (WAL).
        let reader = first.db.conn.unchecked_transaction()?;
        let seen: i64 = reader.query_row("SELECT count(*) FROM books", [], |r| r.get(0))?;
        second.add(&draft("Zen", ""))?;
        drop(reader);
        assert_eq!(seen, 2, "the reader saw its snapshot");

        let list = first.list(&query(None, "", Sort::Title))?;
        assert_eq!(
            titles(&list),
            ["Dune Messiah", "Emma", "Zen"],
            "both writers' edits landed"
        );
        assert_eq!(
            first.outbox()?.len(),
            3,
            "both writers queued their edits in one outbox"
        );
        Ok(())
    }

    #[test]
    fn a_writer_waits_for_the_other_connection_to_commit() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("books.sqlite3");
        let mut first = Store::open(&path)?;
        let mut second = Store::open(&path)?;
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || -> Result<Store> {
            let tx = first.db.write()?;
            tx.execute(
                "INSERT INTO sync_meta (key, value) VALUES ('test', 'held')",
                [],
            )?;
            locked_tx.send(()).expect("test channel");
            // Hold the write lock for a while the other store tries to write (nothing is ever
            // sent on this channel: it is only a timed wait).
            let (_never, wait) = std::sync::mpsc::channel::<()>();
            let _ = wait.recv_timeout(Duration::from_millis(200));
            tx.commit()?;
            Ok(first)
        });
        locked_rx.recv().expect("holder took the lock");
        let book = second.add(&draft("Dune", ""))?;
        let first = holder.join().expect("holder thread")?;
        assert_eq!(
            first.get(book.id)?,
            book,
            "the waiting write succeeded after the lock freed"
        );
        Ok(())
    }
}
