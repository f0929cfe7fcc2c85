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
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
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

/// Most bytes of one answer the client reads ([`crate::Error::TooLarge`] past it, without
/// reading on). A full page of 1,000 typical books is about 400 KB, so this is some 40 pages'
/// worth; a page of books that all carry the longest notes (10,000 characters, up to ~60 KB a
/// row as JSON) can pass it, and such a page is asked again at half the size. A server (or
/// something in its place) that sends more can no longer fill the app's memory.
pub const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Most bytes of a failed answer's body read (for the log; the status never shows it).
const MAX_ERROR_BODY_BYTES: usize = 64 << 10;

/// Ids per `GET /books?id=in.(…)` after a refusal: keeps the URL short and the answer far
/// under [`MAX_ANSWER_BYTES`] whatever the books hold.
const FETCH_IDS: usize = 100;

/// The columns of `sync_rows` the client reads (`isbn` since `migrations/0005_isbn.sql`, the
/// times as milliseconds since `0010_pull_times_in_ms.sql`); the sync bench's floors read the
/// same.
pub const ROW_COLUMNS: &str = "id,title,author,status,notes,rating,started_on,finished_on,isbn,\
                               deleted,version,hlc,created_at_ms,updated_at_ms";

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
    /// Server time of creation (RFC 3339), as `GET /books` sends it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Server time of the last change (RFC 3339), as `GET /books` sends it.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Server time of creation in milliseconds since 1970, as `sync_rows` sends it.
    #[serde(default)]
    pub created_at_ms: Option<i64>,
    /// Server time of the last change in milliseconds since 1970, as `sync_rows` sends it.
    #[serde(default)]
    pub updated_at_ms: Option<i64>,
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
            created_at: self
                .created_at_ms
                .or_else(|| rfc3339_ms(self.created_at.as_deref())),
            updated_at: self
                .updated_at_ms
                .or_else(|| rfc3339_ms(self.updated_at.as_deref())),
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
        let answer: PushAnswer = decode("sync_push", &bytes)?;
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
        let rows: Vec<Head> = decode("sync_state", &bytes)?;
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    /// One keyset page: the rows after version `after`, in version order, at most `max` (the
    /// server caps pages at 1000). Rows are decoded in one go; when that fails, one by one, so
    /// a row this version cannot read is handed on as such.
    pub async fn rows(&self, after: i64, max: u32) -> Result<Vec<Pulled>> {
        self.rows_through(after, None, max).await
    }

    /// [`Remote::rows`] with versions up to `through` only, when given: one part of a
    /// download split between several keyset chains.
    pub async fn rows_through(
        &self,
        after: i64,
        through: Option<i64>,
        max: u32,
    ) -> Result<Vec<Pulled>> {
        let bytes = self
            .send(|token| {
                let rows = self
                    .builder("sync_rows", token)
                    .select(ROW_COLUMNS)
                    .gt("version", after.to_string());
                match through {
                    Some(through) => rows.lte("version", through.to_string()),
                    None => rows,
                }
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
        let rows: Vec<Value> = decode("sync_rows", &bytes)?;
        Ok(decode_rows(rows))
    }

    /// The server copies of `ids` the user can see (after a refusal), asked for
    /// [`FETCH_IDS`] at a time.
    pub async fn fetch_books(&self, ids: &[Uuid]) -> Result<Vec<Pulled>> {
        let mut books = Vec::new();
        for chunk in ids.chunks(FETCH_IDS) {
            let list: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
            let bytes = self
                .send(|token| {
                    self.builder("books", token)
                        .select("*")
                        .in_("id", list.clone())
                })
                .await?;
            let rows: Vec<Value> = decode("books", &bytes)?;
            books.extend(decode_rows(rows));
        }
        Ok(books)
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
            // A deleted account's write is refused with 401 when its token carries no role
            // (42501 as `anon`): no refresh can change that, and at Clerk it would fail anyway.
            let bytes = read_prefix(response, MAX_ERROR_BODY_BYTES).await;
            if let Some(deleted) = account_deleted(StatusCode::UNAUTHORIZED, &bytes) {
                return Err(deleted);
            }
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
        if status.is_success() {
            let html = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
            let bytes = read_capped(response).await?;
            if html || looks_like_html(&bytes) {
                // A captive portal, a proxy's page, or an address that is not PostgREST's.
                tracing::warn!(
                    status = status.as_u16(),
                    "the server answered with a web page instead of JSON"
                );
                return Err(Error::WebPage {
                    status: status.as_u16(),
                });
            }
            return Ok(bytes);
        }
        let bytes = read_prefix(response, MAX_ERROR_BODY_BYTES).await;
        if let Some(deleted) = account_deleted(status, &bytes) {
            return Err(deleted);
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

/// [`Error::AccountDeleted`] when `body` is the server's refusal of a deleted account
/// (migrations/0006_hooks.sql): code `BW403` from the pre-request check, or SQLSTATE 42501 with
/// the message "this account was deleted" from a write that was already past it. Only with
/// 401/403: a 42501 is also what row-level security raises, so the message must match too.
pub(crate) fn account_deleted(status: StatusCode, body: &[u8]) -> Option<Error> {
    #[derive(Deserialize)]
    struct PostgrestError {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return None;
    }
    let error: PostgrestError = serde_json::from_slice(body).ok()?;
    let deleted = error.code == "BW403"
        || (error.code == "42501" && error.message == "this account was deleted");
    deleted.then(|| Error::AccountDeleted {
        status: status.as_u16(),
        body: String::from_utf8_lossy(body).chars().take(500).collect(),
    })
}

/// A transport failure (no complete answer) is "offline".
fn transport(error: reqwest::Error) -> Error {
    Error::Offline(error)
}

/// A successful answer's body, read only up to [`MAX_ANSWER_BYTES`]: past it (or when the
/// declared length is past it) reading stops and the answer is [`Error::TooLarge`].
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>> {
    let too_large = Error::TooLarge {
        limit: MAX_ANSWER_BYTES,
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first `limit` bytes (or so) of a body, for the log; whatever could be read.
async fn read_prefix(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body
}

/// Whether a body that should be JSON is a web page (`<!doctype html>`, `<html>`, …).
fn looks_like_html(body: &[u8]) -> bool {
    body.iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|&first| first == b'<')
}

/// `bytes` decoded as JSON; an answer that ends early was cut off on the way
/// ([`Error::Truncated`], retried), any other misfit is [`Error::BadAnswer`].
fn decode<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|error| {
        if error.is_eof() {
            Error::Truncated(format!("{what}: {error}"))
        } else {
            Error::BadAnswer(format!("{what}: {error}"))
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_accounts_refusals_are_told_apart_from_other_refusals() {
        let bw403 = br#"{"code":"BW403","message":"this account was deleted","details":"x","hint":"sign in with an existing account"}"#;
        let raced = br#"{"code":"42501","details":"no new sync_ledger row for a deleted account","hint":null,"message":"this account was deleted"}"#;
        let rls = br#"{"code":"42501","details":null,"hint":null,"message":"new row violates row-level security policy for table \"books\""}"#;
        let expired = br#"{"code":"PGRST301","details":null,"hint":null,"message":"JWT expired"}"#;
        for (status, body) in [
            (StatusCode::FORBIDDEN, &bw403[..]),
            (StatusCode::FORBIDDEN, &raced[..]),
            (StatusCode::UNAUTHORIZED, &raced[..]),
        ] {
            assert!(
                matches!(
                    account_deleted(status, body),
                    Some(Error::AccountDeleted { .. })
                ),
                "{status} {} is the server saying the account was deleted",
                String::from_utf8_lossy(body)
            );
        }
        for (status, body) in [
            (StatusCode::FORBIDDEN, &rls[..]),
            (StatusCode::UNAUTHORIZED, &expired[..]),
            (StatusCode::BAD_REQUEST, &bw403[..]),
            (StatusCode::FORBIDDEN, &b"<html>forbidden</html>"[..]),
        ] {
            assert!(
                account_deleted(status, body).is_none(),
                "{status} {} is not a deleted account: an RLS refusal, an expired token, \
                 another status or a proxy's page must keep their own meaning",
                String::from_utf8_lossy(body)
            );
        }
        let error = account_deleted(StatusCode::FORBIDDEN, bw403).expect("deleted");
        assert!(
            !error.is_retryable() && !error.is_offline() && error.is_account_deleted(),
            "a deleted account is final: never retried, never offline"
        );
    }
}
