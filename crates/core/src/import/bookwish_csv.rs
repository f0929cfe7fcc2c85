//! Bookwish's own CSV: one book per record, every field and the id, so a file exported by
//! Bookwish imports back to the same books.
//!
//! | column | value |
//! |---|---|
//! | `id` | the book's UUID; blank makes a new book |
//! | `title`, `author` | text |
//! | `status` | `Wishlist`, `Reading` or `Finished` |
//! | `rating` | `1`–`5`, blank for none |
//! | `started_on`, `finished_on` | `YYYY-MM-DD`, blank for none |
//! | `isbn` | 13 digits (an ISBN-10 is accepted), blank for none |
//! | `notes` | text, line breaks kept inside the quoted value |
//! | `created_at`, `updated_at` | RFC 3339 UTC with milliseconds (`2024-05-31T09:30:00.125Z`); blank: the time of the import |
//!
//! Written UTF-8 with a byte-order mark (so spreadsheets read it as UTF-8), CRLF between
//! records, with cells that a spreadsheet would take for a formula neutralised (see
//! [`crate::export::neutralise`]).

use bookwish_ipc::{BookId, Status};
use chrono::{DateTime, SecondsFormat};

use super::{isbn, validated, CsvFormat, Format, ImportRow, Record};

/// The header of a Bookwish CSV file, in the order Bookwish writes it.
pub const COLUMNS: [&str; 11] = [
    "id",
    "title",
    "author",
    "status",
    "rating",
    "started_on",
    "finished_on",
    "isbn",
    "notes",
    "created_at",
    "updated_at",
];

/// The latest time Bookwish keeps: the end of year 9999, in milliseconds.
pub(crate) const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// Column positions in one Bookwish CSV file.
pub(super) struct BookwishCsv([Option<usize>; 11]);

impl CsvFormat for BookwishCsv {
    const FORMAT: Format = Format::BookwishCsv;
    const REQUIRED: &'static [&'static str] = &COLUMNS;

    fn columns(column: &dyn Fn(&str) -> Option<usize>) -> Self {
        BookwishCsv(COLUMNS.map(column))
    }

    fn row(&self, record: &Record<'_>) -> Result<ImportRow, String> {
        let [id, title, author, status, rating, started_on, finished_on, isbn_at, notes, created_at, updated_at] =
            self.0.map(|at| record.get(at));
        let id = match id.trim() {
            "" => None,
            text => Some(
                BookId::parse_str(text)
                    .map_err(|_| format!("id \"{text}\" isn't a Bookwish book id (a UUID)."))?,
            ),
        };
        let status = status.trim().parse::<Status>().map_err(|_| {
            format!(
                "status \"{}\" isn't Wishlist, Reading or Finished.",
                status.trim()
            )
        })?;
        let rating = match rating.trim() {
            "" => None,
            text => Some(
                text.parse::<u8>()
                    .map_err(|_| format!("rating \"{text}\" isn't a whole number of stars."))?,
            ),
        };
        let optional = |text: &str| Some(text.to_owned()).filter(|text| !text.trim().is_empty());
        let row = ImportRow {
            line: record.line,
            id,
            title: title.to_owned(),
            author: author.to_owned(),
            status,
            notes: notes.to_owned(),
            rating,
            started_on: optional(started_on),
            finished_on: optional(finished_on),
            isbn: isbn("isbn", isbn_at)?,
            created_at: parse_time("created_at", created_at)?,
            updated_at: parse_time("updated_at", updated_at)?,
        };
        validated(row, |_| None)
    }
}

/// A time as Bookwish CSV writes it.
pub(crate) fn format_time(millis: i64) -> String {
    DateTime::from_timestamp_millis(millis)
        .map(|time| time.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// A time column: RFC 3339 (any offset, read as the instant it names); blank is none.
fn parse_time(column: &str, raw: &str) -> Result<Option<i64>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.timestamp_millis())
        .filter(|millis| (0..=MAX_TIME_MS).contains(millis))
        .map(Some)
        .ok_or_else(|| {
            format!("{column} \"{text}\" isn't a time written like 2024-05-31T09:30:00.000Z.")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_to_the_millisecond() -> Result<(), String> {
        for millis in [0, 1_717_147_800_125, MAX_TIME_MS] {
            assert_eq!(
                parse_time("created_at", &format_time(millis))?,
                Some(millis),
                "{millis} ms survives writing and reading"
            );
        }
        assert_eq!(
            format_time(1_717_147_800_125),
            "2024-05-31T09:30:00.125Z",
            "times are written in UTC with milliseconds"
        );
        assert_eq!(
            parse_time("created_at", "2024-05-31T11:30:00.125+02:00")?,
            Some(1_717_147_800_125),
            "an offset is read as the instant it names"
        );
        assert!(
            parse_time("created_at", "1969-12-31T23:59:59Z").is_err(),
            "times before 1970 are refused"
        );
        assert!(
            parse_time("created_at", "yesterday").is_err(),
            "words are not a time"
        );
        Ok(())
    }
}
