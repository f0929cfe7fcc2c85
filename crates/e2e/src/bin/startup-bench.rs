//! Start-up benchmark of the built app with a large list, beside the same app launched on an
//! empty list in the same run (the floor of this figure). Seeds N books into one data dir and
//! none into another, then launches the app over WebDriver alternately on each, several times
//! (each launch once the previous one's processes, the app's and WebKit's, are gone), and
//! prints a table:
//!
//! - launch, measured inside the app: from the process's start (the kernel's record, which the
//!   shell reports) to the window's ready mark (the first list in the DOM with its handlers) —
//!   WebDriver's own start is not in it; the time from the WebDriver request is printed too;
//!   beyond the empty list's, both as the difference of the two medians and as the median of
//!   each launch's difference from the empty-list launch just before it (which a drift of the
//!   machine's speed over the run moves less); and split at the page's own marks (its
//!   navigation start and the wasm app's start) into the shell and WebKit's start, loading the
//!   page, and the app's first list — which the app's marks for that list's request and its
//!   decoded answer split again into the app's first render, the list's round trip through the
//!   shell, and its render;
//! - launch to the first list painted (the end of the first frame after the ready mark), beside
//!   the empty list's: the ready mark comes in an effect, which Yew runs after a long render
//!   only once it has yielded to the browser, which may paint meanwhile, so a long list's ready
//!   mark may include a paint that an empty list's never does; this one includes it for both.
//!   Also split: the app's part up to it (the wasm app's start → painted), and the first list's
//!   share of that (its decoded answer → painted: its render and its first frame);
//! - how long the rest of the list takes to arrive after that (the window's ready mark to its
//!   mark for the whole list being in hand: the rest asked for, decoded and counted);
//! - the time per frame of scrolling the list (a wheel's small steps, a fling's viewport a
//!   frame), beside its floor: the list's box repainted a flat colour, nothing laid out —
//!   what changing those pixels costs on the machine at all;
//! - the memory (PSS) of the app and of each WebKit process it started, after launch and after
//!   scrolling through the whole list, and how much of the web process's is the wasm app's own
//!   linear memory. Weighed once the launch has settled (the app's and WebKit's processes idle
//!   for a while: the list in, the launch's own clean-up done); after the scroll, both right
//!   after its last frame and once settled the same way. After launch it is also weighed
//!   on launches started as a user starts the app, without WebDriver: a WebDriver session keeps
//!   its automation's scripts and bookkeeping in the web process, which a user's never has.
//!
//! Figures only; nothing is asserted.
//!
//! `BOOKWISH_E2E_APP=target/release/bookwish xvfb-run -a -s '-screen 0 1280x800x24' \
//!    dbus-run-session -- cargo run --release -p bookwish-e2e --bin startup-bench -- [books] [runs]`
//!
//! (The end-to-end tests' screen: Xvfb's default, 640×480 at 8 bits, is smaller than the
//! window and not what a desktop has.)

