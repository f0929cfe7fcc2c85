//! Offline edits reach the server exactly once when the connection returns; a restarted app
//! pushes what the previous run committed; a refused change is recorded and the queue moves on.

use std::time::Duration;

use bookwish_ipc::{BookDraft, Status, SyncPhase};
use bookwish_sync::Trigger;

use crate::support::{
    eventually, lease, server_books, server_seq, stack, Device, LoginTokens, Proxy,
};

fn draft(title: &str) -> BookDraft {
    BookDraft {
        title: title.to_owned(),
        ..BookDraft::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_edits_reach_the_server_exactly_once_when_online() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let proxy = Proxy::start(stack.ports().rest).await;
    proxy
        .faults
        .refuse
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let mut device = Device::new(&proxy.url, &tokens);
    let (handle, task) = device.engine.clone().spawn();
    let mut status = handle.status();

    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            device
                .store
                .add(&draft(&format!("Offline book {i}")))
                .unwrap()
                .id,
        );
        handle.local_edit();
    }
    for id in &ids[..10] {
        device.store.set_status(*id, Status::Reading).unwrap();
        handle.local_edit();
    }
    for id in &ids[10..15] {
        device.store.delete(*id).unwrap();
        handle.local_edit();
    }
    eventually(
        Duration::from_secs(10),
        "offline edits must show as Offline with 30 pending",
        || {
            let s = status.borrow_and_update().clone();
            async move { s.phase == SyncPhase::Offline && s.pending == 30 }
        },
    )
    .await;
    assert_eq!(
        device.pending(),
        30,
        "coalescing keeps one outbox entry per book"
    );
    let before = server_seq(stack, lease.user).await;

    proxy
        .faults
        .refuse
        .store(false, std::sync::atomic::Ordering::SeqCst);
    handle.trigger(Trigger::NetworkUp);
    eventually(
        Duration::from_secs(20),
        "back online the engine must reach Synced with nothing pending",
        || {
            let s = status.borrow_and_update().clone();
            async move { matches!(s.phase, SyncPhase::Synced { .. }) && s.pending == 0 }
        },
    )
    .await;
    handle.shutdown();
    task.await.unwrap();

    assert_eq!(
        server_seq(stack, lease.user).await - before,
        30,
        "each of the 30 coalesced mutations must be applied on the server exactly once"
    );
    let server = server_books(stack, lease.user).await;
    assert_eq!(server.len(), 30, "every offline book is on the server once");
    assert_eq!(
        server,
        device.books(),
        "the device and the server must hold the same books"
    );
    for id in &ids[..10] {
        assert_eq!(
            server[&id.to_string()]["status"],
            "Reading",
            "offline status changes reach the server"
        );
    }
    for id in &ids[10..15] {
        assert_eq!(
            server[&id.to_string()]["deleted"],
            true,
            "offline deletes reach the server as tombstones"
        );
    }
    assert_eq!(
        device.pending(),
        0,
        "nothing stays queued after a successful sync"
    );
    device.store.checkpoint().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_committed_before_a_crash_are_pushed_after_restart() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("books.sqlite3");
    {
        // The app commits edits and dies before its engine ever pushes them.
        let device = Device::open(path.clone(), &stack.rest_url(), &tokens);
        let mut store = device.store;
        for i in 0..5 {
            store.add(&draft(&format!("Before the crash {i}"))).unwrap();
        }
        drop(device.engine);
    }
    let device = Device::open(path, &stack.rest_url(), &tokens);
    assert_eq!(
        device.pending(),
        5,
        "committed edits survive the crash in the outbox"
    );
    let report = device.sync().await;
    assert_eq!(
        report.pushed, 5,
        "the restarted engine pushes what the dead one never did"
    );
    assert_eq!(
        server_books(stack, lease.user).await,
        device.books(),
        "after restart the server holds exactly the device's books"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_changes_are_recorded_and_the_queue_moves_on() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let mut a = Device::new(&stack.rest_url(), &tokens);
    let mut b = Device::new(&stack.rest_url(), &tokens);

    // RLS: another account already owns this id.
    let taken = a.store.add(&draft("Someone else's id")).unwrap();
    // The other account is leased too, so no other test counts its rows meanwhile.
    let other_lease = crate::support::lease().await;
    let other = other_lease.user;
    stack
        .psql(&format!(
            "insert into public.books (id, user_id, title) values ('{}', '{}', 'Theirs')",
            taken.id, other.sub
        ))
        .await
        .unwrap();
    // CHECK: two devices' edits that are each valid but together put the finish before the start.
    let shared = a.store.add(&draft("Shared")).unwrap();
    let fine = a.store.add(&draft("Fine")).unwrap();
    a.sync().await;
    b.sync().await;
    a.store
        .update(
            shared.id,
            &BookDraft {
                started_on: Some("2024-05-01".into()),
                ..draft("Shared")
            },
        )
        .unwrap();
    a.sync().await;
    b.store
        .update(
            shared.id,
            &BookDraft {
                finished_on: Some("2024-04-01".into()),
                ..draft("Shared")
            },
        )
        .unwrap();
    b.store.update(fine.id, &draft("Fine, edited")).unwrap();
    let report = b.sync().await;
    assert_eq!(
        report.rejected, 1,
        "the date pair is refused by the server's CHECK"
    );
    assert_eq!(report.pushed, 1, "the other queued edit still applies");
    let rejections = b.store.sync_issues().unwrap().rejections;
    assert_eq!(rejections.len(), 1, "the refusal is kept for the user");
    assert_eq!(
        rejections[0].code, "check_violation",
        "the refusal keeps the server's code"
    );
    assert!(
        rejections[0]
            .message
            .contains("finished_on must not be before started_on"),
        "the refusal keeps the server's readable reason: {}",
        rejections[0].message
    );
    assert_eq!(b.pending(), 0, "a refused change leaves the queue");
    assert_eq!(
        server_books(stack, lease.user).await,
        b.books(),
        "after a refusal the device shows the server's copy"
    );

    // The user fixes it in the app: the panel proposes the refused values, the corrected
    // book is saved through the Store (as the shell does), and the server takes it.
    let issues = b.store.sync_issues().unwrap();
    let refused = &issues.rejections[0];
    assert!(
        refused
            .message
            .contains("finished_on must not be before started_on"),
        "the panel shows the server's reason: {}",
        refused.message
    );
    let mut fixed = refused.proposed.clone().expect("the book is still here");
    assert_eq!(
        fixed.finished_on.as_deref(),
        Some("2024-04-01"),
        "the form opens with the refused value"
    );
    fixed.finished_on = Some("2024-06-01".into());
    b.store.fix_rejection(refused.id, &fixed).unwrap();
    let report = b.sync().await;
    assert_eq!(report.rejected, 0, "the corrected change is accepted");
    assert_eq!(
        server_books(stack, lease.user).await[&shared.id.to_string()]["finished_on"],
        "2024-06-01",
        "the fix reaches the server"
    );
    assert!(
        b.store.sync_issues().unwrap().rejections.is_empty(),
        "a fixed refusal leaves the panel"
    );

    let report_a = a.sync().await;
    assert_eq!(
        report_a.rejected, 0,
        "device A has nothing refused after its own sync"
    );
    let rejections = a.store.sync_issues().unwrap().rejections;
    assert_eq!(
        rejections.len(),
        1,
        "the RLS refusal was recorded on device A earlier"
    );
    assert_eq!(
        rejections[0].code, "id_taken",
        "an id owned by another account is refused as id_taken"
    );
    assert_eq!(
        rejections[0].book_id, taken.id,
        "the refusal names the book"
    );
    assert_eq!(
        a.pending(),
        0,
        "the refused create does not block the queue"
    );
    let server = server_books(stack, lease.user).await;
    assert!(
        server.contains_key(&fine.id.to_string()),
        "books after the refused one are pushed"
    );
    assert!(
        !server.contains_key(&taken.id.to_string()),
        "the refused create is not in this account"
    );
}
