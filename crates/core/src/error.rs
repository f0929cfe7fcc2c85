//! The store's failures, and how each one reaches the user across IPC.

use bookwish_ipc::{BookId, ErrorCode, IpcError};
use rusqlite::ErrorCode as SqliteCode;
use rusqlite_migration::MigrationDefinitionError;

/// Result of the store's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a store operation failed. Display texts are for logs; [`IpcError::from`] gives the
/// user-facing sentence.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field the user typed breaks a rule; `message` is a sentence the user understands.
    #[error("{message}")]
    Validation {
        /// The offending field, named as in `BookDraft` (`title`, `rating`, …) or `search`.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// No live (not deleted) book has this id; for `restore`, no book ever had it.
    #[error("no book with id {id}")]
    NotFound {
        /// The id asked for.
        id: BookId,
    },
    /// No conflict or refused change has this id (already settled, or settled elsewhere).
    #[error("no sync issue with id {id}")]
    IssueNotFound {
        /// The id asked for.
        id: i64,
    },
    /// No import with this id can be undone: it was undone already, or is too old to be.
    #[error("no import {id} to undo")]
    ImportNotFound {
        /// The id asked for.
        id: i64,
    },
    /// SQLite failed: disk full, file locked or unreadable, a constraint, corrupt data.
    #[error("the local database failed")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought up to date when opening the database.
    #[error("could not migrate the local database")]
    Migration(#[from] rusqlite_migration::Error),
    /// The database was written by a newer Bookwish (its schema is ahead of this one's); it is
    /// left untouched.
    #[error("the local database was written by a newer version of Bookwish")]
    TooNew,
    /// Books were to be moved from a database into itself (the account switched meanwhile).
    #[error("books cannot be moved into the database they are in")]
    SameDatabase,
    /// The account database belongs to another account than the one opening it.
    #[error("the database {} belongs to another account", path.display())]
    WrongOwner {
        /// The database file.
        path: std::path::PathBuf,
    },
    /// The books of an account were to be removed from this computer, but the server never
    /// said the account was deleted (its books are not only here: they sync).
    #[error("the account {user_id} was not deleted; its books are not removed")]
    AccountNotDeleted {
        /// The account.
        user_id: String,
    },
    /// An account's database was to be removed while it is the one open in the window.
    #[error("the database of account {user_id} is open")]
    AccountOpen {
        /// The account.
        user_id: String,
    },
    /// A database file could not be removed.
    #[error("could not remove the file {}", path.display())]
    Remove {
        /// The file.
        path: std::path::PathBuf,
        /// Why (permissions, a program holding it open on Windows).
        #[source]
        source: std::io::Error,
    },
    /// An outbox patch could not be encoded as JSON.
    #[error("could not encode an outbox patch")]
    Json(#[from] serde_json::Error),
    /// The folder that holds a database could not be created.
    #[error("could not create the folder {}", path.display())]
    Folder {
        /// The folder.
        path: std::path::PathBuf,
        /// Why (permissions, disk full, a file in the way).
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A validation error on `field`.
    pub(crate) fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Error::Validation {
            field,
            message: message.into(),
        }
    }
}

impl From<Error> for IpcError {
    fn from(error: Error) -> Self {
        IpcError::from(&error)
    }
}

impl From<&Error> for IpcError {
    fn from(error: &Error) -> Self {
        match error {
            Error::Validation { field, message } => IpcError::validation(field, message.clone()),
            Error::NotFound { .. } => IpcError::new(
                ErrorCode::NotFound,
                "This book no longer exists; it may have been deleted. Reload the list.",
            ),
            Error::IssueNotFound { .. } => IpcError::new(
                ErrorCode::NotFound,
                "This was already settled. The list of things to review has been refreshed.",
            ),
            Error::ImportNotFound { .. } => IpcError::new(
                ErrorCode::NotFound,
                "This import can't be undone any more: it was undone already.",
            ),
            Error::Sqlite(source) => IpcError::new(
                ErrorCode::Storage,
                format!(
                    "Could not save to the local database: {}",
                    sqlite_reason(source)
                ),
            ),
            Error::TooNew
            | Error::Migration(rusqlite_migration::Error::MigrationDefinition(
                MigrationDefinitionError::DatabaseTooFarAhead,
            )) => IpcError::new(
                ErrorCode::Storage,
                "Your books were saved by a newer version of Bookwish, which this version cannot \
                 read. Install the newer version to open them; nothing was changed.",
            ),
            Error::SameDatabase => IpcError::new(
                ErrorCode::Auth,
                "Sign in first: books can only be moved into an account.",
            ),
            Error::WrongOwner { path } => IpcError::new(
                ErrorCode::Storage,
                format!(
                    "The file {} holds another account's books, so Bookwish did not open it. \
                     Move it out of Bookwish's data folder and sign in again.",
                    path.display()
                ),
            ),
            Error::Migration(rusqlite_migration::Error::RusqliteError { err, .. }) => {
                IpcError::new(
                    ErrorCode::Storage,
                    format!(
                        "Could not prepare the local database: {}",
                        sqlite_reason(err)
                    ),
                )
            }
            Error::Migration(_) => IpcError::new(
                ErrorCode::Storage,
                "Could not prepare the local database: an unexpected error occurred (the log has \
                 the details).",
            ),
            Error::AccountNotDeleted { .. } => IpcError::new(
                ErrorCode::InvalidArgument,
                "Only the books of a deleted account can be removed from this computer; this \
                 account still exists, so its books were kept.",
            ),
            Error::AccountOpen { .. } => IpcError::new(
                ErrorCode::InvalidArgument,
                "Bookwish is showing this account's books right now, so they were kept. Sign \
                 out first.",
            ),
            Error::Remove { path, source } => IpcError::new(
                ErrorCode::Storage,
                format!(
                    "Could not remove {}: {source}. Close any other program using it and try \
                     again; the books are still there.",
                    path.display()
                ),
            ),
            Error::Json(_) => IpcError::new(
                ErrorCode::Internal,
                "Something went wrong while saving the change (the log has the details).",
            ),
            Error::Folder { path, source } => IpcError::new(
                ErrorCode::Storage,
                format!(
                    "Could not create Bookwish's data folder {}: {source}. Check that it is \
                     writable.",
                    path.display()
                ),
            ),
        }
    }
}

/// The end of a storage message: what happened, in words, and what the user can do.
fn sqlite_reason(error: &rusqlite::Error) -> &'static str {
    match error.sqlite_error_code() {
        Some(SqliteCode::DatabaseBusy | SqliteCode::DatabaseLocked) => {
            "the database is busy (is Bookwish running in another window?). Try again."
        }
        Some(SqliteCode::DiskFull) => "the disk is full. Free some space and try again.",
        Some(SqliteCode::ReadOnly | SqliteCode::PermissionDenied) => {
            "the database file is read-only. Check the permissions of Bookwish's data folder."
        }
        Some(SqliteCode::CannotOpen) => {
            "the database file could not be opened. Check that Bookwish's data folder exists and \
             is writable."
        }
        Some(SqliteCode::DatabaseCorrupt | SqliteCode::NotADatabase) => {
            "the database file is damaged. Restore it from a backup (the log has the details)."
        }
        Some(SqliteCode::SystemIoFailure) => {
            "the disk reported an error. Check the disk and try again."
        }
        Some(_) => "an unexpected database error occurred (the log has the details).",
        None => "the stored data could not be read (the log has the details).",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_keeps_its_field_and_sentence() {
        let ipc = IpcError::from(Error::validation("title", "Title can't be empty."));
        assert_eq!(
            ipc,
            IpcError::validation("title", "Title can't be empty."),
            "validation errors cross IPC with their field so the UI can mark the input"
        );
    }

    #[test]
    fn not_found_maps_to_not_found() {
        let ipc = IpcError::from(Error::NotFound {
            id: BookId::now_v7(),
        });
        assert_eq!(ipc.code, ErrorCode::NotFound, "unknown ids are NotFound");
        assert_eq!(ipc.field, None, "NotFound names no input field");
    }

    #[test]
    fn sqlite_errors_become_readable_storage_errors() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("database is locked".to_owned()),
        );
        let ipc = IpcError::from(Error::from(busy));
        assert_eq!(
            ipc.code,
            ErrorCode::Storage,
            "SQLite failures are Storage errors"
        );
        assert!(
            ipc.message
                .starts_with("Could not save to the local database: the database is busy"),
            "the message says what happened in words: {}",
            ipc.message
        );
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(
            IpcError::from(Error::from(full))
                .message
                .contains("Free some space"),
            "a full disk tells the user what to do"
        );
    }

    #[test]
    fn causes_stay_reachable_for_the_log() {
        let error = Error::from(rusqlite::Error::QueryReturnedNoRows);
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(
            source.is_some_and(|text| text.contains("no rows")),
            "the SQLite error must stay as the source so logs keep the cause"
        );
    }
}
