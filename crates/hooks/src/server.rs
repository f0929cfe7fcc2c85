//! The HTTP side: `POST /webhooks/clerk` and `GET /health`.
//!
//! A delivery is handled in this order, and the first failure answers without writing
//! anything:
//!
//! | step | failure | status | `error` |
//! |---|---|---|---|
//! | body no larger than the cap | larger | 413 | `body_too_large` |
//! | Svix signature (any configured secret, any `v1` signature in the header) | missing headers, bad signature | 401 | `unverified` |
//! | signed timestamp within 5 minutes | too old or in the future | 401 | `stale_timestamp` |
//! | body is UTF-8 (what Svix signs) | not | 400 | `malformed_body` |
//! | body is a Clerk event | not JSON, not the envelope, a user event without id or `updated_at` | 400 | `malformed_event` |
//! | values fit the table | e-mail or image URL too long | 422 | `unacceptable_event` |
//! | the database call | unreachable / busy | 503 | `database_unavailable` |
//! |  | refused | 500 | `database_error` |
//!
//! Success is 200 with `{"result": …}`: `applied`, `stale` (an older update than the one
//! stored), `duplicate` (this `svix-id` was applied before), `account_deleted` (an update of a
//! deleted account), or `ignored` (an event type Bookwish does not use).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use svix::webhooks::{Webhook, WebhookError};

use crate::event::{self, Event, EventError};
use crate::store::{Store, StoreError};

/// The webhook endpoint's path (register `https://<host><WEBHOOK_PATH>` in Clerk).
pub const WEBHOOK_PATH: &str = "/webhooks/clerk";
/// The health endpoint's path.
pub const HEALTH_PATH: &str = "/health";

/// The service's shared state.
pub struct Hooks {
    verifiers: Vec<Webhook>,
    store: Store,
    max_body: usize,
}

impl Hooks {
    /// A service verifying with `verifiers` (any of them may sign) and writing through `store`.
    pub fn new(verifiers: Vec<Webhook>, store: Store, max_body: usize) -> Self {
        Self {
            verifiers,
            store,
            max_body,
        }
    }

    /// The routes.
    pub fn router(self) -> Router {
        Router::new()
            .route(WEBHOOK_PATH, post(webhook))
            .route(HEALTH_PATH, get(health))
            .with_state(Arc::new(self))
    }

    fn verify(&self, body: &[u8], headers: &HeaderMap) -> Result<(), WebhookError> {
        let mut first = None;
        for verifier in &self.verifiers {
            match verifier.verify(body, headers) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        Err(first.unwrap_or(WebhookError::InvalidSignature))
    }
}

/// A refused delivery: its status, a stable code and a readable message.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        json_response(
            self.status,
            &json!({"error": self.code, "message": self.message}),
        )
    }
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

impl From<WebhookError> for Refusal {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::TimestampTooOldError | WebhookError::FutureTimestampError => {
                Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    "stale_timestamp",
                    format!("{e}: signed deliveries are accepted for 5 minutes"),
                )
            }
            WebhookError::InvalidPayload => Refusal::new(
                StatusCode::BAD_REQUEST,
                "malformed_body",
                "the body is not UTF-8 text",
            ),
            other => Refusal::new(
                StatusCode::UNAUTHORIZED,
                "unverified",
                format!("not signed by Clerk's endpoint secret: {other}"),
            ),
        }
    }
}

impl From<EventError> for Refusal {
    fn from(e: EventError) -> Self {
        match e {
            EventError::Malformed(_) => {
                Refusal::new(StatusCode::BAD_REQUEST, "malformed_event", e.to_string())
            }
            EventError::Unacceptable(_) => Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unacceptable_event",
                e.to_string(),
            ),
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        if e.is_transient() {
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database is unavailable; deliver again later",
            )
        } else {
            Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "database_error",
                "the database refused the change; see the service's log",
            )
        }
    }
}

async fn webhook(State(hooks): State<Arc<Hooks>>, headers: HeaderMap, body: Body) -> Response {
    match deliver(&hooks, &headers, body).await {
        Ok(result) => json_response(StatusCode::OK, &json!({ "result": result })),
        Err(refusal) => {
            tracing::warn!(
                status = refusal.status.as_u16(),
                error = refusal.code,
                svix_id = delivery_id(&headers).unwrap_or("-"),
                "delivery refused: {}",
                refusal.message
            );
            refusal.into_response()
        }
    }
}

fn delivery_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("svix-id")
        .or_else(|| headers.get("webhook-id"))
        .and_then(|v| v.to_str().ok())
}

async fn deliver(hooks: &Hooks, headers: &HeaderMap, body: Body) -> Result<String, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than {} bytes", hooks.max_body),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > hooks.max_body as u64) {
        return Err(too_large());
    }
    let body = axum::body::to_bytes(body, hooks.max_body)
        .await
        .map_err(|_| too_large())?;

    hooks.verify(&body, headers)?;
    let delivery = delivery_id(headers)
        .filter(|id| (1..=255).contains(&id.len()))
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "malformed_body",
                "svix-id must be 1 to 255 bytes",
            )
        })?;
    let event = event::parse(&body)?;

    let result = match &event {
        Event::Upsert(profile) => {
            let done = hooks.store.upsert(delivery, profile).await.map_err(|e| {
                tracing::error!(svix_id = delivery, "profile upsert failed: {e}");
                Refusal::from(e)
            })?;
            tracing::info!(
                svix_id = delivery,
                user_id = %profile.user_id,
                result = done.as_str(),
                "user event"
            );
            done.as_str().to_owned()
        }
        Event::Delete { user_id } => {
            let done = hooks.store.delete(delivery, user_id).await.map_err(|e| {
                tracing::error!(svix_id = delivery, "account deletion failed: {e}");
                Refusal::from(e)
            })?;
            tracing::info!(
                svix_id = delivery,
                user_id = %user_id,
                result = %done.result,
                rows = ?done.deleted,
                "user.deleted"
            );
            done.result
        }
        Event::Ignored { kind } => {
            tracing::debug!(svix_id = delivery, event = %kind, "event type not used; ignored");
            "ignored".to_owned()
        }
    };
    Ok(result)
}

async fn health(State(hooks): State<Arc<Hooks>>) -> Response {
    match hooks.store.ping().await {
        Ok(()) => json_response(StatusCode::OK, &json!({"status": "ok"})),
        Err(e) => {
            tracing::warn!("health: {e}");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"status": "database_unavailable"}),
            )
        }
    }
}
