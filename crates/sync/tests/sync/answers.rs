//! Hostile or broken answers (issue 11.8), each through the HTTP fault proxy in front of the
//! real PostgREST, with the engine's real run loop: every one ends in a status a user can act
//! on, is retried a bounded number of times (or not at all), never kills the sync task and
//! never loops; once the server answers properly again, every change arrives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bookwish_ipc::{BookDraft, SyncPhase, SyncStatus};
use bookwish_sync::{SyncEngine, SyncHandle, MAX_ANSWER_BYTES};
use serde_json::Value;

use crate::http_proxy::{Answer, AnswerBody, Fault, HttpProxy};
use crate::support::{
    eventually, lease, server_books, server_seq, stack, Device, Lease, LoginTokens, Shared,
};

const PUSH: &str = "/rpc/sync_push";
const ROWS: &str = "/sync_rows";

/// How long the run loop is watched while the fault lasts.
const WINDOW: Duration = Duration::from_millis(1500);

/// What the test expects of the engine while a fault lasts.
struct Expect {
    /// `offline` or `error`.
    phase: &'static str,
    /// Words the status must say (lower case).
    words: &'static [&'static str],
    /// Whether the run loop tries again by itself (with backoff) or waits for a trigger.
    retries: bool,
}

/// A device behind the proxy, with some changes waiting, and its engine's run loop.
struct Case {
    _lease: Lease,
    proxy: HttpProxy,
    device: Device,
    handle: Option<SyncHandle>,
    task: Option<tokio::task::JoinHandle<bookwish_sync::Stopped>>,
    books: usize,
    /// The user's version counter before: it counts every applied write.
    seq: i64,
}

impl Case {
    async fn new(pull_page: u32) -> Case {
        let stack = stack().await;
        let lease = lease().await;
        let tokens = LoginTokens::login(stack, lease.user).await;
        let seq = server_seq(stack, lease.user).await;
        let proxy = HttpProxy::start(stack.ports().rest).await;
        let mut device = Device::new(&proxy.url, &tokens);
        let mut config = crate::support::config(&proxy.url);
        config.pull_page = pull_page;
        device.engine = SyncEngine::open(
            &device.path,
            config,
            crate::support::http(),
            Shared(Arc::clone(&tokens)),
        )
        .unwrap();
        let books = 3;
        for i in 0..books {
            device.store_add(&BookDraft {
                title: format!("Kept through a broken answer {i}"),
                ..BookDraft::default()
            });
        }
        Case {
            _lease: lease,
            proxy,
            device,
            handle: None,
            task: None,
            books,
            seq,
        }
    }

    fn start(&mut self) {
        let (handle, task) = self.device.engine.clone().spawn();
        self.handle = Some(handle);
        self.task = Some(task);
    }

    fn status(&self) -> SyncStatus {
        self.device.engine.status().borrow().clone()
    }

    /// Waits until the run loop settles on a failure (not syncing, not synced).
    async fn settled_failure(&self, what: &str) -> SyncStatus {
        let engine = self.device.engine.clone();
        eventually(
            Duration::from_secs(20),
            &format!("{what}: the sync must stop on a failure"),
            || {
                let phase = engine.status().borrow().phase.clone();
                async move { matches!(phase, SyncPhase::Error { .. } | SyncPhase::Offline) }
            },
        )
        .await;
        self.status()
    }

    /// Checks the status and the retries while the fault lasts on `path`.
    async fn check_failure(&self, what: &str, path: &str, expect: &Expect) {
        let status = self.settled_failure(what).await;
        let (phase, reason) = match &status.phase {
            SyncPhase::Offline => ("offline", String::new()),
            SyncPhase::Error { reason } => ("error", reason.to_lowercase()),
            other => unreachable!("settled on {other:?}"),
        };
        assert_eq!(phase, expect.phase, "{what}: the status phase ({status:?})");
        for word in expect.words {
            assert!(
                reason.contains(word),
                "{what}: the status must say {word:?} in words a user can act on: {reason:?}"
            );
        }
        for leak in ["<html", "<!doctype", "bearer", "eyj"] {
            assert!(
                !reason.contains(leak),
                "{what}: the status never quotes the server's page or a token: {reason:?}"
            );
        }
        assert!(
            status.pending as usize >= 1 || path == ROWS,
            "{what}: the changes still wait ({status:?})"
        );

        let before = self.proxy.hits(path);
        tokio::time::sleep(WINDOW).await; // a window to watch the run loop in, not a wait
        let during = self.proxy.hits(path) - before;
        let task = self.task.as_ref().unwrap();
        assert!(
            !task.is_finished(),
            "{what}: the sync task must survive the answer"
        );
        if expect.retries {
            // Backoff 20–200 ms in the tests' configuration: a handful of tries, never a spin.
            assert!(
                (1..=40).contains(&during),
                "{what}: retried with backoff, a bounded number of times ({during} requests \
                 to {path} in {WINDOW:?})"
            );
        } else {
            assert_eq!(
                during, 0,
                "{what}: retrying cannot help, so the engine waits for a trigger \
                 ({during} requests to {path} in {WINDOW:?})"
            );
        }
    }

