//! [`SyncEngine`]: push then pull, one sync at a time, publishing [`SyncStatus`]; and its run
//! loop, woken by [`Trigger`]s, with exponential backoff and full jitter between failures.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bookwish_core::{Pulled, PulledPage, Replica};
use bookwish_ipc::{Profile, SyncPhase, SyncStatus};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use crate::error::Result;
use crate::remote::{
    encoded_len, is_statement_timeout, Remote, RemoteConfig, TokenSource, MAX_PUSH_BYTES,
};

/// How the engine syncs and when it retries.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// The server.
    pub remote: RemoteConfig,
    /// Mutations per `sync_push` call (the server takes at most 1000). The set-based push
    /// applies 1,000 in ≈ 0.3 s, far inside hosted Supabase's statement timeout; a call that
    /// times out anyway is halved (`push_all`).
    pub push_batch: usize,
    /// Rows per `sync_pull` page (the server caps it at 1000).
    pub pull_page: u32,
    /// Quiet time after a local edit before syncing, so a burst of edits is one push.
    pub debounce: Duration,
    /// Sync this often even without a trigger (another device's changes).
    pub periodic: Duration,
    /// First retry delay after a transient failure; doubles per failure (full jitter).
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Longest retry delay while the server cannot be reached at all (connection refused,
    /// timed out): a failed connect costs next to nothing, and this bounds how long after the
    /// network (or the server) comes back the app notices by itself. OSes report network
    /// changes unreliably (a VPN, a captive portal, a server restarting), so the engine probes.
    pub offline_probe_max: Duration,
    /// The signed-in user, saved to the `profiles` table once when the run loop starts (best
    /// effort: a failure is logged, and the next launch tries again).
    pub profile: Option<Profile>,
}

impl SyncConfig {
    /// The defaults for the server at `rest_url` with publishable key `anon_key`.
    pub fn new(rest_url: impl Into<String>, anon_key: impl Into<String>) -> Self {
        SyncConfig {
            remote: RemoteConfig {
                rest_url: rest_url.into(),
                anon_key: anon_key.into(),
            },
            push_batch: 1000,
            pull_page: 1000,
            debounce: Duration::from_millis(300),
            periodic: Duration::from_secs(180),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            offline_probe_max: Duration::from_secs(10),
            profile: None,
        }
    }
}

/// What one sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Mutations the server applied (conflicts included).
    pub pushed: usize,
    /// Mutations answered "duplicate" (a retried batch).
    pub duplicates: usize,
    /// Mutations refused (kept in `rejections`).
    pub rejected: usize,
    /// Field conflicts recorded (kept in `conflicts`).
    pub conflicts: usize,
    /// Answers that could not be matched: the changes were queued again.
    pub requeued: usize,
    /// Rows pulled and applied.
    pub pulled: usize,
    /// Books this sync changed here (pulled rows that differed, server values shown after a
    /// conflict or refusal, books dropped after a full re-download): the list needs reloading
    /// only when this is not zero.
    pub changed: usize,
    /// The cursor after the pull.
    pub cursor: i64,
}

/// Why the engine should sync now. The shell sends these through [`SyncHandle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The user signed in (the engine was just made for the account).
    SignedIn,
    /// A local edit was committed: sync after [`SyncConfig::debounce`] of quiet.
    LocalEdit,
    /// The OS reports the network is back: sync now, whatever the backoff.
    NetworkUp,
    /// The window gained focus: sync unless a retry is scheduled.
    Focus,
    /// The user pressed "Sync now".
    SyncNow,
    /// Stop the run loop.
    Shutdown,
}

/// Why the run loop ended (the value of the task [`SyncEngine::spawn`] returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// [`Trigger::Shutdown`], or every [`SyncHandle`] was dropped.
    Shutdown,
    /// The server says the account was deleted ([`crate::Error::AccountDeleted`]): there is
    /// nothing left to sync with, so the loop ended by itself. The shell signs out.
    AccountDeleted,
}