#![allow(clippy::print_stderr, reason = "a bench reports by printing its table")]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use bookwish_core::Store;
use bookwish_e2e::{app_binary, app_processes, App, Driver};
use bookwish_ipc::{BookDraft, Status};

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let books: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(5), |a| a.parse())?;

    let full = tempfile::tempdir()?;
    let empty = tempfile::tempdir()?;
    let seeded = Instant::now();
    seed(&full.path().join("local.sqlite3"), books)?;
    let seeded = seeded.elapsed();
    seed(&empty.path().join("local.sqlite3"), 0)?;

    let full_driver = Driver::start(full.path(), &[]).await?;
    let empty_driver = Driver::start(empty.path(), &[]).await?;
    let binary = app_binary()?;
    let mut full_runs = Vec::with_capacity(runs);
    let mut empty_runs = Vec::with_capacity(runs);
    let mut memory = Vec::with_capacity(runs);
    let mut empty_memory = Vec::with_capacity(runs);
    let mut plain_memory = Vec::with_capacity(runs);
    let mut plain_empty_memory = Vec::with_capacity(runs);
    let mut frames = Vec::with_capacity(runs);
    let mut rests = Vec::with_capacity(runs);
    let mut scrolled_settled = Vec::with_capacity(runs);
    for _ in 0..runs {
        plain_empty_memory.push(total(&plain_launch(&binary, empty.path()).await?));
        plain_memory.push(total(&plain_launch(&binary, full.path()).await?));

        let (app, took) = launch(&empty_driver).await?;
        empty_runs.push((in_app(&app).await?, took));
        wait_settled(&binary).await?;
        empty_memory.push(total(&pss_by_process(&binary)?));
        app.quit().await?;
        wait_gone(&binary).await;

        let (app, took) = launch(&full_driver).await?;
        full_runs.push((in_app(&app).await?, took));
        // Let the rest of the list arrive and the launch settle before weighing.
        wait_complete(&app, books).await?;
        rests.push(rest_of_list(&app).await?);
        wait_settled(&binary).await?;
        let rows = app.all("[data-testid=book-row]").await?.len();
        let launched = (pss_by_process(&binary)?, wasm_memory(&app).await?);
        frames.push(scroll_through(&app).await?);
        let scrolled = (pss_by_process(&binary)?, wasm_memory(&app).await?);
        memory.push((launched, scrolled, rows));
        wait_settled(&binary).await?;
        scrolled_settled.push(total(&pss_by_process(&binary)?));
        app.quit().await?;
        wait_gone(&binary).await;
    }
    let inside = |runs: &[(Option<Marks>, Duration)]| {
        let marks: Option<Vec<Marks>> = runs.iter().map(|r| r.0).collect();
        marks.map(|marks| {
            let totals: Vec<Duration> = marks.iter().map(|m| m.total()).collect();
            let min = totals.iter().min().copied().unwrap_or_default();
            let max = totals.iter().max().copied().unwrap_or_default();
            let part = |f: fn(&Marks) -> Duration| median(marks.iter().map(f).collect());
            let parts = [
                part(|m| span(m.launched, m.page)),
                part(|m| span(m.page, m.wasm)),
                part(|m| span(m.wasm, m.ready)),
            ];
            // The app's part split at the first list's request and answer, where every
            // launch has them.
            let first_list: Option<Vec<(i64, i64, &Marks)>> = marks
                .iter()
                .map(|m| m.first_list.map(|(asked, answered)| (asked, answered, m)))
                .collect();
            let app_parts = first_list.map(|launches| {
                let part = |f: &dyn Fn(&(i64, i64, &Marks)) -> Duration| {
                    median(launches.iter().map(f).collect())
                };
                [
                    part(&|(asked, _, m)| span(m.wasm, *asked)),
                    part(&|(asked, answered, _)| span(*asked, *answered)),
                    part(&|(_, answered, m)| span(*answered, m.ready)),
                ]
            });
            // Process start → the list painted, where every launch has the mark.
            let painted: Option<Vec<Duration>> = marks
                .iter()
                .map(|m| m.painted.map(|painted| span(m.launched, painted)))
                .collect();
            let painted = painted.map(|painted| {
                let min = painted.iter().min().copied().unwrap_or_default();
                let max = painted.iter().max().copied().unwrap_or_default();
                (median(painted), min, max)
            });
            // The app's part up to the painted mark, and the first list's share of it (its
            // render and its first frame), where every launch has the marks.
            let painted_parts: Option<Vec<[Duration; 2]>> = marks
                .iter()
                .map(|m| {
                    let painted = m.painted?;
                    let (_, answered) = m.first_list?;
                    Some([span(m.wasm, painted), span(answered, painted)])
                })
                .collect();
            let painted_parts = painted_parts
                .map(|parts| [0, 1].map(|i| median(parts.iter().map(|part| part[i]).collect())));
            (
                median(totals),
                min,
                max,
                parts,
                app_parts,
                (painted, painted_parts),
            )
        })
    };
    let outside = |runs: &[(Option<Marks>, Duration)]| median(runs.iter().map(|r| r.1).collect());
    memory.sort_by_key(|(launched, _, _)| total(&launched.0));
    let ((launched, wasm_launched), (scrolled, wasm_scrolled), rows) = &memory[memory.len() / 2];

    eprintln!();
    eprintln!("| figure ({books} books, {runs} launches each, medians) | value | floor (same run) | target |");
    eprintln!("|---|---|---|---|");
    eprintln!(
        "| seed {books} books through Store::add | {} | — | — |",
        ms(seeded)
    );
    match (inside(&full_runs), inside(&empty_runs)) {
        (
            Some((full, full_min, full_max, full_parts, full_app, full_painted)),
            Some((empty, empty_min, empty_max, empty_parts, empty_app, empty_painted)),
        ) => {
            eprintln!(
                "| process start → interactive list, inside the app | {} (min {}, max {}) | empty list {} (min {}, max {}) | ≤ 600 ms |",
                ms(full), ms(full_min), ms(full_max), ms(empty), ms(empty_min), ms(empty_max),
            );
            eprintln!(
                "| {books} books − empty list, inside the app | {} | — | ≤ 150 ms |",
                signed_ms(full.as_secs_f64() - empty.as_secs_f64())
            );
            if let Some(paired) = paired_difference(&full_runs, &empty_runs) {
                eprintln!(
                    "| … the same as each launch's difference from the empty-list launch just before it (median) | {} | — | — |",
                    signed_ms(paired)
                );
            }
            let steps = [
                "process start → the page's navigation (the shell's setup, GTK, WebKit's processes)",
                "navigation → the wasm app running (the page, its script and wasm loaded and compiled)",
                "wasm running → interactive list (the app's first answers and render)",
            ];
            for ((step, full), empty) in steps.iter().zip(full_parts).zip(empty_parts) {
                eprintln!("| … {step} | {} | empty list {} | — |", ms(full), ms(empty));
            }
            if let (Some(full_app), Some(empty_app)) = (full_app, empty_app) {
                let steps = [
                    "wasm running → the first list asked (the app's first render, its effects)",
                    "the first list asked → its answer decoded (the shell's query, the answer sent)",
                    "the first list's answer → interactive list (its render)",
                ];
                for ((step, full), empty) in steps.iter().zip(full_app).zip(empty_app) {
                    eprintln!("| … … {step} | {} | empty list {} | — |", ms(full), ms(empty));
                }
            }
            let ((full_painted, full_painted_parts), (empty_painted, empty_painted_parts)) =
                (full_painted, empty_painted);
            if let (Some((full, full_min, full_max)), Some((empty, empty_min, empty_max))) =
                (full_painted, empty_painted)
            {
                eprintln!(
                    "| process start → the first list painted (the end of the first frame after it is in the DOM) | {} (min {}, max {}) | empty list {} (min {}, max {}) | — |",
                    ms(full), ms(full_min), ms(full_max), ms(empty), ms(empty_min), ms(empty_max),
                );
                eprintln!(
                    "| … {books} books − empty list | {} | — | — |",
                    signed_ms(full.as_secs_f64() - empty.as_secs_f64())
                );
            }
            if let (Some(full), Some(empty)) = (full_painted_parts, empty_painted_parts) {
                let steps = [
                    "wasm running → the first list painted (the app's part)",
                    "the first list's answer → painted (its render and first frame)",
                ];
                for ((step, full), empty) in steps.iter().zip(full).zip(empty) {
                    eprintln!("| … {step} | {} | empty list {} | — |", ms(full), ms(empty));
                }
            }
        }
        _ => eprintln!(
            "| process start → interactive list, inside the app | n/a (this build has no ready mark) | — | ≤ 600 ms |"
        ),
    }
    let rests: Option<Vec<Duration>> = rests.into_iter().collect();
    eprintln!(
        "| interactive list → the whole list in the window (the rest of the {books} books) | {} | — | — |",
        rests.map_or_else(|| "n/a (this build has no mark)".to_owned(), |rests| ms(median(rests)))
    );
    eprintln!(
        "| WebDriver request → interactive list (WebDriver's start included) | {} | empty list {} | — |",
        ms(outside(&full_runs)),
        ms(outside(&empty_runs))
    );
    eprintln!("| rows in the DOM (virtualised) | {rows} | — | — |");
    let per_frame =
        |f: fn(&Frames) -> Duration| median(frames.iter().map(f).collect()).as_secs_f64() * 1000.0;
    let repaint = per_frame(|f| f.repaint);
    eprintln!(
        "| scrolling {WHEEL_FRAMES} frames of {WHEEL_STEP} px (a wheel): time per frame | {:.1} ms | the list's box repainted flat {repaint:.1} ms | 16.7 ms (60 Hz) |",
        per_frame(|f| f.wheel)
    );
    eprintln!(
        "| scrolling the whole list a viewport per frame (a fling): time per frame | {:.1} ms | the list's box repainted flat {repaint:.1} ms | 16.7 ms (60 Hz) |",
        per_frame(|f| f.fling)
    );
    empty_memory.sort_unstable();
    plain_memory.sort_unstable();
    plain_empty_memory.sort_unstable();
    eprintln!(
        "| PSS of app + WebKit, after launch, started as a user starts it (no WebDriver) | {} | empty list {} | ≤ 320 MB |",
        mb(plain_memory[plain_memory.len() / 2]),
        mb(plain_empty_memory[plain_empty_memory.len() / 2])
    );
    eprintln!(
        "| PSS of app + WebKit, after launch, under WebDriver | {} | empty list {} | — |",
        mb(total(launched)),
        mb(empty_memory[empty_memory.len() / 2])
    );
    eprintln!(
        "| PSS of app + WebKit, after scrolling the whole list, right after its last frame | {} | — | ≤ 320 MB |",
        mb(total(scrolled))
    );
    scrolled_settled.sort_unstable();
    eprintln!(
        "| PSS of app + WebKit, after scrolling the whole list, once settled (as after launch) | {} | — | ≤ 320 MB |",
        mb(scrolled_settled[scrolled_settled.len() / 2])
    );
    for (name, kib) in launched {
        eprintln!(
            "| … {name}: after launch / after scrolling | {} / {} | — | — |",
            mb(*kib),
            mb(scrolled.get(name).copied().unwrap_or(0))
        );
    }
    eprintln!(
        "| … of the web process, the wasm app's linear memory (only grows): after launch / after scrolling | {} / {} | — | — |",
        wasm_mb(*wasm_launched),
        wasm_mb(*wasm_scrolled)
    );
    Ok(())
}