    /// Lifts the fault and checks that everything arrives (by itself when the engine retries,
    /// after "Sync now" otherwise) and nothing was applied twice.
    async fn recovers(mut self, what: &str, path: &str, expect: &Expect) {
        self.proxy.clear(path);
        if !expect.retries {
            self.handle.as_ref().unwrap().sync_now();
        }
        let engine = self.device.engine.clone();
        eventually(
            Duration::from_secs(20),
            &format!("{what}: once the server answers properly, the sync succeeds"),
            || {
                let status = engine.status().borrow().clone();
                async move { matches!(status.phase, SyncPhase::Synced { .. }) && status.pending == 0 }
            },
        )
        .await;
        let stack = stack().await;
        let user = self._lease.user;
        let server = server_books(stack, user).await;
        assert_eq!(
            server.len(),
            self.books,
            "{what}: every book reached the server"
        );
        assert_eq!(
            server,
            self.device.books(),
            "{what}: device and server agree"
        );
        assert_eq!(
            server_seq(stack, user).await - self.seq,
            self.books as i64,
            "{what}: each change was applied once"
        );
        let handle = self.handle.take().unwrap();
        handle.shutdown();
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the run loop stops when told")
            .expect("the run loop ends without a panic");
    }
}

async fn hostile(what: &str, path: &str, fault: Fault, expect: Expect) {
    let mut case = Case::new(1000).await;
    case.proxy.set(path, fault);
    case.start();
    case.check_failure(what, path, &expect).await;
    case.recovers(what, path, &expect).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_of_centuries_is_capped_and_the_task_survives() {
    hostile(
        "Retry-After: u64::MAX seconds",
        PUSH,
        Fault::Answer(
            Answer::new(503, "application/json", r#"{"message":"busy"}"#)
                .with_header("retry-after", &u64::MAX.to_string()),
        ),
        Expect {
            phase: "error",
            words: &["busy", "try again"],
            retries: true,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_answered_with_200_is_named_and_retried() {
    hostile(
        "an HTML 200 (a captive portal)",
        PUSH,
        Fault::Answer(Answer::new(
            200,
            "text/html; charset=utf-8",
            "<!doctype html><html><body><h1>Sign in to the Wi-Fi</h1></body></html>",
        )),
        Expect {
            phase: "error",
            words: &["web page", "try again"],
            retries: true,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_page_is_unavailable_and_retried() {
    hostile(
        "a 502 page from a proxy",
        ROWS,
        Fault::Answer(Answer::new(
            502,
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body><center>\
             <h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
        )),
        Expect {
            phase: "error",
            words: &["http 502", "try again"],
            retries: true,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_page_is_named_and_retried() {
    hostile(
        "a page cut off mid-JSON",
        ROWS,
        Fault::rewrite(|mut answer| {
            if let AnswerBody::Bytes(body) = &mut answer.body {
                body.truncate(body.len() / 2);
            }
            answer
        }),
        Expect {
            phase: "error",
            words: &["cut off", "try again"],
            retries: true,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_cap_is_not_read_and_pages_shrink() {
    let size = 4 * MAX_ANSWER_BYTES;
    let mut case = Case::new(1000).await;
    case.proxy.set(
        ROWS,
        Fault::Answer(Answer {
            status: 200,
            headers: Vec::new(),
            body: AnswerBody::Huge(size),
        }),
    );
    let expect = Expect {
        phase: "error",
        words: &["too large"],
        retries: false,
    };
    case.start();
    case.check_failure("a huge page", ROWS, &expect).await;
    let asked = case.proxy.hits(ROWS);
    assert!(
        (2..=11).contains(&asked),
        "a page too large is asked again at half the size, down to one row, then given up \
         ({asked} requests)"
    );
    let streamed = case.proxy.streamed();
    assert!(
        streamed < asked * (MAX_ANSWER_BYTES + 16 * 1024 * 1024),
        "the client stops reading at the cap (plus what sockets buffer): {streamed} bytes \
         pulled over {asked} answers of {size}"
    );
    case.recovers("a huge page", ROWS, &expect).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_answer_with_a_result_missing_is_refused_and_nothing_is_lost() {
    hostile(
        "sync_push answering one result short",
        PUSH,
        Fault::rewrite(move |mut answer| {
            if let AnswerBody::Bytes(body) = &mut answer.body {
                let mut json: Value = serde_json::from_slice(body).unwrap();
                json["results"].as_array_mut().unwrap().pop();
                *body = serde_json::to_vec(&json).unwrap();
            }
            answer
        }),
        Expect {
            phase: "error",
            words: &["can't use", "kept"],
            retries: false,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_does_not_move_the_cursor_stops_instead_of_looping() {
    // The first page, sent again for every later request: the cursor never advances.
    let first: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let mut case = Case::new(2).await;
    let fault = Fault::rewrite(move |mut answer| {
        if let AnswerBody::Bytes(body) = &mut answer.body {
            let mut first = first.lock().unwrap();
            match first.as_ref() {
                Some(page) => body.clone_from(page),
                None => *first = Some(body.clone()),
            }
        }
        answer
    });
    let expect = Expect {
        phase: "error",
        words: &["can't use", "kept"],
        retries: false,
    };
    case.proxy.set(ROWS, fault);
    case.start();
    case.check_failure("a page repeated forever", ROWS, &expect)
        .await;
    assert!(
        case.proxy.hits(ROWS) <= 3,
        "the repeated page is refused at once, never followed ({} pages asked)",
        case.proxy.hits(ROWS)
    );
    case.recovers("a page repeated forever", ROWS, &expect)
        .await;
}
