//! Writing the list to files: a CSV that Goodreads' importer reads, Bookwish's own CSV, and
//! the JSON backup.
//!
//! # Vocabulary
//!
//! - **Goodreads CSV** ([`goodreads_csv`]): the columns of Goodreads' own export that its
//!   importer reads ([`GOODREADS_COLUMNS`]), so a user can take the list back to Goodreads.
//!   It holds less than a book has (no start date, no id).
//! - **Bookwish CSV** ([`bookwish_csv`]) and **backup** ([`backup_json`]): every field, the
//!   id and the times, read back by [`crate::import`] to the same books.
//! - **Neutralising** ([`neutralise`]): spreadsheets run a cell that starts with `=`, `+`,
//!   `-`, `@`, a tab or a carriage return as a formula (`=HYPERLINK(…)` in a title could
//!   send data away when the file is opened). Every CSV cell that starts with one of them —
//!   after any run of apostrophes — is written with one more apostrophe in front, the
//!   OWASP-recommended escape; Bookwish's importer removes exactly that one apostrophe again,
//!   so its round trip is exact.
//!
//! # Invariants
//!
//! - Export never changes the books; it writes only live books it is given, in the order given.
//! - CSV files are UTF-8 with a byte-order mark (spreadsheets otherwise guess the encoding),
//!   CRLF between records, quotes only where needed.
//! - Importing a Bookwish CSV or backup written here gives rows equal to the books written.

use std::borrow::Cow;
use std::io::Write;

use bookwish_ipc::{Book, ErrorCode, IpcError, Status};

use crate::import::bookwish_csv::{format_time, COLUMNS};
use crate::import::bookwish_json::{Backup, BackupBook, FORMAT, VERSION};
use crate::isbn::Isbn;

/// A book to export with its ISBN: a [`Book`] (its own ISBN), or a book paired with one.
pub trait ExportBook {
    /// The book.
    fn book(&self) -> &Book;
    /// Its ISBN, if it has one.
    fn isbn(&self) -> Option<Isbn>;
}

impl ExportBook for Book {
    fn book(&self) -> &Book {
        self
    }

    fn isbn(&self) -> Option<Isbn> {
        // Stored ISBNs were checked on the way in (and by the schema's CHECK).
        Isbn::parse_optional(self.isbn.as_deref().unwrap_or(""))
            .ok()
            .flatten()
    }
}

impl ExportBook for (Book, Option<Isbn>) {
    fn book(&self) -> &Book {
        &self.0
    }

    fn isbn(&self) -> Option<Isbn> {
        self.1
    }
}

