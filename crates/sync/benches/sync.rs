//! Sync timings against the local stack (PostgreSQL + PostgREST on loopback), printed as a
//! table with DESIGN §8's targets and honest floors measured in the same run
//! (`cargo bench -p bookwish-sync --bench sync`):
//!
//! - the network floor: PostgREST's plain keyset read of every row,
//!   `GET /books?select=*&version=gt.N&order=version&limit=1000` (the schema's own read cost,
//!   which the target's ratio is against), and the same read of the columns the app reads from
//!   the view it pulls, `GET /sync_rows?select=<ROW_COLUMNS>…`. The `select=*` read is
//!   also timed as two keyset chains at once over the two halves of the versions, the way the
//!   app's pull reads a long download; the target's ratio stays against the one-chain read;
//! - the disk floor: the same rows inserted into SQLite in one prepared transaction, on a
//!   database with the app's own schema, indexes and pragmas;
//! - the pipeline floor: both at once, the plainest way — that keyset read of the app's
//!   columns with each page inserted as it arrives, by another thread, into one transaction;
//! - beside each, the CPU time the whole machine used meanwhile (`/proc/stat`): on these
//!   2-CPU machines the server, the client's decoding and SQLite's writing share two CPUs, and
//!   a phase that keeps both busy is at the machine's floor, whatever its wall time;
//! - the push: the app's whole sync of 1,000 queued edits, then the `sync_push` call alone
//!   with 1,000 edits changing the same fields (of other books) and the echo pull alone.
//!
//! The reads, the floors and the initial sync run [`REPEATS`] times in turn, and each is
//! reported as the median with the range of its samples: on these machines one sample of a
//! second-long phase moves by ±15 % from one minute to the next, as much as the gap between the
//! target's ratio and the figure it judges. The initial sync is also divided by the read of
//! its own repetition, the paired ratio, whose median and range the table gives too.
//!
//! The server is seeded with 100,000 books, then `VACUUM ANALYZE`d, as a long-lived table is.

#![allow(clippy::print_stdout, reason = "a bench reports by printing its table")]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bookwish_core::hlc::Stamp;
use bookwish_core::{Answer, OutboxEntry, Store};
use bookwish_ipc::{BookDraft, SyncPhase};
use bookwish_stack::{Stack, StackOptions, TestUser, ALICE, BOB};
use bookwish_sync::{
    Remote, RemoteConfig, SyncConfig, SyncEngine, TokenError, TokenSource, ROW_COLUMNS,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

const BOOKS: usize = 100_000;
const EDITS: usize = 1_000;
const ROUND_TRIPS: usize = 30;
const PAGE: usize = 1_000;
/// How many times the reads, the floors and the initial sync run, in turn.
const REPEATS: usize = 5;

#[derive(Clone)]
struct Token(Arc<Mutex<String>>);

impl TokenSource for Token {
    async fn access_token(&self) -> Result<String, TokenError> {
        Ok(self.0.lock().map(|t| t.clone()).unwrap_or_default())
    }
    async fn refresh(&self) -> Result<String, TokenError> {
        Err(TokenError::SignedOut("the bench does not refresh".into()))
    }
}

impl Token {
    fn get(&self) -> String {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

async fn token(stack: &Stack, user: TestUser) -> Result<Token> {
    let tokens = stack.login(user.username, user.password).await?;
    Ok(Token(Arc::new(Mutex::new(tokens.access_token))))
}

fn engine(path: &Path, stack: &Stack, token: &Token) -> Result<SyncEngine<Token>> {
    let config = SyncConfig::new(stack.rest_url(), "local-stack-anon-key");
    Ok(SyncEngine::open(
        path,
        config,
        reqwest::Client::new(),
        token.clone(),
    )?)
}

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// One phase's wall and CPU times, a sample per repetition.
#[derive(Default)]
struct Samples {
    wall: Vec<Duration>,
    busy: Vec<Duration>,
}

impl Samples {
    fn push(&mut self, wall: Duration, busy: Duration) {
        self.wall.push(wall);
        self.busy.push(busy);
    }

    /// The median wall time.
    fn wall(&self) -> Duration {
        median(&self.wall)
    }

    /// The median CPU time of the machine.
    fn busy(&self) -> Duration {
        median(&self.busy)
    }

    /// The median wall time with the range of the samples.
    fn spread(&self) -> String {
        let min = self.wall.iter().min().copied().unwrap_or_default();
        let max = self.wall.iter().max().copied().unwrap_or_default();
        format!(
            "{} ({:.0}–{:.0})",
            ms(self.wall()),
            min.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0
        )
    }

    /// Each sample over the same repetition's sample of `floor`: the median and the range.
    fn paired(&self, floor: &Samples) -> String {
        let mut ratios: Vec<f64> = self
            .wall
            .iter()
            .zip(&floor.wall)
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        format!(
            "{:.2}× ({:.2}–{:.2})",
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1]
        )
    }
}

/// The median of an odd number of samples (the upper one of the middle two otherwise).
fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// Deletes a database file with its write-ahead log and shared-memory index.
fn remove_database(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
            _ => {}
        }
    }
    Ok(())
}

