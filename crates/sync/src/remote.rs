//! The server side of sync over PostgREST (the contract is at the top of
//! `migrations/0004_sync_v2.sql`): `rpc/sync_push`, the pull's head (`GET /sync_state`) and
//! keyset pages (`GET /sync_rows`), the bearer token with one refresh on 401, and the
//! classification of failures. What an answer means locally is the replica's business
//! (`bookwish_core::Replica`); this module only carries and decodes.
//!
//! Requests go through the `postgrest` crate's builder on the app's one reqwest client, with
//! both headers Supabase wants: `apikey` (the publishable key) and `Authorization: Bearer`.

use std::future::Future;
use std::time::Duration;

use bookwish_core::{
    Answer, Answered, FieldConflict as CoreConflict, OutboxEntry, Pulled, PulledBook,
};
use bookwish_ipc::Profile;
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

/// Most bytes of JSON one `sync_push` call may carry (the server refuses more than 2 MiB of
/// `mutations`); the engine splits its batches under it.
pub const MAX_PUSH_BYTES: usize = 1 << 20;

/// The columns of `sync_rows` the client reads (`isbn` since `migrations/0005_isbn.sql`).
const ROW_COLUMNS: &str = "id,title,author,status,notes,rating,started_on,finished_on,isbn,\
                           deleted,version,hlc,created_at,updated_at";

/// One outbox entry as `sync_push` takes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Mutation<'a> {
    /// Increasing per device (UUIDv7).
    pub mutation_id: Uuid,
    /// The book.
    pub book_id: Uuid,
    /// Server version the edit was based on; `None` for a book new to the server.
    pub base_version: Option<i64>,
    /// HLC stamp of the latest coalesced change.
    pub hlc: String,
    /// Changed fields.
    pub patch: &'a Map<String, Value>,
}

/// The size of `entries` as a push from `device_id` sends them.
pub(crate) fn encoded_len(device_id: Uuid, entries: &[OutboxEntry]) -> Result<usize> {
    let mutations: Vec<Mutation<'_>> = entries.iter().map(Mutation::from).collect();
    serde_json::to_vec(&serde_json::json!({"device_id": device_id, "mutations": mutations}))
        .map(|bytes| bytes.len())
        .map_err(|e| Error::BadAnswer(format!("encoding a push: {e}")))
}

impl<'a> From<&'a OutboxEntry> for Mutation<'a> {
    fn from(entry: &'a OutboxEntry) -> Self {
        Mutation {
            mutation_id: entry.mutation_id,
            book_id: entry.book_id,
            base_version: entry.base_version,
            hlc: entry.hlc.to_string(),
            patch: &entry.patch,
        }
    }
}

/// One field conflict reported by `sync_push`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(crate) struct FieldConflict {
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
pub(crate) struct PushResult {
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

impl PushResult {
    /// What the answer means, in the replica's terms.
    fn answer(&self) -> Answer {
        match self.result.as_str() {
            "applied" | "conflict" => Answer::Applied {
                version: self.version,
                conflicts: self
                    .conflicts
                    .iter()
                    .flatten()
                    .map(|conflict| CoreConflict {
                        field: conflict.field.clone(),
                        server_value: conflict.server_value.clone(),
                        client_value: conflict.client_value.clone(),
                        client_won: conflict.winner == "client",
                    })
                    .collect(),
            },
            "rejected" => Answer::Rejected {
                code: self.code.clone().unwrap_or_else(|| "error".to_owned()),
                message: self
                    .message
                    .clone()
                    .unwrap_or_else(|| "refused by the server".to_owned()),
            },
            "gone" => Answer::Gone,
            "duplicate" => Answer::Duplicate {
                original: self.original.as_ref().map(|first| Box::new(first.answer())),
            },
            other => Answer::Unknown {
                result: other.chars().take(40).collect(),
            },
        }
    }
}

#[derive(Deserialize)]
struct PushAnswer {
    results: Vec<PushResult>,
}

/// One book as the server sends it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(crate) struct ServerBook {
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
    /// ISBN-13 (the server keeps 13 checked digits).
    #[serde(default)]
    pub isbn: Option<String>,
    /// Tombstone.
    pub deleted: bool,
    /// Version of the last change.
    pub version: i64,
    /// Per-field stamps (only the HLC is read: typed, so a page decodes without a map per row).
    /// `sync_rows` does not send them: it sends [`ServerBook::hlc`] instead.
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
    /// The row as the replica takes it: the newest field stamp, times in milliseconds.
    fn into_pulled(self) -> PulledBook {
        let f = &self.field_versions;
        let hlc = [
            &f.title,
            &f.author,
            &f.status,
            &f.notes,
            &f.rating,
            &f.started_on,
            &f.finished_on,
            &f.isbn,
            &f.deleted,
        ]
        .into_iter()
        .filter_map(|stamp| stamp.as_ref()?.hlc.as_deref())
        .chain(self.hlc.as_deref())
        .max()
        .map(str::to_owned);
        PulledBook {
            id: self.id,
            title: self.title,
            author: self.author,
            status: self.status,
            notes: self.notes,
            rating: self.rating,
            started_on: self.started_on,
            finished_on: self.finished_on,
            isbn: self.isbn,
            deleted: self.deleted,
            version: self.version,
            hlc,
            created_at: rfc3339_ms(self.created_at.as_deref()),
            updated_at: rfc3339_ms(self.updated_at.as_deref()),
        }
    }
}

