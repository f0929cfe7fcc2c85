//! Reading a reading list exported elsewhere into candidate books, for a preview.
//!
//! # Vocabulary
//!
//! - **Format**: which program wrote the file ([`Format`]), told from its first line (CSV
//!   header) or its `format` field (JSON): a Goodreads export, a StoryGraph export, Bookwish's
//!   own CSV, or a Bookwish backup (JSON).
//! - **Row**: one candidate book ([`ImportRow`]) with the **line** of the file where its
//!   record starts (a quoted field may span several lines, so this is not the record count).
//! - **Problem**: a record that cannot become a book ([`RowProblem`]), with its line and a
//!   sentence saying why. The other records are still read.
//! - **Preview**: the rows and the problems of one file ([`ImportPreview`]). Nothing here
//!   touches the database; matching rows against the list and writing them is the store's.
//!
//! # Invariants
//!
//! - A file is refused whole ([`ImportError`]) when it cannot be a reading list at all: too
//!   big ([`MAX_FILE_BYTES`], refused before it is read), empty, binary, not UTF-8, an unknown
//!   header, missing columns, a quote never closed, no records, a broken backup.
//! - Every row passes the same rules as a book typed in the app (`validate::draft`), and is
//!   held in their canonical form; a record that breaks one is a problem, never a partial book.
//! - A record's values are never guessed: an unreadable rating, date, status or ISBN makes a
//!   problem naming the column and the value.
//! - Parsing is deterministic: the same bytes give the same preview.
//! - How each format maps onto a book is written in the README, section "Import and export".

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::Path;

use bookwish_ipc::{limits, BookDraft, BookId, ErrorCode, IpcError, Status};
use chrono::NaiveDate;

use crate::error::Error;
use crate::isbn::Isbn;
use crate::validate;

pub mod bookwish_csv;
pub mod bookwish_json;
mod goodreads;
mod storygraph;

/// The largest file import reads: 50 MiB. A Goodreads export of 20,000 books that all carry
/// a long review is about 40 MB; anything bigger is not a reading list, and the whole file is
/// held in memory while it is parsed.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

/// Which program wrote the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Goodreads' "Export Library" (`goodreads_library_export.csv`).
    Goodreads,
    /// The StoryGraph's export (Manage Account → Export StoryGraph Library).
    StoryGraph,
    /// Bookwish's own CSV ([`bookwish_csv::COLUMNS`]).
    BookwishCsv,
    /// Bookwish's backup ([`bookwish_json`]).
    BookwishJson,
}

impl Format {
    /// A name for the user: "a Goodreads export".
    pub const fn label(self) -> &'static str {
        match self {
            Format::Goodreads => "a Goodreads export",
            Format::StoryGraph => "a StoryGraph export",
            Format::BookwishCsv => "a Bookwish CSV file",
            Format::BookwishJson => "a Bookwish backup",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a file holds: the books it would add and the records it cannot read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPreview {
    /// Which program wrote the file.
    pub format: Format,
    /// The candidate books, in file order.
    pub rows: Vec<ImportRow>,
    /// The records that cannot become books, in file order.
    pub problems: Vec<RowProblem>,
}

/// One candidate book, its fields already validated and canonical (trimmed, dates
/// `YYYY-MM-DD`), so [`ImportRow::draft`] passes `validate::draft` unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRow {
    /// The line of the file where the record starts (1 is the header of a CSV file).
    pub line: u64,
    /// The book's id: Bookwish formats only; other formats' books get a new id.
    pub id: Option<BookId>,
    /// Never empty.
    pub title: String,
    /// May be empty.
    pub author: String,
    /// Wishlist, Reading or Finished.
    pub status: Status,
    /// May be empty.
    pub notes: String,
    /// 1–5 or none.
    pub rating: Option<u8>,
    /// `YYYY-MM-DD`.
    pub started_on: Option<String>,
    /// `YYYY-MM-DD`, not before `started_on`.
    pub finished_on: Option<String>,
    /// The book's ISBN, when the file has a valid one.
    pub isbn: Option<Isbn>,
    /// When the book was added, in milliseconds since the Unix epoch: the file's "Date Added"
    /// (at midnight UTC), or a Bookwish file's own time.
    pub created_at: Option<i64>,
    /// When the book was last changed: Bookwish formats only.
    pub updated_at: Option<i64>,
}

impl ImportRow {
    /// The editable fields, as the store's `add` and `update` take them.
    pub fn draft(&self) -> BookDraft {
        BookDraft {
            title: self.title.clone(),
            author: self.author.clone(),
            status: self.status,
            notes: self.notes.clone(),
            rating: self.rating,
            started_on: self.started_on.clone(),
            finished_on: self.finished_on.clone(),
            isbn: self.isbn.map(|isbn| isbn.to_string()),
        }
    }
}

/// A record that cannot become a book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    /// The line of the file where the record starts.
    pub line: u64,
    /// What is wrong, as a sentence for the user.
    pub reason: String,
}

