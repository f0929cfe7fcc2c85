//! An account deleted in Clerk while this device holds its books: the webhook receiver deletes
//! everything of the user on the server, and the engine's next sync is refused. It must say so
//! as its own error (not "session ended", not offline), refresh no token, retry nothing, end its
//! run loop, and leave the local file exactly as it was. The stack is the test's own: a user
//! deleted in the shared one would stay refused for every later test.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bookwish_ipc::{BookDraft, SyncPhase};
use bookwish_stack::{HooksOptions, Stack, StackOptions, DAVE, LOCAL_WEBHOOK_SECRET};
use bookwish_sync::{Stopped, Trigger};

use crate::support::*;

fn draft(title: &str) -> BookDraft {
    BookDraft {
        title: title.into(),
        ..BookDraft::default()
    }
}

/// Rows of `user` left in the server's per-user tables, read as the superuser.
async fn server_rows(stack: &Stack, user: &str) -> i64 {
    stack
        .psql(&format!(
            "select (select count(*) from public.books where user_id = '{user}')
                  + (select count(*) from public.sync_state where user_id = '{user}')
                  + (select count(*) from public.sync_ledger where user_id = '{user}')"
        ))
        .await
        .expect("psql counts the rows")
        .parse()
        .expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_account_is_refused_for_good_and_nothing_local_is_lost() {
    let stack = Stack::start(StackOptions {
        seed: false,
        ..StackOptions::default()
    })
    .await
    .expect("a private local stack must start");
    stack
        .start_hooks(&HooksOptions::beside_current_exe())
        .await
        .expect("the webhook receiver must start (cargo build -p bookwish-hooks first)");
    let tokens = LoginTokens::login(&stack, DAVE).await;
    let proxy = Proxy::start(stack.ports().rest).await;
    let mut device = Device::new(&proxy.url, &tokens);
    device.store_add(&draft("Dune"));
    let piranesi = device.store_add(&draft("Piranesi"));
    let report = device.sync().await;
    assert_eq!(
        report.pushed, 2,
        "both books reach the server before the delete"
    );

    let answer = stack
        .send_user_deleted(DAVE.sub, LOCAL_WEBHOOK_SECRET)
        .await
        .expect("the receiver takes a signed user.deleted");
    assert_eq!(answer["result"], "applied", "the delete ran: {answer}");
    assert_eq!(
        server_rows(&stack, DAVE.sub).await,
        0,
        "nothing of the user is left on the server"
    );

    // Edits made after the delete, not yet synced: they must survive too.
    device.store_add(&draft("Written after the delete"));
    device.store.delete(piranesi.id).expect("delete works");
    let before = device.books();
    assert_eq!(device.pending(), 2, "two changes wait for the server");

    let pushes = proxy.faults.pushes.load(Ordering::SeqCst);
    let error = device
        .engine
        .sync_once()
        .await
        .expect_err("the server refuses a deleted account's sync");
    assert!(
        error.is_account_deleted(),
        "the engine reports its own account-deleted error, not {error:?}"
    );
    assert!(
        !error.is_retryable() && !error.is_offline(),
        "a deleted account is final: never retried, never shown as offline"
    );
    assert!(
        error.user_message().contains("no longer exists"),
        "the status says plainly that the account no longer exists: {}",
        error.user_message()
    );
    assert_eq!(
        tokens.refreshes.load(Ordering::SeqCst),
        0,
        "a deleted account's refusal costs no token refresh"
    );
    assert_eq!(
        proxy.faults.pushes.load(Ordering::SeqCst) - pushes,
        1,
        "one push was tried and refused, not retried"
    );
    let status = device.engine.status().borrow().clone();
    assert!(
        matches!(&status.phase, SyncPhase::Error { reason } if reason.contains("no longer exists")),
        "the published status carries the sentence: {status:?}"
    );
    assert_eq!(device.books(), before, "no local book changed");
    assert_eq!(device.pending(), 2, "no pending change was dropped");

    // The run loop tries once, then ends by itself: no retry loop against a refusing server.
    let pushes = proxy.faults.pushes.load(Ordering::SeqCst);
    let (handle, task) = device.engine.clone().spawn();
    let stopped = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the run loop must end by itself once the account is deleted")
        .expect("the run loop must not panic");
    assert_eq!(stopped, Stopped::AccountDeleted, "and say why it ended");
    assert!(
        !handle.trigger(Trigger::SyncNow),
        "an ended loop takes no more triggers"
    );
    assert_eq!(
        proxy.faults.pushes.load(Ordering::SeqCst) - pushes,
        1,
        "the loop pushed once"
    );
    assert_eq!(device.books(), before, "still no local book changed");
    assert_eq!(device.pending(), 2, "still every change queued");

    // A deployment whose operator never installed the pre-request check (or a push already
    // past it when the delete committed): the write is refused by the tables' triggers with
    // SQLSTATE 42501 "this account was deleted". That is the same account-deleted error.
    stack
        .psql(
            "alter role authenticator reset pgrst.db_pre_request; \
             notify pgrst, 'reload config';",
        )
        .await
        .expect("the pre-request check can be turned off");
    let http = reqwest::Client::new();
    eventually(
        Duration::from_secs(10),
        "PostgREST must drop the pre-request check after reloading its configuration",
        || {
            let request = http
                .get(format!("{}/books?select=id", stack.rest_url()))
                .header("apikey", "local-stack-anon-key")
                .bearer_auth(tokens.access());
            async move { request.send().await.is_ok_and(|r| r.status().is_success()) }
        },
    )
    .await;
    let raced = device
        .engine
        .sync_once()
        .await
        .expect_err("a deleted account's push is refused without the pre-request check too");
    eprintln!("without the pre-request check the push is refused as: {raced:?}");
    assert!(
        raced.is_account_deleted(),
        "SQLSTATE 42501 'this account was deleted' is the account-deleted error: {raced:?}"
    );
    assert_eq!(
        tokens.refreshes.load(Ordering::SeqCst),
        0,
        "still no refresh, whatever status PostgREST gives the 42501"
    );
    assert_eq!(
        server_rows(&stack, DAVE.sub).await,
        0,
        "the refused push re-created nothing on the server"
    );
    assert_eq!(device.books(), before, "and nothing local changed");
}
