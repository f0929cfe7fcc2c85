//! One local stack per test binary with the real `bookwish-hooks` binary in front of it,
//! deliveries signed with svix (the library the service verifies with), and the record of
//! request cases written to test-output/hooks-cases.md.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use bookwish_stack::{HooksOptions, Stack, StackOptions, TestUser};
use reqwest::StatusCode;
use serde_json::{json, Value};
use svix::webhooks::Webhook;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The secret Clerk signs with now, and the one it signed with before the rotation: the service
/// is configured with both.
pub const SECRET_NEW: &str = "whsec_bmV3LXNlY3JldC1mb3ItdGhlLWhvb2tzLXRlc3Rz";
pub const SECRET_OLD: &str = "whsec_b2xkLXNlY3JldC1mb3ItdGhlLWhvb2tzLXRlc3Rz";
/// A secret the service does not know.
pub const SECRET_WRONG: &str = "whsec_d3Jvbmctc2VjcmV0LW5vYm9keS1jb25maWd1cmVk";

static STACK: OnceCell<Stack> = OnceCell::const_new();

/// The stack shared by every test here, with the receiver started from this crate's binary.
/// It lives in a static, so the stack's reaper stops everything when the test binary exits.
pub async fn stack() -> &'static Stack {
    STACK
        .get_or_init(|| async {
            let stack = Stack::start(StackOptions::default())
                .await
                .expect("the local stack (PostgreSQL, PostgREST, IdP) must start");
            stack
                .start_hooks(&HooksOptions {
                    binary: env!("CARGO_BIN_EXE_bookwish-hooks").into(),
                    secrets: vec![SECRET_NEW.into(), SECRET_OLD.into()],
                    port: 0,
                })
                .await
                .expect("bookwish-hooks must start and answer /health");
            stack
        })
        .await
}

pub async fn hooks_url() -> String {
    stack()
        .await
        .hooks_url()
        .expect("the receiver runs while the stack does")
}

pub fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// A fresh Clerk-shaped user id, so tests never share a user by accident.
pub fn fresh_user() -> String {
    format!("user_t{}", Uuid::now_v7().simple())
}

/// A fresh Svix message id.
pub fn fresh_msg() -> String {
    format!("msg_{}", Uuid::now_v7().simple())
}

/// Clerk's envelope around `data`.
pub fn envelope(kind: &str, data: Value) -> String {
    json!({
        "object": "event",
        "type": kind,
        "data": data,
        "timestamp": now_ms(),
        "instance_id": "ins_2bookwishtest",
        "event_attributes": {"http_request": {"client_ip": "127.0.0.1", "user_agent": "test"}}
    })
    .to_string()
}

/// A Clerk User object as user.created / user.updated carry it.
pub fn clerk_user(id: &str, email: &str, first: &str, last: &str, updated_at: i64) -> Value {
    json!({
        "object": "user", "id": id, "username": null,
        "first_name": first, "last_name": last,
        "image_url": format!("https://img.clerk.test/{id}/{updated_at}"), "has_image": true,
        "primary_email_address_id": "idn_primary",
        "email_addresses": [
            {"id": "idn_other", "object": "email_address", "email_address": "other@bookwish.test",
             "verification": {"status": "verified", "strategy": "email_code"}, "linked_to": []},
            {"id": "idn_primary", "object": "email_address", "email_address": email,
             "verification": {"status": "verified", "strategy": "email_code"}, "linked_to": []}
        ],
        "phone_numbers": [], "web3_wallets": [], "external_accounts": [],
        "public_metadata": {}, "private_metadata": {}, "unsafe_metadata": {},
        "password_enabled": true, "two_factor_enabled": false,
        "created_at": updated_at - 1000, "updated_at": updated_at,
        "last_sign_in_at": null, "banned": false, "locked": false
    })
}

/// A Svix delivery: its id, timestamp, body and `svix-signature` header.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: String,
    pub timestamp: i64,
    pub body: Vec<u8>,
    pub signature: String,
}

/// Signs `body` as Svix does (`v1,<base64 HMAC>` over `id.timestamp.body`), with svix itself.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    Webhook::new(secret)
        .expect("a whsec_ secret")
        .sign(id, timestamp, body)
        .expect("svix signs UTF-8 bodies")
}

impl Delivery {
    /// A delivery signed now with the current secret.
    pub fn signed(body: impl Into<Vec<u8>>) -> Self {
        Self::signed_with(SECRET_NEW, fresh_msg(), now_s(), body)
    }

    pub fn signed_with(secret: &str, id: String, timestamp: i64, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let signature = sign(secret, &id, timestamp, &body);
        Self {
            id,
            timestamp,
            body,
            signature,
        }
    }

    /// Svix's retry of the same message: same id and body, a new timestamp and signature.
    pub fn redelivered(&self) -> Self {
        Self::signed_with(SECRET_NEW, self.id.clone(), now_s(), self.body.clone())
    }