/// Why a whole file cannot be imported. Display texts are sentences for the user.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is bigger than [`MAX_FILE_BYTES`].
    #[error(
        "This file is {}: Bookwish imports files up to {} MB. Is it the right file?",
        bytes.map_or_else(|| "too big".to_owned(), |bytes| format!("{} MB", megabytes(bytes))),
        megabytes(MAX_FILE_BYTES)
    )]
    TooLarge {
        /// Its size, when known before reading (a stream is cut off past the limit instead).
        bytes: Option<u64>,
    },
    /// The file could not be read from the disk.
    #[error("The file could not be read: {0}.")]
    Io(#[from] std::io::Error),
    /// The file is empty or holds only whitespace.
    #[error("The file is empty.")]
    Empty,
    /// Not text: a binary file, or a known kind of document that is not CSV.
    #[error("This is {kind}, not a CSV or Bookwish backup file.{}", hint(kind))]
    NotText {
        /// What it looks like, e.g. "an Excel or Numbers workbook".
        kind: &'static str,
    },
    /// Text in UTF-16 (a spreadsheet's "Unicode text"), not UTF-8.
    #[error(
        "This file is in UTF-16 (\"Unicode text\"). Save it as \"CSV UTF-8\" and import that."
    )]
    Utf16,
    /// Bytes that are not UTF-8, first seen on `line`.
    #[error(
        "Line {line} has characters that are not UTF-8 text. Save the file as \"CSV UTF-8\" \
         and import it again."
    )]
    InvalidUtf8 {
        /// The line of the first invalid byte.
        line: u64,
    },
    /// The first line names columns of no known format.
    #[error(
        "This file's first line does not name the columns of a Goodreads export (Title, \
         Author, Exclusive Shelf, …), a StoryGraph export (Title, Authors, Read Status, …) or \
         a Bookwish CSV file ({}); it names: {}.",
        bookwish_csv::COLUMNS.join(", "),
        list(found)
    )]
    UnknownHeader {
        /// The column names the file has.
        found: Vec<String>,
    },
    /// The header looks like `format` but lacks columns it needs.
    #[error("This looks like {format}, but it has no {} column{}.", list(missing), plural(missing.len()))]
    MissingColumns {
        /// The format the header looks like.
        format: Format,
        /// The columns it needs and lacks.
        missing: Vec<&'static str>,
    },
    /// A quoted field opens on `line` and is never closed, so every record after it would be
    /// swallowed: the file is cut short or a quote is missing.
    #[error(
        "A quoted value that starts on line {line} is never closed: the file may be cut short, \
         or a quote is missing."
    )]
    UnclosedQuote {
        /// The line where the quoted field starts.
        line: u64,
    },
    /// The CSV reader failed where it should not (the text was checked beforehand).
    #[error("The file could not be read as CSV (line {line}).")]
    Csv {
        /// The line of the record it failed on.
        line: u64,
        /// The reader's error.
        #[source]
        source: csv::Error,
    },
    /// The header (or the backup's frame) is fine but there is no book in it.
    #[error("This is {format}, but it lists no books.")]
    NoRows {
        /// The format found.
        format: Format,
    },
    /// JSON that is broken (cut short, a missing comma) at `line`.
    #[error("The backup is damaged at line {line}, column {column}: it is not valid JSON.")]
    Json {
        /// Where the JSON breaks.
        line: u64,
        /// The column where it breaks.
        column: u64,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// Valid JSON, but not a Bookwish backup.
    #[error("This JSON file is not a Bookwish backup.")]
    NotBackup,
    /// A backup written by a newer Bookwish, in a version this one cannot read.
    #[error(
        "This backup was made by a newer version of Bookwish (backup version {version}). \
         Update Bookwish and import it again."
    )]
    NewerBackup {
        /// The backup's version.
        version: u64,
    },
}

impl From<ImportError> for IpcError {
    /// A refused file is the user's input that breaks a rule; the field is the file.
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Io(_) => IpcError::new(ErrorCode::Storage, error.to_string()),
            ImportError::Csv { .. } => IpcError::new(ErrorCode::Internal, error.to_string()),
            other => IpcError::validation("file", other.to_string()),
        }
    }
}

