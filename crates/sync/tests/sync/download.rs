//! Big downloads and what a sync tells the window: pages written several to a transaction
//! arrive whole and in order, an interrupted first download keeps the list's indexes, and the
//! window is told to reload only when a sync changed books here.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bookwish_ipc::BookDraft;

use crate::support::{
    eventually, lease, local_versions_and_cursor, stack, Device, LoginTokens, Proxy,
};

fn draft(title: &str) -> BookDraft {
    BookDraft {
        title: title.to_owned(),
        ..BookDraft::default()
    }
}

/// The plain indexes of `books` in the file at `path`, by name.
fn book_indexes(path: &std::path::Path) -> Vec<String> {
    #[allow(clippy::disallowed_methods)] // reads what the core stored, behind its back
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT name FROM sqlite_master
             WHERE type = 'index' AND tbl_name = 'books' AND sql IS NOT NULL ORDER BY name",
        )
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<Vec<String>>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_sync_that_changed_books_here_tells_the_window() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let mut a = Device::new(&stack.rest_url(), &tokens);
    let mut b = Device::new(&stack.rest_url(), &tokens);
    let books: Vec<_> = (0..3)
        .map(|i| a.store_add(&draft(&format!("Book {i}"))).id)
        .collect();

    let report = a.sync().await;
    assert_eq!(report.pushed, 3, "the three books are pushed");
    assert_eq!(report.pulled, 3, "their echoes come back in the pull");
    assert_eq!(
        report.changed, 0,
        "the echo of this device's own books changes nothing here"
    );
    let report = b.sync().await;
    assert_eq!(report.changed, 3, "the other device gets three new books");

    let (handle, task) = b.engine.clone().spawn();
    let mut changes = handle.changes();
    let mut status = handle.status();
    // Synced with nothing pending, by a sync that ended after `after` (the last success).
    let synced_after = |status: &mut tokio::sync::watch::Receiver<bookwish_ipc::SyncStatus>,
                        after: Option<i64>| {
        let s = status.borrow_and_update().clone();
        matches!(s.phase, bookwish_ipc::SyncPhase::Synced { .. })
            && s.pending == 0
            && s.last_success.is_some()
            && s.last_success != after
    };
    eventually(Duration::from_secs(20), "B's first sync ends", || {
        let done = synced_after(&mut status, None);
        async move { done }
    })
    .await;
    changes.borrow_and_update();

    // B's own edit goes up and comes back: nothing for the window to reload.
    let before = status.borrow().last_success;
    b.store.update(books[0], &draft("Renamed on B")).unwrap();
    handle.local_edit();
    eventually(Duration::from_secs(20), "B's own edit is synced", || {
        let done = synced_after(&mut status, before);
        async move { done }
    })
    .await;
    assert!(
        !changes.has_changed().unwrap(),
        "a sync that only carried B's own edit up and back does not ask for a reload"
    );

    // A's edit arrives on B: the window must reload.
    a.store.update(books[1], &draft("Renamed on A")).unwrap();
    a.sync().await;
    handle.sync_now();
    tokio::time::timeout(Duration::from_secs(20), changes.changed())
        .await
        .expect("a sync that brought another device's edit asks for a reload")
        .unwrap();
    assert_eq!(
        b.store.get(books[1]).unwrap().title,
        "Renamed on A",
        "and the edit is there when it does"
    );
    handle.shutdown();
    let _ = task.await;
}

/// Gives `device` an engine that pulls pages of 100 rows through `proxy`.
fn pull_pages_of_100(device: &mut Device, proxy: &Proxy, tokens: &Arc<LoginTokens>) {
    let mut config = crate::support::config(&proxy.url);
    config.pull_page = 100;
    device.engine = bookwish_sync::SyncEngine::open(
        &device.path,
        config,
        crate::support::http(),
        crate::support::Shared(Arc::clone(tokens)),
    )
    .unwrap();
}

