//! Moving books between databases — the local-only list into an account on first sign-in —
//! and the answer to that question, remembered per account.
//!
//! Moving copies the books into the account's database (same ids, queued as creations) and only
//! then leaves tombstones in the local one, so an interruption at any point loses nothing and
//! moving again adds nothing twice. "Keep" is remembered in the account's database; after a move
//! the question comes back only if new local books appear.

use bookwish_ipc::{Book, BookDraft, BookId, LocalBooksOffer, MovedBooks};

use super::{live, set_deleted, tick, Store};
use crate::error::{Error, Result};
use crate::fields::Fields;
use crate::table::books;
use crate::table::meta::{self, Key};
use crate::table::outbox;
use crate::validate;

/// What [`Store::import`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Books added (and queued for sync).
    pub added: u32,
    /// Books skipped because this database already has their id.
    pub already_there: u32,
}

/// The answers to the local-books question, as stored.
const KEPT: &str = "kept";
const MOVED: &str = "moved";
/// How many titles the question shows.
const SAMPLE: usize = 3;

impl Store {
    /// Every live book, whole, newest first.
    pub fn live_books(&self) -> Result<Vec<Book>> {
        books::live_newest_first(self.connection())
    }

    /// Adds `books` with their own ids and times, each queued as a creation, in one
    /// transaction. A book whose id this database already has is left as it is, so importing
    /// again after an interruption adds nothing twice. Each book is validated like a typed one.
    pub fn import(&mut self, books: &[Book]) -> Result<Imported> {
        let checked = books
            .iter()
            .map(|book| Ok((book, validate::draft(&BookDraft::from(book))?)))
            .collect::<Result<Vec<_>>>()?;
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let mut outcome = Imported::default();
        for (book, fields) in checked {
            if books::load(&tx, book.id)?.is_some() {
                outcome.already_there += 1;
                continue;
            }
            let (stamp, now_ms) = tick(&tx, device_id)?;
            let patch = outbox::create_patch(&fields);
            let stored = fields.into_book(book.id, book.created_at, book.updated_at);
            books::insert(&tx, &stored)?;
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
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let mut removed = 0;
        for &id in ids {
            if let Ok(stored) = live(books::load(&tx, id)?, id) {
                set_deleted(&tx, device_id, &stored, true)?;
                removed += 1;
            }
        }
        tx.commit()?;
        self.edited_since_checkpoint = true;
        Ok(removed)
    }

    /// The question to ask after signing in to this (account) database, given the local-only
    /// database `local`: `None` when it has no live book or the user chose to keep them there.
    pub fn local_books_offer(&self, local: &Store) -> Result<Option<LocalBooksOffer>> {
        if meta::get(&self.db.conn, Key::LocalBooksAnswer)?.as_deref() == Some(KEPT) {
            return Ok(None);
        }
        let books = local.live_books()?;
        if books.is_empty() {
            return Ok(None);
        }
        Ok(Some(LocalBooksOffer {
            count: u32::try_from(books.len()).unwrap_or(u32::MAX),
            sample_titles: books.iter().take(SAMPLE).map(|b| b.title.clone()).collect(),
        }))
    }

    /// Moves every live book of the local-only database `local` into this (account) database:
    /// copies first, then tombstones in `local`. Refuses to move a database into itself.
    pub fn move_local_books(&mut self, local: &mut Store) -> Result<MovedBooks> {
        if self.device_id() == local.device_id() {
            return Err(Error::SameDatabase);
        }
        let books = local.live_books()?;
        let ids: Vec<BookId> = books.iter().map(|book| book.id).collect();
        let imported = self.import(&books)?;
        meta::set(&self.db.conn, Key::LocalBooksAnswer, MOVED)?;
        local.remove_moved(&ids)?;
        tracing::info!(
            moved = imported.added,
            already_there = imported.already_there,
            "local books moved into the account"
        );
        Ok(MovedBooks {
            moved: imported.added,
            already_there: imported.already_there,
        })
    }

    /// Remembers that the user keeps the local-only books on this computer: this account's
    /// database does not ask again.
    pub fn keep_local_books(&mut self) -> Result<()> {
        meta::set(&self.db.conn, Key::LocalBooksAnswer, KEPT)
    }

    /// Queues every field of live book `id` again (as an edit against its server version).
    pub(super) fn requeue_all_fields(&mut self, id: BookId) -> Result<()> {
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let stored = live(books::load(&tx, id)?, id)?;
        let (stamp, now_ms) = tick(&tx, device_id)?;
        let patch = outbox::create_patch(&Fields::of(&stored.book));
        outbox::record(&tx, id, patch, stored.server_version, stamp, now_ms)?;
        tx.commit()?;
        self.edited_since_checkpoint = true;
        Ok(())
    }
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
    fn the_local_books_question_until_kept_or_moved() -> Result<()> {
        let mut local = Store::open_in_memory()?;
        let mut account = Store::open_in_memory()?;
        assert_eq!(
            account.local_books_offer(&local)?,
            None,
            "no local book: nothing to ask"
        );
        local.add(&draft("Dune"))?;
        local.add(&draft("Emma"))?;
        let offer = account
            .local_books_offer(&local)?
            .expect("local books are offered");
        assert_eq!(offer.count, 2, "the offer counts the local books");
        assert_eq!(offer.sample_titles, ["Emma", "Dune"], "newest first");

        account.keep_local_books()?;
        assert_eq!(
            account.local_books_offer(&local)?,
            None,
            "after 'keep' this account is not asked again"
        );
        let mut other = Store::open_in_memory()?;
        assert!(
            other.local_books_offer(&local)?.is_some(),
            "the answer is per account"
        );
        let moved = other.move_local_books(&mut local)?;
        assert_eq!(moved.moved, 2, "both books moved");
        assert!(
            local.live_books()?.is_empty(),
            "the local list is empty after a move"
        );
        assert_eq!(
            other.local_books_offer(&local)?,
            None,
            "nothing left to offer"
        );
        local.add(&draft("Zen"))?;
        assert!(
            other.local_books_offer(&local)?.is_some(),
            "new local books after a move are offered again"
        );
        Ok(())
    }

    #[test]
    fn books_never_move_into_their_own_database() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("local.sqlite3");
        let mut local = Store::open(&path)?;
        local.add(&draft("Dune"))?;
        let mut same = Store::open(&path)?;
        assert!(
            matches!(same.move_local_books(&mut local), Err(Error::SameDatabase)),
            "moving the local list into itself must be refused"
        );
        assert_eq!(
            local.live_books()?.len(),
            1,
            "a refused move changes nothing"
        );
        Ok(())
    }
}
