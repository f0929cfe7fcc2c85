//! Timings of the local store on a real file, printed as a table (`cargo bench -p bookwish-core
//! --bench store`). Each figure sits beside a floor measured in the same run: the same rows
//! inserted raw in one prepared transaction, i.e. what SQLite costs without the store's rules.

#![allow(clippy::print_stdout, reason = "a bench reports by printing its table")]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use bookwish_core::Store;
use bookwish_ipc::{BookDraft, ListQuery, Sort, Status};

const BOOKS: usize = 10_000;
const LIST_RUNS: usize = 30;
const STATUS_EDITS: usize = 2_000;
/// Edits between two idle-time checkpoints.
const IDLE_EVERY: usize = 100;

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let drafts: Vec<BookDraft> = (0..BOOKS).map(draft).collect();
    let mut table = Table::default();

    let mut opened = Vec::new();
    let opens = time_each(20, |i| {
        opened.push(Store::open(&dir.path().join(format!("open-{i}.sqlite3")))?);
        Ok::<_, bookwish_core::Error>(())
    })?;
    drop(opened);
    table.row("open + migrate (new file)", &opens, "");

    // As the shell runs it: edits one per transaction, a checkpoint when idle (here: after
    // every IDLE_EVERY edits, outside the timed edit).
    let path = dir.path().join("books.sqlite3");
    let mut store = Store::open(&path)?;
    let mut ids = Vec::with_capacity(BOOKS);
    let mut checkpoints = Vec::new();
    let mut adds = Vec::with_capacity(BOOKS);
    for (i, draft) in drafts.iter().enumerate() {
        if i % IDLE_EVERY == IDLE_EVERY - 1 {
            let start = Instant::now();
            store.checkpoint()?;
            checkpoints.push(start.elapsed());
        }
        let start = Instant::now();
        ids.push(store.add(draft)?.id);
        adds.push(start.elapsed());
    }
    let total: Duration = adds.iter().sum();
    table.row(
        "add, 1 tx per book, idle checkpoints",
        &adds,
        &format!("{BOOKS} in {}; {}", ms(total), over_1ms(&adds)),
    );
    table.row(
        "checkpoint() when idle",
        &checkpoints,
        &format!("every {IDLE_EVERY} edits, not inside an edit"),
    );

    // The same without the shell's idle checkpoints: SQLite's own checkpoint (at 10,000 WAL
    // pages) then lands inside an edit.
    let mut unattended = Store::open(&dir.path().join("unattended.sqlite3"))?;
    let adds = time_each(BOOKS, |i| unattended.add(&drafts[i]).map(drop))?;
    let unattended_total: Duration = adds.iter().sum();
    table.row(
        "add, 1 tx per book, no idle checkpoint",
        &adds,
        &format!("{BOOKS} in {}; {}", ms(unattended_total), over_1ms(&adds)),
    );
    drop(unattended);

    let floor = insert_floor(&dir.path().join("floor.sqlite3"), &drafts)?;
    table.single(
        "floor: same rows, one prepared tx",
        floor,
        &format!(
            "{} per row; store/floor = {:.0}x",
            us(floor / BOOKS as u32),
            total.as_secs_f64() / floor.as_secs_f64()
        ),
    );

    for sort in Sort::ALL {
        let query = ListQuery {
            sort,
            ..ListQuery::default()
        };
        let runs = time_each(LIST_RUNS, |_| store.list(&query).map(drop))?;
        let rows = store.list(&query)?.books.len();
        table.row(
            &format!("list all, sort {sort:?}"),
            &runs,
            &format!("{rows} rows"),
        );
    }
    // The floor: a plain SELECT on a connection of its own, not through the store.
    #[allow(clippy::disallowed_methods)]
    let raw_conn = rusqlite::Connection::open(&path)?;
    let raw = time_each(LIST_RUNS, |_| raw_scan(&raw_conn))?;
    table.row(
        "floor: raw SELECT into tuples",
        &raw,
        "same rows and order, no Book",
    );

    for (search, status) in [
        ("herb", None),
        ("ÉCOLE", None),
        ("zzzz", None),
        ("a", Some(Status::Reading)),
    ] {
        let query = ListQuery {
            status,
            search: search.to_owned(),
            sort: Sort::Title,
        };
        let runs = time_each(LIST_RUNS, |_| store.list(&query).map(drop))?;
        let rows = store.list(&query)?.books.len();
        let filter = status.map_or(String::new(), |s| format!(" + {s}"));
        table.row(
            &format!("list, search {search:?}{filter}"),
            &runs,
            &format!("{rows} rows"),
        );
    }

    let statuses = [Status::Reading, Status::Finished, Status::Wishlist];
    let edits = edit_each(&mut store, |store, i| {
        let id = ids[(i * 7_919) % BOOKS];
        store.set_status(id, statuses[i % 3]).map(drop)
    })?;
    table.row(
        "set_status",
        &edits,
        &format!("{STATUS_EDITS} edits; {}", over_1ms(&edits)),
    );

    let updates = edit_each(&mut store, |store, i| {
        let id = ids[(i * 104_729) % BOOKS];
        let mut changed = drafts[0].clone();
        changed.title = format!("Retitled {i}");
        store.update(id, &changed).map(drop)
    })?;
    table.row(
        "update (title)",
        &updates,
        &format!("{STATUS_EDITS} edits; {}", over_1ms(&updates)),
    );
    drop(store);

    let cold = time_each(5, |_| {
        let store = Store::open(&path)?;
        store.list(&ListQuery::default()).map(drop)
    })?;
    table.row("reopen + list all (10k)", &cold, "");

    table.print();
    Ok(())
}