fn megabytes(bytes: u64) -> u64 {
    bytes.div_ceil(1024 * 1024)
}

fn hint(kind: &str) -> &'static str {
    if kind.contains("workbook") {
        " Save it as \"CSV UTF-8\" in the spreadsheet and import that."
    } else {
        ""
    }
}

fn list<T: AsRef<str>>(names: &[T]) -> String {
    const SHOWN: usize = 12;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    if text.is_empty() {
        text.push_str("nothing");
    }
    text
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Previews the file at `path`, refusing it by its size before reading it.
pub fn preview_file(path: &Path) -> Result<ImportPreview, ImportError> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    preview_reader(file, Some(size))
}

/// Previews what `reader` yields. `size`, when known, refuses a big file before reading it;
/// either way no more than [`MAX_FILE_BYTES`] + 1 bytes are read.
pub fn preview_reader(reader: impl Read, size: Option<u64>) -> Result<ImportPreview, ImportError> {
    if let Some(bytes) = size.filter(|&bytes| bytes > MAX_FILE_BYTES) {
        return Err(ImportError::TooLarge { bytes: Some(bytes) });
    }
    let capacity = size.unwrap_or(64 * 1024).min(MAX_FILE_BYTES) as usize;
    let mut bytes = Vec::with_capacity(capacity);
    reader.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    preview_bytes(&bytes)
}

/// Previews a whole file already in memory.
pub fn preview_bytes(bytes: &[u8]) -> Result<ImportPreview, ImportError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge { bytes: None });
    }
    let text = text_of(bytes)?;
    let start = text.trim_start();
    if start.is_empty() {
        return Err(ImportError::Empty);
    }
    if start.starts_with('{') || start.starts_with('[') {
        return bookwish_json::preview(text);
    }
    preview_csv(text)
}

/// The file as UTF-8 text without its byte-order mark, or why it is not text.
fn text_of(bytes: &[u8]) -> Result<&str, ImportError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ImportError::Utf16);
    }
    const SIGNATURES: [(&[u8], &str); 6] = [
        (
            b"PK\x03\x04",
            "an Excel or Numbers workbook (or another ZIP archive)",
        ),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "an old Excel workbook (.xls)",
        ),
        (b"%PDF", "a PDF document"),
        (b"\x89PNG", "a picture"),
        (b"\xFF\xD8\xFF", "a picture"),
        (b"SQLite format 3\0", "a database file"),
    ];
    if let Some((_, kind)) = SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        return Err(ImportError::NotText { kind });
    }
    if bytes.contains(&0) {
        return Err(ImportError::NotText {
            kind: "a binary file",
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|error| ImportError::InvalidUtf8 {
        line: line_at(bytes, error.valid_up_to()),
    })
}

/// The 1-based line of byte `offset`.
fn line_at(bytes: &[u8], offset: usize) -> u64 {
    1 + newlines(&bytes[..offset.min(bytes.len())])
}

/// How many line breaks `bytes` holds (CRLF counts once).
fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// One CSV format: which columns it needs and how a record becomes a row.
trait CsvFormat: Sized {
    const FORMAT: Format;
    /// The columns without which a record cannot be read.
    const REQUIRED: &'static [&'static str];

    /// Finds the columns by name (`column` gives the index of a header name).
    fn columns(column: &dyn Fn(&str) -> Option<usize>) -> Self;

    /// The candidate book of one record, or why there is none.
    fn row(&self, record: &Record<'_>) -> Result<ImportRow, String>;
}

/// One CSV record with its fields looked up by column.
struct Record<'a> {
    fields: &'a csv::StringRecord,
    line: u64,
}

impl Record<'_> {
    /// The value of the column at `index` (empty when the file has no such column), with the
    /// export's formula neutralisation undone (see [`crate::export::neutralise`]).
    fn get(&self, index: Option<usize>) -> &str {
        let raw = index.and_then(|i| self.fields.get(i)).unwrap_or("");
        crate::export::unneutralise(raw)
    }
}

