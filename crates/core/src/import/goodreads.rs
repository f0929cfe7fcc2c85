//! Goodreads' library export (`goodreads_library_export.csv`, My Books → Import and export →
//! Export Library). Its header, as Goodreads writes it today:
//!
//! ```text
//! Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Average Rating,
//! Publisher,Binding,Number of Pages,Year Published,Original Publication Year,Date Read,
//! Date Added,Bookshelves,Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,
//! Private Notes,Read Count,Owned Copies
//! ```
//!
//! (older exports add Recommended For, Recommended By, Original Purchase Date, … — columns
//! are found by name, so those read too). ISBNs are written `="0441013597"`, an empty one
//! `=""`; dates `YYYY/MM/DD`; `My Rating` is 0 for "not rated"; reviews mark line breaks with
//! `<br/>`; the file starts with a UTF-8 byte-order mark.

use bookwish_ipc::Status;

use super::{
    authors, file_date, isbn, merged_notes, millis, stars, validated, CsvFormat, Format, ImportRow,
    Record,
};

/// The Goodreads shelves that are reading statuses; every other exclusive shelf is one the
/// user made.
const STATUS_SHELVES: [(&str, Status); 3] = [
    ("to-read", Status::Wishlist),
    ("currently-reading", Status::Reading),
    ("read", Status::Finished),
];

/// Column positions in one Goodreads file.
pub(super) struct Goodreads {
    title: Option<usize>,
    author: Option<usize>,
    additional_authors: Option<usize>,
    isbn: Option<usize>,
    isbn13: Option<usize>,
    rating: Option<usize>,
    date_read: Option<usize>,
    date_added: Option<usize>,
    bookshelves: Option<usize>,
    exclusive_shelf: Option<usize>,
    review: Option<usize>,
    private_notes: Option<usize>,
}

impl CsvFormat for Goodreads {
    const FORMAT: Format = Format::Goodreads;
    const REQUIRED: &'static [&'static str] = &["Title", "Author", "Exclusive Shelf"];

    fn columns(column: &dyn Fn(&str) -> Option<usize>) -> Self {
        Goodreads {
            title: column("Title"),
            author: column("Author"),
            additional_authors: column("Additional Authors"),
            isbn: column("ISBN"),
            isbn13: column("ISBN13"),
            rating: column("My Rating"),
            date_read: column("Date Read"),
            date_added: column("Date Added"),
            bookshelves: column("Bookshelves"),
            exclusive_shelf: column("Exclusive Shelf"),
            review: column("My Review"),
            private_notes: column("Private Notes"),
        }
    }

    fn row(&self, record: &Record<'_>) -> Result<ImportRow, String> {
        let finished = file_date("Date Read", record.get(self.date_read))?;
        let added = file_date("Date Added", record.get(self.date_added))?;
        let rating = stars("My Rating", record.get(self.rating))?;
        // ISBN13 when there is one; the 10-digit column only stands in when it is empty.
        let isbn13 = record.get(self.isbn13);
        let isbn = if super::Isbn::parse_optional(isbn13).is_ok_and(|isbn| isbn.is_none()) {
            isbn("ISBN", record.get(self.isbn))?
        } else {
            isbn("ISBN13", isbn13)?
        };

        let shelf = record.get(self.exclusive_shelf).trim();
        let status = match STATUS_SHELVES.iter().find(|(name, _)| *name == shelf) {
            Some((_, status)) => *status,
            // A shelf the user made: a wish, unless Goodreads has a date the book was read.
            None if finished.is_some() => Status::Finished,
            None => Status::Wishlist,
        };
        let mut facts = Vec::new();
        let mut shelves: Vec<&str> = Vec::new();
        let custom =
            |name: &str| !name.is_empty() && !STATUS_SHELVES.iter().any(|(s, _)| *s == name);
        if custom(shelf) {
            shelves.push(shelf);
        }
        for name in record.get(self.bookshelves).split(',').map(str::trim) {
            if custom(name) && !shelves.contains(&name) {
                shelves.push(name);
            }
        }
        if !shelves.is_empty() {
            facts.push(format!("Goodreads shelves: {}", shelves.join(", ")));
        }
        let (author, all_authors) = authors(
            &[record.get(self.author)]
                .into_iter()
                .chain(record.get(self.additional_authors).split(','))
                .collect::<Vec<_>>(),
            "Additional authors",
        );
        facts.extend(all_authors);

        let row = ImportRow {
            line: record.line,
            id: None,
            title: record.get(self.title).to_owned(),
            author,
            status,
            notes: merged_notes(
                record.get(self.review),
                record.get(self.private_notes),
                &facts,
            ),
            rating,
            started_on: None,
            finished_on: finished.map(crate::validate::format_date),
            isbn,
            created_at: added.map(millis),
            updated_at: None,
        };
        validated(row, |field| (field == "notes").then_some(NOTES_HINT))
    }
}

const NOTES_HINT: &str = "(Bookwish keeps My Review, Private Notes and the shelves together as \
                          the book's notes; shorten them in the file and import it again.)";
