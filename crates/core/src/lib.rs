//! Bookwish without a window: the reading list's rules, and the only owner of its local SQLite
//! databases.
//!
//! # Layers
//!
//! ```text
//! shell (src-tauri) ── one call per command ──> Store    (store.rs)    the window's face
//! sync engine (crates/sync) ──────────────────> Replica  (replica.rs)  what sync may do
//!                                                  │
//!                    validate.rs, fields.rs        ├─ the rules every stored book follows
//!                    table/books, outbox, meta,    ├─ one module per table: the only SQL
//!                      issues                      │
//!                    db.rs, schema.rs              └─ the one place a connection is opened:
//!                                                     settings, migrations/sqlite/
//!                    bulk.rs                          a download into an empty list builds
//!                                                     the list's indexes once, at its end
//! accounts.rs   which file holds which account's books
//! hlc.rs        the hybrid logical clock
//! logfile.rs    the app's daily log files (readable by the user only)
//! diagnostics.rs  what a user can copy when sync fails, with every secret taken out
//! ```
//!
//! The core never depends on Tauri: the shell maps [`Error`] to [`bookwish_ipc::IpcError`]
//! with `From` and does nothing else. No other crate opens SQLite (a clippy
//! `disallowed-methods` rule in `clippy.toml` keeps it so).
//!
//! # Vocabulary
//!
//! - **Book**: one entry of the reading list ([`bookwish_ipc::Book`]). A *live* book is not
//!   deleted; a *tombstone* is a deleted book kept (with `deleted = 1`) so the delete syncs and
//!   can be undone.
//! - **Draft**: the editable fields as the user typed them ([`bookwish_ipc::BookDraft`]);
//!   validation turns it into canonical fields (trimmed, dates as `YYYY-MM-DD`).
//! - **Field**: a synced field ([`Field`]), named as the server's column.
//! - **Outbox**: one pending mutation per book ([`OutboxEntry`]): a *patch* of changed fields,
//!   the *base version* (the server version the first unsynced edit was made against), a clock
//!   *stamp* and a *mutation id*. Edits of a book with a pending entry *coalesce* into it.
//! - **Stamp**: a hybrid-logical-clock time ([`hlc::Stamp`]): follows the wall clock, never goes
//!   back, and sorts the same as text.
//! - **Device id**: a UUIDv7 made on the first open of a database, kept in `sync_meta`.
//! - **Pulled row**: a book as the server sent it ([`PulledBook`]), checked before it is stored;
//!   one that breaks a rule is *unreadable*: kept aside for the user, never stored as a book.
//!
//! # Invariants
//!
//! - Every row that enters `books` — typed, pulled, moved, imported — passes the same rules
//!   (`validate.rs`); a typed edit must also finish no earlier than it started.
//! - Every edit writes the book row, its outbox entry and the clock in **one transaction**; an
//!   edit that fails (validation, unknown id, SQLite) writes none of them.
//! - An edit that changes nothing writes nothing.
//! - Books are never hard-deleted by an edit (moving books to an account leaves tombstones);
//!   reads and edits see live books only, `restore` sees tombstones.
//! - Pulled pages and the cursor after them commit together (several pages per transaction
//!   during a big pull: a crash repeats pages, never skips one); pending fields stay on top of
//!   pulled values; an outbox entry leaves only when its own mutation id is answered.
//! - A download into an empty `books` drops the list's plain indexes and builds them once at
//!   its end (`bulk.rs`); the statements are kept in `sync_meta`, so an interrupted download's
//!   indexes are built again by the next open, before any migration.
//! - `title_fold` / `author_fold` (for search and sort) are written by `table/books.rs` alone,
//!   with [`fold()`]; migration 0004 rewrote those an older fold wrote.
//! - Every file the core creates — databases with their `-wal` and `-shm`, log files — is
//!   readable by the user only on Unix (0600, in 0700 folders).
//! - Migrations are append-only; connection PRAGMAs (WAL, foreign keys, busy timeout,
//!   synchronous) are set on every open, outside migrations. A database from a newer app is
//!   refused ([`Error::TooNew`]) and left untouched.
//! - Edits never wait for a disk flush: with WAL and `synchronous=NORMAL` a commit only appends
//!   to the log, and flushing the log into the file (a checkpoint) is left to
//!   [`Store::checkpoint`], which the shell calls when the app is idle. SQLite checkpoints by
//!   itself only past 10,000 log pages, as a safety net. What a pull writes is copied by the
//!   replica's own checkpoint thread (`checkpointer.rs`) after each of its transactions, while
//!   the next one is written.

pub mod accounts;
mod bulk;
mod checkpointer;
mod db;
pub mod diagnostics;
pub mod error;
pub mod export;
mod fields;
pub mod fold;
pub mod hlc;
pub mod import;
pub mod isbn;
pub mod logfile;
pub mod replica;
mod schema;
pub mod store;
mod table;
mod validate;

pub use error::{Error, Result};
pub use export::{ExportBook, ExportError};
pub use fields::Field;
pub use fold::fold;
pub use import::{Format, ImportError, ImportPreview, ImportRow, RowProblem};
pub use isbn::{Isbn, IsbnError};
pub use replica::{
    Answer, Answered, FieldConflict, PullOutcome, Pulled, PulledBook, PulledPage, PushOutcome,
    Replica, PULL_CACHE_KIB,
};
pub use store::{Imported, Store};
pub use table::outbox::{OutboxEntry, Patch};