/// One page of PostgREST's plain keyset read of `table`: up to [`PAGE`] rows with versions
/// above `after` (and up to `through`, when given), in version order, each read as a `T`.
async fn keyset_page<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    stack: &Stack,
    token: &Token,
    table: &str,
    select: &str,
    (after, through): (i64, Option<i64>),
) -> Result<Vec<T>> {
    let upto = through.map_or(String::new(), |t| format!("&version=lte.{t}"));
    let body = http
        .get(format!(
            "{}/{table}?select={select}&version=gt.{after}{upto}&order=version&limit={PAGE}",
            stack.rest_url()
        ))
        .bearer_auth(token.get())
        .header("apikey", "local-stack-anon-key")
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(serde_json::from_slice(&body)?)
}

/// Every row of the user through PostgREST's plain keyset read of `table`, page by page: the
/// bytes, and the version of each page's last row for the cursor. Returns the rows' count and,
/// when `keep`, the rows (of the app's columns: `select` must be [`ROW_COLUMNS`]).
async fn keyset_read(
    http: &reqwest::Client,
    stack: &Stack,
    token: &Token,
    table: &str,
    select: &str,
    keep: bool,
) -> Result<(usize, Vec<FloorRow>)> {
    keyset_range(http, stack, token, table, select, (0, None), keep).await
}

/// [`keyset_read`] of the versions in `(after, through]` only.
async fn keyset_range(
    http: &reqwest::Client,
    stack: &Stack,
    token: &Token,
    table: &str,
    select: &str,
    (mut after, through): (i64, Option<i64>),
    keep: bool,
) -> Result<(usize, Vec<FloorRow>)> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        version: i64,
    }
    let mut count = 0usize;
    let mut kept = Vec::new();
    loop {
        if keep {
            let rows: Vec<FloorRow> =
                keyset_page(http, stack, token, table, select, (after, through)).await?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.version;
            count += rows.len();
            kept.extend(rows);
        } else {
            let rows: Vec<Versioned> =
                keyset_page(http, stack, token, table, select, (after, through)).await?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.version;
            count += rows.len();
        }
    }
    Ok((count, kept))
}

/// A connection to a new database with the app's schema, indexes and pragmas (journal WAL,
/// synchronous NORMAL, foreign keys, and the page cache the replica's connection pulls with),
/// for the floors to write the plainest way, not through the core.
fn floor_connection(path: &Path) -> Result<rusqlite::Connection> {
    drop(Store::open(path)?);
    #[allow(clippy::disallowed_methods)]
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(
        None,
        "cache_size",
        -i64::from(bookwish_core::PULL_CACHE_KIB),
    )?;
    Ok(conn)
}

/// A pulled row as the floors decode it: of the columns the app pulls ([`ROW_COLUMNS`]), those
/// the floors' insert writes, into plain typed fields (no dynamic JSON map, no checks). The
/// row's `hlc` is read past, not kept: a little less work than the app's, which keeps the
/// newest, so the floors stay below its path.
#[derive(serde::Deserialize)]
struct FloorRow {
    id: String,
    title: String,
    author: String,
    status: String,
    notes: String,
    rating: Option<i64>,
    started_on: Option<String>,
    finished_on: Option<String>,
    isbn: Option<String>,
    deleted: bool,
    version: i64,
    created_at_ms: i64,
    updated_at_ms: i64,
}

