//! The StoryGraph's export (Manage Account → Manage Your Data → Export StoryGraph Library).
//! Its header, as the StoryGraph writes it today:
//!
//! ```text
//! Title,Authors,Contributors,ISBN/UID,Format,Read Status,Date Added,Last Date Read,
//! Dates Read,Read Count,Moods,Pace,Character- or Plot-Driven?,Strong Character Development?,
//! Loveable Characters?,Diverse Characters?,Flawed Characters?,Star Rating,Review,
//! Content Warnings,Content Warning Description,Tags,Owned?
//! ```
//!
//! `Read Status` is `to-read`, `currently-reading`, `read`, `paused` or `did-not-finish`;
//! `Star Rating` has quarter stars (`3.75`); `Authors` lists several names separated by
//! commas; dates are `YYYY/MM/DD`; `Dates Read` lists each reading as `start-end`, separated
//! by commas, where either end may be missing; `ISBN/UID` is an ISBN, or an Amazon ASIN or
//! the StoryGraph's own id for books without one.

use bookwish_ipc::Status;
use chrono::NaiveDate;

use super::{
    authors, file_date, isbn, merged_notes, millis, stars, validated, CsvFormat, Format, ImportRow,
    Record,
};

/// Column positions in one StoryGraph file.
pub(super) struct StoryGraph {
    title: Option<usize>,
    authors: Option<usize>,
    isbn: Option<usize>,
    status: Option<usize>,
    date_added: Option<usize>,
    last_read: Option<usize>,
    dates_read: Option<usize>,
    rating: Option<usize>,
    review: Option<usize>,
    tags: Option<usize>,
}

/// One reading: when it started and ended, either may be unknown.
type Reading = (Option<NaiveDate>, Option<NaiveDate>);

impl CsvFormat for StoryGraph {
    const FORMAT: Format = Format::StoryGraph;
    const REQUIRED: &'static [&'static str] = &["Title", "Authors", "Read Status"];

    fn columns(column: &dyn Fn(&str) -> Option<usize>) -> Self {
        StoryGraph {
            title: column("Title"),
            authors: column("Authors"),
            isbn: column("ISBN/UID"),
            status: column("Read Status"),
            date_added: column("Date Added"),
            last_read: column("Last Date Read"),
            dates_read: column("Dates Read"),
            rating: column("Star Rating"),
            review: column("Review"),
            tags: column("Tags"),
        }
    }

    fn row(&self, record: &Record<'_>) -> Result<ImportRow, String> {
        let mut facts = Vec::new();
        let status = match record.get(self.status).trim() {
            "to-read" | "" => Status::Wishlist,
            "currently-reading" => Status::Reading,
            "read" => Status::Finished,
            "paused" => {
                facts.push("Paused.".to_owned());
                Status::Reading
            }
            "did-not-finish" => {
                facts.push("Did not finish.".to_owned());
                Status::Finished
            }
            other => {
                return Err(format!(
                    "Read Status \"{other}\" isn't one of to-read, currently-reading, read, \
                     paused or did-not-finish."
                ))
            }
        };
        let added = file_date("Date Added", record.get(self.date_added))?;
        let last_read = file_date("Last Date Read", record.get(self.last_read))?;
        let readings = readings(record.get(self.dates_read))?;
        let (started_on, finished_on) = if status == Status::Reading {
            // The reading under way: the latest one that has not ended.
            let open = readings
                .iter()
                .filter(|(_, end)| end.is_none())
                .max_by_key(|(start, _)| *start);
            (open.and_then(|(start, _)| *start), None)
        } else {
            let reading = match last_read {
                Some(last) => readings.iter().find(|(_, end)| *end == Some(last)),
                None => readings.iter().max_by_key(|(start, end)| (*end, *start)),
            };
            (
                reading.and_then(|(start, _)| *start),
                last_read.or_else(|| reading.and_then(|(_, end)| *end)),
            )
        };
        let rating = stars("Star Rating", record.get(self.rating))?;
        let isbn = uid_isbn(record.get(self.isbn))?;

        let names: Vec<&str> = record.get(self.authors).split(',').collect();
        let (author, all_authors) = authors(&names, "Also by");
        facts.extend(all_authors);
        let tags: Vec<&str> = record
            .get(self.tags)
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .collect();
        if !tags.is_empty() {
            facts.push(format!("StoryGraph tags: {}", tags.join(", ")));
        }

        let row = ImportRow {
            line: record.line,
            id: None,
            title: record.get(self.title).to_owned(),
            author,
            status,
            notes: merged_notes(record.get(self.review), "", &facts),
            rating,
            started_on: started_on.map(crate::validate::format_date),
            finished_on: finished_on.map(crate::validate::format_date),
            isbn,
            created_at: added.map(millis),
            updated_at: None,
        };
        validated(row, |field| (field == "notes").then_some(NOTES_HINT))
    }
}