/// The wasm app's linear memory in bytes, as the app reports it; `None` from a build that
/// does not.
async fn wasm_memory(app: &App) -> Result<Option<f64>> {
    let bytes = app
        .client
        .execute(
            "return window.wasmBindings?.wasmMemoryBytes?.() ?? null",
            vec![],
        )
        .await?;
    Ok(bytes.as_f64())
}

/// Bytes as MB with one decimal, or "n/a".
fn wasm_mb(bytes: Option<f64>) -> String {
    bytes.map_or_else(
        || "n/a (this build does not report it)".to_owned(),
        |bytes| format!("{:.1} MB", bytes / 1_048_576.0),
    )
}

/// Launches the app, once more if the previous instance was still leaving the session bus
/// (the single-instance handover then fails; a launch a moment later works).
async fn launch(driver: &Driver) -> Result<(App, Duration)> {
    match driver.launch().await {
        Ok(launched) => Ok(launched),
        Err(error) => {
            eprintln!("launch failed, trying once more: {error:#}");
            driver.launch().await
        }
    }
}

/// The launch's marks, wall-clock milliseconds: the process's start (the shell's report), the
/// page's navigation start, the wasm app's start and the first list in the DOM; and, from
/// builds that note them, when that list was asked of the shell and its answer decoded, and
/// the end of the first frame after it was in the DOM (the list painted).
#[derive(Clone, Copy)]
struct Marks {
    launched: i64,
    page: i64,
    wasm: i64,
    ready: i64,
    first_list: Option<(i64, i64)>,
    painted: Option<i64>,
}

