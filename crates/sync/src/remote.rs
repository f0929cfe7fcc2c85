//! The server side of sync over PostgREST (the contract is at the top of
//! `migrations/0004_sync_v2.sql`): `rpc/sync_push`, the pull's head (`GET /sync_state`) and
//! keyset pages (`GET /sync_rows`), the bearer token with one refresh on 401, and the
//! classification of failures.
//!
//! Requests go through the `postgrest` crate's builder on the app's one reqwest client, with
//! both headers Supabase wants: `apikey` (the publishable key) and `Authorization: Bearer`.
//!
//! Answers are settled here into the results the engine records: `gone` (the book is no longer
//! on the server) becomes an acknowledged delete, or for any other change a rejection with code
//! [`GONE`] that the user reviews; a conflict's `client_value`, which the server no longer
//! echoes, is filled from the patch that was sent.

use std::future::Future;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, Result, TokenError};

/// Where the bearer tokens come from: the app's [`bookwish-auth`] session, or tokens a test got
/// from the local stack's provider.
pub trait TokenSource: Send + Sync + 'static {
    /// The current access token (refreshing first if the source knows it is about to expire).
    fn access_token(&self) -> impl Future<Output = Result<String, TokenError>> + Send;
    /// A new access token after the server refused the current one (single-flight in the
    /// source: refresh tokens rotate).
    fn refresh(&self) -> impl Future<Output = Result<String, TokenError>> + Send;
}

/// The rejection code of a change to a book that is no longer on the server (deleted on
/// another device and purged): the change is kept for the user, never re-creates the book.
pub const GONE: &str = "gone";

/// Most bytes of JSON one `sync_push` call may carry (the server refuses more than 2 MiB of
/// `mutations`); the engine splits its batches under it.
pub const MAX_PUSH_BYTES: usize = 1 << 20;

/// The columns of `sync_rows` the client reads.
const ROW_COLUMNS: &str =
    "id,title,author,status,notes,rating,started_on,finished_on,deleted,version,hlc,created_at,updated_at";

/// One outbox entry as `sync_push` takes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mutation {
    /// Increasing per device (UUIDv7).
    pub mutation_id: Uuid,
    /// The book.
    pub book_id: Uuid,
    /// Server version the edit was based on; `None` for a book new to the server.
    pub base_version: Option<i64>,
    /// HLC stamp of the latest coalesced change.
    pub hlc: String,
    /// Changed fields.
    pub patch: Map<String, Value>,
}

/// One field conflict reported by `sync_push`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct FieldConflict {
    /// The field.
    pub field: String,
    /// The server's value before this push.
    #[serde(default)]
    pub server_value: Value,
    /// This device's value.
    #[serde(default)]
    pub client_value: Value,
    /// `client` (applied) or `server` (kept).
    pub winner: String,
}

/// One mutation's answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PushResult {
    /// The mutation answered.
    pub mutation_id: Uuid,
    /// `applied`, `duplicate`, `rejected` or `conflict`.
    pub result: String,
    /// Rejection code.
    #[serde(default)]
    pub code: Option<String>,
    /// Rejection message.
    #[serde(default)]
    pub message: Option<String>,
    /// The book's version after the mutation.
    #[serde(default)]
    pub version: Option<i64>,
    /// Field conflicts.
    #[serde(default)]
    pub conflicts: Option<Vec<FieldConflict>>,
    /// For a duplicate: the first answer, when the server still has it.
    #[serde(default, deserialize_with = "original")]
    pub original: Option<Box<PushResult>>,
}

/// The ledger keeps originals without ids; fill them from the outer answer later.
fn original<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<PushResult>>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(value.and_then(|mut v| {
        if let Some(obj) = v.as_object_mut() {
            obj.entry("mutation_id")
                .or_insert_with(|| Value::from(Uuid::nil().to_string()));
        }
        serde_json::from_value::<PushResult>(v).ok().map(Box::new)
    }))
}

#[derive(Deserialize)]
struct PushAnswer {
    results: Vec<PushResult>,
}

