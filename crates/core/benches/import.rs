//! Timings of import, export and folding, printed as a table (`cargo bench -p bookwish-core
//! --bench import`). The file is a generated 10,000-book Goodreads export (reviews, private
//! notes, shelves, quoted multi-line fields, accents). Each figure sits beside a floor
//! measured in the same run: the `csv` crate reading the same bytes into `StringRecord`s
//! (what any CSV import must pay), `str::to_lowercase` for folding, and — for the import
//! through the store — the same books and outbox rows inserted into a store-shaped file in one
//! prepared transaction (what any import into this schema must pay).
//!
//! Targets (DESIGN §8): the preview, matching against the list included, ≤ 0.5 s; the import
//! ≤ 1 s. Stores are files in a temporary folder with the app's pragmas (WAL, NORMAL).

#![allow(clippy::print_stdout, reason = "a bench reports by printing its table")]

mod support;

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use bookwish_core::{export, fold::fold, import, Isbn, Store};
use bookwish_ipc::{Book, OnMatch};

const BOOKS: usize = 10_000;
const RUNS: usize = 15;
/// Imports write a fresh database each run: fewer runs.
const IMPORT_RUNS: usize = 7;

fn main() -> Result<()> {
    let file = goodreads_file(BOOKS);
    let mut table = Table::default();

    let floor = time_each(RUNS, || {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(file.as_slice());
        let records = reader
            .records()
            .collect::<Result<Vec<csv::StringRecord>, _>>()?;
        ensure!(records.len() == BOOKS + 1, "the floor reads every record");
        std::hint::black_box(records);
        Ok(())
    })?;
    table.row(
        "floor: csv into StringRecords",
        &floor,
        &format!("{BOOKS} records, {:.1} MB", file.len() as f64 / 1e6),
    );

    let mut rows = 0;
    let previews = time_each(RUNS, || {
        let preview = import::preview_bytes(&file)?;
        ensure!(preview.problems.is_empty(), "the generated file is clean");
        rows = preview.rows.len();
        std::hint::black_box(preview);
        Ok(())
    })?;
    table.row(
        "preview_bytes (Goodreads)",
        &previews,
        &format!(
            "{rows} rows; {:.1}x floor; target ≤ 500 ms incl. the store's matching",
            median(&previews).as_secs_f64() / median(&floor).as_secs_f64()
        ),
    );

    let preview = import::preview_bytes(&file)?;
    let books: Vec<(Book, Option<Isbn>)> = preview
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let at = row.created_at.unwrap_or(0);
            let book = Book {
                id: uuid::Uuid::from_u128(i as u128 + 1),
                title: row.title.clone(),
                author: row.author.clone(),
                status: row.status,
                notes: row.notes.clone(),
                rating: row.rating,
                started_on: row.started_on.clone(),
                finished_on: row.finished_on.clone(),
                isbn: None,
                created_at: at,
                updated_at: at,
            };
            (book, row.isbn)
        })
        .collect();

    let mut backup = Vec::new();
    let exports = time_each(RUNS, || {
        backup.clear();
        export::backup_json(&books, 0, &mut backup)?;
        Ok(())
    })?;
    table.row(
        "export backup_json",
        &exports,
        &format!("{BOOKS} books, {:.1} MB", backup.len() as f64 / 1e6),
    );
    let restores = time_each(RUNS, || {
        let preview = import::preview_bytes(&backup)?;
        ensure!(preview.rows.len() == BOOKS, "every book restores");
        Ok(())
    })?;
    table.row("preview_bytes (backup)", &restores, "");

    let mut csv = Vec::new();
    let csv_exports = time_each(RUNS, || {
        csv.clear();
        export::bookwish_csv(&books, &mut csv)?;
        Ok(())
    })?;
    table.row("export bookwish_csv", &csv_exports, "");
    let csv_imports = time_each(RUNS, || {
        let preview = import::preview_bytes(&csv)?;
        ensure!(preview.rows.len() == BOOKS, "every book reads back");
        Ok(())
    })?;
    table.row("preview_bytes (Bookwish CSV)", &csv_imports, "");
    let goodreads_exports = time_each(RUNS, || {
        let mut out = Vec::new();
        export::goodreads_csv(&books, &mut out)?;
        std::hint::black_box(out);
        Ok(())
    })?;
    table.row("export goodreads_csv", &goodreads_exports, "");

    let texts: Vec<&str> = books
        .iter()
        .flat_map(|(book, _)| [book.title.as_str(), book.author.as_str()])
        .collect();
    let lower = time_each(RUNS, || {
        let folded: Vec<String> = texts.iter().map(|text| text.to_lowercase()).collect();
        std::hint::black_box(folded);
        Ok(())
    })?;
    table.row(
        "floor: to_lowercase, titles + authors",
        &lower,
        &format!("{} texts", texts.len()),
    );
    let folds = time_each(RUNS, || {
        let folded: Vec<String> = texts.iter().map(|text| fold(text)).collect();
        std::hint::black_box(folded);
        Ok(())
    })?;
    table.row(
        "fold, titles + authors",
        &folds,
        &format!(
            "{:.0} ns per text; {:.1}x floor",
            median(&folds).as_secs_f64() * 1e9 / texts.len() as f64,
            median(&folds).as_secs_f64() / median(&lower).as_secs_f64()
        ),
    );
    let accented: Vec<String> = texts
        .iter()
        .map(|text| format!("{text} — Ædelstein Gödel Œuvre ΣΟΦΊΑ"))
        .collect();
    let accented_folds = time_each(RUNS, || {
        let folded: Vec<String> = accented.iter().map(|text| fold(text)).collect();
        std::hint::black_box(folded);
        Ok(())
    })?;
    table.row(
        "fold, same + non-ASCII tail",
        &accented_folds,
        &format!(
            "{:.0} ns per text",
            median(&accented_folds).as_secs_f64() * 1e9 / texts.len() as f64
        ),
    );

    store_rows(&file, &mut table)?;

    table.print();
    Ok(())
}