impl Marks {
    /// Process start → interactive list.
    fn total(self) -> Duration {
        span(self.launched, self.ready)
    }
}

/// The median of each launch's time minus that of the empty-list launch just before it, in
/// seconds: a drift of the machine's speed over the run (a busy minute, a cooler CPU) falls on
/// both launches of a pair, where the difference of the two medians can pair a fast launch with
/// a slow one. `None` for a build without the marks.
fn paired_difference(
    full: &[(Option<Marks>, Duration)],
    empty: &[(Option<Marks>, Duration)],
) -> Option<f64> {
    let mut differences = full
        .iter()
        .zip(empty)
        .map(|(full, empty)| {
            let (full, empty) = (full.0?, empty.0?);
            Some(full.total().as_secs_f64() - empty.total().as_secs_f64())
        })
        .collect::<Option<Vec<f64>>>()?;
    differences.sort_by(f64::total_cmp);
    differences.get(differences.len() / 2).copied()
}

fn span(from: i64, to: i64) -> Duration {
    Duration::from_millis(u64::try_from(to - from).unwrap_or(0))
}

/// The window's marks of the given names (`data-{name}-at`), wall-clock milliseconds; `None`
/// for a mark not set (yet, or by this build).
async fn marks(app: &App, names: &[&str]) -> Result<Vec<Option<i64>>> {
    let values = app
        .client
        .execute(
            "const a = document.querySelector('[data-testid=app]'); \
             return arguments[0].map((m) => a?.getAttribute(`data-${m}-at`));",
            vec![serde_json::Value::from(names.to_vec())],
        )
        .await?;
    Ok(values
        .as_array()
        .map(|values| {
            values
                .iter()
                .map(|v| v.as_str().and_then(|v| v.parse().ok()))
                .collect()
        })
        .unwrap_or_default())
}