/// The engine: a local database, the server, and the status it publishes.
pub struct SyncEngine<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for SyncEngine<T> {
    fn clone(&self) -> Self {
        SyncEngine {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<T> {
    db: Arc<Mutex<Replica>>,
    remote: Remote<T>,
    config: SyncConfig,
    device_id: Uuid,
    status: watch::Sender<SyncStatus>,
    /// Counts the syncs that changed books here (see [`SyncReport::changed`]).
    changes: watch::Sender<u64>,
    /// One sync at a time (the run loop and direct calls share it).
    running: tokio::sync::Mutex<()>,
    /// Mutations per push now: halved when a push hits the server's statement timeout, grown
    /// back (doubling, up to the configured size) after a sync without one.
    push_limit: AtomicUsize,
    /// Rows per pull page now, likewise.
    page_limit: AtomicU32,
    /// Whether this sync hit a statement timeout (then the sizes stay small).
    timed_out: AtomicBool,
}

impl<T: TokenSource> SyncEngine<T> {
    /// An engine for the database at `db_path` (the file the app's `Store` uses), reaching the
    /// server through `http` (the app's one client) with tokens from `tokens`.
    pub fn open(
        db_path: &Path,
        config: SyncConfig,
        http: reqwest::Client,
        tokens: T,
    ) -> Result<Self> {
        let db = Replica::open(db_path)?;
        let device_id = db.device_id();
        let status = SyncStatus {
            pending: db.pending()?,
            last_success: db.last_success()?,
            attention: db.attention()?,
            ..SyncStatus::default()
        };
        let remote = Remote::new(config.remote.clone(), http, tokens);
        let push_limit = AtomicUsize::new(config.push_batch.clamp(1, 1000));
        let page_limit = AtomicU32::new(config.pull_page.clamp(1, 1000));
        Ok(SyncEngine {
            inner: Arc::new(Inner {
                db: Arc::new(Mutex::new(db)),
                remote,
                config,
                device_id,
                status: watch::channel(status).0,
                changes: watch::channel(0).0,
                running: tokio::sync::Mutex::new(()),
                push_limit,
                page_limit,
                timed_out: AtomicBool::new(false),
            }),
        })
    }

    /// This database's device id.
    pub fn device_id(&self) -> Uuid {
        self.inner.device_id
    }

    /// The status, updated on every change.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.inner.status.subscribe()
    }

    /// Bumped after each sync that changed books here (the window's list should reload).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// The token source.
    pub fn tokens(&self) -> &T {
        self.inner.remote.tokens()
    }

    /// Re-reads the pending count (and what waits for the user) after a local edit or a
    /// settled conflict, and publishes them.
    pub async fn refresh_pending(&self) -> Result<u32> {
        let (pending, attention) = self.db(|db| Ok((db.pending()?, db.attention()?))).await?;
        self.inner.status.send_modify(|s| {
            s.pending = pending;
            s.attention = attention;
        });
        Ok(pending)
    }

    /// Starts a full re-download on the next pull (the hook for the server's tombstone purge;
    /// also called by the pull itself when the server reports a purge past the cursor).
    pub async fn begin_full_resync(&self) -> Result<()> {
        self.db(Replica::begin_full_resync).await
    }

    /// One sync: push the whole outbox, then pull until the server has nothing newer. Status
    /// is published as it goes; the error (if any) is returned as well.
    pub async fn sync_once(&self) -> Result<SyncReport> {
        let _one_at_a_time = self.inner.running.lock().await;
        let pending = self.db(|db| db.pending()).await?;
        self.inner.status.send_modify(|s| {
            s.phase = SyncPhase::Syncing {
                done: 0,
                total: u64::from(pending),
            };
            s.pending = pending;
        });
        let mut report = SyncReport::default();
        self.inner.timed_out.store(false, Ordering::Relaxed);
        let outcome = match self.push_all(&mut report).await {
            Ok(()) => self.pull_all(&mut report).await,
            Err(e) => Err(e),
        };
        if outcome.is_ok() && !self.inner.timed_out.load(Ordering::Relaxed) {
            self.grow_limits();
        }
        if report.changed > 0 {
            self.inner.changes.send_modify(|n| *n += 1);
        }
        // A big pull grew the replica's page cache; an idle app should not keep it.
        if let Err(error) = self.db(|db| db.release_memory()).await {
            tracing::debug!(%error, "could not shrink the replica's cache");
        }
        let pending = self.db(|db| db.pending()).await.unwrap_or(pending);
        if let Ok(attention) = self.db(|db| db.attention()).await {
            self.inner.status.send_modify(|s| s.attention = attention);
        }
        match &outcome {
            Ok(()) => {
                let at = chrono::Utc::now().timestamp_millis();
                self.db(move |db| db.record_success(at)).await?;
                self.inner.status.send_modify(|s| {
                    s.phase = SyncPhase::Synced { at };
                    s.pending = pending;
                    s.last_success = Some(at);
                });
                tracing::debug!(?report, "sync finished");
            }
            Err(error) => {
                let message = error.user_message();
                tracing::info!(%error, "sync failed");
                self.inner.status.send_modify(|s| {
                    s.phase = if error.is_offline() {
                        SyncPhase::Offline
                    } else {
                        SyncPhase::Error {
                            reason: message.clone(),
                        }
                    };
                    s.pending = pending;
                    s.last_error = Some(message);
                });
            }
        }
        outcome.map(|()| report)
    }

    /// Pushes the outbox in batches under [`MAX_PUSH_BYTES`], halving the batch after a
    /// statement timeout (nothing of a timed-out call was committed, so nothing is lost).
    async fn push_all(&self, report: &mut SyncReport) -> Result<()> {
        let mut limit = self.inner.push_limit.load(Ordering::Relaxed);
        // Rounds in a row that acknowledged nothing: a re-queued change goes out once more
        // under its new id, but a push that keeps acknowledging nothing ends the round.
        let mut idle_rounds = 0;
        loop {
            let batch = self.db(move |db| db.take_batch(limit)).await?;
            if batch.is_empty() {
                return Ok(());
            }
            if batch.len() > 1 && encoded_len(self.inner.device_id, &batch)? > MAX_PUSH_BYTES {
                limit = batch.len() / 2;
                continue;
            }
            let answers = match self.inner.remote.push(self.inner.device_id, &batch).await {
                Err(error) if is_statement_timeout(&error) && batch.len() > 1 => {
                    limit = batch.len() / 2;
                    tracing::warn!(
                        from = batch.len(),
                        to = limit,
                        "a push hit the server's statement timeout; sending smaller batches"
                    );
                    self.inner.push_limit.store(limit, Ordering::Relaxed);
                    self.inner.timed_out.store(true, Ordering::Relaxed);
                    continue;
                }
                other => other?,
            };
            limit = self.inner.push_limit.load(Ordering::Relaxed);
            let outcome = self.db(move |db| db.record_push(&batch, &answers)).await?;
            report.pushed += outcome.applied;
            report.duplicates += outcome.duplicates;
            report.conflicts += outcome.conflicts;
            report.rejected += outcome.rejected;
            report.requeued += outcome.requeued;
            // A conflict the server won and a book gone from the server change books here.
            report.changed += outcome.conflicts + outcome.gone;
            if !outcome.refetch.is_empty() {
                // Show the server's copy again; refused values wait for the user, and a
                // re-queued change stays on top of it.
                let rows = self.inner.remote.fetch_books(&outcome.refetch).await?;
                let fetched = self.db(move |db| db.apply_fetched(&rows)).await?;
                report.changed += fetched.changed;
            }
            if outcome.gone > 0 {
                // A book this device still had is no longer on the server: download
                // everything again so the list matches the account.
                tracing::info!("a change was answered gone: full re-download");
                self.begin_full_resync().await?;
            }
            let done = (report.pushed + report.rejected) as u64;
            self.progress(done, None);
            if outcome.applied + outcome.rejected == 0 {
                idle_rounds += 1;
                if outcome.requeued == 0 || idle_rounds > 2 {
                    tracing::warn!("a push acknowledged nothing; stopping this round");
                    return Ok(());
                }
            } else {
                idle_rounds = 0;
            }
        }
    }

    /// Pulls from the cursor until a page is empty or reaches the head read first (never
    /// because a page came back short). A cursor below the purge horizon, before or after the
    /// pages (a purge may commit meanwhile), starts a full re-download that keeps the outbox.
    ///
    /// Pages are fetched while earlier ones are written: a [`PageWriter`] commits several
    /// pages per transaction (each with the cursor of its last page), and a download into an
    /// empty list builds the list's indexes once at the end instead of row by row.
    async fn pull_all(&self, report: &mut SyncReport) -> Result<()> {
        let pushed = (report.pushed + report.rejected) as u64;
        let mut restarted = false;
        'download: loop {
            let head = self.inner.remote.head().await?;
            let mut cursor = self.db(|db| db.cursor()).await?;
            if cursor > 0 && cursor < head.purged_through {
                tracing::info!(
                    cursor,
                    purged = head.purged_through,
                    "cursor older than the purge: full re-download"
                );
                self.begin_full_resync().await?;
                cursor = 0;
            }
            let start = cursor;
            let target = head.server_version;
            let total = pushed + u64::try_from(target - cursor).unwrap_or(0);
            if target > cursor {
                // A download into an empty list builds its indexes once, at the end.
                self.db(|db| db.begin_bulk_load()).await?;
            }
            let writer = PageWriter::start(Arc::clone(&self.inner.db));
            let fetched = self
                .fetch_pages(
                    &writer,
                    &mut cursor,
                    start,
                    target,
                    restarted,
                    pushed,
                    total,
                )
                .await;
            let written = writer.finish().await;
            // Whatever happened, the list's indexes are back before the sync returns.
            let rebuilt = self.db(|db| db.end_bulk_load()).await;
            let written = written?;
            report.pulled += written.rows;
            report.changed += written.changed;
            rebuilt?;
            match fetched? {
                Fetched::Restart => {
                    tracing::info!("a purge committed during the pull: full re-download");
                    restarted = true;
                    self.begin_full_resync().await?;
                    continue 'download;
                }
                Fetched::Done => {
                    report.cursor = cursor;
                    self.progress(pushed + report.pulled as u64, Some(total));
                    return Ok(());
                }
            }
        }
    }

    /// Fetches the pages after `cursor` up to `target` into `writer` and moves `cursor` to the
    /// end. A long download is split in [`CHAINS`] consecutive parts of the version range, each
    /// read by its own keyset chain at the same time: one chain is a request after another,
    /// which keeps one CPU busy, and the machine has more. The writer applies pages as they
    /// come (a row never replaces a newer version of itself), while the cursor each page
    /// carries moves only through parts fetched to the end: a crash repeats rows, never skips
    /// one.
    #[allow(clippy::too_many_arguments)] // the state of one download, passed down once
    async fn fetch_pages(
        &self,
        writer: &PageWriter,
        cursor: &mut i64,
        start: i64,
        target: i64,
        restarted: bool,
        pushed: u64,
        total: u64,
    ) -> Result<Fetched> {
        let page = i64::from(self.inner.page_limit.load(Ordering::Relaxed));
        let parts = if target - *cursor >= SPLIT_FROM_PAGES * page {
            CHAINS
        } else {
            1
        };
        let download = Download {
            parts: tokio::sync::Mutex::new(Parts::split(*cursor, target, parts)),
            writer,
            start,
            target,
            restarted,
            pushed,
            total,
        };
        let (first, second) =
            tokio::try_join!(self.fetch_part(&download, 0), self.fetch_part(&download, 1))?;
        *cursor = download.parts.into_inner().cursor();
        Ok(match (first, second) {
            (Fetched::Done, Fetched::Done) => Fetched::Done,
            _ => Fetched::Restart,
        })
    }

    /// Fetches part `index` of `download` (if there is one) by keyset pages, handing each to
    /// the writer with the cursor of everything handed over so far.
    async fn fetch_part(&self, download: &Download<'_>, index: usize) -> Result<Fetched> {
        let (mut after, through) = match download.parts.lock().await.get(index) {
            Some(part) => (part.after, part.through),
            None => return Ok(Fetched::Done),
        };
        loop {
            let rows = self.page(after, through).await?;
            let last = rows.iter().rev().find_map(version_of);
            if !rows.is_empty() && last.is_none_or(|version| version <= after) {
                // A page must move the cursor; one that does not would repeat forever.
                return Err(crate::Error::BadAnswer(format!(
                    "sync_rows: a page after version {after} did not move past it"
                )));
            }
            if let (Some(last), Some(through)) = (last, through) {
                if last > through {
                    return Err(crate::Error::BadAnswer(format!(
                        "sync_rows: a page up to version {through} went on to {last}"
                    )));
                }
            }
            let done = match through {
                // A bounded part ends with its bound, or with a page that has nothing left.
                Some(through) => last.is_none_or(|version| version == through),
                None => last.is_none_or(|version| version >= download.target),
            };
            after = match (done, through) {
                (true, Some(through)) => through,
                _ => last.unwrap_or(after),
            };
            let mut parts = download.parts.lock().await;
            parts.advance(index, after, done);
            let finished = parts.finished();
            if finished && download.start > 0 && !download.restarted {
                let end = self.inner.remote.head().await?;
                if download.start < end.purged_through {
                    return Ok(Fetched::Restart);
                }
            }
            // Sent under the lock: pages reach the writer in the order their cursors grow.
            if !rows.is_empty() || finished {
                download
                    .writer
                    .send(PulledPage {
                        rows,
                        next_cursor: parts.cursor(),
                        has_more: !finished,
                    })
                    .await?;
            }
            drop(parts);
            if done {
                return Ok(Fetched::Done);
            }
            self.progress(
                download.pushed + download.writer.rows() as u64,
                Some(download.total),
            );
        }
    }

    /// One page after `after` (up to `through`), halving the page size after a statement
    /// timeout or an answer over [`crate::MAX_ANSWER_BYTES`] (down to one row; then the error
    /// stands).
    async fn page(&self, after: i64, through: Option<i64>) -> Result<Vec<Pulled>> {
        loop {
            let size = self.inner.page_limit.load(Ordering::Relaxed);
            match self.inner.remote.rows_through(after, through, size).await {
                Err(error)
                    if (is_statement_timeout(&error)
                        || matches!(error, crate::Error::TooLarge { .. }))
                        && size > 1 =>
                {
                    tracing::warn!(
                        %error,
                        from = size,
                        to = size / 2,
                        "a page was too slow or too large for the server or the client; \
                         pulling smaller pages"
                    );
                    self.inner.page_limit.store(size / 2, Ordering::Relaxed);
                    self.inner.timed_out.store(true, Ordering::Relaxed);
                }
                other => return other,
            }
        }
    }

    /// After a sync without a statement timeout, batch and page sizes grow back toward the
    /// configured ones.
    fn grow_limits(&self) {
        let push_max = self.inner.config.push_batch.clamp(1, 1000);
        let page_max = self.inner.config.pull_page.clamp(1, 1000);
        let push = self.inner.push_limit.load(Ordering::Relaxed);
        self.inner
            .push_limit
            .store(push.saturating_mul(2).min(push_max), Ordering::Relaxed);
        let page = self.inner.page_limit.load(Ordering::Relaxed);
        self.inner
            .page_limit
            .store(page.saturating_mul(2).min(page_max), Ordering::Relaxed);
    }

    fn progress(&self, done: u64, total: Option<u64>) {
        self.inner.status.send_modify(|s| {
            let total = match (&s.phase, total) {
                (_, Some(total)) => total,
                (SyncPhase::Syncing { total, .. }, None) => *total,
                _ => done,
            };
            s.phase = SyncPhase::Syncing {
                done,
                total: total.max(done),
            };
        });
    }

    async fn db<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Replica) -> bookwish_core::Result<R> + Send + 'static,
    ) -> Result<R> {
        let db = Arc::clone(&self.inner.db);
        Ok(tokio::task::spawn_blocking(move || f(&mut lock(&db))).await??)
    }

    /// Starts the run loop on the current tokio runtime. It syncs at once, then on every
    /// trigger, periodically, and after failures with backoff, until [`Trigger::Shutdown`],
    /// every [`SyncHandle`] is dropped, or the server says the account was deleted; the task
    /// answers which ([`Stopped`]).
    pub fn spawn(self) -> (SyncHandle, JoinHandle<Stopped>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = SyncHandle {
            triggers: tx,
            status: self.status(),
            changes: self.changes(),
        };
        let task = tokio::spawn(run(self, rx));
        (handle, task)
    }
}