/// The import through the store: the preview with matching (into an empty list, and into the
/// list that already holds every book), the import, its undo, beside the insert floor.
fn store_rows(file: &[u8], table: &mut Table) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut next = 0;
    let mut fresh = || -> Result<(Store, std::path::PathBuf)> {
        next += 1;
        let path = dir.path().join(format!("import-{next}.sqlite3"));
        Ok((Store::open(&path)?, path))
    };

    let (empty, _) = fresh()?;
    let previews = time_each(RUNS, || {
        let preview = import::preview_bytes(file)?;
        let summary = empty.preview_import(&preview)?;
        ensure!(
            summary.new as usize == BOOKS,
            "every book is new to an empty list"
        );
        Ok(())
    })?;
    table.row(
        "store preview: file read + matched (empty list)",
        &previews,
        "target ≤ 500 ms",
    );

    let preview = import::preview_bytes(file)?;
    let mut floor_times = Vec::new();
    for _ in 0..IMPORT_RUNS {
        let (store, path) = fresh()?;
        drop(store);
        floor_times.push(insert_floor(&path, &preview)?);
    }
    table.row(
        "floor: same books + outbox, one prepared transaction",
        &floor_times,
        &format!("{BOOKS} rows each"),
    );

    let mut imports = Vec::new();
    let mut undos = Vec::new();
    let mut full = None;
    for _ in 0..IMPORT_RUNS {
        let (mut store, _) = fresh()?;
        let mut reports = 0;
        let start = Instant::now();
        let done = store.apply_import(&preview, OnMatch::Skip, &mut |_, _| reports += 1)?;
        imports.push(start.elapsed());
        ensure!(done.added as usize == BOOKS, "every book is added");
        ensure!(reports > 1, "progress is reported while it runs");
        let import_id = done.import_id.unwrap_or_default();
        if full.is_none() {
            full = Some(store);
            continue;
        }
        let start = Instant::now();
        let undone = store.undo_import(import_id)?;
        undos.push(start.elapsed());
        ensure!(
            undone.removed as usize == BOOKS,
            "every book is removed again"
        );
    }
    table.row(
        "store apply_import: 10,000 new books",
        &imports,
        &format!(
            "target ≤ 1 s; {:.1}x floor",
            median(&imports).as_secs_f64() / median(&floor_times).as_secs_f64()
        ),
    );
    table.row("store undo_import: 10,000 books deleted", &undos, "");

    let full = full.unwrap_or(empty);
    let rematch = time_each(RUNS, || {
        let preview = import::preview_bytes(file)?;
        let summary = full.preview_import(&preview)?;
        ensure!(
            summary.matching as usize == BOOKS,
            "every book matches itself"
        );
        Ok(())
    })?;
    table.row(
        "store preview: file read + matched (10,000 in the list)",
        &rematch,
        "target ≤ 500 ms",
    );
    let matching_only = time_each(RUNS, || {
        std::hint::black_box(full.preview_import(&preview)?);
        Ok(())
    })?;
    table.row("  of which matching (preview_import)", &matching_only, "");
    Ok(())
}