/// The launch as the app measured it; `None` for a build without the marks (an older app
/// measured for comparison). The painted mark comes a frame after the ready mark: waited for up
/// to a second more, then left out (a build without it).
async fn in_app(app: &App) -> Result<Option<Marks>> {
    const NAMES: [&str; 7] = [
        "launched", "page", "wasm", "ready", "asked", "answered", "painted",
    ];
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut ready_seen: Option<Instant> = None;
    loop {
        if let [Some(launched), Some(page), Some(wasm), Some(ready), asked, answered, painted] =
            marks(app, &NAMES).await?[..]
        {
            let seen = *ready_seen.get_or_insert_with(Instant::now);
            if painted.is_some() || seen.elapsed() > Duration::from_secs(1) {
                return Ok(Some(Marks {
                    launched,
                    page,
                    wasm,
                    ready,
                    first_list: asked.zip(answered),
                    painted,
                }));
            }
        } else if Instant::now() > deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// From the window's ready mark to its mark for the whole list having arrived; `None` for a
/// build without the second mark.
async fn rest_of_list(app: &App) -> Result<Option<Duration>> {
    Ok(match marks(app, &["ready", "complete"]).await?[..] {
        [Some(ready), Some(complete)] => Some(span(ready, complete)),
        _ => None,
    })
}

/// Waits until the whole list arrived (the view's count says `books`).
async fn wait_complete(app: &App, books: usize) -> Result<()> {
    let expected = if books == 1 {
        "1 book".to_owned()
    } else {
        format!("{} books", grouped(books))
    };
    app.wait_until("the whole list is loaded", || async {
        let list = app.client.execute(
            "return document.querySelector('[data-testid=book-list]')?.getAttribute('data-complete') !== 'false'",
            vec![],
        ).await?;
        Ok(list.as_bool().unwrap_or(false)
            && app.text("[data-testid=view-count]").await.unwrap_or_default() == expected)
    })
    .await
}

/// Scrolls the list as a wheel does (`WHEEL_STEP` pixels a frame, `WHEEL_FRAMES` frames),
/// then from top to bottom a viewport at a time, letting each step render; then, as the floor
/// of both, repaints the list's box with a flat colour for `WHEEL_FRAMES` frames. The time per
/// frame of each (a fling is the worst case: a whole viewport of new rows rendered and
/// painted every frame).
async fn scroll_through(app: &App) -> Result<Frames> {
    let script = r"
        const [wheelStep, wheelFrames, done] = arguments;
        const list = document.querySelector('[data-testid=book-list]');
        list.scrollTop = 0;
        let started = performance.now();
        let frames = 0;
        let wheel = 0;
        let flung = 0;
        // The floor: the list's own box painted a flat colour, alternating every frame, with
        // nothing laid out or rendered — what changing those pixels costs on this machine.
        const cover = document.createElement('div');
        const repaint = () => {
            if (frames === wheelFrames) {
                cover.remove();
                done([wheel, flung, (performance.now() - started) / frames]);
                return;
            }
            cover.style.background = frames % 2 ? '#c33' : '#33c';
            frames += 1;
            requestAnimationFrame(repaint);
        };
        const fling = () => {
            if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) {
                flung = (performance.now() - started) / Math.max(frames, 1);
                const box = list.getBoundingClientRect();
                cover.style.cssText = `position: fixed; z-index: 1000; left: ${box.left}px; top: ${box.top}px; width: ${box.width}px; height: ${box.height}px`;
                document.body.append(cover);
                started = performance.now();
                frames = 0;
                requestAnimationFrame(repaint);
                return;
            }
            list.scrollTop += list.clientHeight;
            frames += 1;
            requestAnimationFrame(fling);
        };
        const roll = () => {
            if (frames === wheelFrames) {
                wheel = (performance.now() - started) / frames;
                list.scrollTop = 0;
                started = performance.now();
                frames = 0;
                requestAnimationFrame(fling);
                return;
            }
            list.scrollTop += wheelStep;
            frames += 1;
            requestAnimationFrame(roll);
        };
        requestAnimationFrame(roll);
    ";
    // A viewport per frame through 10,000 rows takes longer than WebDriver's default 30 s
    // script timeout under Xvfb.
    app.client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(300)),
            None,
            None,
        ))
        .await?;
    let answer = app
        .client
        .execute_async(script, vec![WHEEL_STEP.into(), WHEEL_FRAMES.into()])
        .await
        .context("scrolling the list")?;
    let frame = |n: usize| -> Result<Duration> {
        let ms = answer
            .get(n)
            .and_then(serde_json::Value::as_f64)
            .context("the scroll's time per frame")?;
        Ok(Duration::from_secs_f64(ms / 1000.0))
    };
    Ok(Frames {
        wheel: frame(0)?,
        fling: frame(1)?,
        repaint: frame(2)?,
    })
}