/// One book as the server sends it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ServerBook {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Author.
    #[serde(default)]
    pub author: String,
    /// Status.
    pub status: String,
    /// Notes.
    #[serde(default)]
    pub notes: String,
    /// Rating 1–5.
    pub rating: Option<i64>,
    /// Start date.
    pub started_on: Option<String>,
    /// Finish date.
    pub finished_on: Option<String>,
    /// Tombstone.
    pub deleted: bool,
    /// Version of the last change.
    pub version: i64,
    /// Per-field stamps (only the HLC is read: typed, so a page decodes without a map per row).
    /// `sync_rows` no longer sends them: it sends [`ServerBook::hlc`] instead.
    #[serde(default)]
    pub field_versions: FieldVersions,
    /// The latest HLC stamp of any field of the row (`sync_rows`).
    #[serde(default)]
    pub hlc: Option<String>,
    /// Server time of creation (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Server time of the last change (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl ServerBook {
    /// Replaces the fields in `patch` (this device's pending change) with the local values.
    pub(crate) fn keep_pending(&mut self, patch: &Map<String, Value>, local: &Map<String, Value>) {
        let mut fields = self.fields();
        for name in patch.keys() {
            if let Some(value) = local.get(name) {
                fields.insert(name.clone(), value.clone());
            }
        }
        let merged = ServerBook::from_fields(self.id, &fields);
        self.title = merged.title;
        self.author = merged.author;
        self.status = merged.status;
        self.notes = merged.notes;
        self.rating = merged.rating;
        self.started_on = merged.started_on;
        self.finished_on = merged.finished_on;
        self.deleted = merged.deleted;
    }

    /// The synced fields as JSON.
    pub fn fields(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("title".into(), Value::from(self.title.clone()));
        map.insert("author".into(), Value::from(self.author.clone()));
        map.insert("status".into(), Value::from(self.status.clone()));
        map.insert("notes".into(), Value::from(self.notes.clone()));
        map.insert(
            "rating".into(),
            self.rating.map_or(Value::Null, Value::from),
        );
        map.insert(
            "started_on".into(),
            self.started_on.clone().map_or(Value::Null, Value::from),
        );
        map.insert(
            "finished_on".into(),
            self.finished_on.clone().map_or(Value::Null, Value::from),
        );
        map.insert("deleted".into(), Value::from(self.deleted));
        map
    }

    /// A book from synced fields as JSON (missing or mistyped fields take defaults).
    pub(crate) fn from_fields(id: Uuid, fields: &Map<String, Value>) -> ServerBook {
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
        ServerBook {
            id,
            title: text("title").unwrap_or_default(),
            author: text("author").unwrap_or_default(),
            status: text("status").unwrap_or_else(|| "Wishlist".to_owned()),
            notes: text("notes").unwrap_or_default(),
            rating: fields.get("rating").and_then(Value::as_i64),
            started_on: text("started_on"),
            finished_on: text("finished_on"),
            deleted: fields
                .get("deleted")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            version: 0,
            field_versions: FieldVersions::default(),
            hlc: None,
            created_at: None,
            updated_at: None,
        }
    }

    /// The HLC stamps in `field_versions`, as text.
    pub(crate) fn stamp_texts(&self) -> impl Iterator<Item = &str> + '_ {
        let f = &self.field_versions;
        [
            &f.title,
            &f.author,
            &f.status,
            &f.notes,
            &f.rating,
            &f.started_on,
            &f.finished_on,
            &f.deleted,
        ]
        .into_iter()
        .filter_map(|stamp| stamp.as_ref()?.hlc.as_deref())
        .chain(self.hlc.as_deref())
    }

    /// Server creation time in ms (now if absent or unreadable).
    pub(crate) fn created_ms(&self) -> i64 {
        rfc3339_ms(self.created_at.as_deref())
    }

    /// Server update time in ms (now if absent or unreadable).
    pub(crate) fn updated_ms(&self) -> i64 {
        rfc3339_ms(self.updated_at.as_deref())
    }
}

