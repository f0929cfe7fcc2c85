//! Bookwish's backup: a JSON document holding every live book with every field, its id and
//! its times, so a restore gives back the same books (and the server, seeing the same ids,
//! the same rows).
//!
//! ```json
//! {
//!   "format": "bookwish-backup",
//!   "version": 1,
//!   "exported_at": 1717147800125,
//!   "books": [
//!     {
//!       "id": "0190c5d2-3b7a-7cc1-9a5e-0d6f1e2a3b4c",
//!       "title": "Dune",
//!       "author": "Frank Herbert",
//!       "status": "Finished",
//!       "notes": "",
//!       "rating": 5,
//!       "started_on": "2024-01-02",
//!       "finished_on": "2024-02-11",
//!       "isbn": "9780441013593",
//!       "created_at": 1704150000000,
//!       "updated_at": 1707650000000
//!     }
//!   ]
//! }
//! ```
//!
//! Times are milliseconds since the Unix epoch, as in [`bookwish_ipc::Book`]. `format` must be
//! `bookwish-backup`; a `version` above [`VERSION`] is refused (a newer Bookwish wrote it). In
//! a book, `author` and `notes` may be left out (empty), as may `rating`, `started_on`,
//! `finished_on` and `isbn` (none); a field Bookwish does not know is a problem rather than
//! silently dropped, so a misspelt field name is noticed.

use std::collections::HashMap;

use bookwish_ipc::{BookId, Status};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::bookwish_csv::MAX_TIME_MS;
use super::{
    newlines, unique_id, validated, Format, ImportError, ImportPreview, ImportRow, RowProblem,
};
use crate::isbn::Isbn;

/// The value of the `format` field.
pub const FORMAT: &str = "bookwish-backup";

/// The backup version this Bookwish writes and the newest it reads.
pub const VERSION: u64 = 1;

/// The document as written.
#[derive(Serialize)]
pub(crate) struct Backup<'a> {
    pub(crate) format: &'static str,
    pub(crate) version: u64,
    pub(crate) exported_at: i64,
    pub(crate) books: Vec<BackupBook<'a>>,
}

/// One book as written.
#[derive(Serialize)]
pub(crate) struct BackupBook<'a> {
    pub(crate) id: BookId,
    pub(crate) title: &'a str,
    pub(crate) author: &'a str,
    pub(crate) status: Status,
    pub(crate) notes: &'a str,
    pub(crate) rating: Option<u8>,
    pub(crate) started_on: Option<&'a str>,
    pub(crate) finished_on: Option<&'a str>,
    pub(crate) isbn: Option<Isbn>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// The document as read: the books are kept raw, so each is read (and may fail) on its own
/// and its line is known.
#[derive(Deserialize)]
struct Frame<'a> {
    format: String,
    version: u64,
    #[serde(borrow)]
    books: Vec<&'a RawValue>,
}

/// One book as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBook {
    id: BookId,
    title: String,
    #[serde(default)]
    author: String,
    status: Status,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    rating: Option<u8>,
    #[serde(default)]
    started_on: Option<String>,
    #[serde(default)]
    finished_on: Option<String>,
    #[serde(default)]
    isbn: Option<Isbn>,
    created_at: i64,
    updated_at: i64,
}

pub(super) fn preview(text: &str) -> Result<ImportPreview, ImportError> {
    let frame: Frame<'_> = serde_json::from_str(text).map_err(|source| {
        use serde_json::error::Category;
        match source.classify() {
            Category::Syntax | Category::Eof | Category::Io => ImportError::Json {
                line: source.line() as u64,
                column: source.column() as u64,
                source,
            },
            Category::Data => ImportError::NotBackup,
        }
    })?;
    if frame.format != FORMAT {
        return Err(ImportError::NotBackup);
    }
    if frame.version > VERSION {
        return Err(ImportError::NewerBackup {
            version: frame.version,
        });
    }
    if frame.version == 0 {
        return Err(ImportError::NotBackup);
    }
    if frame.books.is_empty() {
        return Err(ImportError::NoRows {
            format: Format::BookwishJson,
        });
    }
    let mut rows = Vec::with_capacity(frame.books.len());
    let mut problems = Vec::new();
    let mut ids = HashMap::new();
    // Books come in file order, so their lines are counted on from the previous one's.
    let (mut line, mut counted_to) = (1u64, 0usize);
    for raw in frame.books {
        // The raw book borrows from `text`, so its offset gives its line.
        let offset = (raw.get().as_ptr() as usize)
            .saturating_sub(text.as_ptr() as usize)
            .clamp(counted_to, text.len());
        line += newlines(&text.as_bytes()[counted_to..offset]);
        counted_to = offset;
        match book(raw, line).and_then(|row| unique_id(row, &mut ids)) {
            Ok(row) => rows.push(row),
            Err(reason) => problems.push(RowProblem { line, reason }),
        }
    }
    Ok(ImportPreview {
        format: Format::BookwishJson,
        rows,
        problems,
    })
}

fn book(raw: &RawValue, line: u64) -> Result<ImportRow, String> {
    let book: ReadBook = serde_json::from_str(raw.get()).map_err(|error| {
        // The parser's position is inside this book; the problem already names its line.
        let message = error.to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.as_str(), |at| &message[..at])
            .trim_end_matches('.');
        format!("This book can't be read: {message}.")
    })?;
    for (name, time) in [
        ("created_at", book.created_at),
        ("updated_at", book.updated_at),
    ] {
        if !(0..=MAX_TIME_MS).contains(&time) {
            return Err(format!(
                "{name} {time} isn't a time Bookwish can keep (milliseconds since 1970)."
            ));
        }
    }
    let row = ImportRow {
        line,
        id: Some(book.id),
        title: book.title,
        author: book.author,
        status: book.status,
        notes: book.notes,
        rating: book.rating,
        started_on: book.started_on,
        finished_on: book.finished_on,
        isbn: book.isbn,
        created_at: Some(book.created_at),
        updated_at: Some(book.updated_at),
    };
    validated(row, |_| None)
}
