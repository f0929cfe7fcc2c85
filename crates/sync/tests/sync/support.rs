//! Shared test support: one local stack per test binary, users leased one test at a time (their
//! server rows reset on lease), tokens from the provider's real login, devices (a database file,
//! its Store and a SyncEngine), and a TCP proxy that injects network faults.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bookwish_core::Store;
use bookwish_stack::{Stack, StackOptions, TestUser, CLIENT_ID, USERS};
use bookwish_sync::{SyncConfig, SyncEngine, TokenError, TokenSource};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OnceCell, OwnedMutexGuard};

static STACK: OnceCell<Stack> = OnceCell::const_new();
static LEASES: OnceCell<Vec<Arc<tokio::sync::Mutex<()>>>> = OnceCell::const_new();

/// The stack shared by every test in this binary (its reaper stops it when the binary exits).
/// Tests that stop PostgREST use [`private_stack`] instead, so they never disturb the others.
pub async fn stack() -> &'static Stack {
    STACK
        .get_or_init(|| async {
            let stack = Stack::start(StackOptions::default())
                .await
                .expect("the local stack (PostgreSQL, PostgREST, IdP) must start");
            eprintln!("local stack started in {:?}", stack.started_in());
            stack
        })
        .await
}

/// A stack of the test's own (for faults that stop PostgREST).
pub async fn private_stack() -> Stack {
    Stack::start(StackOptions {
        seed: false,
        ..StackOptions::default()
    })
    .await
    .expect("a private local stack must start")
}

/// Exclusive use of one test user on one stack; the user's books and ledger are emptied first.
pub struct Lease {
    pub user: TestUser,
    _guard: OwnedMutexGuard<()>,
}

/// Leases a free user of the shared stack (waits if all four are taken).
pub async fn lease() -> Lease {
    let locks = LEASES
        .get_or_init(|| async {
            USERS
                .iter()
                .map(|_| Arc::new(tokio::sync::Mutex::new(())))
                .collect()
        })
        .await;
    let (user, guard) = loop {
        if let Some((i, guard)) = locks
            .iter()
            .enumerate()
            .find_map(|(i, l)| Arc::clone(l).try_lock_owned().ok().map(|g| (i, g)))
        {
            break (USERS[i], guard);
        }
        let i = fastrand::usize(0..locks.len());
        if let Ok(guard) = tokio::time::timeout(
            Duration::from_millis(200),
            Arc::clone(&locks[i]).lock_owned(),
        )
        .await
        {
            break (USERS[i], guard);
        }
    };
    reset_user(stack().await, user).await;
    Lease {
        user,
        _guard: guard,
    }
}

/// Empties `user`'s rows on the server (as superuser: RLS does not apply).
pub async fn reset_user(stack: &Stack, user: TestUser) {
    stack
        .psql(&format!(
            "delete from public.books where user_id = '{0}'; \
             delete from public.sync_ledger where user_id = '{0}';",
            user.sub
        ))
        .await
        .expect("resetting a user's server rows must work");
}

/// Tokens from the provider's login; `refresh` uses the refresh token (it rotates).
pub struct LoginTokens {
    issuer: String,
    access: Mutex<String>,
    refresh_token: Mutex<Option<String>>,
    pub refreshes: AtomicUsize,
}

impl LoginTokens {
    pub async fn login(stack: &Stack, user: TestUser) -> Arc<LoginTokens> {
        let tokens = stack
            .login(user.username, user.password)
            .await
            .unwrap_or_else(|e| panic!("{} must be able to sign in: {e}", user.username));
        Arc::new(LoginTokens::from_tokens(stack.issuer(), tokens))
    }

    pub fn from_tokens(issuer: &str, tokens: bookwish_stack::Tokens) -> LoginTokens {
        LoginTokens {
            issuer: issuer.to_owned(),
            access: Mutex::new(tokens.access_token),
            refresh_token: Mutex::new(tokens.refresh_token),
            refreshes: AtomicUsize::new(0),
        }
    }

    /// Replaces the access token (e.g. with a forged one the server refuses).
    pub fn set_access(&self, token: &str) {
        *self.access.lock().unwrap() = token.to_owned();
    }

    pub fn access(&self) -> String {
        self.access.lock().unwrap().clone()
    }
}

/// Lets several engines share one login.
#[derive(Clone)]
pub struct Shared(pub Arc<LoginTokens>);

impl TokenSource for Shared {
    async fn access_token(&self) -> Result<String, TokenError> {
        Ok(self.0.access())
    }

