//! Inputs real users and servers produce that must never stop sync or drop an edit: a value
//! on the server the app refuses, and a data folder copied to a second machine.

use bookwish_ipc::BookDraft;

use crate::support::{lease, next_millisecond, server_books, stack, Device, LoginTokens};

fn draft(title: &str) -> BookDraft {
    BookDraft {
        title: title.to_owned(),
        ..BookDraft::default()
    }
}

/// Writes `set` on book `id` straight into Postgres as the superuser, past every CHECK
/// constraint (dropped and added back unchecked), as an older server or another client might
/// have written it.
async fn spoil(stack: &bookwish_stack::Stack, id: &str, set: &str) {
    stack
        .update_books_past_checks(set, &format!("id = '{id}'"))
        .await
        .expect("the superuser can write a value past the constraints");
}

#[tokio::test]
async fn a_value_the_app_refuses_on_the_server_never_stops_sync() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let mut a = Device::new(&stack.rest_url(), &tokens);
    let mut b = Device::new(&stack.rest_url(), &tokens);
    let bad = a.store_add(&draft("Spoiled on the server"));
    let fine = a.store_add(&draft("Edited elsewhere"));
    a.sync().await;
    b.sync().await;

    for (n, set) in [
        "started_on = 'infinity'",
        "finished_on = '10000-01-01'",
        "started_on = '0044-03-15 BC'",
        "rating = 9",
        "title = repeat('x', 600)",
    ]
    .into_iter()
    .enumerate()
    {
        spoil(stack, &bad.id.to_string(), set).await;
        let title = format!("Edited elsewhere, round {n}");
        b.store.update(fine.id, &draft(&title)).unwrap();
        b.sync().await;

        let report = a.engine.sync_once().await;
        assert!(
            report.is_ok(),
            "a server row with {set} must not fail the sync: {report:?}"
        );
        assert_eq!(
            a.store.get(fine.id).unwrap().title,
            title,
            "with {set} on another book, other devices' changes still arrive"
        );
        assert_eq!(
            a.store.get(bad.id).unwrap().title,
            "Spoiled on the server",
            "the unreadable value ({set}) is never stored"
        );
        let issues = a.store.sync_issues().unwrap();
        assert_eq!(
            issues.unreadable.len(),
            1,
            "the book the app cannot show is listed for the user ({set})"
        );
    }
}

#[tokio::test]
async fn a_data_folder_copied_to_a_second_machine_never_drops_an_edit() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let mut a = Device::new(&stack.rest_url(), &tokens);
    a.store_add(&draft("Before the copy"));
    a.sync().await;

    // Machine B is a copy of A's data folder (say, restored from one backup).
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("books.sqlite3");
    a.store.checkpoint().unwrap();
    for suffix in ["", "-wal"] {
        let from = format!("{}{suffix}", a.path.display());
        if std::path::Path::new(&from).exists() {
            std::fs::copy(&from, format!("{}{suffix}", copy.display())).unwrap();
        }
    }
    let mut b = Device::open(copy, &stack.rest_url(), &tokens);

    // B adds a book while offline; later A adds one and syncs; then B comes back.
    let from_b = b.store_add(&draft("Added on the copy"));
    next_millisecond().await;
    let from_a = a.store_add(&draft("Added on the original"));
    a.sync().await;
    b.sync().await;
    b.sync().await;

    let server = server_books(stack, lease.user).await;
    assert!(
        server.contains_key(&from_a.id.to_string()),
        "the original's book reaches the server"
    );
    assert!(
        server.contains_key(&from_b.id.to_string()),
        "the copy's book reaches the server too, never dropped as a duplicate: {server:?}"
    );
    assert_eq!(b.pending(), 0, "nothing is left waiting on the copy");
    a.sync().await;
    assert!(
        a.store.get(from_b.id).is_ok(),
        "and the original sees the copy's book"
    );
    drop(lease);
}