/// How fetching one download's pages ended.
enum Fetched {
    /// Every page up to the head was handed to the writer.
    Done,
    /// A purge committed during the pull: download everything again.
    Restart,
}

/// Keyset chains a long download is split between ([`SyncEngine::fetch_pages`] joins two).
const CHAINS: usize = 2;
const _: () = assert!(CHAINS == 2, "fetch_pages joins exactly two chains");
/// A download is split when it spans at least this many full pages of versions.
const SPLIT_FROM_PAGES: i64 = 20;

/// One download shared by its chains.
struct Download<'a> {
    parts: tokio::sync::Mutex<Parts>,
    writer: &'a PageWriter,
    /// The cursor the download started from, and the head's version it goes to.
    start: i64,
    target: i64,
    /// Whether this is the full re-download after a purge that committed during a pull.
    restarted: bool,
    /// For the progress shown: mutations pushed before, and all there is to do.
    pushed: u64,
    total: u64,
}

/// The version range of one download in consecutive parts, and how far each has been handed
/// to the writer.
#[derive(Debug)]
struct Parts(Vec<Part>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Part {
    /// Every version of the part up to this one has been handed over.
    after: i64,
    /// The part's last version; `None` for the last part, which runs to the newest row.
    through: Option<i64>,
    done: bool,
}

impl Parts {
    /// `(cursor, target]` in `count` parts of equal width (one when it is too narrow).
    fn split(cursor: i64, target: i64, count: usize) -> Parts {
        let count = i64::try_from(count.max(1)).unwrap_or(1);
        let width = (target - cursor) / count;
        if width < 1 {
            return Parts(vec![Part {
                after: cursor,
                through: None,
                done: false,
            }]);
        }
        Parts(
            (0..count)
                .map(|i| Part {
                    after: cursor + i * width,
                    through: (i + 1 < count).then_some(cursor + (i + 1) * width),
                    done: false,
                })
                .collect(),
        )
    }

    fn get(&self, index: usize) -> Option<Part> {
        self.0.get(index).copied()
    }

    fn advance(&mut self, index: usize, after: i64, done: bool) {
        if let Some(part) = self.0.get_mut(index) {
            part.after = after;
            part.done = done;
        }
    }

    fn finished(&self) -> bool {
        self.0.iter().all(|part| part.done)
    }

    /// The cursor a crash may resume from: the end of what was handed over of the first part
    /// not fetched to its end (parts after it may have been handed over in part only).
    fn cursor(&self) -> i64 {
        self.0
            .iter()
            .find(|part| !part.done)
            .or(self.0.last())
            .map_or(0, |part| part.after)
    }
}

/// Rows a transaction of the pull takes at most (then it commits, cursor included).
const ROWS_PER_TRANSACTION: usize = 10_000;
/// How long a transaction lasts at most before it commits the pages it has, so a slow network
/// still shows progress and a crash repeats little.
const TRANSACTION_WAIT: Duration = Duration::from_millis(400);
/// How long an open transaction waits for the next page before it commits the pages it has:
/// it holds the write lock meanwhile, which a local edit waits for. A fast download's pages
/// come every few milliseconds.
const PAGE_GRACE: Duration = Duration::from_millis(25);
/// Pages fetched ahead of the writer at most.
const PAGES_AHEAD: usize = 12;

/// Writes pulled pages while the next ones are fetched, on a blocking thread: a transaction
/// begins with the first page that arrives, applies each following page as it comes (up to
/// [`ROWS_PER_TRANSACTION`] rows, until [`TRANSACTION_WAIT`] has passed, or until no page came
/// for [`PAGE_GRACE`]), and moves the cursor to its last page's end as it commits.
struct PageWriter {
    pages: mpsc::Sender<PulledPage>,
    rows: Arc<AtomicUsize>,
    task: JoinHandle<Result<bookwish_core::PullOutcome>>,
}

impl PageWriter {
    fn start(db: Arc<Mutex<Replica>>) -> PageWriter {
        let (pages, mut incoming) = mpsc::channel::<PulledPage>(PAGES_AHEAD);
        let rows = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&rows);
        let runtime = tokio::runtime::Handle::current();
        let task = tokio::task::spawn_blocking(move || {
            let mut total = bookwish_core::PullOutcome::default();
            while let Some(first) = runtime.block_on(incoming.recv()) {
                let deadline = Instant::now() + TRANSACTION_WAIT;
                let mut first = Some(first);
                let mut size = 0;
                let mut end = false;
                let done = lock(&db).apply_pages_from(|| {
                    let page = match first.take() {
                        Some(page) => page,
                        None if end || size >= ROWS_PER_TRANSACTION => return None,
                        None => {
                            let wait = deadline.min(Instant::now() + PAGE_GRACE);
                            runtime
                                .block_on(tokio::time::timeout_at(wait, incoming.recv()))
                                .ok()??
                        }
                    };
                    size += page.rows.len();
                    end = !page.has_more;
                    Some(page)
                })?;
                counted.fetch_add(done.rows, Ordering::Relaxed);
                total.rows += done.rows;
                total.changed += done.changed;
            }
            Ok(total)
        });
        PageWriter { pages, rows, task }
    }

    /// Hands a page over; fails only if the writer stopped (its error comes from `finish`).
    async fn send(&self, page: PulledPage) -> Result<()> {
        self.pages.send(page).await.map_err(|_| {
            crate::Error::BadAnswer("the pull's writer stopped before the last page".into())
        })
    }

    /// Rows written so far.
    fn rows(&self) -> usize {
        self.rows.load(Ordering::Relaxed)
    }

    /// Writes the pages handed over and not yet written, then reports.
    async fn finish(self) -> Result<bookwish_core::PullOutcome> {
        drop(self.pages);
        self.task.await?
    }
}

