//! Randomized convergence: several devices of one user make random edits and sync at random
//! through random faults (answers lost after commit, the server unreachable). After the faults
//! heal and everyone syncs, every device equals the server, nothing created is lost, nothing
//! deleted comes back unless someone restored it, and no value appears that nobody wrote.
//!
//! `BOOKWISH_SYNC_RUNS` sets the number of runs (default 200); `BOOKWISH_SYNC_SEED` replays one
//! seed. The failing seed is printed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bookwish_ipc::{BookDraft, BookId, Status};
use serde_json::{json, Value};

use crate::support::{lease, reset_user, server_books, stack, Device, LoginTokens, Proxy};

const DEVICES: usize = 3;
const STEPS: usize = 14;
/// ISBNs an edit may set (as typed: one ISBN-10, stored as its ISBN-13), or none.
const ISBNS: [Option<&str>; 4] = [
    Some("9780441013593"),
    Some("0-7653-2635-3"),
    Some("9791032305690"),
    None,
];

#[derive(Default)]
struct Model {
    created: Vec<BookId>,
    deleted: BTreeSet<BookId>,
    restored: BTreeSet<BookId>,
    /// Every value written per (book, field).
    written: BTreeMap<(BookId, &'static str), BTreeSet<String>>,
}

impl Model {
    fn wrote(&mut self, id: BookId, field: &'static str, value: Value) {
        self.written
            .entry((id, field))
            .or_default()
            .insert(value.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_edits_and_faults_converge() {
    let runs: u64 = std::env::var("BOOKWISH_SYNC_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let fixed: Option<u64> = std::env::var("BOOKWISH_SYNC_SEED")
        .ok()
        .and_then(|v| v.parse().ok());
    let base = fixed.unwrap_or_else(|| fastrand::u64(..));
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let proxy = Proxy::start(stack.ports().rest).await;
    let started = std::time::Instant::now();
    let mut faults_injected = 0usize;
    for run in 0..if fixed.is_some() { 1 } else { runs } {
        let seed = base.wrapping_add(run);
        eprintln!("randomized run {run}: seed {seed} (replay: BOOKWISH_SYNC_SEED={seed})");
        reset_user(stack, lease.user).await;
        faults_injected += one_run(seed, stack, lease.user, &tokens, &proxy).await;
    }
    eprintln!(
        "{runs} randomized runs, {faults_injected} faults injected, in {:?}",
        started.elapsed()
    );
}

async fn one_run(
    seed: u64,
    stack: &bookwish_stack::Stack,
    user: bookwish_stack::TestUser,
    tokens: &Arc<LoginTokens>,
    proxy: &Proxy,
) -> usize {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut devices: Vec<Device> = (0..DEVICES)
        .map(|_| Device::new(&proxy.url, tokens))
        .collect();
    let mut model = Model::default();
    let mut faults = 0;
    for _ in 0..STEPS {
        let d = rng.usize(..DEVICES);
        let device = &mut devices[d];
        let known: Vec<BookId> = device
            .books()
            .keys()
            .filter_map(|k| k.parse().ok())
            .collect();
        let live: Vec<BookId> = known
            .iter()
            .copied()
            .filter(|id| device.store.get(*id).is_ok())
            .collect();
        match rng.u8(..10) {
            0 | 1 if known.len() < 8 => {
                let title = format!("t{}", rng.u16(..1000));
                let book = device
                    .store
                    .add(&BookDraft {
                        title: title.clone(),
                        ..BookDraft::default()
                    })
                    .unwrap();
                model.created.push(book.id);
                model.wrote(book.id, "title", json!(title));
                model.wrote(book.id, "notes", json!(""));
                model.wrote(book.id, "rating", Value::Null);
                model.wrote(book.id, "isbn", Value::Null);
            }
            2 | 3 if !live.is_empty() => {
                let id = live[rng.usize(..live.len())];
                let book = device.store.get(id).unwrap();
                let mut draft = BookDraft::from(&book);
                match rng.u8(..4) {
                    0 => draft.title = format!("t{}", rng.u16(..1000)),
                    1 => draft.notes = format!("n{}", rng.u16(..1000)),
                    2 => draft.isbn = ISBNS[rng.usize(..ISBNS.len())].map(str::to_owned),
                    _ => draft.rating = Some(rng.u8(1..=5)),
                }
                let saved = device.store.update(id, &draft).unwrap();
                model.wrote(id, "title", json!(draft.title));
                model.wrote(id, "notes", json!(draft.notes));
                model.wrote(id, "rating", json!(draft.rating));
                model.wrote(id, "isbn", json!(saved.isbn));
            }
            4 if !live.is_empty() => {
                let id = live[rng.usize(..live.len())];
                let status = [Status::Wishlist, Status::Reading, Status::Finished][rng.usize(..3)];
                device.store.set_status(id, status).unwrap();
            }
            5 if !live.is_empty() => {
                let id = live[rng.usize(..live.len())];
                device.store.delete(id).unwrap();
                model.deleted.insert(id);
            }
            6 if known.len() > live.len() && rng.u8(..3) == 0 => {
                let gone: Vec<BookId> = known
                    .iter()
                    .copied()
                    .filter(|id| !live.contains(id))
                    .collect();
                let id = gone[rng.usize(..gone.len())];
                device.store.restore(id).unwrap();
                model.restored.insert(id);
            }
            _ => {
                let fault = rng.u8(..10);
                match fault {
                    0 | 1 => proxy.faults.cut_next_push.store(true, Ordering::SeqCst),
                    2 => proxy.faults.cut_next_pull.store(true, Ordering::SeqCst),
                    3 => proxy.faults.refuse.store(true, Ordering::SeqCst),
                    _ => {}
                }
                if fault <= 3 {
                    faults += 1;
                }
                // A fault may or may not hit (a cut needs a push or pull to happen): either way
                // the sync ends in success or a retryable failure, never anything else.
                if let Err(error) = device.engine.sync_once().await {
                    assert!(
                        error.is_retryable(),
                        "seed {seed}: injected faults only cause retryable errors: {error:?}"
                    );
                }
                proxy.faults.refuse.store(false, Ordering::SeqCst);
                proxy.faults.cut_next_push.store(false, Ordering::SeqCst);
                proxy.faults.cut_next_pull.store(false, Ordering::SeqCst);
            }
        }
    }

    // Heal: everyone pushes, then everyone pulls what the others pushed.
    for _ in 0..2 {
        for device in &devices {
            device
                .engine
                .sync_once()
                .await
                .unwrap_or_else(|e| panic!("seed {seed}: a healed sync must succeed: {e:?}"));
        }
    }
    let server = server_books(stack, user).await;
    for (i, device) in devices.iter().enumerate() {
        assert_eq!(
            device.pending(),
            0,
            "seed {seed}: device {i} must have nothing left to push"
        );
        assert_eq!(
            device.books(),
            server,
            "seed {seed}: device {i} must converge to the server"
        );
        assert!(
            device.store.sync_issues().unwrap().rejections.is_empty(),
            "seed {seed}: valid edits are never refused"
        );
    }
    for id in &model.created {
        let book = server.get(&id.to_string());
        assert!(
            book.is_some(),
            "seed {seed}: book {id} created on a device must not be lost"
        );
    }
    for id in model.deleted.difference(&model.restored) {
        assert_eq!(
            server[&id.to_string()]["deleted"],
            true,
            "seed {seed}: book {id} deleted and never restored must not come back"
        );
    }
    for ((id, field), values) in &model.written {
        let value = server[&id.to_string()][*field].to_string();
        assert!(
            values.contains(&value),
            "seed {seed}: book {id}'s {field} is {value}, a value some device wrote ({values:?})"
        );
    }
    faults
}