    async fn refresh(&self) -> Result<String, TokenError> {
        let me = &self.0;
        me.refreshes.fetch_add(1, Ordering::SeqCst);
        let refresh_token = me
            .refresh_token
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| TokenError::SignedOut("no refresh token".into()))?;
        let tokens = bookwish_stack::refresh(&me.issuer, CLIENT_ID, &refresh_token)
            .await
            .map_err(|e| TokenError::SignedOut(e.to_string()))?;
        *me.refresh_token.lock().unwrap() = tokens.refresh_token.clone();
        me.set_access(&tokens.access_token);
        Ok(tokens.access_token)
    }
}

/// One device: its database file, the app's Store on it, and a sync engine on it.
pub struct Device {
    _dir: Option<tempfile::TempDir>,
    pub path: PathBuf,
    pub store: Store,
    pub engine: SyncEngine<Shared>,
}

impl Device {
    pub fn new(rest_url: &str, tokens: &Arc<LoginTokens>) -> Device {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("books.sqlite3");
        let mut device = Device::open(path, rest_url, tokens);
        device._dir = Some(dir);
        device
    }

    /// A device on an existing file (a restarted app).
    pub fn open(path: PathBuf, rest_url: &str, tokens: &Arc<LoginTokens>) -> Device {
        let store = Store::open(&path).expect("the store must open");
        let engine = SyncEngine::open(&path, config(rest_url), http(), Shared(Arc::clone(tokens)))
            .expect("the engine must open");
        Device {
            _dir: None,
            path,
            store,
            engine,
        }
    }

    /// Adds a book through the store, panicking with the reason if it is refused.
    pub fn store_add(&mut self, draft: &bookwish_ipc::BookDraft) -> bookwish_ipc::Book {
        self.store
            .add(draft)
            .unwrap_or_else(|e| panic!("adding {:?} must work: {e}", draft.title))
    }

    /// Syncs and panics with the reason if it fails.
    pub async fn sync(&self) -> bookwish_sync::SyncReport {
        self.engine
            .sync_once()
            .await
            .unwrap_or_else(|e| panic!("sync must succeed: {e:?}"))
    }

    /// Every book row (tombstones too), synced fields only, by id.
    pub fn books(&self) -> BTreeMap<String, Value> {
        local_books(&self.path)
    }

    /// Rows still in the outbox.
    pub fn pending(&self) -> i64 {
        #[allow(clippy::disallowed_methods)] // reads what the core stored, behind its back
        rusqlite::Connection::open(&self.path)
            .unwrap()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap()
    }
}

pub fn config(rest_url: &str) -> SyncConfig {
    let mut config = SyncConfig::new(rest_url, "local-stack-anon-key");
    config.debounce = Duration::from_millis(50);
    config.backoff_base = Duration::from_millis(20);
    config.backoff_max = Duration::from_millis(200);
    config.push_batch = 200;
    config
}

/// The app's client shape: timeouts, no redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

const FIELDS_SQL: &str =
    "title, author, status, notes, rating, started_on, finished_on, deleted, isbn";

/// Synced fields of every local book, by id, as JSON (deleted as a bool).
pub fn local_books(path: &std::path::Path) -> BTreeMap<String, Value> {
    #[allow(clippy::disallowed_methods)] // reads what the core stored, behind its back
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut statement = conn
        .prepare(&format!("SELECT id, {FIELDS_SQL} FROM books"))
        .unwrap();
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                serde_json::json!({
                    "title": r.get::<_, String>(1)?,
                    "author": r.get::<_, String>(2)?,
                    "status": r.get::<_, String>(3)?,
                    "notes": r.get::<_, String>(4)?,
                    "rating": r.get::<_, Option<i64>>(5)?,
                    "started_on": r.get::<_, Option<String>>(6)?,
                    "finished_on": r.get::<_, Option<String>>(7)?,
                    "deleted": r.get::<_, bool>(8)?,
                    "isbn": r.get::<_, Option<String>>(9)?,
                }),
            ))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Synced fields of every server book of `user`, by id, read with psql (not through the app).
pub async fn server_books(stack: &Stack, user: TestUser) -> BTreeMap<String, Value> {
    let out = stack
        .psql(&format!(
            "select coalesce(json_object_agg(id, json_build_object(\
               'title', title, 'author', author, 'status', status, 'notes', notes, \
               'rating', rating, 'started_on', started_on, 'finished_on', finished_on, \
               'deleted', deleted, 'isbn', isbn)), '{{}}') from public.books where user_id = '{}'",
            user.sub
        ))
        .await
        .expect("psql must read the books");
    let map: serde_json::Map<String, Value> = serde_json::from_str(&out).expect("psql prints JSON");
    map.into_iter().collect()
}