/// The server version of a pulled row, when it could be read.
fn version_of(row: &Pulled) -> Option<i64> {
    match row {
        Pulled::Book(book) => Some(book.version),
        Pulled::Undecodable { version, .. } => *version,
    }
}

/// A poisoned lock only means a panic elsewhere; the connection itself is still usable.
fn lock(db: &Mutex<Replica>) -> std::sync::MutexGuard<'_, Replica> {
    db.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How the shell talks to a running engine: triggers in, status out. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SyncHandle {
    triggers: mpsc::UnboundedSender<Trigger>,
    status: watch::Receiver<SyncStatus>,
    changes: watch::Receiver<u64>,
}

impl SyncHandle {
    /// Asks the run loop to sync for `trigger`'s reason. Returns false once the loop has ended.
    pub fn trigger(&self, trigger: Trigger) -> bool {
        self.triggers.send(trigger).is_ok()
    }

    /// A local edit was committed (debounced).
    pub fn local_edit(&self) -> bool {
        self.trigger(Trigger::LocalEdit)
    }

    /// "Sync now".
    pub fn sync_now(&self) -> bool {
        self.trigger(Trigger::SyncNow)
    }

    /// The status, to read (`borrow()`) or await changes of (`changed()`).
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Bumped after each sync that changed books here; a sync that changed nothing (the echo
    /// of this device's own edits, nothing new) leaves it.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    /// Stops the run loop after the sync in progress, if any.
    pub fn shutdown(&self) {
        let _ = self.triggers.send(Trigger::Shutdown);
    }
}

/// Full jitter: a uniformly random wait in [0, min(max, base * 2^attempt)].
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let ceiling = base
        .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .min(max);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=millis))
}