/// Syncs `device` while `proxy` loses the answer of the page after the next `pages`.
async fn sync_cut_after_pages(
    device: &Device,
    proxy: &Proxy,
    pages: usize,
) -> bookwish_sync::Result<bookwish_sync::SyncReport> {
    let cut_after = proxy.faults.pulls.load(Ordering::SeqCst) + pages;
    let cutter = {
        let faults = Arc::clone(&proxy.faults);
        tokio::spawn(async move {
            while faults.pulls.load(Ordering::SeqCst) < cut_after {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            faults.cut_next_pull.store(true, Ordering::SeqCst);
        })
    };
    let result = device.engine.sync_once().await;
    cutter.abort();
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_download_cut_midway_saved_no_cursor_past_a_missing_row() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let mut a = Device::new(&stack.rest_url(), &tokens);
    for i in 0..2_500 {
        a.store_add(&draft(&format!("Book {i:04}")));
    }
    a.sync().await;
    let (server, _) = local_versions_and_cursor(&a.path);
    assert_eq!(server.len(), 2_500, "every book reached the server");

    // 25 pages of 100: the download is split between two keyset chains.
    let proxy = Proxy::start(stack.ports().rest).await;
    let mut b = Device::new(&proxy.url, &tokens);
    pull_pages_of_100(&mut b, &proxy, &tokens);
    let failed = sync_cut_after_pages(&b, &proxy, 8).await;
    assert!(failed.is_err(), "a lost page answer fails this sync");
    assert!(
        proxy.faults.bounded_pulls.load(Ordering::SeqCst) > 0,
        "a download of 25 pages is fetched in parts, the first one bounded above"
    );

    let (kept, cursor) = local_versions_and_cursor(&b.path);
    let missing: Vec<_> = server
        .iter()
        .filter(|(id, version)| **version <= cursor && !kept.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "every version up to the saved cursor {cursor} is stored; missing: {missing:?}"
    );
    assert!(
        kept.len() < 2_500,
        "the cut left part of the download for the next sync ({} books)",
        kept.len()
    );

    let report = b.sync().await;
    assert_eq!(
        b.books(),
        a.books(),
        "the next sync completes the download: no row skipped"
    );
    assert_eq!(
        report.pulled,
        server.values().filter(|version| **version > cursor).count(),
        "it pulls again exactly the versions past the saved cursor"
    );
    let list = b.store.list(&Default::default()).unwrap();
    assert_eq!(list.books.len(), 2_500, "the window lists every book");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_download_cut_midway_keeps_every_page_and_the_list_indexes() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let mut a = Device::new(&stack.rest_url(), &tokens);
    for i in 0..1_200 {
        a.store_add(&draft(&format!("Book {i:04}")));
    }
    a.sync().await;

    let proxy = Proxy::start(stack.ports().rest).await;
    let mut b = Device::new(&proxy.url, &tokens);
    pull_pages_of_100(&mut b, &proxy, &tokens);
    let indexes = book_indexes(&b.path);
    assert!(indexes.len() >= 4, "a new file has the list's indexes");

    // The sixth page's answer is lost: the pull fails after some pages were written.
    let failed = sync_cut_after_pages(&b, &proxy, 5).await;
    assert!(failed.is_err(), "a lost page answer fails this sync");
    assert_eq!(
        book_indexes(&b.path),
        indexes,
        "a failed first download leaves the list with every index"
    );
    let kept = b.books().len();
    assert!(
        kept > 0 && kept < 1_200,
        "the pages that arrived before the cut are kept, the rest is missing ({kept} books)"
    );

    let report = b.sync().await;
    assert_eq!(
        b.books(),
        a.books(),
        "the next sync completes the download: no page skipped, none twice"
    );
    assert_eq!(
        report.pulled + kept,
        1_200,
        "it pulls only what the first attempt did not write"
    );
    assert_eq!(book_indexes(&b.path), indexes, "the indexes are all there");
    let list = b.store.list(&Default::default()).unwrap();
    assert_eq!(list.books.len(), 1_200, "the window lists every book");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pulled_book_keeps_the_servers_times_to_the_millisecond() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let mut a = Device::new(&stack.rest_url(), &tokens);
    let b = Device::new(&stack.rest_url(), &tokens);
    let book = a.store_add(&draft("Timed"));
    a.sync().await;
    // Times the app could not have made itself, set on the server around its stamping trigger:
    // one just before a millisecond ends, one before 1970.
    stack
        .psql(&format!(
            "set session_replication_role = replica; \
             update public.books set created_at = '2001-02-03 04:05:06.789999+00', \
                                     updated_at = '1969-12-31 23:59:59.999500+00' \
              where id = '{}'",
            book.id
        ))
        .await
        .expect("psql sets the times");
    let report = b.sync().await;
    assert_eq!(report.changed, 1, "B gets the book");
    let pulled = b.store.get(book.id).unwrap();
    assert_eq!(
        (pulled.created_at, pulled.updated_at),
        (981_173_106_789, -1),
        "a pulled book's times are the server's, in milliseconds since 1970 rounded down"
    );
}