/// Time per frame of each way of changing the list's pixels.
struct Frames {
    /// Scrolling `WHEEL_STEP` pixels a frame.
    wheel: Duration,
    /// Scrolling a viewport a frame, top to bottom.
    fling: Duration,
    /// The list's box repainted a flat colour, nothing else: the floor of the two above.
    repaint: Duration,
}

/// Pixels per frame of the wheel-like scroll (WebKitGTK's smooth scrolling moves a wheel
/// notch's distance over several frames).
const WHEEL_STEP: u32 = 40;
/// Frames of the wheel-like scroll.
const WHEEL_FRAMES: u32 = 200;

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

fn signed_ms(seconds: f64) -> String {
    format!("{:+.0} ms", seconds * 1000.0)
}

fn mb(kib: u64) -> String {
    format!("{:.0} MB", kib as f64 / 1024.0)
}

fn total(by_process: &BTreeMap<String, u64>) -> u64 {
    by_process.values().sum()
}

fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn seed(path: &Path, books: usize) -> Result<()> {
    let mut store = Store::open(path)?;
    for i in 0..books {
        let draft = BookDraft {
            title: format!("Book {i:05} of the long shelf"),
            author: format!("Author {}", i % 997),
            status: Status::ALL[i % 3],
            notes: format!("Notes on book {i}: where it came from, and why it is on the list."),
            rating: u8::try_from(i % 6).ok().filter(|r| *r > 0),
            ..BookDraft::default()
        };
        store.add(&draft).context("seeding")?;
    }
    store.checkpoint()?;
    Ok(())
}