/// The user's version counter: one bump per applied write, so it counts applies exactly.
pub async fn server_seq(stack: &Stack, user: TestUser) -> i64 {
    stack
        .psql(&format!(
            "select coalesce((select seq from public.sync_state where user_id = '{}'), 0)",
            user.sub
        ))
        .await
        .expect("psql must read the counter")
        .parse()
        .expect("a number")
}

/// Each book's server version in the file at `path`, by id, and the pull cursor saved there.
pub fn local_versions_and_cursor(path: &std::path::Path) -> (BTreeMap<String, i64>, i64) {
    #[allow(clippy::disallowed_methods)] // reads what the core stored, behind its back
    let conn = rusqlite::Connection::open(path).unwrap();
    let versions = conn
        .prepare("SELECT id, server_version FROM books WHERE server_version IS NOT NULL")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let cursor = conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM sync_meta WHERE key = 'sync_cursor'",
            [],
            |row| row.get(0),
        )
        .unwrap_or(0);
    (versions, cursor)
}

/// Polls `check` until it holds or `deadline` passes.
pub async fn eventually<F, Fut>(deadline: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return;
        }
        assert!(start.elapsed() < deadline, "{what} (waited {deadline:?})");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How the proxy treats connections.
#[derive(Default)]
pub struct Faults {
    /// Close new connections at once (the server is unreachable).
    pub refuse: AtomicBool,
    /// Cut the next sync_push's connection after the request reached the server, before its
    /// answer reaches the client (the server has committed; the client never hears of it).
    pub cut_next_push: AtomicBool,
    /// The same for a pull page (`GET /sync_rows`).
    pub cut_next_pull: AtomicBool,
    /// sync_push requests forwarded.
    pub pushes: AtomicUsize,
    /// Pull pages (`GET /sync_rows`) forwarded.
    pub pulls: AtomicUsize,
    /// Those of them bounded above (`version=lte.`): one part of a download split in two.
    pub bounded_pulls: AtomicUsize,
    /// Answers cut.
    pub cuts: AtomicUsize,
}

/// A TCP proxy in front of PostgREST that injects [`Faults`].
pub struct Proxy {
    pub url: String,
    pub faults: Arc<Faults>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    pub async fn start(upstream_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let faults = Arc::new(Faults::default());
        let shared = Arc::clone(&faults);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let faults = Arc::clone(&shared);
                tokio::spawn(async move {
                    if faults.refuse.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)).await
                    else {
                        return;
                    };
                    proxy_connection(client, upstream, faults).await;
                });
            }
        });
        Proxy {
            url: format!("http://127.0.0.1:{port}"),
            faults,
            task,
        }
    }
}

async fn proxy_connection(client: TcpStream, upstream: TcpStream, faults: Arc<Faults>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut up_read, mut up_write) = upstream.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let cut_up = Arc::clone(&cut);
    let faults_up = Arc::clone(&faults);
    let to_server = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if faults_up.refuse.load(Ordering::SeqCst) {
                return;
            }
            let head = &buf[..n.min(64)];
            if head.starts_with(b"POST /rpc/sync_push") {
                faults_up.pushes.fetch_add(1, Ordering::SeqCst);
                if faults_up.cut_next_push.swap(false, Ordering::SeqCst) {
                    cut_up.store(true, Ordering::SeqCst);
                }
            } else if head.starts_with(b"GET /sync_rows")
                || head.starts_with(b"POST /rpc/sync_pull")
            {
                faults_up.pulls.fetch_add(1, Ordering::SeqCst);
                let line = buf[..n].split(|&b| b == b'\n').next().unwrap_or_default();
                if line.windows(12).any(|w| w == b"version=lte.") {
                    faults_up.bounded_pulls.fetch_add(1, Ordering::SeqCst);
                }
                if faults_up.cut_next_pull.swap(false, Ordering::SeqCst) {
                    cut_up.store(true, Ordering::SeqCst);
                }
            }
            if up_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let to_client = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match up_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if cut.load(Ordering::SeqCst) {
                // The server answered, so it committed: drop the answer and the connection.
                faults.cuts.fetch_add(1, Ordering::SeqCst);
                return;
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = to_server => {}
        () = to_client => {}
    }
}

/// Returns once the wall clock has moved past the current millisecond, so the next edit's stamp
/// is strictly later than any made before this call.
pub async fn next_millisecond() {
    let now = bookwish_core::hlc::wall_ms();
    while bookwish_core::hlc::wall_ms() <= now + 1 {
        tokio::task::yield_now().await;
    }
}