fn preview_csv(text: &str) -> Result<ImportPreview, ImportError> {
    if let Some(line) = unclosed_quote(text) {
        return Err(ImportError::UnclosedQuote { line });
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header = csv::StringRecord::new();
    if !reader
        .read_record(&mut header)
        .map_err(|source| csv_error(source, 1))?
    {
        return Err(ImportError::Empty);
    }
    let names: Vec<&str> = header.iter().map(str::trim).collect();
    let has = |name: &str| names.contains(&name);
    if has("Exclusive Shelf") || has("Book Id") || has("My Rating") {
        read_records::<goodreads::Goodreads>(&mut reader, text, &names)
    } else if has("Read Status") || has("ISBN/UID") || has("Star Rating") {
        read_records::<storygraph::StoryGraph>(&mut reader, text, &names)
    } else if has("id") && has("title") {
        read_records::<bookwish_csv::BookwishCsv>(&mut reader, text, &names)
    } else {
        Err(ImportError::UnknownHeader {
            found: names.iter().map(|&name| name.to_owned()).collect(),
        })
    }
}

fn csv_error(source: csv::Error, line: u64) -> ImportError {
    ImportError::Csv { line, source }
}

fn read_records<F: CsvFormat>(
    reader: &mut csv::Reader<&[u8]>,
    text: &str,
    names: &[&str],
) -> Result<ImportPreview, ImportError> {
    let missing: Vec<&'static str> = F::REQUIRED
        .iter()
        .copied()
        .filter(|required| !names.contains(required))
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns {
            format: F::FORMAT,
            missing,
        });
    }
    let format = F::columns(&|name| names.iter().position(|&n| n == name));
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut ids = HashMap::new();
    let mut fields = csv::StringRecord::new();
    // Lines are counted here from each record's byte offset: the reader's own line count is
    // one short after a line ending in CRLF.
    let (mut line, mut counted_to) = (1u64, 0usize);
    loop {
        if !reader
            .read_record(&mut fields)
            .map_err(|source| csv_error(source, line))?
        {
            break;
        }
        let mut start = fields
            .position()
            .map_or(counted_to, |at| (at.byte() as usize).min(text.len()));
        // After a CRLF the reader's offset is at the LF it skips as an empty line; a record
        // itself never starts with a line break.
        while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let start = start.max(counted_to);
        line += newlines(&text.as_bytes()[counted_to..start]);
        counted_to = start;
        if fields.iter().all(|field| field.trim().is_empty()) {
            // Spreadsheets leave rows of empty cells behind; they are not books.
            continue;
        }
        if fields.len() != names.len() {
            problems.push(RowProblem {
                line,
                reason: format!(
                    "This line has {} values but the first line names {} columns: a comma or a \
                     quote may be missing or extra.",
                    fields.len(),
                    names.len()
                ),
            });
            continue;
        }
        let record = Record {
            fields: &fields,
            line,
        };
        match format.row(&record).and_then(|row| unique_id(row, &mut ids)) {
            Ok(row) => rows.push(row),
            Err(reason) => problems.push(RowProblem { line, reason }),
        }
    }
    if rows.is_empty() && problems.is_empty() {
        return Err(ImportError::NoRows { format: F::FORMAT });
    }
    Ok(ImportPreview {
        format: F::FORMAT,
        rows,
        problems,
    })
}

/// Refuses a second book with an id already seen in the same file (Bookwish formats).
fn unique_id(row: ImportRow, seen: &mut HashMap<BookId, u64>) -> Result<ImportRow, String> {
    if let Some(id) = row.id {
        if let Some(first) = seen.insert(id, row.line) {
            seen.insert(id, first);
            return Err(format!(
                "This book has the same id as the book on line {first}; a file lists each book \
                 once."
            ));
        }
    }
    Ok(row)
}

/// Where a quoted field opens and never closes, if it does: the csv reader would read the
/// rest of the file as that one field, silently dropping every record after it.
///
/// Follows the csv reader's rules: a quote opens a quoted field only as a field's first
/// character, `""` inside one is a quote, and a quote anywhere else is a plain character.
fn unclosed_quote(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let mut line = 1u64;
    let mut field_start = true;
    let mut quoted_since = None;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if quoted_since.is_some() {
            match byte {
                b'"' if bytes.get(i + 1) == Some(&b'"') => i += 1,
                b'"' => quoted_since = None,
                b'\n' => line += 1,
                _ => {}
            }
        } else {
            match byte {
                b'"' if field_start => quoted_since = Some(line),
                b'\n' => line += 1,
                _ => {}
            }
            field_start = matches!(byte, b',' | b'\n' | b'\r');
        }
        i += 1;
    }
    quoted_since
}

/// Checks a row's editable fields as the app checks typed ones, and returns the row in
/// canonical form. `hint` explains, per format, where a field came from in the file.
fn validated(
    mut row: ImportRow,
    hint: impl Fn(&str) -> Option<&'static str>,
) -> Result<ImportRow, String> {
    match validate::draft(&row.draft()) {
        Ok(fields) => {
            row.title = fields.title;
            row.author = fields.author;
            row.status = fields.status;
            row.notes = fields.notes;
            row.rating = fields.rating;
            row.started_on = fields.started_on;
            row.finished_on = fields.finished_on;
            Ok(row)
        }
        Err(Error::Validation { field, message }) => Err(match hint(field) {
            Some(hint) => format!("{message} {hint}"),
            None => message,
        }),
        Err(other) => Err(other.to_string()),
    }
}

