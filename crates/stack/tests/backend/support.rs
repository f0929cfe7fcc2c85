//! Shared test support: one stack per test binary, clients for PostgREST, devices that stamp
//! mutations, and the RLS audit record.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use bookwish_stack::{Stack, StackOptions, TestUser, Tokens};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::OnceCell;
use uuid::Uuid;

static STACK: OnceCell<Stack> = OnceCell::const_new();

/// The stack shared by every test in this binary. Tests keep apart by user (alice and bob for
/// RLS, carol and dave for sync) and by fresh book and device ids. It lives in a static, so its
/// destructor never runs: the stack's reaper stops every process when the test binary exits.
pub async fn stack() -> &'static Stack {
    STACK
        .get_or_init(|| async {
            // PostgREST explains its own queries on request here (never on a deployed stack).
            let stack = Stack::start(StackOptions {
                explain: true,
                ..StackOptions::default()
            })
            .await
            .expect("the local stack (PostgreSQL, PostgREST, IdP) must start");
            eprintln!("local stack started in {:?}", stack.started_in());
            stack
        })
        .await
}

/// Tokens from the provider's real authorization-code + PKCE flow.
pub async fn login(user: TestUser) -> Tokens {
    stack()
        .await
        .login(user.username, user.password)
        .await
        .unwrap_or_else(|e| panic!("{} must be able to sign in: {e}", user.username))
}

/// A PostgREST client with one bearer token (or none).
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// A response: status and body (JSON, or the raw text as a JSON string).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The error message PostgREST reported (empty if none).
    pub fn message(&self) -> String {
        self.body["message"].as_str().unwrap_or_default().to_owned()
    }
}

impl Api {
    pub async fn new(token: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: stack().await.rest_url(),
            token: token.map(str::to_owned),
        }
    }

    pub async fn as_user(user: TestUser) -> Self {
        let tokens = login(user).await;
        Self::new(Some(&tokens.access_token)).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let mut req = req
            .header("apikey", "local-stack-anon-key")
            .header("Prefer", "return=representation");
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("PostgREST must answer");
        let status = resp.status();
        let text = resp.text().await.expect("PostgREST must send a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    /// GET with extra headers (e.g. PostgREST's plan media type).
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.send(req).await
    }

    /// One keyset page of the pull (`GET /sync_rows`), as the app reads it.
    pub async fn rows(&self, after: i64, limit: i64) -> Reply {
        self.get(&format!(
            "/sync_rows?select=*&version=gt.{after}&order=version&limit={limit}"
        ))
        .await
    }

    /// The pull's head: (server_version, purged_through), 0s before the first write.
    pub async fn head(&self) -> (i64, i64) {
        let reply = self.get("/sync_state?select=seq,purged_through").await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "the head must be readable: {reply:?}"
        );
        let row = &reply.body[0];
        (
            row["seq"].as_i64().unwrap_or(0),
            row["purged_through"].as_i64().unwrap_or(0),
        )
    }

    /// Every row after `after` through the keyset pull: pages until one is empty or reaches
    /// the head read first (never stopping on a short page).
    pub async fn rows_all(&self, mut after: i64, limit: i64) -> Vec<Value> {
        let (target, _) = self.head().await;
        let mut rows = Vec::new();
        loop {
            let reply = self.rows(after, limit).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "a page must be served: {reply:?}"
            );
            let page = reply.body.as_array().cloned().unwrap_or_default();
            let Some(last) = page.last().and_then(|r| r["version"].as_i64()) else {
                return rows;
            };
            after = last;
            rows.extend(page);
            if last >= target {
                return rows;
            }
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> Reply {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(body.to_owned()),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(self.http.patch(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    pub async fn push(&self, device: Uuid, mutations: &[Value]) -> Reply {
        self.post(
            "/rpc/sync_push",
            &json!({ "device_id": device, "mutations": mutations }),
        )
        .await
    }

    /// Pushes and returns the per-mutation results, asserting the call itself succeeded.
    pub async fn push_ok(&self, device: Uuid, mutations: &[Value]) -> Vec<Value> {
        let reply = self.push(device, mutations).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "a well-formed push must succeed: {reply:?}"
        );
        reply.body["results"]
            .as_array()
            .expect("sync_push returns results")
            .clone()
    }

    pub async fn pull(&self, after: i64, max: i64) -> Reply {
        self.post("/rpc/sync_pull", &json!({ "after": after, "max": max }))
            .await
    }

    /// Pulls every page after `after` and returns the rows in the order received.
    pub async fn pull_all(&self, mut after: i64, max: i64) -> Vec<Value> {
        let mut rows = Vec::new();
        loop {
            let reply = self.pull(after, max).await;
            assert_eq!(reply.status, StatusCode::OK, "pull must succeed: {reply:?}");
            rows.extend(reply.body["rows"].as_array().cloned().unwrap_or_default());
            after = reply.body["next_cursor"].as_i64().expect("next_cursor");
            if !reply.body["has_more"].as_bool().expect("has_more") {
                return rows;
            }
        }
    }
}

/// A device: its id and a hybrid logical clock producing the stamps clients send
/// (`<13-digit millis>-<6-digit counter>-<device>`).
pub struct Device {
    pub id: Uuid,
    counter: u32,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

impl Device {
    pub fn new() -> Self {
        Self {
            id: Uuid::now_v7(),
            counter: 0,
        }
    }

    pub fn stamp_at(&mut self, millis: u64) -> String {
        self.counter += 1;
        format!("{millis:013}-{:06}-{}", self.counter, self.id)
    }

    pub fn mutation(&mut self, book: Uuid, base: Option<i64>, patch: Value) -> Value {
        let stamp = self.stamp_at(now_ms());
        self.mutation_stamped(book, base, patch, stamp)
    }

    pub fn mutation_stamped(
        &mut self,
        book: Uuid,
        base: Option<i64>,
        patch: Value,
        stamp: String,
    ) -> Value {
        json!({
            "mutation_id": Uuid::now_v7(),
            "book_id": book,
            "base_version": base,
            "hlc": stamp,
            "patch": patch,
        })
    }
}

/// A fresh client-generated book id (UUIDv7, as the app makes them).
pub fn book_id() -> Uuid {
    Uuid::now_v7()
}

/// Superuser SQL, for checking what really is in the database.
pub async fn sql(query: &str) -> String {
    stack()
        .await
        .psql(query)
        .await
        .unwrap_or_else(|e| panic!("superuser SQL must run ({query}): {e}"))
}

/// Number of rows in books with this id, whoever owns them.
pub async fn books_with_id(id: Uuid) -> i64 {
    sql(&format!("select count(*) from books where id = '{id}'"))
        .await
        .parse()
        .expect("a count")
}

/// The user's version counter (sync_state.seq), 0 before first use.
pub async fn seq_of(sub: &str) -> i64 {
    sql(&format!(
        "select coalesce((select seq from sync_state where user_id = '{sub}'), 0)"
    ))
    .await
    .parse()
    .expect("a number")
}

struct AuditRow {
    case: String,
    expected: String,
    observed: String,
    passed: bool,
}

static AUDIT: Mutex<Vec<AuditRow>> = Mutex::new(Vec::new());

/// Records one RLS audit case in test-output/rls-audit.md, then asserts it.
pub fn audit(case: &str, expected: &str, observed: String, passed: bool) {
    let mut rows = AUDIT.lock().unwrap_or_else(|e| e.into_inner());
    rows.retain(|r| r.case != case);
    rows.push(AuditRow {
        case: case.to_owned(),
        expected: expected.to_owned(),
        observed: observed.clone(),
        passed,
    });
    rows.sort_by(|a, b| a.case.cmp(&b.case));
    let mut table = String::from(
        "# RLS audit (crates/stack/tests/backend/rls.rs)\n\n\
         | case | expected | observed | pass |\n|---|---|---|---|\n",
    );
    for r in rows.iter() {
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.case,
            r.expected,
            r.observed.replace('|', "\\|").replace('\n', " "),
            if r.passed { "yes" } else { "NO" }
        ));
    }
    let dir = bookwish_stack::repo_root().join("test-output");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("rls-audit.md"), table);
    drop(rows);
    assert!(
        passed,
        "RLS audit: {case}: expected {expected}, observed {observed}"
    );
}

