//! The synced fields of a book: [`Field`] names them (as the server's columns and the outbox's
//! patch keys), [`Fields`] holds the editable ones after validation.
//!
//! Adding a book field starts here: a [`Field`] variant, a [`Fields`] member, its JSON value in
//! [`Fields::value`] / [`set`], its rule in `validate.rs`, its column in `table/books.rs` and a
//! migration (SQLite here, PostgreSQL in `migrations/`), the member of `Book` / `BookDraft` in
//! `crates/ipc`, the pulled row in `replica.rs` and the sync crate's `remote.rs`, and the
//! forms in `src-ui`. The ISBN (`isbn`) was the first field added this way; the README lists
//! every file it touched.

use bookwish_ipc::{Book, BookDraft, BookId, Status};
use serde_json::Value;

use crate::isbn::Isbn;

/// A field that syncs. `Deleted` is the tombstone flag; the others are editable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The title.
    Title,
    /// The author.
    Author,
    /// Wishlist, Reading or Finished.
    Status,
    /// Free-text notes.
    Notes,
    /// 1–5 stars or none.
    Rating,
    /// When the reading started.
    StartedOn,
    /// When the reading finished.
    FinishedOn,
    /// The book's ISBN-13, or none.
    Isbn,
    /// Whether the book is deleted.
    Deleted,
}

impl Field {
    /// Every synced field, in the server's order.
    pub const ALL: [Field; 9] = [
        Field::Title,
        Field::Author,
        Field::Status,
        Field::Notes,
        Field::Rating,
        Field::StartedOn,
        Field::FinishedOn,
        Field::Isbn,
        Field::Deleted,
    ];

    /// The editable fields (all but `Deleted`).
    pub const EDITABLE: [Field; 8] = [
        Field::Title,
        Field::Author,
        Field::Status,
        Field::Notes,
        Field::Rating,
        Field::StartedOn,
        Field::FinishedOn,
        Field::Isbn,
    ];

    /// The name of the server's column, the outbox patch key and the `BookDraft` member.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Author => "author",
            Field::Status => "status",
            Field::Notes => "notes",
            Field::Rating => "rating",
            Field::StartedOn => "started_on",
            Field::FinishedOn => "finished_on",
            Field::Isbn => "isbn",
            Field::Deleted => "deleted",
        }
    }

    /// The field named `name`, if any.
    pub fn named(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.name() == name)
    }

    /// The field's name as the edit form labels it.
    pub const fn label(self) -> &'static str {
        match self {
            Field::Title => "Title",
            Field::Author => "Author",
            Field::Status => "Status",
            Field::Notes => "Notes",
            Field::Rating => "Rating",
            Field::StartedOn => "Started",
            Field::FinishedOn => "Finished",
            Field::Isbn => "ISBN",
            Field::Deleted => "Deleted",
        }
    }
}

/// The editable fields of a book after validation: trimmed, checked, in canonical form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fields {
    pub(crate) title: String,
    pub(crate) author: String,
    pub(crate) status: Status,
    pub(crate) notes: String,
    pub(crate) rating: Option<u8>,
    /// Canonical `YYYY-MM-DD`, so text order is date order.
    pub(crate) started_on: Option<String>,
    /// Canonical `YYYY-MM-DD`.
    pub(crate) finished_on: Option<String>,
    /// Always the checked 13-digit form.
    pub(crate) isbn: Option<Isbn>,
}

impl Fields {
    /// The editable fields of a stored book (already valid: they were validated on the way in,
    /// and the schema's CHECK keeps the stored ISBN 13 digits).
    pub(crate) fn of(book: &Book) -> Fields {
        Fields {
            title: book.title.clone(),
            author: book.author.clone(),
            status: book.status,
            notes: book.notes.clone(),
            rating: book.rating,
            started_on: book.started_on.clone(),
            finished_on: book.finished_on.clone(),
            isbn: book
                .isbn
                .as_deref()
                .and_then(|isbn| Isbn::parse_optional(isbn).ok().flatten()),
        }
    }

    pub(crate) fn into_book(self, id: BookId, created_at: i64, updated_at: i64) -> Book {
        Book {
            id,
            title: self.title,
            author: self.author,
            status: self.status,
            notes: self.notes,
            rating: self.rating,
            started_on: self.started_on,
            finished_on: self.finished_on,
            isbn: self.isbn.map(|isbn| isbn.to_string()),
            created_at,
            updated_at,
        }
    }

    /// The JSON value of editable `field` (`Deleted` is not one: `Null`).
    pub(crate) fn value(&self, field: Field) -> Value {
        let date = |date: &Option<String>| date.as_deref().map_or(Value::Null, Value::from);
        match field {
            Field::Title => self.title.as_str().into(),
            Field::Author => self.author.as_str().into(),
            Field::Status => self.status.as_str().into(),
            Field::Notes => self.notes.as_str().into(),
            Field::Rating => self.rating.map_or(Value::Null, Value::from),
            Field::StartedOn => date(&self.started_on),
            Field::FinishedOn => date(&self.finished_on),
            Field::Isbn => self
                .isbn
                .map_or(Value::Null, |isbn| Value::from(isbn.to_string())),
            Field::Deleted => Value::Null,
        }
    }

    /// Copies editable `field` from `other`.
    pub(crate) fn take(&mut self, other: &Fields, field: Field) {
        match field {
            Field::Title => self.title.clone_from(&other.title),
            Field::Author => self.author.clone_from(&other.author),
            Field::Status => self.status = other.status,
            Field::Notes => self.notes.clone_from(&other.notes),
            Field::Rating => self.rating = other.rating,
            Field::StartedOn => self.started_on.clone_from(&other.started_on),
            Field::FinishedOn => self.finished_on.clone_from(&other.finished_on),
            Field::Isbn => self.isbn = other.isbn,
            Field::Deleted => {}
        }
    }
}

/// `draft` with editable `field` set to the JSON `value` (as a patch or the server holds it).
/// A value of the wrong JSON type is refused with `None`; the result still needs validating.
pub(crate) fn set(draft: &mut BookDraft, field: Field, value: &Value) -> Option<()> {
    let text = || value.as_str().map(str::to_owned);
    // A date or an ISBN: text or null.
    let date = || match value {
        Value::Null => Some(None),
        Value::String(text) => Some(Some(text.clone())),
        _ => None,
    };
    match field {
        Field::Title => draft.title = text()?,
        Field::Author => draft.author = text()?,
        Field::Notes => draft.notes = text()?,
        Field::Status => draft.status = text()?.parse().ok()?,
        Field::Rating => {
            draft.rating = match value {
                Value::Null => None,
                other => Some(u8::try_from(other.as_u64()?).ok()?),
            }
        }
        Field::StartedOn => draft.started_on = date()?,
        Field::FinishedOn => draft.finished_on = date()?,
        Field::Isbn => draft.isbn = date()?,
        Field::Deleted => return None,
    }
    Some(())
}
