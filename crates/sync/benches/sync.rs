//! Sync timings against the local stack (PostgreSQL + PostgREST on loopback), printed as a
//! table with DESIGN §8's targets and the floors measured in the same run: the same rows
//! inserted into SQLite in one prepared transaction, and the same rows fetched raw from
//! PostgREST (`cargo bench -p bookwish-sync --bench sync`).

#![allow(clippy::print_stdout, reason = "a bench reports by printing its table")]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bookwish_core::Store;
use bookwish_ipc::{BookDraft, SyncPhase};
use bookwish_stack::{Stack, StackOptions, TestUser, ALICE, BOB};
use bookwish_sync::{SyncConfig, SyncEngine, TokenError, TokenSource};

const BOOKS: usize = 100_000;
const EDITS: usize = 1_000;
const ROUND_TRIPS: usize = 30;

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
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
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

    // Seed 100k books server-side.
    stack
        .psql(&format!(
            "insert into public.books (id, user_id, title, author, status, notes, rating) \
             select gen_random_uuid(), '{}', 'Book number ' || g, 'Author ' || (g % 997), \
                    (array['Wishlist','Reading','Finished'])[1 + g % 3], 'Some notes about book ' || g, \
                    1 + g % 5 \
             from generate_series(1, {BOOKS}) g",
            ALICE.sub
        ))
        .await?;

    // Floor 1: the same rows fetched raw from PostgREST, page by page (bytes + the cursor).
    let http = reqwest::Client::new();
    let raw_started = Instant::now();
    let mut after = 0i64;
    let mut raw_rows = 0usize;
    loop {
        let body = http
            .post(format!("{}/rpc/sync_pull", stack.rest_url()))
            .bearer_auth(alice.0.lock().map(|t| t.clone()).unwrap_or_default())
            .header("apikey", "local-stack-anon-key")
            .json(&serde_json::json!({"after": after, "max": 1000}))
            .send()
            .await?
            .bytes()
            .await?;
        #[derive(serde::Deserialize)]
        struct Head {
            next_cursor: i64,
            has_more: bool,
            rows: Vec<serde::de::IgnoredAny>,
        }
        let head: Head = serde_json::from_slice(&body)?;
        raw_rows += head.rows.len();
        after = head.next_cursor;
        if !head.has_more {
            break;
        }
    }
    let raw = raw_started.elapsed();
    anyhow::ensure!(
        raw_rows == BOOKS,
        "the raw fetch must see every seeded book"
    );

    // The engine's initial sync.
    let big = dir.path().join("big.sqlite3");
    let big_engine = engine(&big, &stack, &alice)?;
    let started = Instant::now();
    let report = big_engine.sync_once().await?;
    let initial = started.elapsed();
    anyhow::ensure!(
        report.pulled == BOOKS,
        "the initial sync must pull every book"
    );

    // Floor 2: the same rows into SQLite in one prepared transaction.
    let rows: Vec<(String, String, String, String)> = {
        #[allow(clippy::disallowed_methods)] // reads what the sync stored, behind the core's back
        let conn = rusqlite::Connection::open(&big)?;
        let mut statement = conn.prepare("SELECT id, title, author, notes FROM books LIMIT ?1")?;
        let rows = statement
            .query_map([BOOKS as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows
    };
    let floor_path = dir.path().join("floor.sqlite3");
    drop(Store::open(&floor_path)?);
    // The disk floor: the plainest way to write the same rows, so not through the core.
    #[allow(clippy::disallowed_methods)]
    let mut conn = rusqlite::Connection::open(&floor_path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let floor_started = Instant::now();
    {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO books (id, title, author, status, notes, rating, created_at,
                                    updated_at, server_version, title_fold, author_fold)
                 VALUES (?1, ?2, ?3, 'Reading', ?4, 3, 0, 0, ?5, ?6, ?7)",
            )?;
            for (i, (id, title, author, notes)) in rows.iter().enumerate() {
                insert.execute(rusqlite::params![
                    id,
                    title,
                    author,
                    notes,
                    i as i64,
                    title.to_lowercase(),
                    author.to_lowercase()
                ])?;
            }
        }
        tx.commit()?;
    }
    let sqlite_floor = floor_started.elapsed();

    // Local edit latency on the 100k database, and 1,000 queued edits pushed.
    let mut store = Store::open(&big)?;
    let ids: Vec<uuid::Uuid> = rows
        .iter()
        .take(EDITS)
        .map(|r| uuid::Uuid::parse_str(&r.0))
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
    let started = Instant::now();
    let report = big_engine.sync_once().await?;
    let push = started.elapsed();
    anyhow::ensure!(report.pushed == EDITS, "every queued edit must be pushed");

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
    println!("| figure | measured | floor (same run) | target (DESIGN §8) |");
    println!("|---|---|---|---|");
    println!(
        "| initial sync of {BOOKS} books | {} ({:.2}× raw fetch) | raw PostgREST fetch {}; SQLite insert in one prepared tx {} | ≤ 1500 ms and ≤ 1.5× raw |",
        ms(initial),
        initial.as_secs_f64() / raw.as_secs_f64(),
        ms(raw),
        ms(sqlite_floor)
    );
    println!(
        "| push {EDITS} queued edits (push + pull of the echoes) | {} | — | ≤ 500 ms |",
        ms(push)
    );
    println!(
        "| local edit (100k books), p50 / p99 | {} / {} | — | p99 ≤ 1 ms |",
        ms(pct(&mut edits, 0.5)),
        ms(pct(&mut edits, 0.99))
    );
    println!(
        "| edit on A visible on B after a trigger, p50 (p99) | {} ({}) | — | p50 ≤ 50 ms |",
        ms(pct(&mut visible, 0.5)),
        ms(pct(&mut visible, 0.99))
    );
    Ok(())
}
