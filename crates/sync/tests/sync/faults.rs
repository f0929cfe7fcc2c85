//! Faults: answers lost after the server committed, PostgREST stopped mid-push and mid-pull,
//! tokens that expire or are refused.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bookwish_ipc::{BookDraft, SyncPhase};
use bookwish_stack::{Idp, IdpOptions};
use bookwish_sync::Error;

use crate::support::{
    eventually, lease, local_versions_and_cursor, private_stack, reset_user, server_books,
    server_seq, stack, Device, LoginTokens, Proxy,
};

fn draft(title: &str) -> BookDraft {
    BookDraft {
        title: title.to_owned(),
        ..BookDraft::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_answer_lost_after_commit_is_answered_duplicate_on_retry() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let proxy = Proxy::start(stack.ports().rest).await;
    let mut device = Device::new(&proxy.url, &tokens);
    for i in 0..10 {
        device
            .store
            .add(&draft(&format!("Lost answer {i}")))
            .unwrap();
    }
    let before = server_seq(stack, lease.user).await;
    proxy.faults.cut_next_push.store(true, Ordering::SeqCst);
    let failed = device.engine.sync_once().await;
    assert!(
        matches!(failed, Err(Error::Offline(_))),
        "a cut connection reads as offline: {failed:?}"
    );
    assert_eq!(
        proxy.faults.cuts.load(Ordering::SeqCst),
        1,
        "the proxy cut exactly one answer"
    );
    assert_eq!(
        server_seq(stack, lease.user).await - before,
        10,
        "the server committed the batch whose answer was lost"
    );
    assert_eq!(
        device.pending(),
        10,
        "without an answer the device keeps its queue"
    );

    let report = device.sync().await;
    assert_eq!(
        report.duplicates, 10,
        "the retried batch is answered duplicate"
    );
    assert_eq!(
        server_seq(stack, lease.user).await - before,
        10,
        "nothing was applied twice"
    );
    assert_eq!(
        server_books(stack, lease.user).await,
        device.books(),
        "device and server agree after the retry"
    );
    assert_eq!(device.pending(), 0, "duplicates acknowledge the queue");

    // A pull answer lost: the page is simply asked for again.
    proxy.faults.cut_next_pull.store(true, Ordering::SeqCst);
    device.store.add(&draft("After the lost pull")).unwrap();
    assert!(
        device.engine.sync_once().await.is_err(),
        "a cut pull fails the sync"
    );
    device.sync().await;
    assert_eq!(
        server_books(stack, lease.user).await,
        device.books(),
        "a repeated pull page changes nothing twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgrest_stopped_mid_push_and_mid_pull() {
    let stack = private_stack().await;
    let user = bookwish_stack::CAROL;
    reset_user(&stack, user).await;
    let tokens = LoginTokens::login(&stack, user).await;
    let proxy = Proxy::start(stack.ports().rest).await;
    let mut device = Device::new(&proxy.url, &tokens);
    let mut config = crate::support::config(&proxy.url);
    config.push_batch = 10;
    config.pull_page = 100;
    device.engine = bookwish_sync::SyncEngine::open(
        &device.path,
        config,
        crate::support::http(),
        crate::support::Shared(Arc::clone(&tokens)),
    )
    .unwrap();

    // Mid-push.
    for i in 0..600 {
        device
            .store
            .add(&draft(&format!("Pushed through an outage {i}")))
            .unwrap();
    }
    let before = server_seq(&stack, user).await;
    let engine = device.engine.clone();
    let sync = tokio::spawn(async move { engine.sync_once().await });
    let faults = Arc::clone(&proxy.faults);
    eventually(
        Duration::from_secs(20),
        "the push must get under way",
        || {
            let n = faults.pushes.load(Ordering::SeqCst);
            async move { n >= 3 }
        },
    )
    .await;
    stack.stop_postgrest().await.unwrap();
    let result = sync.await.unwrap();
    assert!(
        result.is_err(),
        "a push cut off by PostgREST stopping fails: {result:?}"
    );
    assert!(
        result.as_ref().is_err_and(Error::is_retryable),
        "the failure is retryable: {result:?}"
    );
    let left = device.pending();
    assert!(
        left > 0 && left < 600,
        "some batches were acknowledged, the rest stay queued ({left} left)"
    );
    assert_eq!(
        device.engine.status().borrow().phase_kind(),
        "offline",
        "the status shows Offline"
    );
    stack.start_postgrest().await.unwrap();
    device.sync().await;
    assert_eq!(
        server_seq(&stack, user).await - before,
        600,
        "each of the 600 creates applied exactly once"
    );
    assert_eq!(
        server_books(&stack, user).await,
        device.books(),
        "after the outage the server holds the device's books"
    );

    // Mid-pull: 3,000 books written on the server by another device, pulled 100 per page.
    stack
        .psql(&format!(
            "insert into public.books (id, user_id, title) \
             select gen_random_uuid(), '{}', 'Server book ' || g from generate_series(1, 3000) g",
            user.sub
        ))
        .await
        .unwrap();
    let pulls_before = proxy.faults.pulls.load(Ordering::SeqCst);
    let engine = device.engine.clone();
    let sync = tokio::spawn(async move { engine.sync_once().await });
    eventually(
        Duration::from_secs(20),
        "the pull must get under way",
        || {
            let n = faults.pulls.load(Ordering::SeqCst);
            async move { n >= pulls_before + 4 }
        },
    )
    .await;
    stack.stop_postgrest().await.unwrap();
    let result = sync.await.unwrap();
    assert!(
        result.is_err(),
        "a pull cut off by PostgREST stopping fails: {result:?}"
    );
    let partial = device.books().len();
    assert!(
        partial > 600 && partial < 3600,
        "the pages before the stop were kept ({partial} books)"
    );
    // The download was split between two keyset chains: the saved cursor moved only through
    // the first half's pages, and the second half's rows written ahead of it come again.
    let (_, cursor) = local_versions_and_cursor(&device.path);
    let past_cursor: usize = stack
        .psql(&format!(
            "select count(*) from public.books where user_id = '{}' and version > {cursor}",
            user.sub
        ))
        .await
        .unwrap()
        .parse()
        .unwrap();
    stack.start_postgrest().await.unwrap();
    let report = device.sync().await;
    assert_eq!(
        report.pulled, past_cursor,
        "the pull resumed at its saved cursor {cursor}: it fetched again exactly the rows past \
         it, none before it"
    );
    let server = server_books(&stack, user).await;
    assert_eq!(
        server.len(),
        3600,
        "the server holds the 600 pushed and 3,000 seeded books"
    );
    assert_eq!(
        server,
        device.books(),
        "after the outage the device holds every server book"
    );
}

trait PhaseKind {
    fn phase_kind(&self) -> &'static str;
}

impl PhaseKind for bookwish_ipc::SyncStatus {
    fn phase_kind(&self) -> &'static str {
        match self.phase {
            SyncPhase::Offline => "offline",
            SyncPhase::Syncing { .. } => "syncing",
            SyncPhase::Synced { .. } => "synced",
            SyncPhase::Error { .. } => "error",
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_refreshed_once_and_the_sync_goes_on() {
    let stack = stack().await;
    let lease = lease().await;
    let tokens = LoginTokens::login(stack, lease.user).await;
    let mut device = Device::new(&stack.rest_url(), &tokens);
    device.store.add(&draft("Pushed after a refresh")).unwrap();
    tokens.set_access("not-a-valid-jwt");
    device.sync().await;
    assert_eq!(
        tokens.refreshes.load(Ordering::SeqCst),
        1,
        "one 401 leads to exactly one refresh"
    );
    assert_eq!(
        server_books(stack, lease.user).await,
        device.books(),
        "the retried request pushed the book"
    );

    // With no way to refresh, the sync stops with an error the user can act on.
    let dead = Arc::new(LoginTokens::from_tokens(
        stack.issuer(),
        bookwish_stack::Tokens {
            access_token: "expired".into(),
            refresh_token: None,
            id_token: None,
            expires_in: 0,
            scope: None,
            token_type: "Bearer".into(),
        },
    ));
    let signed_out = Device::open(device.path.clone(), &stack.rest_url(), &dead);
    let result = signed_out.engine.sync_once().await;
    assert!(
        result.as_ref().is_err_and(|e| !e.is_retryable()),
        "signed out is not retried: {result:?}"
    );
    assert!(
        matches!(signed_out.engine.status().borrow().phase, SyncPhase::Error { ref reason } if reason.contains("Sign in again")),
        "the status tells the user to sign in again"
    );
}

/// Real expiry: tokens live 1 s; PostgREST allows ~30 s of clock skew, so this test waits until
/// PostgREST itself refuses the token (polled), then syncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_and_the_sync_continues() {
    let stack = stack().await;
    let lease = lease().await;
    let short = Idp::start(IdpOptions {
        key_dir: Some(
            stack
                .idp()
                .expect("the stack has a provider")
                .key_dir()
                .to_path_buf(),
        ),
        access_token_ttl: Some(1),
        ..IdpOptions::default()
    })
    .await
    .expect("a provider with 1 s tokens must start");
    let login = short
        .login(lease.user.username, lease.user.password)
        .await
        .unwrap();
    let tokens = Arc::new(LoginTokens::from_tokens(short.issuer(), login));
    let mut device = Device::new(&stack.rest_url(), &tokens);
    device.store.add(&draft("Before expiry")).unwrap();
    device.sync().await;
    assert_eq!(
        tokens.refreshes.load(Ordering::SeqCst),
        0,
        "a fresh token needs no refresh"
    );
    device.store.add(&draft("After expiry")).unwrap();

    let http = reqwest::Client::new();
    let url = format!("{}/books?limit=1", stack.rest_url());
    let token = tokens.access();
    eventually(
        Duration::from_secs(60),
        "PostgREST must refuse the 1 s token once its skew allowance passes",
        || {
            let request = http.get(&url).bearer_auth(&token).send();
            async move {
                request
                    .await
                    .is_ok_and(|r| r.status() == reqwest::StatusCode::UNAUTHORIZED)
            }
        },
    )
    .await;
    device.sync().await;
    assert_eq!(
        tokens.refreshes.load(Ordering::SeqCst),
        1,
        "the expired token was refreshed exactly once"
    );
    assert_eq!(
        server_books(stack, lease.user).await,
        device.books(),
        "the sync went on with the new token"
    );
}
