//! Bookwish's sync engine: the local SQLite file and Supabase (PostgREST) kept in step.
//!
//! # Layers
//!
//! ```text
//! SyncHandle ── triggers ──> run loop (engine.rs) ── SyncEngine::sync_once
//!     ^ status (watch)                                 ├─ push: outbox batches → sync_push
//!                                                      └─ pull: head, then sync_rows pages → local file
//! remote.rs  push, head and keyset pages over the `postgrest` builder; one token refresh on
//!            401; the wire types
//! bookwish_core::Replica   everything sync does to the local database (no SQL here)
//! ```
//!
//! # Vocabulary
//!
//! - **Outbox entry / mutation**: one pending change per book (written by
//!   [`bookwish_core::Store`]); pushed with its *mutation id* (UUIDv7, increasing per device),
//!   its *base version* and its HLC *stamp*. Which entries go, and what an answer means
//!   locally, is [`bookwish_core::Replica`]'s business; this crate only carries them.
//! - **Cursor**: the highest server version applied locally; pulls ask for rows after it.
//! - **Conflict**: another device changed the same field after our base; the later stamp wins,
//!   the loser is kept in `conflicts`. Delete wins over a concurrent edit.
//! - **Rejection**: the server refused a mutation (CHECK, RLS); kept in `rejections`, the book
//!   shows the server's copy again, and the queue moves on.
//!
//! # Invariants
//!
//! - A batch retried after a lost answer is answered "duplicate": nothing applies twice.
//! - Pulled pages and their cursor commit together — several pages per transaction while the
//!   next ones are fetched, so a crash repeats pages and never skips one. A long download is
//!   fetched by two keyset chains over the two halves of its version range at once; pages are
//!   written as they come (a row never replaces a newer version of itself), and the cursor
//!   moves into the second half only once the first has arrived whole. The device's pending
//!   fields stay on top; a row the app cannot read is kept aside and the pull goes on (all in
//!   the replica). A download into an empty list builds the list's indexes once, at its end.
//! - [`SyncHandle::changes`] moves only when a sync changed books here: the echo of this
//!   device's own edits does not make the window reload its list.
//! - Nothing is dropped silently: every mutation ends applied, in `conflicts`, in
//!   `rejections`, or queued again (a change to a book no longer on the server, answered
//!   `gone`, waits in `rejections`; a delete answered `gone` is simply done).
//! - A push or page that hits the server's statement timeout is sent again smaller, never the
//!   same size forever; a page that does not move the cursor is an error, never a loop.
//! - A broken or hostile answer ends in a status the user can act on and bounded retries: an
//!   answer is read only up to [`MAX_ANSWER_BYTES`] (a page past it is asked again smaller), a
//!   web page where JSON belongs ([`Error::WebPage`]) and JSON cut off on the way
//!   ([`Error::Truncated`]) are retried with backoff, `Retry-After` is honoured up to the
//!   backoff maximum, and answers of the wrong shape wait for the next sync.
//! - An account the server says was deleted ([`Error::AccountDeleted`]: 403 `BW403`, or a
//!   write refused as "this account was deleted") costs no token refresh and no retry: the run
//!   loop ends with [`Stopped::AccountDeleted`], and the local file is left as it was.
//!
//! # Use (the shell)
//!
//! ```ignore
//! let engine = SyncEngine::open(&db_path, SyncConfig::new(rest_url, anon_key),
//!                               http_client, tokens)?;  // the app's one reqwest client
//! let mut status = engine.status();           // watch::Receiver<SyncStatus>: emit "sync-status"
//! let (handle, task) = engine.clone().spawn(); // syncs at once, then on triggers
//! // task.await == Stopped::AccountDeleted: the server deleted the account; sign out
//! handle.local_edit();                        // after each store edit (debounced 300 ms)
//! handle.trigger(Trigger::Focus);             // window focus; NetworkUp; SignedIn; SyncNow
//! handle.shutdown();                          // on sign-out or exit
//! ```

mod engine;
mod error;
mod remote;

pub use engine::{backoff, Stopped, SyncConfig, SyncEngine, SyncHandle, SyncReport, Trigger};
pub use error::{Error, Result, TokenError};
pub use remote::{
    is_statement_timeout, Head, Remote, RemoteConfig, TokenSource, MAX_ANSWER_BYTES,
    MAX_PUSH_BYTES, ROW_COLUMNS,
};
