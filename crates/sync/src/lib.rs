//! Bookwish's sync engine: the local SQLite file and Supabase (PostgREST) kept in step.
//!
//! # Layers
//!
//! ```text
//! SyncHandle ── triggers ──> run loop (engine.rs) ── SyncEngine::sync_once
//!     ^ status (watch)                                 ├─ push: outbox batches → sync_push
//!                                                      └─ pull: head, then sync_rows pages → local file
//! local.rs   the engine's own SQLite connection: batches, answers, pages + cursor, conflicts
//! remote.rs  push, head and keyset pages over the `postgrest` builder; one token refresh on 401
//! ```
//!
//! # Vocabulary
//!
//! - **Outbox entry / mutation**: one pending change per book (written by
//!   [`bookwish_core::Store`]); pushed with its *mutation id* (UUIDv7, increasing per device),
//!   its *base version* and its HLC *stamp*.
//! - **Cursor**: the highest server version applied locally; pulls ask for rows after it.
//! - **Conflict**: another device changed the same field after our base; the later stamp wins,
//!   the loser is kept in `conflicts`. Delete wins over a concurrent edit.
//! - **Rejection**: the server refused a mutation (CHECK, RLS); kept in `rejections`, the book
//!   shows the server's copy again, and the queue moves on.
//!
//! # Invariants
//!
//! - A batch retried after a lost answer is answered "duplicate": nothing applies twice.
//! - A pulled page and its cursor commit together; the device's pending fields stay on top.
//! - Nothing is dropped silently: every mutation ends applied, in `conflicts`, or in
//!   `rejections` (a change to a book no longer on the server, answered `gone`, is kept there
//!   with code [`GONE`]; a delete answered `gone` is simply done).
//! - A push or page that hits the server's statement timeout is sent again smaller, never the
//!   same size forever.
//!
//! # Use (the shell)
//!
//! ```ignore
//! let engine = SyncEngine::open(&db_path, SyncConfig::new(rest_url, anon_key),
//!                               bookwish_auth::http::client(), AuthTokens(auth.clone()))?;
//! let mut status = engine.status();           // watch::Receiver<SyncStatus>: emit "sync-status"
//! let (handle, _task) = engine.clone().spawn(); // syncs at once, then on triggers
//! handle.local_edit();                        // after each store edit (debounced 300 ms)
//! handle.trigger(Trigger::Focus);             // window focus; NetworkUp; SignedIn; SyncNow
//! handle.shutdown();                          // on sign-out or exit
//! ```

mod engine;
mod error;
mod local;
mod remote;

pub use engine::{backoff, SyncConfig, SyncEngine, SyncHandle, SyncReport, Trigger};
pub use error::{Error, Result, TokenError};
pub use local::{Conflict, LocalDb, PushOutcome, Rejection};
pub use remote::{
    is_statement_timeout, FieldConflict, FieldStamp, FieldVersions, Head, Mutation, PullPage,
    PushResult, Remote, RemoteConfig, ServerBook, TokenSource, GONE, MAX_PUSH_BYTES,
};