/// Starts the app as a user does (no WebDriver, its data in `data_dir`), waits until the
/// launch has settled, weighs it and closes it.
async fn plain_launch(binary: &Path, data_dir: &Path) -> Result<BTreeMap<String, u64>> {
    let mut app = tokio::process::Command::new(binary)
        .env("BOOKWISH_DATA_DIR", data_dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let weighed = async {
        wait_settled(binary).await?;
        pss_by_process(binary)
    }
    .await;
    app.kill().await?;
    wait_gone(binary).await;
    weighed
}

/// Waits until the app and its WebKit processes have used under 2 % of one core over the
/// last `SETTLED` (the list in, the launch's own clean-up done), or 20 s.
async fn wait_settled(binary: &Path) -> Result<()> {
    const SETTLED: Duration = Duration::from_millis(1500);
    // 2 % of SETTLED in ticks (USER_HZ, 100 a second: the unit of /proc/PID/stat's times).
    const MOST_TICKS: u64 = 3;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut samples = std::collections::VecDeque::new();
    while Instant::now() < deadline {
        samples.push_back((Instant::now(), cpu_ticks(binary)?));
        while samples
            .front()
            .is_some_and(|(at, _)| at.elapsed() > SETTLED + Duration::from_millis(100))
        {
            samples.pop_front();
        }
        if let (Some((first_at, first)), Some((_, last))) = (samples.front(), samples.back()) {
            if first_at.elapsed() >= SETTLED && last.saturating_sub(*first) <= MOST_TICKS {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!("the app did not settle within 20 s; weighing it anyway");
    Ok(())
}

/// CPU time (user and system, in ticks) of the app and every process it started.
fn cpu_ticks(binary: &Path) -> Result<u64> {
    Ok(app_processes(binary)?
        .into_iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // utime and stime: the 12th and 13th fields after the parenthesised name.
            let rest = stat.rsplit_once(')')?.1;
            let mut fields = rest.split_whitespace().skip(11);
            let user: u64 = fields.next()?.parse().ok()?;
            let system: u64 = fields.next()?.parse().ok()?;
            Some(user + system)
        })
        .sum())
}

/// Waits (up to 10 s) until no process of the app or of WebKit is left from the launch that
/// just quit, so the next launch — the empty list's or the full one's — does not share the
/// machine with the last one's exit.
async fn wait_gone(binary: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && any_left(binary) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether a process of the app, or a WebKit web or network process, is running (not the
/// WebDriver server, which stays between launches).
fn any_left(binary: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        std::fs::read_link(path.join("exe")).is_ok_and(|exe| exe == binary)
            || std::fs::read_to_string(path.join("comm")).is_ok_and(|comm| {
                comm.starts_with("WebKitWebProc") || comm.starts_with("WebKitNetwork")
            })
    })
}

/// PSS of the app and of each process it started, in KiB, by process name.
fn pss_by_process(binary: &Path) -> Result<BTreeMap<String, u64>> {
    let found = app_processes(binary)?;
    let mut by_process = BTreeMap::new();
    for (index, &pid) in found.iter().enumerate() {
        let name = if index == 0 {
            "bookwish (the app)".to_owned()
        } else {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim().to_owned())
                .unwrap_or_else(|_| pid.to_string())
        };
        *by_process.entry(name).or_insert(0) += smaps_pss(pid).unwrap_or(0);
    }
    Ok(by_process)
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