    pub async fn send(&self) -> Reply {
        send(
            &[
                ("svix-id", self.id.clone()),
                ("svix-timestamp", self.timestamp.to_string()),
                ("svix-signature", self.signature.clone()),
            ],
            self.body.clone(),
        )
        .await
    }
}

/// A response: status and JSON body (or the raw text as a JSON string).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn result(&self) -> &str {
        self.body["result"].as_str().unwrap_or_default()
    }
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
    /// `result` or `error`, for the case table.
    pub fn word(&self) -> String {
        if self.status.is_success() {
            self.result().to_owned()
        } else {
            self.error().to_owned()
        }
    }
}

pub async fn send(headers: &[(&str, String)], body: Vec<u8>) -> Reply {
    let mut req = reqwest::Client::new()
        .post(hooks_url().await)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    read(req.send().await.expect("the receiver must answer")).await
}

pub async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let text = resp.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply { status, body }
}

/// A superuser connection (RLS does not apply) for checking what really is stored.
pub async fn db() -> tokio_postgres::Client {
    let (client, connection) =
        tokio_postgres::connect(&stack().await.db_url(), tokio_postgres::NoTls)
            .await
            .expect("the superuser connects");
    tokio::spawn(connection);
    client
}

/// Whether the service recorded this delivery as applied.
pub async fn delivery_recorded(id: &str) -> bool {
    db().await
        .query_one(
            "select exists (select 1 from app.hook_deliveries where svix_id = $1)",
            &[&id],
        )
        .await
        .expect("query hook_deliveries")
        .get(0)
}

/// The profile row as JSON (null when there is none).
pub async fn profile(user_id: &str) -> Value {
    let row = db()
        .await
        .query_one(
            "select coalesce((select to_jsonb(p)::text from public.profiles p where id = $1), 'null')",
            &[&user_id],
        )
        .await
        .expect("query profiles");
    serde_json::from_str(row.get::<_, &str>(0)).expect("JSON")
}

/// A PostgREST client as a signed-in user (a real token from the stack's provider).
pub struct Api {
    pub base: String,
    pub token: String,
    http: reqwest::Client,
}

impl Api {
    pub async fn as_user(user: TestUser) -> Self {
        let stack = stack().await;
        let tokens = stack
            .login(user.username, user.password)
            .await
            .unwrap_or_else(|e| panic!("{} must sign in: {e}", user.username));
        Self {
            base: stack.rest_url(),
            token: tokens.access_token,
            http: reqwest::Client::new(),
        }
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("apikey", "local-stack-anon-key")
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        read(req.send().await.expect("PostgREST must answer")).await
    }

    /// The app's own profile upsert (crates/auth/src/profile.rs): POST with merge-duplicates.
    pub async fn upsert_profile(&self, row: &Value) -> Reply {
        let req = self
            .http
            .post(format!("{}/profiles", self.base))
            .header("apikey", "local-stack-anon-key")
            .header("Prefer", "resolution=merge-duplicates")
            .bearer_auth(&self.token)
            .json(row);
        read(req.send().await.expect("PostgREST must answer")).await
    }

    /// sync_push of new books (and tombstones) from one device.
    pub async fn push(&self, device: Uuid, patches: &[(Uuid, Value)]) -> Reply {
        let mutations: Vec<Value> = patches
            .iter()
            .enumerate()
            .map(|(i, (book, patch))| {
                json!({
                    "mutation_id": Uuid::now_v7(),
                    "book_id": book,
                    "base_version": null,
                    "hlc": format!("{:013}-{:06}-{device}", now_ms(), i),
                    "patch": patch,
                })
            })
            .collect();
        self.request(
            reqwest::Method::POST,
            "/rpc/sync_push",
            Some(&json!({"device_id": device, "mutations": mutations})),
        )
        .await
    }
}

struct CaseRow {
    case: String,
    status: u16,
    answer: String,
    rows: String,
}

static CASES: Mutex<Vec<CaseRow>> = Mutex::new(Vec::new());

/// Records one request case in test-output/hooks-cases.md (the table for the closing
/// note). `rows` says what the request wrote.
pub fn record(case: &str, reply: &Reply, rows: &str) {
    let mut cases = CASES.lock().unwrap_or_else(|e| e.into_inner());
    cases.retain(|c| c.case != case);
    cases.push(CaseRow {
        case: case.to_owned(),
        status: reply.status.as_u16(),
        answer: reply.word(),
        rows: rows.to_owned(),
    });
    cases.sort_by(|a, b| a.case.cmp(&b.case));
    let mut table = String::from(
        "# bookwish-hooks request cases (crates/hooks/tests/hooks)\n\n\
         | case | status | answer | rows written |\n|---|---|---|---|\n",
    );
    for c in cases.iter() {
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.case, c.status, c.answer, c.rows
        ));
    }
    let dir = bookwish_stack::repo_root().join("test-output");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("hooks-cases.md"), table);
}