/// `field_versions` of a server book: the stamp of the edit that last changed each field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct FieldVersions {
    /// Title's stamp.
    pub title: Option<FieldStamp>,
    /// Author's stamp.
    pub author: Option<FieldStamp>,
    /// Status's stamp.
    pub status: Option<FieldStamp>,
    /// Notes' stamp.
    pub notes: Option<FieldStamp>,
    /// Rating's stamp.
    pub rating: Option<FieldStamp>,
    /// Start date's stamp.
    pub started_on: Option<FieldStamp>,
    /// Finish date's stamp.
    pub finished_on: Option<FieldStamp>,
    /// Tombstone's stamp.
    pub deleted: Option<FieldStamp>,
}

/// One field's stamp: the HLC of the edit (none for writes outside sync_push).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct FieldStamp {
    /// The edit's HLC stamp.
    pub hlc: Option<String>,
}

fn rfc3339_ms(text: Option<&str>) -> i64 {
    text.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(crate::local::now_ms, |t| t.timestamp_millis())
}

/// Where the pull stands on the server: `GET /sync_state?select=seq,purged_through`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Head {
    /// The user's version counter: every version up to it is committed.
    #[serde(rename = "seq")]
    pub server_version: i64,
    /// The highest version of a purged tombstone: a cursor below it (and above 0) may have
    /// missed a delete, so the client downloads everything again.
    pub purged_through: i64,
}

/// One page of the pull, as the engine applies it (built from `sync_rows` and the head).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PullPage {
    /// Books with version > the cursor, in version order.
    pub rows: Vec<ServerBook>,
    /// The cursor to pull after next.
    pub next_cursor: i64,
    /// The user's current version.
    pub server_version: i64,
    /// Whether more rows follow.
    pub has_more: bool,
    /// Versions up to this one may have been purged, so a client whose cursor is older must
    /// re-download everything.
    #[serde(default)]
    pub purged_through: Option<i64>,
}

/// Where and how to reach the server.
#[derive(Clone, Debug)]
pub struct RemoteConfig {
    /// PostgREST base URL (`<supabase url>/rest/v1`).
    pub rest_url: String,
    /// Supabase's publishable (anon) key, sent as `apikey`.
    pub anon_key: String,
}

/// The server, reached through the app's HTTP client with tokens from `T`.
#[derive(Debug)]
pub struct Remote<T> {
    config: RemoteConfig,
    http: reqwest::Client,
    tokens: T,
}

impl<T: TokenSource> Remote<T> {
    /// A remote using `http` (the app's one client) and `tokens`.
    pub fn new(config: RemoteConfig, http: reqwest::Client, tokens: T) -> Self {
        Remote {
            config,
            http,
            tokens,
        }
    }

    /// The token source.
    pub fn tokens(&self) -> &T {
        &self.tokens
    }