/// Why an export failed to write.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing the file failed (disk full, permissions, the folder removed).
    #[error("The file could not be written: {0}.")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed (it fails only when writing does).
    #[error("The file could not be written: {0}.")]
    Csv(#[from] csv::Error),
    /// The JSON writer failed (it fails only when writing does).
    #[error("The file could not be written: {0}.")]
    Json(#[from] serde_json::Error),
}

impl From<ExportError> for IpcError {
    /// Writing failed on this computer's disk: a storage error, its sentence as it is.
    fn from(error: ExportError) -> Self {
        IpcError::new(ErrorCode::Storage, error.to_string())
    }
}

/// The columns of [`goodreads_csv`]: named as in Goodreads' export, which its importer reads
/// back ("Title, Author, ISBN, My Rating, …, Date Read, Date Added, Bookshelves, …").
pub const GOODREADS_COLUMNS: [&str; 10] = [
    "Title",
    "Author",
    "ISBN",
    "ISBN13",
    "My Rating",
    "Date Read",
    "Date Added",
    "Bookshelves",
    "Exclusive Shelf",
    "Private Notes",
];

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The CSV cell for `value`: unchanged, or with an apostrophe in front when (after any run
/// of apostrophes) it starts with `=`, `+`, `-`, `@`, a tab or a carriage return.
pub fn neutralise(value: &str) -> Cow<'_, str> {
    if value.trim_start_matches('\'').starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// Undoes [`neutralise`]: the value of a CSV cell Bookwish (or anyone following the same
/// rule) wrote.
pub(crate) fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// Writes `books` as a CSV Goodreads' importer reads ([`GOODREADS_COLUMNS`]).
///
/// Status becomes the shelf (`to-read`, `currently-reading`, `read`), no rating is `0`,
/// dates are `YYYY/MM/DD` (Date Added is the day the book was added, in UTC), ISBNs are plain
/// digits (ISBN-10 where the book has one). Notes go to Private Notes, never to My Review,
/// which Goodreads would publish. The start date has no column and is left out.
pub fn goodreads_csv<B: ExportBook>(books: &[B], mut out: impl Write) -> Result<(), ExportError> {
    out.write_all(BOM)?;
    let mut csv = writer(out);
    csv.write_record(GOODREADS_COLUMNS)?;
    for item in books {
        let book = item.book();
        let isbn = item.isbn();
        let shelf = match book.status {
            Status::Wishlist => "to-read",
            Status::Reading => "currently-reading",
            Status::Finished => "read",
        };
        let slashed = |date: &Option<String>| date.as_deref().unwrap_or("").replace('-', "/");
        let added = chrono::DateTime::from_timestamp_millis(book.created_at)
            .map(|time| time.format("%Y/%m/%d").to_string())
            .unwrap_or_default();
        let cells = [
            book.title.clone(),
            book.author.clone(),
            isbn.and_then(Isbn::to_isbn10).unwrap_or_default(),
            isbn.map(|isbn| isbn.to_string()).unwrap_or_default(),
            book.rating.unwrap_or(0).to_string(),
            slashed(&book.finished_on),
            added,
            shelf.to_owned(),
            shelf.to_owned(),
            book.notes.clone(),
        ];
        csv.write_record(cells.iter().map(|cell| neutralise(cell).into_owned()))?;
    }
    csv.flush()?;
    Ok(())
}

/// Writes `books` as Bookwish CSV ([`crate::import::bookwish_csv`]): every field, the id
/// and the times.
pub fn bookwish_csv<B: ExportBook>(books: &[B], mut out: impl Write) -> Result<(), ExportError> {
    out.write_all(BOM)?;
    let mut csv = writer(out);
    csv.write_record(COLUMNS)?;
    for item in books {
        let book = item.book();
        let cells = [
            book.id.to_string(),
            book.title.clone(),
            book.author.clone(),
            book.status.to_string(),
            book.rating
                .map(|stars| stars.to_string())
                .unwrap_or_default(),
            book.started_on.clone().unwrap_or_default(),
            book.finished_on.clone().unwrap_or_default(),
            item.isbn().map(|isbn| isbn.to_string()).unwrap_or_default(),
            book.notes.clone(),
            format_time(book.created_at),
            format_time(book.updated_at),
        ];
        csv.write_record(cells.iter().map(|cell| neutralise(cell).into_owned()))?;
    }
    csv.flush()?;
    Ok(())
}

/// Writes `books` as a Bookwish backup ([`crate::import::bookwish_json`]), stamped with
/// `exported_at` (milliseconds since the Unix epoch).
pub fn backup_json<B: ExportBook>(
    books: &[B],
    exported_at: i64,
    mut out: impl Write,
) -> Result<(), ExportError> {
    let backup = Backup {
        format: FORMAT,
        version: VERSION,
        exported_at,
        books: books
            .iter()
            .map(|item| {
                let book = item.book();
                BackupBook {
                    id: book.id,
                    title: &book.title,
                    author: &book.author,
                    status: book.status,
                    notes: &book.notes,
                    rating: book.rating,
                    started_on: book.started_on.as_deref(),
                    finished_on: book.finished_on.as_deref(),
                    isbn: item.isbn(),
                    created_at: book.created_at,
                    updated_at: book.updated_at,
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut out, &backup)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_reaches_the_window_as_a_storage_error() {
        let error = IpcError::from(ExportError::Io(std::io::Error::other(
            "No space left on device",
        )));
        assert_eq!(
            error.code,
            ErrorCode::Storage,
            "a write that fails on this computer's disk is a storage error"
        );
        assert!(
            error.message.contains("No space left on device"),
            "its message keeps the reason: {error:?}"
        );
    }

    #[test]
    fn formula_starts_get_one_apostrophe() {
        for (value, cell) in [
            (
                "=HYPERLINK(\"http://x.test\",\"Dune\")",
                "'=HYPERLINK(\"http://x.test\",\"Dune\")",
            ),
            ("+1 for this", "'+1 for this"),
            ("-ology", "'-ology"),
            ("@home", "'@home"),
            ("\tindented", "'\tindented"),
            ("\rreturn", "'\rreturn"),
            ("'=already quoted", "''=already quoted"),
            ("''-twice", "'''-twice"),
        ] {
            assert_eq!(neutralise(value), cell, "{value:?} is neutralised");
            assert_eq!(
                unneutralise(cell),
                value,
                "reading {cell:?} gives back {value:?}"
            );
        }
    }

    #[test]
    fn other_cells_are_left_alone() {
        for value in [
            "Dune",
            "",
            "'quoted title'",
            "a = b",
            "1984",
            "'",
            "''",
            " =leading space",
        ] {
            assert_eq!(neutralise(value), value, "{value:?} is not a formula");
            assert_eq!(unneutralise(value), value, "{value:?} reads as itself");
        }
    }
}