const NOTES_HINT: &str = "(Bookwish keeps the Review, the tags and the reading status details \
                          together as the book's notes; shorten the review in the file and \
                          import it again.)";

/// `ISBN/UID` holds an ISBN when the book has one; an ASIN (`B00…`) or a StoryGraph id
/// (a UUID) otherwise, which are not ISBNs and are left out. Ten or thirteen digits are an
/// ISBN and must be a valid one.
fn uid_isbn(raw: &str) -> Result<Option<super::Isbn>, String> {
    let compact: String = raw.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    let looks_like_isbn = matches!(compact.len(), 10 | 13)
        && compact
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || (i == 9 && compact.len() == 10 && c == 'X'));
    if looks_like_isbn {
        isbn("ISBN/UID", raw)
    } else {
        Ok(None)
    }
}

/// The readings listed in `Dates Read`: `2024/01/10-2024/02/01, 2025/03/01-`, with dates in
/// `YYYY/MM/DD` or `YYYY-MM-DD`.
fn readings(raw: &str) -> Result<Vec<Reading>, String> {
    let mut readings = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (start, end) = if entry.contains('/') {
            match entry.split_once('-') {
                Some((start, end)) => (start, end),
                None => ("", entry),
            }
        } else {
            // Dates with hyphens: the range's hyphen is the one after the first date.
            match entry.len() {
                10 => ("", entry),
                21 if entry.as_bytes()[10] == b'-' => (&entry[..10], &entry[11..]),
                11 if entry.ends_with('-') => (&entry[..10], ""),
                11 if entry.starts_with('-') => ("", &entry[1..]),
                _ => {
                    return Err(format!(
                        "Dates Read \"{entry}\" isn't a reading written like \
                         2024/01/10-2024/02/01."
                    ))
                }
            }
        };
        readings.push((
            file_date("Dates Read", start)?,
            file_date("Dates Read", end)?,
        ));
    }
    Ok(readings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }

    #[test]
    fn dates_read_lists_ranges_open_ends_and_single_dates() -> Result<(), String> {
        assert_eq!(
            readings("2024/01/10-2024/02/01, 2025/03/01-")?,
            vec![
                (date("2024-01-10"), date("2024-02-01")),
                (date("2025-03-01"), None)
            ],
            "a finished reading and one under way"
        );
        assert_eq!(
            readings("2024-01-10-2024-02-01,2024-05-05,-2024-06-01")?,
            vec![
                (date("2024-01-10"), date("2024-02-01")),
                (None, date("2024-05-05")),
                (None, date("2024-06-01"))
            ],
            "hyphenated dates split at the range's own hyphen"
        );
        assert_eq!(readings("  ")?, vec![], "blank is no reading");
        assert!(
            readings("last spring").is_err(),
            "words are not a reading date"
        );
        Ok(())
    }

    #[test]
    fn uid_is_an_isbn_only_when_it_looks_like_one() -> Result<(), String> {
        assert_eq!(
            uid_isbn("9780441013593")?.map(|isbn| isbn.to_string()),
            Some("9780441013593".to_owned()),
            "thirteen digits are an ISBN"
        );
        assert_eq!(
            uid_isbn("080442957X")?.map(|isbn| isbn.to_string()),
            Some("9780804429573".to_owned()),
            "ten with an X are an ISBN-10"
        );
        assert_eq!(uid_isbn("B00B7NPRY8")?, None, "an ASIN is not an ISBN");
        assert_eq!(
            uid_isbn("3f2c9c1e-8f3b-4a57-9d5e-2b8f1c0d7a64")?,
            None,
            "a StoryGraph id is not an ISBN"
        );
        assert!(
            uid_isbn("9780441013594").is_err(),
            "thirteen digits with a wrong check digit are a broken ISBN, not an id"
        );
        Ok(())
    }
}