/// Inserts `rows` with one prepared statement.
fn insert_rows(tx: &rusqlite::Transaction<'_>, rows: &[FloorRow]) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO books (id, title, author, status, notes, rating, started_on, finished_on,
                            deleted, created_at, updated_at, server_version, title_fold,
                            author_fold, isbn)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    for r in rows {
        insert.execute(rusqlite::params![
            r.id,
            r.title,
            r.author,
            r.status,
            r.notes,
            r.rating,
            r.started_on,
            r.finished_on,
            r.deleted,
            r.created_at_ms,
            r.updated_at_ms,
            r.version,
            r.title.to_lowercase(),
            r.author.to_lowercase(),
            r.isbn,
        ])?;
    }
    Ok(())
}

/// The same rows into SQLite in one prepared transaction, on a database with the app's schema,
/// indexes and pragmas.
fn sqlite_floor(path: &Path, rows: &[FloorRow]) -> Result<Duration> {
    let mut conn = floor_connection(path)?;
    let started = Instant::now();
    let tx = conn.transaction()?;
    insert_rows(&tx, rows)?;
    tx.commit()?;
    Ok(started.elapsed())
}

/// Both floors at once, the plainest way: the keyset read of the app's columns, each page
/// handed as it arrives to a thread that inserts it (as the disk floor does) into one
/// transaction, committed after the last page. The whole job of an initial sync with none of
/// its care (no validation, no cursor, no crash safety, nothing visible until the end).
async fn pipeline_floor(
    http: &reqwest::Client,
    stack: &Stack,
    token: &Token,
    path: &Path,
) -> Result<(usize, Duration)> {
    let mut conn = floor_connection(path)?;
    let (pages, mut incoming) = tokio::sync::mpsc::channel::<Vec<FloorRow>>(12);
    let started = Instant::now();
    let writer = std::thread::spawn(move || -> Result<()> {
        let tx = conn.transaction()?;
        while let Some(page) = incoming.blocking_recv() {
            insert_rows(&tx, &page)?;
        }
        tx.commit()?;
        Ok(())
    });
    let mut after = 0i64;
    let mut count = 0usize;
    loop {
        let rows: Vec<FloorRow> =
            keyset_page(http, stack, token, "sync_rows", ROW_COLUMNS, (after, None)).await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.version;
        count += rows.len();
        // A writer that stopped failed: its own error comes from join below.
        if pages.send(rows).await.is_err() {
            break;
        }
    }
    drop(pages);
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the floor's writer panicked"))??;
    Ok((count, started.elapsed()))
}

/// CPU time all processes on the machine have used so far (`/proc/stat`: user, nice, system,
/// irq, softirq and steal). Read around a phase on an otherwise idle machine, it is what the
/// phase cost the server, the client and SQLite together.
fn machine_busy() -> Result<Duration> {
    /// `/proc` reports times in USER_HZ, which Linux fixes at 100 for user space.
    const USER_HZ: u64 = 100;
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat
        .lines()
        .find(|line| line.starts_with("cpu "))
        .context("no cpu line in /proc/stat")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    // user nice system idle iowait irq softirq steal …
    let busy: u64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| fields.get(i))
        .sum();
    Ok(Duration::from_millis(busy * 1000 / USER_HZ))
}

/// Runs `phase`, returning its result, its wall time and the machine's CPU time during it.
async fn timed<T>(
    phase: impl std::future::Future<Output = Result<T>>,
) -> Result<(T, Duration, Duration)> {
    let busy = machine_busy()?;
    let started = Instant::now();
    let out = phase.await?;
    let wall = started.elapsed();
    Ok((out, wall, machine_busy()?.saturating_sub(busy)))
}