/// `field_versions` of a server book: the stamp of the edit that last changed each field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct FieldVersions {
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
    /// ISBN's stamp.
    pub isbn: Option<FieldStamp>,
    /// Tombstone's stamp.
    pub deleted: Option<FieldStamp>,
}

/// One field's stamp: the HLC of the edit (none for writes outside sync_push).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct FieldStamp {
    /// The edit's HLC stamp.
    pub hlc: Option<String>,
}

fn rfc3339_ms(text: Option<&str>) -> Option<i64> {
    text.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
}

/// Rows of a page (or of a fetch), decoded one by one when the fast path failed, so one row
/// that does not decode is kept aside instead of failing the whole page.
fn decode_rows(rows: Vec<Value>) -> Vec<Pulled> {
    rows.into_iter()
        .map(|row| match ServerBook::deserialize(&row) {
            Ok(book) => Pulled::Book(book.into_pulled()),
            Err(error) => Pulled::Undecodable {
                id: row
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| Uuid::try_parse(id).ok()),
                version: row.get("version").and_then(Value::as_i64),
                raw: row.to_string(),
                reason: format!(
                    "The server sent a book this version of Bookwish cannot read: {error}."
                ),
            },
        })
        .collect()
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

    /// Sends `entries` (mutation ids increasing) from `device_id`; one answer per entry.
    pub async fn push(&self, device_id: Uuid, entries: &[OutboxEntry]) -> Result<Vec<Answered>> {
        let mutations: Vec<Mutation<'_>> = entries.iter().map(Mutation::from).collect();
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
        Ok(answer
            .results
            .iter()
            .map(|result| Answered {
                mutation_id: result.mutation_id,
                answer: result.answer(),
            })
            .collect())
    }

    /// Where the pull stands: the user's version counter and the purge horizon (all zero for a
    /// user the server has never seen).
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
    /// server caps pages at 1000). Rows are decoded in one go; when that fails, one by one, so
    /// a row this version cannot read is handed on as such.
    pub async fn rows(&self, after: i64, max: u32) -> Result<Vec<Pulled>> {
        let bytes = self
            .send(|token| {
                self.builder("sync_rows", token)
                    .select(ROW_COLUMNS)
                    .gt("version", after.to_string())
                    .order("version.asc")
                    .limit(max.clamp(1, 1000) as usize)
            })
            .await?;
        if let Ok(rows) = serde_json::from_slice::<Vec<ServerBook>>(&bytes) {
            return Ok(rows
                .into_iter()
                .map(|book| Pulled::Book(book.into_pulled()))
                .collect());
        }
        let rows: Vec<Value> = serde_json::from_slice(&bytes)
            .map_err(|e| Error::BadAnswer(format!("sync_rows: {e}")))?;
        Ok(decode_rows(rows))
    }

    /// The server copies of `ids` the user can see (after a refusal).
    pub async fn fetch_books(&self, ids: &[Uuid]) -> Result<Vec<Pulled>> {
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
        let rows: Vec<Value> =
            serde_json::from_slice(&bytes).map_err(|e| Error::BadAnswer(format!("books: {e}")))?;
        Ok(decode_rows(rows))
    }

    /// Creates or updates the signed-in user's `profiles` row (`POST /profiles` with
    /// `Prefer: resolution=merge-duplicates`), as the user: row-level security checks
    /// `id = sub`.
    pub async fn upsert_profile(&self, profile: &Profile) -> Result<()> {
        let row = serde_json::json!({
            "id": profile.user_id,
            "email": profile.email,
            "display_name": profile.name,
        })
        .to_string();
        self.send(|token| self.builder("profiles", token).upsert(row.clone()))
            .await?;
        Ok(())
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
    let wait = when.timestamp_millis() - chrono::Utc::now().timestamp_millis();
    Some(Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
}