/// Inserts `preview`'s rows as books with their outbox entries into the store-shaped file at
/// `path`, in one prepared transaction: the least SQLite can spend on the same rows. Times the
/// transaction only.
fn insert_floor(path: &std::path::Path, preview: &import::ImportPreview) -> Result<Duration> {
    // The floor writes the same rows the plainest way, not through the store.
    #[allow(clippy::disallowed_methods)]
    let mut conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let start = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut book = tx.prepare(
            "INSERT INTO books (id, title, author, status, notes, rating, started_on, finished_on,
                                isbn, created_at, updated_at, title_fold, author_fold)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12)",
        )?;
        let mut entry = tx.prepare(
            "INSERT INTO outbox (book_id, patch, base_version, hlc, mutation_id, created_at,
                                 updated_at)
             VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?5)",
        )?;
        for (i, row) in preview.rows.iter().enumerate() {
            let id = uuid::Uuid::now_v7().to_string();
            let now = 1_733_000_000_000_i64 + i as i64;
            let isbn = row.isbn.map(|isbn| isbn.to_string());
            book.execute(rusqlite::params![
                id,
                row.title,
                row.author,
                row.status.as_str(),
                row.notes,
                row.rating,
                row.started_on,
                row.finished_on,
                isbn,
                row.created_at.unwrap_or(now),
                fold(&row.title),
                fold(&row.author),
            ])?;
            let patch = serde_json::json!({
                "title": row.title, "author": row.author, "status": row.status.as_str(),
                "notes": row.notes, "rating": row.rating, "started_on": row.started_on,
                "finished_on": row.finished_on, "isbn": isbn, "deleted": false,
            });
            entry.execute(rusqlite::params![
                id,
                patch.to_string(),
                format!("{now:013}-000000-{id}"),
                uuid::Uuid::now_v7().to_string(),
                now,
            ])?;
        }
    }
    tx.commit()?;
    Ok(start.elapsed())
}