async fn run<T: TokenSource>(
    engine: SyncEngine<T>,
    mut triggers: mpsc::UnboundedReceiver<Trigger>,
) -> Stopped {
    let config = engine.inner.config.clone();
    if let Some(profile) = &config.profile {
        match engine.inner.remote.upsert_profile(profile).await {
            Ok(()) => tracing::info!("profile saved to Supabase"),
            // The sync below hears the same refusal and ends the loop.
            Err(error) if error.is_account_deleted() => {
                tracing::warn!(%error, "the account was deleted on the server");
            }
            Err(error) => tracing::warn!(%error, "saving the profile to Supabase failed"),
        }
    }
    let mut due = true;
    let mut debounce: Option<Instant> = None;
    let mut retry: Option<Instant> = None;
    let mut attempt = 0u32;
    let mut periodic = Instant::now() + config.periodic;
    loop {
        if !due {
            let wake = [debounce, retry, Some(periodic)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(periodic);
            tokio::select! {
                trigger = triggers.recv() => match trigger {
                    None | Some(Trigger::Shutdown) => return Stopped::Shutdown,
                    Some(Trigger::LocalEdit) => {
                        // Debounced, and never earlier than a retry the server asked for.
                        let at = Instant::now() + config.debounce;
                        debounce = Some(retry.map_or(at, |r| r.max(at)));
                        if let Err(error) = engine.refresh_pending().await {
                            tracing::warn!(%error, "could not count pending changes");
                        }
                    }
                    Some(Trigger::Focus) => {
                        if retry.is_none() {
                            due = true;
                        }
                    }
                    Some(Trigger::SignedIn | Trigger::NetworkUp | Trigger::SyncNow) => due = true,
                },
                () = tokio::time::sleep_until(wake) => {
                    let now = Instant::now();
                    for slot in [&mut debounce, &mut retry] {
                        if slot.is_some_and(|at| at <= now) {
                            *slot = None;
                            due = true;
                        }
                    }
                    if periodic <= now {
                        due = true;
                    }
                }
            }
            continue;
        }
        due = false;
        debounce = None;
        retry = None;
        let result = engine.sync_once().await;
        periodic = Instant::now() + config.periodic;
        match result {
            Ok(_) => attempt = 0,
            Err(error) if error.is_account_deleted() => {
                // Every later request would be refused the same way: stop for good.
                tracing::warn!(%error, "the account was deleted on the server; sync stops");
                return Stopped::AccountDeleted;
            }
            Err(error) if error.is_retryable() => {
                attempt = attempt.saturating_add(1);
                let ceiling = if error.is_cheap_to_retry() {
                    config.backoff_max.min(config.offline_probe_max)
                } else {
                    config.backoff_max
                };
                // The server's Retry-After is honoured up to the backoff maximum: a server
                // (or anything in its place) cannot park sync for longer, or overflow the
                // clock with a huge value.
                let wait = error.retry_after().map_or_else(
                    || backoff(config.backoff_base, ceiling, attempt),
                    |asked| asked.min(config.backoff_max),
                );
                tracing::debug!(?wait, attempt, "sync will retry");
                retry = Instant::now().checked_add(wait);
                if retry.is_none() {
                    tracing::warn!(
                        ?wait,
                        "a retry delay past the clock's range; waiting for a trigger"
                    );
                }
            }
            Err(error) => {
                // Signed out, refused: retrying the same request will not help; wait for a
                // trigger (sign-in, "sync now") or the periodic sync.
                tracing::warn!(%error, "sync stopped until the next trigger");
                attempt = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_splits_into_consecutive_parts_the_last_one_open() {
        let parts = Parts::split(100, 200_100, 2);
        assert_eq!(
            parts.0,
            vec![
                Part {
                    after: 100,
                    through: Some(100_100),
                    done: false
                },
                Part {
                    after: 100_100,
                    through: None,
                    done: false
                },
            ],
            "the parts cover (cursor, target] and beyond without a gap"
        );
        assert_eq!(
            Parts::split(5, 5, 2).0.len(),
            1,
            "an empty range is one open part"
        );
    }

    #[test]
    fn the_cursor_moves_only_through_parts_fetched_to_their_end() {
        let mut parts = Parts::split(0, 2_000, 2);
        assert_eq!(parts.cursor(), 0, "nothing handed over yet");
        parts.advance(1, 1_500, false);
        assert_eq!(
            parts.cursor(),
            0,
            "the second part's pages move no cursor while the first is unfinished"
        );
        parts.advance(0, 700, false);
        assert_eq!(
            parts.cursor(),
            700,
            "the first part's progress is the cursor"
        );
        parts.advance(0, 1_000, true);
        assert_eq!(
            parts.cursor(),
            1_500,
            "once the first part is complete, the second one's progress counts"
        );
        assert!(!parts.finished(), "the last part is still open");
        parts.advance(1, 2_000, true);
        assert!(parts.finished(), "every part is complete");
        assert_eq!(
            parts.cursor(),
            2_000,
            "the cursor is the end of the last part"
        );
    }

    #[test]
    fn backoff_stays_within_the_doubling_ceiling() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        for attempt in 0..40 {
            let ceiling = base
                .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
                .min(max);
            for _ in 0..50 {
                let wait = backoff(base, max, attempt);
                assert!(
                    wait <= ceiling,
                    "full jitter never waits past min(max, base*2^attempt): {wait:?} > {ceiling:?}"
                );
            }
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(
            crate::remote::parse_retry_after("7"),
            Some(Duration::from_secs(7)),
            "Retry-After in seconds"
        );
        assert_eq!(
            crate::remote::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past means retry now"
        );
        assert_eq!(
            crate::remote::parse_retry_after("soon"),
            None,
            "junk is ignored"
        );
    }
}