/// A date as exports write it, `YYYY/MM/DD` or `YYYY-MM-DD` (month and day may have one
/// digit), as `YYYY-MM-DD`; blank is no date.
fn file_date(column: &str, raw: &str) -> Result<Option<NaiveDate>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let mut parts = text.split(['/', '-']);
    let numbers = (parts.next(), parts.next(), parts.next(), parts.next());
    let shaped = match numbers {
        (Some(year), Some(month), Some(day), None)
            if year.len() == 4
                && (1..=2).contains(&month.len())
                && (1..=2).contains(&day.len())
                && [year, month, day]
                    .iter()
                    .all(|part| part.bytes().all(|b| b.is_ascii_digit())) =>
        {
            Some((year, month, day))
        }
        _ => None,
    };
    let Some((year, month, day)) = shaped else {
        return Err(format!(
            "{column} \"{text}\" isn't a date written like 2024/05/31."
        ));
    };
    // Shape checked: ASCII digits, so the parses cannot fail.
    let number = |part: &str| part.parse::<u32>().unwrap_or(0);
    i32::try_from(number(year))
        .ok()
        .filter(|&year| year >= 1)
        .and_then(|year| NaiveDate::from_ymd_opt(year, number(month), number(day)))
        .map(Some)
        .ok_or_else(|| format!("{column} {text} isn't a real calendar date."))
}

/// Midnight UTC of `date`, in milliseconds since the Unix epoch.
fn millis(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map_or(0, |time| time.and_utc().timestamp_millis())
}

/// A star rating from 0 to 5, possibly with quarter stars: rounded to the nearest whole
/// star, halves up; 0 or blank is no rating, and anything above 0 is at least one star.
fn stars(column: &str, raw: &str) -> Result<Option<u8>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(value) if (0.0..=f64::from(limits::RATING_MAX)).contains(&value) => {
            if value == 0.0 {
                Ok(None)
            } else {
                let whole = (value + 0.5).floor() as u8;
                Ok(Some(whole.max(limits::RATING_MIN)))
            }
        }
        _ => Err(format!(
            "{column} \"{text}\" isn't a rating from 0 to {} stars.",
            limits::RATING_MAX
        )),
    }
}

/// An ISBN column's value, refused with the column's name when it is not a valid ISBN.
fn isbn(column: &str, raw: &str) -> Result<Option<Isbn>, String> {
    Isbn::parse_optional(raw).map_err(|error| {
        let written = crate::isbn::unwrap_spreadsheet(raw.trim());
        format!("{column} \"{written}\": {error}")
    })
}

/// Goodreads (and some StoryGraph) reviews mark line breaks as HTML `<br/>`.
fn html_breaks(text: &str) -> String {
    if !text.contains("<br") {
        return text.to_owned();
    }
    text.replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("<br>", "\n")
}

/// Notes built from an export's review, private notes and the facts Bookwish has no field
/// for: paragraphs separated by a blank line, private notes under a heading when a review
/// precedes them, facts one per line at the end.
fn merged_notes(review: &str, private: &str, facts: &[String]) -> String {
    let review = html_breaks(review.trim());
    let review = review.trim();
    let private = html_breaks(private.trim());
    let private = private.trim();
    let mut paragraphs: Vec<String> = Vec::with_capacity(3);
    if !review.is_empty() {
        paragraphs.push(review.to_owned());
    }
    if !private.is_empty() {
        if review.is_empty() {
            paragraphs.push(private.to_owned());
        } else {
            paragraphs.push(format!("Private notes:\n{private}"));
        }
    }
    if !facts.is_empty() {
        paragraphs.push(facts.join("\n"));
    }
    paragraphs.join("\n\n")
}

/// `names` as the author, or — when they do not fit the author limit — the first name as the
/// author and all of them kept as a fact for the notes.
fn authors(names: &[&str], label: &str) -> (String, Option<String>) {
    let names: Vec<String> = names
        .iter()
        .map(|name| name.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|name| !name.is_empty())
        .collect();
    let all = names.join(", ");
    if all.chars().count() <= limits::AUTHOR_MAX || names.len() < 2 {
        (all, None)
    } else {
        (
            names[0].clone(),
            Some(format!("{label}: {}", names[1..].join(", "))),
        )
    }
}

#[cfg(test)]
mod tests;