/// The i-th book of the fixture: varied titles and authors, some non-ASCII, a short note.
fn draft(i: usize) -> BookDraft {
    const WORDS: [&str; 12] = [
        "river",
        "École",
        "night",
        "glass",
        "Herbert's",
        "winter",
        "ÜBER",
        "stone",
        "garden",
        "50%",
        "salt",
        "letters",
    ];
    const AUTHORS: [&str; 6] = [
        "Frank Herbert",
        "Ursula Le Guin",
        "Émile Zola",
        "Toni Morrison",
        "",
        "Haruki Murakami",
    ];
    let word = |n: usize| WORDS[(i.wrapping_mul(2_654_435_761) >> n) % WORDS.len()];
    BookDraft {
        title: format!("The {} of {} {i}", word(3), word(11)),
        author: AUTHORS[i % AUTHORS.len()].to_owned(),
        status: Status::ALL[i % 3],
        notes: "A note about the book, long enough to look like one a reader writes.\n".repeat(2),
        rating: (!i.is_multiple_of(6)).then_some((i % 5) as u8 + 1),
        started_on: (!i.is_multiple_of(3))
            .then(|| format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1)),
        finished_on: None,
        isbn: None,
    }
}

/// Inserts the fixture's rows (book and outbox entry each) into a store-shaped file in one
/// prepared transaction: the least SQLite can spend on the same data.
fn insert_floor(path: &Path, drafts: &[BookDraft]) -> Result<Duration> {
    drop(Store::open(path)?);
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
                                created_at, updated_at, title_fold, author_fold)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11)",
        )?;
        let mut entry = tx.prepare(
            "INSERT INTO outbox (book_id, patch, base_version, hlc, mutation_id, created_at,
                                 updated_at)
             VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?5)",
        )?;
        for (i, draft) in drafts.iter().enumerate() {
            let id = uuid::Uuid::now_v7().to_string();
            let now = 1_733_000_000_000_i64 + i as i64;
            book.execute(rusqlite::params![
                id,
                draft.title,
                draft.author,
                draft.status.as_str(),
                draft.notes,
                draft.rating,
                draft.started_on,
                draft.finished_on,
                now,
                draft.title.to_lowercase(),
                draft.author.to_lowercase(),
            ])?;
            let patch = serde_json::json!({
                "title": draft.title, "author": draft.author, "status": draft.status.as_str(),
                "notes": draft.notes, "rating": draft.rating, "started_on": draft.started_on,
                "finished_on": draft.finished_on, "deleted": false,
            });
            entry.execute(rusqlite::params![
                id,
                patch.to_string(),
                format!("{now:016}-00000-{id}"),
                uuid::Uuid::now_v7().to_string(),
                now,
            ])?;
        }
    }
    tx.commit()?;
    Ok(start.elapsed())
}

/// Reads every live row's columns into owned values without the store: the floor for `list`.
fn raw_scan(conn: &rusqlite::Connection) -> Result<()> {
    type Columns = (String, String, String, String, String, Option<u8>);
    type Rest = (Option<String>, Option<String>, i64, i64);
    let mut statement = conn.prepare_cached(
        "SELECT id, title, author, status, notes, rating, started_on, finished_on, created_at,
                updated_at
         FROM books WHERE deleted = 0 ORDER BY created_at DESC, rowid DESC",
    )?;
    let rows = statement
        .query_map([], |row| {
            let columns: Columns = (
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            );
            let rest: Rest = (row.get(6)?, row.get(7)?, row.get(8)?, row.get(9)?);
            Ok((columns, rest))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    std::hint::black_box(rows);
    Ok(())
}

fn time_each<E: Into<anyhow::Error>>(
    runs: usize,
    mut op: impl FnMut(usize) -> Result<(), E>,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let start = Instant::now();
        op(i).map_err(Into::into)?;
        times.push(start.elapsed());
    }
    Ok(times)
}

/// Times STATUS_EDITS edits, checkpointing (untimed) every IDLE_EVERY as the shell does.
fn edit_each(
    store: &mut Store,
    mut edit: impl FnMut(&mut Store, usize) -> bookwish_core::Result<()>,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(STATUS_EDITS);
    for i in 0..STATUS_EDITS {
        if i % IDLE_EVERY == 0 {
            store.checkpoint()?;
        }
        let start = Instant::now();
        edit(store, i)?;
        times.push(start.elapsed());
    }
    Ok(times)
}

fn over_1ms(times: &[Duration]) -> String {
    let slow = times
        .iter()
        .filter(|t| **t > Duration::from_millis(1))
        .count();
    format!("{slow} over 1 ms")
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn us(duration: Duration) -> String {
    format!("{:.1} µs", duration.as_secs_f64() * 1e6)
}

#[derive(Default)]
struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    fn row(&mut self, label: &str, times: &[Duration], note: &str) {
        let mut sorted = times.to_vec();
        sorted.sort();
        let at = |pct: usize| sorted[(sorted.len() * pct / 100).min(sorted.len() - 1)];

        self.rows.push([
            label.to_owned(),
            support::show(at(50)),
            support::show(at(99)),
            support::show(sorted[sorted.len() - 1]),
            note.to_owned(),
        ]);
    }

    fn single(&mut self, label: &str, time: Duration, note: &str) {
        self.rows.push([
            label.to_owned(),
            ms(time),
            "-".into(),
            "-".into(),
            note.to_owned(),
        ]);
    }

    fn print(&self) {
        support::print_table(["figure", "p50", "p99", "max", "note"], &self.rows);
    }
}