/// Shortens a response body for the audit table.
pub fn brief(reply: &Reply) -> String {
    let body = match &reply.body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let short: String = body.chars().take(90).collect();
    format!("{} {}", reply.status.as_u16(), short)
}

/// A database of its own in the stack's cluster, for tests of a migration applied to rows an
/// older schema stored: the migrations are applied one file at a time, as the owner, each in
/// one transaction (as the stack and hosted Supabase apply them). Dropped by
/// [`ScratchDb::drop_now`].
pub struct ScratchDb {
    name: String,
    owner: String,
    superuser: String,
}

impl ScratchDb {
    /// Creates an empty database owned by the migrations' role.
    pub async fn new(prefix: &str) -> ScratchDb {
        let s = stack().await;
        let name = format!("{prefix}_{}", Uuid::new_v4().simple());
        sql(&format!("create database {name} owner postgres")).await;
        let in_db = |url: String| {
            format!(
                "{}/{name}",
                url.strip_suffix("/postgres")
                    .expect("a URL ending in the database")
            )
        };
        ScratchDb {
            owner: in_db(s.owner_url()),
            superuser: in_db(s.db_url()),
            name,
        }
    }

    /// Applies `migrations/*.sql` from the `from`-th (0-based) to before the `to`-th, as the owner.
    pub async fn migrate(&self, from: usize, to: usize) {
        let migrations = bookwish_stack::migrations().expect("the migrations");
        for m in migrations.iter().take(to).skip(from) {
            psql(&self.owner, &["-f", &m.display().to_string()]).await;
        }
    }

    /// Runs `script` (one transaction) as the superuser and returns its unaligned output.
    pub async fn sql(&self, script: &str) -> String {
        psql(&self.superuser, &["-c", script]).await
    }

    /// Drops the database.
    pub async fn drop_now(self) {
        sql(&format!("drop database {} with (force)", self.name)).await;
    }
}

/// `psql` against `url`: quiet, unaligned, tuples only, stopping at the first error, in one
/// transaction. Returns the output trimmed; panics with psql's message if it fails.
async fn psql(url: &str, args: &[&str]) -> String {
    let out = tokio::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-1",
            "-d",
            url,
        ])
        .args(args)
        .output()
        .await
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql must succeed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