/// A phase's CPU time, and how much of the machine it kept busy.
fn cpu(busy: Duration, wall: Duration, cpus: usize) -> String {
    format!(
        "{:.2} CPU s ({:.0} % of {cpus} CPUs)",
        busy.as_secs_f64(),
        100.0 * busy.as_secs_f64() / (wall.as_secs_f64() * cpus as f64)
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let stack = Stack::start(StackOptions {
        seed: false,
        ..StackOptions::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let alice = token(&stack, ALICE).await?;

    // Seed 100k books server-side, stamped as sync_push stamps them, added over two years
    // (each its own time, as a reader's list has), then VACUUM ANALYZE.
    stack
        .psql(&format!(
            "begin; set local bookwish.stamped = 'on'; \
             create temporary table seed on commit drop as \
             select gen_random_uuid() as id, g, \
                    lpad((1732612345678 + g)::text, 13, '0') || '-000000-' || '{device}' as s \
               from generate_series(1, {BOOKS}) g; \
             insert into public.books (id, user_id, title, author, status, notes, rating, version, hlc, \
                                       created_at, updated_at) \
             select id, '{sub}', 'Book number ' || g, 'Author ' || (g % 997), \
                    (array['Wishlist','Reading','Finished'])[1 + g % 3], \
                    'Some notes about book ' || g, 1 + g % 5, g, s, \
                    timestamptz '2024-06-01 08:00:00+00' + g * interval '9 minutes 27.345678 seconds', \
                    timestamptz '2024-06-01 08:00:00+00' + g * interval '9 minutes 27.345678 seconds' \
                      + (g % 720) * interval '1 hour 0.5 seconds' \
               from seed; \
             insert into app.book_stamps (id, user_id, field_versions) \
             select id, '{sub}', \
                    (select jsonb_object_agg(f, jsonb_build_object('v', g, 'hlc', s, 'device', '{device}')) \
                       from unnest(app.book_fields()) f) \
               from seed; \
             insert into public.sync_state (user_id, seq) values ('{sub}', {BOOKS}); \
             commit;",
            sub = ALICE.sub,
            device = "0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b",
        ))
        .await?;
    stack.psql("vacuum analyze public.books").await?;
    stack.psql("vacuum analyze app.book_stamps").await?;
    stack.psql("vacuum analyze public.sync_state").await?;
    let http = reqwest::Client::new();

    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    // The rows of the app's columns, for the disk floor to insert.
    let (_, rows) = keyset_read(&http, &stack, &alice, "sync_rows", ROW_COLUMNS, true).await?;
    anyhow::ensure!(
        rows.len() == BOOKS,
        "the keyset read must see every seeded book"
    );

    // The reads, the floors and the app's initial sync, [`REPEATS`] times in turn: the
    // machine's speed moves within a minute, and each figure below is a median of samples
    // taken among the others'.
    let half = i64::try_from(BOOKS / 2)?;
    let mut keyset_all = Samples::default();
    let mut keyset_two = Samples::default();
    let mut keyset_cols = Samples::default();
    let mut sqlite = Samples::default();
    let mut pipeline = Samples::default();
    let mut initial = Samples::default();
    // The newest initial sync's database and engine; each older one is deleted.
    let mut newest: Option<(PathBuf, SyncEngine<Token>)> = None;
    for repeat in 0..REPEATS {
        // Network floor: PostgREST's plain keyset read of every row (select=*, then the
        // client's columns).
        let ((n_all, _), wall, busy) =
            timed(keyset_read(&http, &stack, &alice, "books", "*", false)).await?;
        anyhow::ensure!(n_all == BOOKS, "the keyset read must see every seeded book");
        keyset_all.push(wall, busy);
        let ((n_cols, _), wall, busy) = timed(keyset_read(
            &http,
            &stack,
            &alice,
            "sync_rows",
            ROW_COLUMNS,
            false,
        ))
        .await?;
        anyhow::ensure!(
            n_cols == BOOKS,
            "the keyset read must see every seeded book"
        );
        keyset_cols.push(wall, busy);

        // The same read by two keyset chains at once, over the two halves of the versions:
        // how the app's pull reads a long download.
        let (((n_low, _), (n_high, _)), wall, busy) = timed(async {
            tokio::try_join!(
                keyset_range(&http, &stack, &alice, "books", "*", (0, Some(half)), false),
                keyset_range(&http, &stack, &alice, "books", "*", (half, None), false),
            )
        })
        .await?;
        anyhow::ensure!(
            n_low + n_high == BOOKS,
            "the two chains must see every seeded book once"
        );
        keyset_two.push(wall, busy);

        // The app's initial sync, into a new database each time; the last one stays for the
        // push below.
        let path = dir.path().join(format!("big-{repeat}.sqlite3"));
        let engine = engine(&path, &stack, &alice)?;
        let (report, wall, busy) =
            timed(async { engine.sync_once().await.map_err(anyhow::Error::from) }).await?;
        anyhow::ensure!(
            report.pulled == BOOKS,
            "the initial sync must pull every book"
        );
        initial.push(wall, busy);
        if let Some((previous, engine)) = newest.replace((path, engine)) {
            drop(engine);
            remove_database(&previous)?;
        }

        // Disk floor: the same rows into SQLite with the app's schema, indexes and pragmas.
        let floor = dir.path().join("floor.sqlite3");
        let busy = machine_busy()?;
        let wall = sqlite_floor(&floor, &rows)?;
        sqlite.push(wall, machine_busy()?.saturating_sub(busy));
        remove_database(&floor)?;

        // Both floors at once, the plainest pipeline.
        // Its own clock starts once the database exists, as the disk floor's does.
        let piped = dir.path().join("piped.sqlite3");
        let ((n_piped, wall), _, busy) =
            timed(pipeline_floor(&http, &stack, &alice, &piped)).await?;
        anyhow::ensure!(
            n_piped == BOOKS,
            "the pipeline floor must see every seeded book"
        );
        pipeline.push(wall, busy);
        remove_database(&piped)?;
    }
    let (big, big_engine) = newest.context("at least one initial sync ran")?;

    // The app's whole sync of 1,000 queued edits (push, then the pull of the echoes).
    let mut store = Store::open(&big)?;
    let ids: Vec<Uuid> = rows
        .iter()
        .take(EDITS)
        .map(|r| Uuid::parse_str(&r.id))
        .collect::<Result<_, _>>()?;
    let mut edits = Vec::with_capacity(EDITS);
    for (i, id) in ids.iter().enumerate() {
        let draft = BookDraft {
            title: format!("Edited offline {i}"),
            ..BookDraft::default()
        };
        let t = Instant::now();
        store.update(*id, &draft)?;
        edits.push(t.elapsed());
        if i % 100 == 99 {
            store.checkpoint()?;
        }
    }
    // The fields each queued edit changes, for the raw call below to send the same work.
    let queued: Vec<Map<String, Value>> = store
        .outbox()?
        .into_iter()
        .map(|entry| entry.patch)
        .collect();
    let started = Instant::now();
    let report = big_engine.sync_once().await?;
    let push = started.elapsed();
    anyhow::ensure!(report.pushed == EDITS, "every queued edit must be pushed");
    anyhow::ensure!(
        report.pulled == EDITS,
        "the sync pulls its own echoes ({} pulled)",
        report.pulled
    );

    // Then the same work in parts: the sync_push call alone (1,000 edits of books the app did
    // not edit, each changing the same fields as the app's queued edit of the same rank, with
    // another title), and the echo pull of those rows alone.
    let remote = Remote::new(
        RemoteConfig {
            rest_url: stack.rest_url(),
            anon_key: "local-stack-anon-key".into(),
        },
        reqwest::Client::new(),
        alice.clone(),
    );
    let device = Uuid::now_v7();
    let now_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    let head = remote.head().await?;
    let batch: Vec<OutboxEntry> = rows[BOOKS - EDITS..]
        .iter()
        .enumerate()
        .map(|(i, r)| -> Result<OutboxEntry> {
            let mut patch = queued.get(i).cloned().unwrap_or_default();
            patch.insert("title".into(), json!(format!("Pushed raw {i}")));
            Ok(OutboxEntry {
                mutation_id: Uuid::now_v7(),
                book_id: Uuid::parse_str(&r.id)?,
                base_version: Some(r.version),
                hlc: Stamp {
                    millis: now_ms,
                    counter: u16::try_from(i)?,
                    device,
                },
                patch,
                created_at: 0,
                updated_at: 0,
            })
        })
        .collect::<Result<_>>()?;
    let started = Instant::now();
    let results = remote.push(device, &batch).await?;
    let push_rpc = started.elapsed();
    anyhow::ensure!(
        results
            .iter()
            .all(|r| matches!(r.answer, Answer::Applied { .. })),
        "the raw push applies every edit"
    );
    let started = Instant::now();
    let echo = remote.rows(head.server_version, 1000).await?;
    let echo_pull = started.elapsed();
    anyhow::ensure!(
        echo.len() == EDITS,
        "the echo pull returns every pushed row"
    );

    // A change on device A visible on device B after a sync trigger.
    let bob = token(&stack, BOB).await?;
    let a_path = dir.path().join("a.sqlite3");
    let b_path = dir.path().join("b.sqlite3");
    let a = engine(&a_path, &stack, &bob)?;
    let b = engine(&b_path, &stack, &bob)?;
    let mut a_store = Store::open(&a_path)?;
    let book = a_store.add(&BookDraft {
        title: "Round trip".into(),
        ..BookDraft::default()
    })?;
    a.sync_once().await?;
    let (b_handle, _task) = b.spawn();
    let mut status = b_handle.status();
    let b_store = Store::open(&b_path)?;
    let mut visible = Vec::new();
    for i in 0..ROUND_TRIPS {
        let title = format!("Round trip {i}");
        let t = Instant::now();
        a_store.update(
            book.id,
            &BookDraft {
                title: title.clone(),
                ..BookDraft::default()
            },
        )?;
        a.sync_once().await?;
        status.borrow_and_update();
        b_handle.sync_now();
        loop {
            status.changed().await.context("B's engine stopped")?;
            if matches!(status.borrow().phase, SyncPhase::Synced { .. })
                && b_store.get(book.id)?.title == title
            {
                break;
            }
        }
        visible.push(t.elapsed());
    }
    b_handle.shutdown();

    println!();
    println!("Reads, floors and initial sync: the median of {REPEATS} runs taken in turn (their range in brackets).");
    println!();
    println!("| figure | measured | floor (same run); CPU time of the whole machine meanwhile | target (DESIGN §8) |");
    println!("|---|---|---|---|");
    let row = |figure: String, samples: &Samples, target: &str| {
        println!(
            "| {figure} | {} | {} | {target} |",
            samples.spread(),
            cpu(samples.busy(), samples.wall(), cpus)
        );
    };
    row(
        format!("keyset `GET /books?select=*` of {BOOKS} rows, pages of {PAGE} (the schema's own read cost)"),
        &keyset_all,
        "≤ 1000 ms",
    );
    row(
        "… the same read by two keyset chains at once, over the two halves of the versions".into(),
        &keyset_two,
        "—",
    );
    row(
        format!(
            "keyset `GET /sync_rows?select=<the app's columns>` of {BOOKS} rows (network floor)"
        ),
        &keyset_cols,
        "—",
    );
    row(
        "SQLite insert of the same rows, one prepared tx, the app's schema and pragmas (disk floor)".into(),
        &sqlite,
        "—",
    );
    row(
        "both floors at once: that keyset read, each page inserted as it arrives, one tx (pipeline floor)".into(),
        &pipeline,
        "—",
    );
    let over = |floor: &Samples| initial.wall().as_secs_f64() / floor.wall().as_secs_f64();
    println!(
        "| initial sync of {BOOKS} books (head + `GET /sync_rows` pages in two chains + local apply) | {} | {:.2}× the keyset read of `select=*` ({}; each run over its own read: {}; {:.2}× the two-chain read), {:.2}× the network floor ({}), {:.2}× the pipeline floor ({}; each run: {}); disk floor {}; {} | ≤ 1500 ms and ≤ 1.5× the keyset read |",
        initial.spread(),
        over(&keyset_all),
        ms(keyset_all.wall()),
        initial.paired(&keyset_all),
        over(&keyset_two),
        over(&keyset_cols),
        ms(keyset_cols.wall()),
        over(&pipeline),
        ms(pipeline.wall()),
        initial.paired(&pipeline),
        ms(sqlite.wall()),
        cpu(initial.busy(), initial.wall(), cpus)
    );
    println!(
        "| `sync_push` of {EDITS} edits, the call alone | {} | — | — |",
        ms(push_rpc)
    );
    println!(
        "| echo pull of those {EDITS} rows, one page | {} | — | — |",
        ms(echo_pull)
    );
    println!(
        "| the app's sync of {EDITS} queued edits (push + pull of the {EDITS} echoes) | {} | push call {} + echo page {} above | ≤ 500 ms |",
        ms(push),
        ms(push_rpc),
        ms(echo_pull)
    );
    println!(
        "| local edit (100k books), p50 / p99 | {:.2} ms / {:.2} ms | — | p99 ≤ 1 ms |",
        pct(&mut edits, 0.5).as_secs_f64() * 1000.0,
        pct(&mut edits, 0.99).as_secs_f64() * 1000.0
    );
    println!(
        "| edit on A visible on B after a trigger, p50 (p99) | {} ({}) | — | p50 ≤ 50 ms |",
        ms(pct(&mut visible, 0.5)),
        ms(pct(&mut visible, 0.99))
    );
    Ok(())
}