/// A Goodreads export of `books` invented books, shaped like the real one.
fn goodreads_file(books: usize) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "Salt", "Lantern", "Winter", "Orchard", "Gödel", "Harbour", "Ember", "Moss", "Cipher",
        "Tide", "Æther", "Ledger", "Kalmar", "Heron", "Ostrava", "Quarry",
    ];
    const AUTHORS: [&str; 8] = [
        "Imogen Vael",
        "Tobias Wren",
        "Halldóra Sveinsdóttir",
        "Marguerite Osei-Bonsu",
        "Radek Novotný",
        "Zoë Ångström-Kowalczyk",
        "Colm Ó Briain",
        "Ελένη Παπαδάκη",
    ];
    const SHELVES: [&str; 5] = [
        "read",
        "to-read",
        "currently-reading",
        "read",
        "did-not-finish",
    ];
    let mut out = Vec::with_capacity(books * 400);
    out.extend_from_slice(b"\xEF\xBB\xBF");
    let mut csv = csv::WriterBuilder::new().from_writer(out);
    let header = "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,\
                  Average Rating,Publisher,Binding,Number of Pages,Year Published,Original \
                  Publication Year,Date Read,Date Added,Bookshelves,Bookshelves with positions,\
                  Exclusive Shelf,My Review,Spoiler,Private Notes,Read Count,Owned Copies";
    let write = |csv: &mut csv::Writer<Vec<u8>>, record: Vec<String>| {
        csv.write_record(record)
            .unwrap_or_else(|error| panic!("writing to memory cannot fail: {error}"));
    };
    write(&mut csv, header.split(',').map(str::to_owned).collect());
    for i in 0..books {
        let word = |k: usize| WORDS[(i * 7 + k * 5 + i / 16) % WORDS.len()];
        let author = AUTHORS[i % AUTHORS.len()];
        let shelf = SHELVES[i % SHELVES.len()];
        let digits12 = format!("97809{:07}", i * 13 % 10_000_000);
        let isbn = (0..10)
            .find_map(|check| Isbn::parse(&format!("{digits12}{check}")).ok())
            .unwrap_or_else(|| panic!("one of ten check digits fits {digits12}"));
        let read = shelf == "read" || shelf == "did-not-finish";
        let date = |offset: usize| {
            format!(
                "{}/{:02}/{:02}",
                2010 + (i + offset) % 15,
                (i + offset) % 12 + 1,
                (i + offset) % 28 + 1
            )
        };
        let review = match i % 4 {
            0 => String::new(),
            1 => format!(
                "Loved the {} parts.<br/><br/>Slow middle.",
                word(3).to_lowercase()
            ),
            2 => format!(
                "First line about {}.\nSecond line, with a comma.\n\n\"Quoted\" ending.",
                word(4)
            ),
            _ => "A note long enough to look like a real review of a real book, one that a \
                  reader might write on a quiet evening after finishing it."
                .to_owned(),
        };
        let record = vec![
            (40_000_000 + i).to_string(),
            format!("The {} of {} {}", word(0), word(1), i),
            author.to_owned(),
            author.to_owned(),
            if i % 9 == 0 {
                "Jonah Achterberg".to_owned()
            } else {
                String::new()
            },
            format!("=\"{}\"", isbn.to_isbn10().unwrap_or_default()),
            format!("=\"{isbn}\""),
            if read {
                (i % 5 + 1).to_string()
            } else {
                "0".to_owned()
            },
            "3.91".to_owned(),
            "Tidewater Press".to_owned(),
            "Paperback".to_owned(),
            (120 + i % 600).to_string(),
            "2019".to_owned(),
            "2018".to_owned(),
            if read { date(40) } else { String::new() },
            date(0),
            if i % 3 == 0 {
                format!("{shelf}, favourites")
            } else {
                shelf.to_owned()
            },
            format!("{shelf} (#{i})"),
            shelf.to_owned(),
            review,
            String::new(),
            if i % 5 == 0 {
                "Lent to Ruth.".to_owned()
            } else {
                String::new()
            },
            u8::from(read).to_string(),
            "0".to_owned(),
        ];
        write(&mut csv, record);
    }
    csv.into_inner()
        .unwrap_or_else(|error| panic!("flushing to memory cannot fail: {error}"))
}

fn time_each(runs: usize, mut op: impl FnMut() -> Result<()>) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        op()?;
        times.push(start.elapsed());
    }
    Ok(times)
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

#[derive(Default)]
struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    fn row(&mut self, label: &str, times: &[Duration], note: &str) {
        let mut sorted = times.to_vec();
        sorted.sort();
        self.rows.push([
            label.to_owned(),
            support::show(sorted[0]),
            support::show(sorted[sorted.len() / 2]),
            support::show(sorted[sorted.len() - 1]),
            note.to_owned(),
        ]);
    }

    fn print(&self) {
        support::print_table(["figure", "min", "p50", "max", "note"], &self.rows);
    }
}