    /// Sends `mutations` (ids increasing) from `device_id`; one answer per mutation, settled
    /// (see the module docs).
    pub async fn push(&self, device_id: Uuid, mutations: &[Mutation]) -> Result<Vec<PushResult>> {
        let body = serde_json::json!({"device_id": device_id, "mutations": mutations}).to_string();
        let bytes = self.rpc("sync_push", body).await?;
        let answer: PushAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| Error::BadAnswer(format!("sync_push: {e}")))?;
        if answer.results.len() != mutations.len() {
            return Err(Error::BadAnswer(format!(
                "sync_push answered {} results for {} mutations",
                answer.results.len(),
                mutations.len()
            )));
        }
        let mut results = answer.results;
        for (result, mutation) in results.iter_mut().zip(mutations) {
            settle(result, mutation);
            if let Some(original) = result.original.as_deref_mut() {
                settle(original, mutation);
            }
        }
        Ok(results)
    }

    /// Where the pull stands (the user's counter and purge horizon; zeros before any write).
    pub async fn head(&self) -> Result<Head> {
        let bytes = self
            .send(|token| {
                self.builder("sync_state", token)
                    .select("seq,purged_through")
            })
            .await?;
        let rows: Vec<Head> = serde_json::from_slice(&bytes)
            .map_err(|e| Error::BadAnswer(format!("sync_state: {e}")))?;
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    /// One keyset page: the rows after version `after`, in version order, at most `max` (the
    /// server caps pages at 1000).
    pub async fn rows(&self, after: i64, max: u32) -> Result<Vec<ServerBook>> {
        let bytes = self
            .send(|token| {
                self.builder("sync_rows", token)
                    .select(ROW_COLUMNS)
                    .gt("version", after.to_string())
                    .order("version.asc")
                    .limit(max.clamp(1, 1000) as usize)
            })
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::BadAnswer(format!("sync_rows: {e}")))
    }

    /// The server copies of `ids` the user can see (after a rejection).
    pub async fn fetch_books(&self, ids: &[Uuid]) -> Result<Vec<ServerBook>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let bytes = self
            .send(|token| {
                self.builder("books", token)
                    .select("*")
                    .in_("id", list.clone())
            })
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::BadAnswer(format!("books: {e}")))
    }

    async fn rpc(&self, function: &str, body: String) -> Result<Vec<u8>> {
        self.send(|token| {
            self.builder(&format!("rpc/{function}"), token)
                .rpc(body.clone())
        })
        .await
    }

    fn builder(&self, path: &str, token: &str) -> postgrest::Builder {
        let mut headers = HeaderMap::new();
        if let Ok(key) = HeaderValue::from_str(&self.config.anon_key) {
            headers.insert("apikey", key);
        }
        let url = format!("{}/{path}", self.config.rest_url.trim_end_matches('/'));
        postgrest::Builder::new(url, None, headers, self.http.clone()).auth(token)
    }

    /// Sends the request `build` makes with the current token; on 401 refreshes once and
    /// retries once.
    async fn send(&self, build: impl Fn(&str) -> postgrest::Builder) -> Result<Vec<u8>> {
        let token = self.tokens.access_token().await.map_err(Error::Token)?;
        let response = build(&token).execute().await.map_err(transport)?;
        let response = if response.status() == StatusCode::UNAUTHORIZED {
            tracing::info!("the server refused the access token; refreshing once");
            let token = self.tokens.refresh().await.map_err(Error::Token)?;
            build(&token).execute().await.map_err(transport)?
        } else {
            response
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let body = String::from_utf8_lossy(&bytes).chars().take(500).collect();
        let code = status.as_u16();
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Error::Unauthorized { status: code, body }
            }
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => Error::Unavailable {
                status: code,
                retry_after,
                body,
            },
            s if s.is_server_error() => Error::Unavailable {
                status: code,
                retry_after,
                body,
            },
            _ => Error::Refused { status: code, body },
        })
    }
}

/// Settles one answer to `mutation`: `gone` becomes an acknowledged delete or a rejection the
/// user sees ([`GONE`]); conflicts get the client's value back from the patch.
fn settle(result: &mut PushResult, mutation: &Mutation) {
    if result.result == GONE {
        if mutation.patch.get("deleted") == Some(&Value::Bool(true)) {
            // Deleted here, and no longer on the server: nothing left to do.
            result.result = "applied".to_owned();
            result.version = None;
        } else {
            result.result = "rejected".to_owned();
            result.code = Some(GONE.to_owned());
            result.message = Some(
                "This book was deleted on another device and is no longer on the server, \
                 so this change was not saved there."
                    .to_owned(),
            );
        }
    }
    for conflict in result.conflicts.iter_mut().flatten() {
        if conflict.client_value.is_null() {
            if let Some(sent) = mutation.patch.get(&conflict.field) {
                conflict.client_value = sent.clone();
            }
        }
    }
}

/// Whether `error` is PostgreSQL's statement timeout (SQLSTATE 57014, which PostgREST answers
/// with HTTP 500): the request was too big for the role's time budget (3 s for a role-less
/// Clerk token on hosted Supabase), so the same request will fail again; a smaller one may not.
pub fn is_statement_timeout(error: &Error) -> bool {
    matches!(error, Error::Unavailable { body, .. } if body.contains("\"57014\""))
}

/// A transport failure (no complete answer) is "offline".
fn transport(error: reqwest::Error) -> Error {
    Error::Offline(error)
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.timestamp_millis() - crate::local::now_ms();
    Some(Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
}
