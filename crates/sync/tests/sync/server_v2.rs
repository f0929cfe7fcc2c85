//! The engine against the server of `migrations/0004_sync_v2.sql`: a device offline past the
//! tombstone purge, answers of `gone`, and requests that hit the server's statement timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bookwish_core::Store;
use bookwish_ipc::{BookDraft, BookId, ListQuery};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{lease, private_stack, server_books, server_seq, stack, Device, LoginTokens};

fn draft(title: &str) -> BookDraft {
    BookDraft {
        title: title.to_owned(),
        ..BookDraft::default()
    }
}

/// Titles of the books the store lists (not deleted), by id.
fn live(store: &Store) -> std::collections::BTreeMap<BookId, String> {
    store
        .list(&ListQuery::default())
        .unwrap()
        .books
        .into_iter()
        .map(|b| (b.id, b.title))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_offline_past_the_purge_keeps_deletes_deleted_and_its_edits_arrive() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let mut a = Device::new(&stack.rest_url(), &tokens);
    let mut b = Device::new(&stack.rest_url(), &tokens);
    let kept = a.store.add(&draft("Kept")).unwrap().id;
    let deleted_on_a = a.store.add(&draft("Deleted on A")).unwrap().id;
    let edited_after_delete = a.store.add(&draft("Deleted on A, edited on B")).unwrap().id;
    let deleted_on_b = a.store.add(&draft("Deleted on B")).unwrap().id;
    a.sync().await;
    b.sync().await;
    assert_eq!(
        live(&b.store).len(),
        4,
        "B has every book before going offline"
    );

    // B goes offline (it simply does not sync). A deletes two books; the operator's purge
    // removes their tombstones.
    a.store.delete(deleted_on_a).unwrap();
    a.store.delete(edited_after_delete).unwrap();
    a.sync().await;
    let purged = stack
        .psql(&format!(
            "select purged from app.purge_tombstones(interval '0 seconds', '{}')",
            lease.user.sub
        ))
        .await
        .expect("the operator's purge runs");
    assert_eq!(purged, "2", "both tombstones are purged");

    // Offline, B edits a book A kept and one A deleted, and deletes two books.
    b.store
        .update(kept, &draft("Kept, edited offline on B"))
        .unwrap();
    b.store
        .update(edited_after_delete, &draft("Edited offline on B"))
        .unwrap();
    b.store.delete(deleted_on_b).unwrap();
    b.store.delete(deleted_on_a).unwrap();
    b.sync().await;

    let server = server_books(stack, lease.user).await;
    assert_eq!(
        server[&kept.to_string()]["title"],
        "Kept, edited offline on B",
        "B's unrelated edit arrives"
    );
    assert_eq!(
        server[&deleted_on_b.to_string()]["deleted"],
        true,
        "B's own delete arrives"
    );
    for gone in [deleted_on_a, edited_after_delete] {
        assert!(
            !server.contains_key(&gone.to_string()),
            "a purged book is never re-created by a device that was offline: {gone}"
        );
    }
    assert_eq!(b.pending(), 0, "nothing is left queued on B");
    let books = live(&b.store);
    assert_eq!(
        books.into_iter().collect::<Vec<_>>(),
        vec![(kept, "Kept, edited offline on B".to_owned())],
        "after the re-download B lists exactly the account's live books"
    );
    let issues = b.store.sync_issues().unwrap();
    let kept_aside: Vec<_> = issues
        .rejections
        .iter()
        .filter(|r| r.book_id == edited_after_delete)
        .collect();
    assert_eq!(
        kept_aside.len(),
        1,
        "B's edit of a book deleted elsewhere is not dropped silently: it waits for review ({issues:?})"
    );
    assert_eq!(kept_aside[0].code, "gone", "with code gone");
    assert!(
        issues.rejections.iter().all(|r| r.book_id != deleted_on_a),
        "a delete of a book already gone is simply done, nothing to review"
    );

    a.sync().await;
    let on_a = live(&a.store);
    assert_eq!(
        on_a.get(&kept).map(String::as_str),
        Some("Kept, edited offline on B"),
        "A gets B's edit"
    );
    assert!(
        !on_a.contains_key(&deleted_on_b)
            && !on_a.contains_key(&deleted_on_a)
            && !on_a.contains_key(&edited_after_delete),
        "every deleted book stays deleted on A"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_hits_the_statement_timeout_is_sent_again_in_smaller_batches() {
    let stack = private_stack().await;
    // Inserting more than 60 books in one statement takes longer than anon's 3 s.
    stack
        .psql(
            "create function public.test_slow_batches() returns trigger language plpgsql as $$ \
             begin if (select count(*) from new_rows) > 60 then perform pg_sleep(5); end if; \
             return null; end $$; \
             create trigger test_slow_batches after insert on public.books \
               referencing new table as new_rows for each statement \
               execute function public.test_slow_batches();",
        )
        .await
        .expect("the slow trigger is installed");
    let user = bookwish_stack::CAROL;
    let tokens = LoginTokens::login(&stack, user).await;
    let mut device = Device::new(&stack.rest_url(), &tokens);
    for i in 0..200 {
        device.store.add(&draft(&format!("Queued {i}"))).unwrap();
    }
    let report = device.sync().await;
    assert_eq!(report.pushed, 200, "every queued book is pushed in the end");
    assert_eq!(device.pending(), 0, "nothing is left queued");
    assert_eq!(
        server_books(&stack, user).await.len(),
        200,
        "every book reached the server"
    );
    assert_eq!(
        server_seq(&stack, user).await,
        200,
        "each book was applied once: a timed-out batch committed nothing"
    );
}

/// A proxy that answers a `sync_rows` page of more than `max_rows` rows as PostgREST answers a
/// statement timeout (HTTP 500, SQLSTATE 57014), and forwards everything else.
struct TimeoutProxy {
    url: String,
    refused: Arc<AtomicUsize>,
    largest_served: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TimeoutProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The page size a request asks for (its `Range: 0-N` header), if it is a `sync_rows` read.
fn page_size(request: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(request).ok()?;
    if !text.starts_with("GET /sync_rows") {
        return None;
    }
    let range = text.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("range: 0-")
            .map(str::to_owned)
    })?;
    range.trim().parse::<usize>().ok().map(|last| last + 1)
}

impl TimeoutProxy {
    async fn start(upstream_port: u16, max_rows: usize) -> TimeoutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let refused = Arc::new(AtomicUsize::new(0));
        let largest_served = Arc::new(AtomicUsize::new(0));
        let (r, l) = (Arc::clone(&refused), Arc::clone(&largest_served));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (r, l) = (Arc::clone(&r), Arc::clone(&l));
                tokio::spawn(async move {
                    let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)).await
                    else {
                        return;
                    };
                    let (mut client_read, client_write) = client.into_split();
                    let client_write = Arc::new(tokio::sync::Mutex::new(client_write));
                    let (mut up_read, mut up_write) = upstream.into_split();
                    let to_client = {
                        let client_write = Arc::clone(&client_write);
                        async move {
                            let mut buf = vec![0u8; 64 * 1024];
                            while let Ok(n) = up_read.read(&mut buf).await {
                                if n == 0
                                    || client_write
                                        .lock()
                                        .await
                                        .write_all(&buf[..n])
                                        .await
                                        .is_err()
                                {
                                    return;
                                }
                            }
                        }
                    };
                    let to_server = async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        while let Ok(n) = client_read.read(&mut buf).await {
                            if n == 0 {
                                return;
                            }
                            match page_size(&buf[..n]) {
                                Some(rows) if rows > max_rows => {
                                    r.fetch_add(1, Ordering::SeqCst);
                                    let body = r#"{"code":"57014","details":null,"hint":null,"message":"canceling statement due to statement timeout"}"#;
                                    let answer = format!(
                                        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\n\r\n{body}",
                                        body.len()
                                    );
                                    if client_write
                                        .lock()
                                        .await
                                        .write_all(answer.as_bytes())
                                        .await
                                        .is_err()
                                    {
                                        return;
                                    }
                                    continue;
                                }
                                Some(rows) => {
                                    l.fetch_max(rows, Ordering::SeqCst);
                                }
                                None => {}
                            }
                            if up_write.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        () = to_client => {}
                        () = to_server => {}
                    }
                });
            }
        });
        TimeoutProxy {
            url,
            refused,
            largest_served,
            task,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_hits_the_statement_timeout_is_pulled_again_smaller() {
    let stack = stack().await;
    let lease = lease().await;
    stack
        .psql(&format!(
            "insert into public.books (id, user_id, title) \
             select gen_random_uuid(), '{}', 'Seeded ' || g from generate_series(1, 1000) g",
            lease.user.sub
        ))
        .await
        .expect("seed 1000 books");
    let proxy = TimeoutProxy::start(stack.ports().rest, 250).await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let device = Device::new(&proxy.url, &tokens);
    let report = device.sync().await;
    assert_eq!(report.pulled, 1000, "every book is pulled in the end");
    assert_eq!(live(&device.store).len(), 1000, "and listed");
    assert_eq!(
        proxy.refused.load(Ordering::SeqCst),
        2,
        "a timed-out page is asked again at half the size (1000, 500, then 250), never the same size forever"
    );
    assert_eq!(
        proxy.largest_served.load(Ordering::SeqCst),
        250,
        "the pages that went through were the smaller ones"
    );
}
