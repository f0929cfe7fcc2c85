//! Bookwish without a window: the reading list's rules and its local store.
//!
//! # Layers
//!
//! ```text
//! Tauri shell (src-tauri) ── one call per command ──> Store            (store.rs)
//!                                                      ├─ validate    rules for what the user typed
//!                                                      ├─ outbox      edits not yet synced
//!                                                      ├─ hlc         the hybrid logical clock
//!                                                      └─ SQLite      schema.rs + migrations/sqlite/
//! ```
//!
//! The core never depends on Tauri: the shell maps [`Error`] to [`bookwish_ipc::IpcError`]
//! with `From` and does nothing else. Sync (later) reads the outbox and writes pulled rows
//! through the same store.
//!
//! # Vocabulary
//!
//! - **Book**: one entry of the reading list ([`bookwish_ipc::Book`]). A *live* book is not
//!   deleted; a *tombstone* is a deleted book kept (with `deleted = 1`) so the delete syncs and
//!   can be undone.
//! - **Draft**: the editable fields as the user typed them ([`bookwish_ipc::BookDraft`]);
//!   validation turns it into canonical fields (trimmed, dates as `YYYY-MM-DD`).
//! - **Outbox**: one pending mutation per book ([`OutboxEntry`]): a *patch* of changed fields,
//!   the *base version* (the server version the first unsynced edit was made against), a clock
//!   *stamp* and a *mutation id*. Edits of a book with a pending entry *coalesce* into it.
//! - **Stamp**: a hybrid-logical-clock time ([`hlc::Stamp`]): follows the wall clock, never goes
//!   back, and sorts the same as text.
//! - **Device id**: a UUIDv7 made on the first open of a database, kept in `sync_meta`.
//!
//! # Invariants
//!
//! - Every edit writes the book row, its outbox entry and the clock in **one transaction**; an
//!   edit that fails (validation, unknown id, SQLite) writes none of them.
//! - An edit that changes nothing writes nothing.
//! - Books are never hard-deleted (moving books to an account leaves tombstones); reads and
//!   edits see live books only, `restore` sees tombstones.
//! - `title_fold` / `author_fold` (Unicode lowercase, for search and sort) are rewritten with
//!   every write of title or author, by the store alone.
//! - Migrations are append-only; connection PRAGMAs (WAL, foreign keys, busy timeout,
//!   synchronous) are set on every open, outside migrations.
//! - Edits never wait for a disk flush: with WAL and `synchronous=NORMAL` a commit only appends
//!   to the log, and flushing the log into the file (a checkpoint) is left to
//!   [`Store::checkpoint`], which the shell calls when the app is idle. SQLite checkpoints by
//!   itself only past 10,000 log pages, as a safety net.

pub mod error;
pub mod export;
pub mod fold;
pub mod hlc;
pub mod import;
pub mod isbn;
mod meta;
pub mod outbox;
mod schema;
pub mod store;
mod validate;

pub use error::{Error, Result};
pub use export::{ExportBook, ExportError};
pub use import::{Format, ImportError, ImportPreview, ImportRow, RowProblem};
pub use isbn::{Isbn, IsbnError};
pub use outbox::{OutboxEntry, Patch};
pub use store::{Imported, Store};
pub use validate::fold;
