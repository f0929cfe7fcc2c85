//! Moving books between databases — the local-only list into an account on first sign-in —
//! and the small per-database settings that remember the user's answer.

use bookwish_ipc::{Book, BookDraft, BookId, ListQuery};
use rusqlite::{params, OptionalExtension};

use super::{live, load, set_deleted, tick, write, Store};
use crate::error::Result;
use crate::outbox;
use crate::validate::{self, fold, Fields};

/// What [`Store::import`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Books added (and queued for sync).
    pub added: u32,
    /// Books skipped because this database already has their id.
    pub already_there: u32,
}

/// Settings live in `sync_meta` under this prefix, apart from the engine's keys.
const SETTING_PREFIX: &str = "setting.";

impl Store {
    /// Every live book, newest first.
    pub fn live_books(&self) -> Result<Vec<Book>> {
        Ok(self.list(&ListQuery::default())?.books)
    }

    /// Adds `books` with their own ids and times, each queued as a creation, in one
    /// transaction. A book whose id this database already has is left as it is, so importing
    /// again after an interruption adds nothing twice. Each book is validated like a typed one.
    pub fn import(&mut self, books: &[Book]) -> Result<Imported> {
        let checked = books
            .iter()
            .map(|book| Ok((book, validate::draft(&BookDraft::from(book))?)))
            .collect::<Result<Vec<_>>>()?;
        let tx = write(&mut self.conn)?;
        let mut outcome = Imported::default();
        for (book, fields) in checked {
            if load(&tx, book.id)?.is_some() {
                outcome.already_there += 1;
                continue;
            }
            let (stamp, now_ms) = tick(&tx, self.device_id)?;
            let patch = outbox::create_patch(&fields);
            let stored = fields.into_book(book.id, book.created_at, book.updated_at);
            insert(&tx, &stored)?;
            outbox::record(&tx, book.id, patch, None, stamp, now_ms)?;
            outcome.added += 1;
        }
        tx.commit()?;
        self.edited_since_checkpoint = true;
        Ok(outcome)
    }

    /// Deletes (as tombstones) the live books among `ids`, in one transaction: what moving
    /// them elsewhere leaves behind. Ids not live here are skipped.
    pub fn remove_moved(&mut self, ids: &[BookId]) -> Result<u32> {
        let tx = write(&mut self.conn)?;
        let mut removed = 0;
        for &id in ids {
            if let Ok(stored) = live(load(&tx, id)?, id) {
                set_deleted(&tx, self.device_id, &stored, true)?;
                removed += 1;
            }
        }
        tx.commit()?;
        self.edited_since_checkpoint = true;
        Ok(removed)
    }

    /// A setting of this database, if set.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
            .query_row([format!("{SETTING_PREFIX}{key}")], |row| row.get(0))
            .optional()?)
    }

    /// Sets a setting of this database.
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute((format!("{SETTING_PREFIX}{key}"), value))?;
        Ok(())
    }

    /// Queues every field of live book `id` again (as an edit against its server version).
    pub(super) fn requeue_all_fields(&mut self, id: BookId) -> Result<()> {
        let tx = write(&mut self.conn)?;
        let stored = live(load(&tx, id)?, id)?;
        let (stamp, now_ms) = tick(&tx, self.device_id)?;
        let patch = outbox::create_patch(&Fields::of(&stored.book));
        outbox::record(&tx, id, patch, stored.server_version, stamp, now_ms)?;
        tx.commit()?;
        self.edited_since_checkpoint = true;
        Ok(())
    }
}

pub(super) fn insert(tx: &rusqlite::Transaction<'_>, book: &Book) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO books (id, title, author, status, notes, rating, started_on, finished_on,
                            created_at, updated_at, title_fold, author_fold)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
        book.created_at,
        book.updated_at,
        fold(&book.title),
        fold(&book.author),
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bookwish_ipc::Status;

    fn draft(title: &str) -> BookDraft {
        BookDraft {
            title: title.into(),
            author: "Someone".into(),
            status: Status::Reading,
            rating: Some(4),
            ..BookDraft::default()
        }
    }

    #[test]
    fn importing_keeps_ids_and_times_queues_creations_and_never_doubles() -> Result<()> {
        let mut local = Store::open_in_memory()?;
        let dune = local.add(&draft("Dune"))?;
        let emma = local.add(&draft("Emma"))?;
        let mut account = Store::open_in_memory()?;

        let books = local.live_books()?;
        let first = account.import(&books)?;
        assert_eq!(
            first,
            Imported {
                added: 2,
                already_there: 0
            },
            "both books are added"
        );
        assert_eq!(
            account.get(dune.id)?,
            dune,
            "an imported book keeps its id, fields and times"
        );
        let queued: Vec<BookId> = account.outbox()?.iter().map(|e| e.book_id).collect();
        assert!(
            queued.contains(&dune.id) && queued.contains(&emma.id),
            "every imported book is queued for sync: {queued:?}"
        );
        assert!(
            account
                .outbox()?
                .iter()
                .all(|e| e.base_version.is_none() && e.patch.contains_key("title")),
            "imports are queued as creations (every field, no server version)"
        );

        let again = account.import(&books)?;
        assert_eq!(
            again,
            Imported {
                added: 0,
                already_there: 2
            },
            "importing again after an interruption adds nothing twice"
        );
        assert_eq!(account.live_books()?.len(), 2, "still two books");
        Ok(())
    }

    #[test]
    fn moved_books_leave_tombstones_behind() -> Result<()> {
        let mut local = Store::open_in_memory()?;
        let dune = local.add(&draft("Dune"))?;
        let emma = local.add(&draft("Emma"))?;
        assert_eq!(local.remove_moved(&[dune.id, BookId::nil()])?, 1);
        assert_eq!(
            local.live_books()?,
            vec![emma],
            "only the moved book leaves the list; unknown ids are skipped"
        );
        assert!(
            local.restore(dune.id).is_ok(),
            "a moved-away book is a tombstone, never hard-deleted"
        );
        Ok(())
    }

    #[test]
    fn an_invalid_book_stops_the_whole_import() -> Result<()> {
        let mut account = Store::open_in_memory()?;
        let mut local = Store::open_in_memory()?;
        let good = local.add(&draft("Good"))?;
        let bad = Book {
            title: "   ".into(),
            ..good.clone()
        };
        assert!(
            account.import(&[good, bad]).is_err(),
            "a book breaking the rules is refused"
        );
        assert!(
            account.live_books()?.is_empty(),
            "a refused import writes nothing"
        );
        Ok(())
    }

    #[test]
    fn settings_round_trip_apart_from_the_engines_keys() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        assert_eq!(store.setting("local_books")?, None, "unset at first");
        store.set_setting("local_books", "kept")?;
        store.set_setting("local_books", "moved")?;
        assert_eq!(store.setting("local_books")?.as_deref(), Some("moved"));
        assert_ne!(
            store.setting("device_id")?,
            Some(store.device_id().to_string()),
            "settings never read the engine's own keys"
        );
        Ok(())
    }
}
