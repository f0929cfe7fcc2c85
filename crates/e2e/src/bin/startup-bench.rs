//! Start-up benchmark of the built app with a large list: seeds N books into a fresh data dir,
//! then launches the app over WebDriver several times and prints a table of the time from the
//! launch request to an interactive list, plus the memory (PSS) of the app and its WebKit
//! processes. Figures only; nothing is asserted.
//!
//! `BOOKWISH_E2E_APP=target/release/bookwish xvfb-run -a dbus-run-session -- \
//!    cargo run --release -p bookwish-e2e --bin startup-bench -- [books] [runs]`

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use bookwish_core::Store;
use bookwish_e2e::{app_binary, Driver};
use bookwish_ipc::{BookDraft, Status};

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let books: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(5), |a| a.parse())?;

    let data = tempfile::tempdir()?;
    let seeded = Instant::now();
    seed(&data.path().join("local.sqlite3"), books)?;
    let seeded = seeded.elapsed();

    let driver = Driver::start(data.path(), &[]).await?;
    let binary = app_binary()?;
    let mut launches = Vec::with_capacity(runs);
    let mut memory = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (app, took) = driver.launch().await?;
        let rows = app.all("[data-testid=book-row]").await?.len();
        launches.push(took);
        memory.push((pss_kib(&binary)?, rows));
        app.quit().await?;
    }
    launches.sort();
    let median = launches[launches.len() / 2];
    let (pss, rows) = memory[memory.len() / 2];

    eprintln!();
    eprintln!("| figure ({books} books, {runs} launches) | value |");
    eprintln!("|---|---|");
    eprintln!("| seed {books} books through Store::add | {} |", ms(seeded));
    eprintln!("| launch → interactive list, min | {} |", ms(launches[0]));
    eprintln!("| launch → interactive list, median | {} |", ms(median));
    eprintln!(
        "| launch → interactive list, max | {} |",
        ms(launches[launches.len() - 1])
    );
    eprintln!("| rows in the DOM (virtualised) | {rows} |");
    eprintln!(
        "| PSS of app + WebKit processes | {:.0} MB |",
        pss as f64 / 1024.0
    );
    Ok(())
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

fn seed(path: &Path, books: usize) -> Result<()> {
    let mut store = Store::open(path)?;
    for i in 0..books {
        let draft = BookDraft {
            title: format!("Book {i:05} of the long shelf"),
            author: format!("Author {}", i % 997),
            status: Status::ALL[i % 3],
            ..BookDraft::default()
        };
        store.add(&draft).context("seeding")?;
    }
    Ok(())
}

/// PSS of the app and of the WebKit processes it started (its descendants), in KiB.
fn pss_kib(binary: &Path) -> Result<u64> {
    let mut parents = std::collections::HashMap::new();
    let mut app = None;
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_link(entry.path().join("exe")).is_ok_and(|exe| exe == binary) {
            app = Some(pid);
        }
        if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) {
            // The parent pid is the second field after the parenthesised command name.
            if let Some(ppid) = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok())
            {
                parents.insert(pid, ppid);
            }
        }
    }
    let app = app.context("the app is not running")?;
    let mut total = 0;
    for (&pid, _) in parents.iter() {
        let mut cursor = pid;
        let mut is_descendant = pid == app;
        while !is_descendant {
            match parents.get(&cursor) {
                Some(&parent) if parent != 0 && parent != cursor => {
                    is_descendant = parent == app;
                    cursor = parent;
                }
                _ => break,
            }
        }
        if is_descendant {
            total += smaps_pss(pid).unwrap_or(0);
        }
    }
    Ok(total)
}

fn smaps_pss(pid: u32) -> Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    let line = text
        .lines()
        .find(|line| line.starts_with("Pss:"))
        .context("no Pss line")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("no Pss value")?
        .parse()?)
}
