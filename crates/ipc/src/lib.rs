//! The contract between the Yew UI and the Tauri shell.
//!
//! Every type that crosses IPC lives here and is compiled for both sides (wasm32 for the UI,
//! native for the shell), so a change to the contract is checked by the compiler on both ends.
//!
//! Vocabulary:
//! - [`Book`]: one entry of the reading list as the UI shows it.
//! - [`BookDraft`]: what the user typed in the add form or the inline editor; the core validates
//!   it and answers with a [`Book`] or an [`IpcError`] of code [`ErrorCode::Validation`].
//! - [`ListQuery`] / [`BookList`]: the visible list (filtered, searched, sorted) plus the count
//!   per status of the whole list. The list carries [`ListedBook`]s, what a row shows; the
//!   editor asks for the whole [`Book`] when it opens.
//! - [`IpcError`]: every failure crosses IPC as `{code, message}` (and the offending `field`,
//!   when there is one), with a message that says what the user can do.
//! - [`isbn::Isbn`]: a checked ISBN-13 (an ISBN-10 converted); the one rule, used by the core
//!   to validate and by the window to show what a typed ISBN will be saved as.
//! - [`transfer`]: importing a file (the offer, the choice for matching books, progress, undo)
//!   and exporting the list.
//!
//! Each command is declared once in [`commands`] (name, argument struct, answer type: the
//! [`commands::Command`] trait), so the UI's call and the shell's handler are checked by the
//! compiler; event names are constants in [`events`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// The id of a book: a UUIDv7 made on the client, so offline creation needs no server.
pub type BookId = uuid::Uuid;

pub mod commands;
mod deleted;
pub mod isbn;
pub mod review;
mod sync_status;
pub mod transfer;
pub use deleted::{DeletedAccount, ACCOUNT_DELETED_EVENT};
pub use review::{
    ConflictChoice, ConflictView, LocalBooksOffer, MovedBooks, RejectionView, SyncIssues,
    UnreadableView,
};
pub use sync_status::{SyncPhase, SyncStatus, SYNC_STATUS_EVENT};
pub use transfer::{
    Exported, ImportDone, ImportOffer, ImportProblem, ImportProgress, ImportSummary, ImportUndone,
    OnMatch,
};

/// Limits the core enforces and the server's CHECK constraints repeat. The UI uses them for
/// `maxlength` so the user hits them while typing rather than on save.
pub mod limits {
    /// Longest title, in characters.
    pub const TITLE_MAX: usize = 500;
    /// Longest author, in characters.
    pub const AUTHOR_MAX: usize = 300;
    /// Longest notes, in characters.
    pub const NOTES_MAX: usize = 10_000;
    /// Longest search text, in characters.
    pub const SEARCH_MAX: usize = 200;
    /// Lowest rating.
    pub const RATING_MIN: u8 = 1;
    /// Highest rating.
    pub const RATING_MAX: u8 = 5;
}

/// Where a book is in the reader's life. Serialised as the seed's values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Status {
    /// Wanted, not started.
    #[default]
    Wishlist,
    /// Being read now.
    Reading,
    /// Read to the end.
    Finished,
}

impl Status {
    /// All statuses, in the order the UI shows them.
    pub const ALL: [Status; 3] = [Status::Wishlist, Status::Reading, Status::Finished];

    /// The stored and serialised name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Wishlist => "Wishlist",
            Status::Reading => "Reading",
            Status::Finished => "Finished",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a status name that is none of the three.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown status {:?}: use Wishlist, Reading or Finished",
            self.0
        )
    }
}

impl std::error::Error for UnknownStatus {}

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Status {
    /// Parses through [`FromStr`] so an unknown status gets the readable message, not serde's
    /// "unknown variant".
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// One book of the reading list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    /// Client-made UUIDv7.
    pub id: BookId,
    /// Never empty, at most [`limits::TITLE_MAX`] characters.
    pub title: String,
    /// May be empty.
    pub author: String,
    /// Wishlist, Reading or Finished.
    pub status: Status,
    /// Free text, may be empty.
    pub notes: String,
    /// 1–5, or none.
    pub rating: Option<u8>,
    /// ISO date `YYYY-MM-DD` the reading started.
    pub started_on: Option<String>,
    /// ISO date `YYYY-MM-DD` the reading finished; never before `started_on`.
    pub finished_on: Option<String>,
    /// The ISBN-13, 13 digits without hyphens (an ISBN-10 is stored converted), or none.
    /// Absent in what older versions send, hence the default.
    #[serde(default)]
    pub isbn: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
}

/// A book as a row of the list shows it: no notes, dates or ISBN, which only the editor needs
/// (it asks for the whole [`Book`] with [`commands::GetBook`]). A 10,000-book list is a
/// third of the bytes to send and decode, and of the window's memory to hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedBook {
    /// The book's id.
    pub id: BookId,
    /// Never empty.
    pub title: String,
    /// May be empty.
    pub author: String,
    /// Wishlist, Reading or Finished.
    pub status: Status,
    /// 1–5, or none.
    pub rating: Option<u8>,
}

impl From<&Book> for ListedBook {
    fn from(book: &Book) -> Self {
        ListedBook {
            id: book.id,
            title: book.title.clone(),
            author: book.author.clone(),
            status: book.status,
            rating: book.rating,
        }
    }
}

impl From<Book> for ListedBook {
    fn from(book: Book) -> Self {
        ListedBook {
            id: book.id,
            title: book.title,
            author: book.author,
            status: book.status,
            rating: book.rating,
        }
    }
}

/// The user-editable fields of a book, as typed: the core validates every one of them.
///
/// Dates are ISO `YYYY-MM-DD` strings (what `<input type="date">` gives); an empty string
/// means "no date".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookDraft {
    /// Required; surrounding whitespace is trimmed.
    pub title: String,
    /// Optional; surrounding whitespace is trimmed.
    #[serde(default)]
    pub author: String,
    /// Defaults to Wishlist when absent.
    #[serde(default)]
    pub status: Status,
    /// Optional free text.
    #[serde(default)]
    pub notes: String,
    /// 1–5 or none.
    #[serde(default)]
    pub rating: Option<u8>,
    /// `YYYY-MM-DD` or none.
    #[serde(default)]
    pub started_on: Option<String>,
    /// `YYYY-MM-DD` or none; not before `started_on`.
    #[serde(default)]
    pub finished_on: Option<String>,
    /// An ISBN-13 or ISBN-10 as typed (hyphens and spaces allowed; an ISBN-10 is converted);
    /// none or blank for no ISBN. Callers from before the field existed leave it out: none.
    #[serde(default)]
    pub isbn: Option<String>,
}

impl From<&Book> for BookDraft {
    fn from(book: &Book) -> Self {
        BookDraft {
            title: book.title.clone(),
            author: book.author.clone(),
            status: book.status,
            notes: book.notes.clone(),
            rating: book.rating,
            started_on: book.started_on.clone(),
            finished_on: book.finished_on.clone(),
            isbn: book.isbn.clone(),
        }
    }
}

/// How the visible list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Newest first.
    #[default]
    RecentlyAdded,
    /// By title, case-insensitive, A→Z.
    Title,
    /// By author, case-insensitive, A→Z, then title.
    Author,
}

impl Sort {
    /// All orders, as the UI offers them.
    pub const ALL: [Sort; 3] = [Sort::RecentlyAdded, Sort::Title, Sort::Author];

    /// The label the UI shows.
    pub const fn label(self) -> &'static str {
        match self {
            Sort::RecentlyAdded => "Recently added",
            Sort::Title => "Title",
            Sort::Author => "Author",
        }
    }
}

/// Which books the list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Only this status, or all.
    #[serde(default)]
    pub status: Option<Status>,
    /// Case-insensitive text matched against title and author; blank means no search.
    #[serde(default)]
    pub search: String,
    /// Order of the rows.
    #[serde(default)]
    pub sort: Sort,
}

/// Number of (not deleted) books per status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Books on the wishlist.
    pub wishlist: u32,
    /// Books being read.
    pub reading: u32,
    /// Books finished.
    pub finished: u32,
}

impl StatusCounts {
    /// All books.
    pub const fn total(&self) -> u32 {
        self.wishlist + self.reading + self.finished
    }

    /// The count for one status.
    pub const fn get(&self, status: Status) -> u32 {
        match status {
            Status::Wishlist => self.wishlist,
            Status::Reading => self.reading,
            Status::Finished => self.finished,
        }
    }
}

/// The answer to `list_books`: the matching books in order (all of them, or the first few when
/// the request asked for a first screenful) as rows show them, and counts over the whole list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookList {
    /// The books that match the query, in the query's order: all of them, or the head of the
    /// list when the request set a limit.
    pub books: Vec<ListedBook>,
    /// How many books match the query in all; more than `books.len()` when the answer is only
    /// the head of the list.
    pub matching: u32,
    /// Per-status counts of all books, ignoring the query's filter and search.
    pub counts: StatusCounts,
}

/// The profile of a signed-in user: all the UI ever learns about an account (never a token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The provider's user id (`sub`), e.g. `user_2abc…` for Clerk.
    pub user_id: String,
    /// Display name, may be empty.
    pub name: String,
    /// Email, may be empty.
    pub email: String,
    /// One or two letters for the avatar.
    pub initials: String,
}

/// Whether the app is used without an account or signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Account {
    /// No account: everything stays on this computer.
    LocalOnly {
        /// Whether sign-in is configured (Clerk issuer and client id present).
        sign_in_available: bool,
    },
    /// Signed in; the list syncs with the account.
    SignedIn {
        /// Who is signed in.
        profile: Profile,
    },
}

/// What the UI needs at start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// Local-only or signed in.
    pub account: Account,
    /// Folder holding the databases, shown in the UI for the curious.
    pub data_dir: String,
    /// Why the books could not be opened (a damaged file, one written by a newer Bookwish),
    /// shown instead of the list; `None` when all is well.
    #[serde(default)]
    pub problem: Option<IpcError>,
    /// Accounts deleted on the server whose books are still on this computer, until the user
    /// removes them.
    #[serde(default)]
    pub deleted_accounts: Vec<DeletedAccount>,
    /// When the app's process started (ms since the Unix epoch): the window marks the time its
    /// first list was usable beside it, for the start-up benchmark.
    #[serde(default)]
    pub launched_at: i64,
}

/// What kind of failure an [`IpcError`] is. The UI branches on some of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A field the user typed breaks a rule; `field` names it.
    Validation,
    /// The book (or other thing) asked for does not exist.
    NotFound,
    /// The call itself was malformed (missing or mistyped arguments).
    InvalidArgument,
    /// The local database failed (disk full, locked, corrupt).
    Storage,
    /// Signing in failed or the session ended (cancelled, expired or forged link, rejected by
    /// the provider, keychain unavailable); the message says what to do, usually "sign in again".
    Auth,
    /// A server (Clerk, Supabase) could not be reached; local work goes on and is synced later.
    Offline,
    /// Sign-in or sync is not configured, or the configuration file is malformed.
    Config,
    /// Anything else; the log has the details.
    Internal,
}

/// Every failure crosses IPC as this: `{code, message, field?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// A sentence for the user: what went wrong and what they can do.
    pub message: String,
    /// The input field at fault, for validation errors (`title`, `rating`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IpcError {
    /// An error without a field.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        IpcError {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A validation error on one field.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        IpcError {
            code: ErrorCode::Validation,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }
}

impl fmt::Display for IpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IpcError {}

/// Events the shell emits to the UI.
pub mod events {
    /// Payload `()`: the list changed outside the UI's own commands (e.g. by sync); reload.
    pub const BOOKS_CHANGED: &str = "books-changed";
    /// Payload [`crate::Account`]: signed in, signed out, or the session ended; the list
    /// now shows that account's books.
    pub const AUTH_CHANGED: &str = "auth-changed";
    /// Payload [`crate::IpcError`]: a sign-in attempt failed (cancelled, expired, state
    /// mismatch, provider error, offline); the account is unchanged.
    pub const AUTH_FAILED: &str = "auth-failed";
    /// Payload [`crate::ImportOffer`]: a file dropped on the window was read; the window shows
    /// what it holds and asks before anything is written.
    pub const IMPORT_OFFERED: &str = "import-offered";
    /// Payload [`crate::IpcError`]: a file dropped on the window cannot be imported (why, in
    /// words); nothing was written.
    pub const IMPORT_FAILED: &str = "import-failed";
    /// Payload [`crate::ImportProgress`]: how far the running import is.
    pub const IMPORT_PROGRESS: &str = "import-progress";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_as_the_seed_names() -> Result<(), serde_json::Error> {
        for status in Status::ALL {
            let json = serde_json::to_string(&status)?;
            assert_eq!(
                json,
                format!("\"{}\"", status.as_str()),
                "status serialises as its name"
            );
            let back: Status = serde_json::from_str(&json)?;
            assert_eq!(back, status, "status must round-trip through JSON");
        }
        Ok(())
    }

    #[test]
    fn unknown_status_gets_a_readable_message() {
        let err = serde_json::from_str::<Status>("\"Abandoned\"").expect_err("must reject");
        assert!(
            err.to_string()
                .contains("use Wishlist, Reading or Finished"),
            "the message must tell the user the valid statuses: {err}"
        );
    }

    #[test]
    fn error_serialises_as_code_and_message() -> Result<(), serde_json::Error> {
        let json = serde_json::to_value(IpcError::new(ErrorCode::NotFound, "gone"))?;
        assert_eq!(
            json,
            serde_json::json!({"code": "not_found", "message": "gone"}),
            "errors cross IPC as {{code, message}}"
        );
        Ok(())
    }

    #[test]
    fn a_book_or_draft_without_an_isbn_still_decodes() -> Result<(), serde_json::Error> {
        let book: Book = serde_json::from_value(serde_json::json!({
            "id": BookId::nil(), "title": "Dune", "author": "", "status": "Wishlist",
            "notes": "", "rating": null, "started_on": null, "finished_on": null,
            "created_at": 1, "updated_at": 2,
        }))?;
        assert_eq!(book.isbn, None, "a book from an older sender has no ISBN");
        let draft: BookDraft = serde_json::from_str(r#"{"title":"Dune"}"#)?;
        assert_eq!(draft.isbn, None, "a draft from an older caller has no ISBN");
        Ok(())
    }

    #[test]
    fn a_listed_book_carries_only_what_a_row_shows() -> Result<(), serde_json::Error> {
        let book = Book {
            id: BookId::nil(),
            title: "Dune".to_owned(),
            author: "Frank Herbert".to_owned(),
            status: Status::Reading,
            notes: "long notes the list never needs".to_owned(),
            rating: Some(4),
            started_on: Some("2024-01-02".to_owned()),
            finished_on: None,
            isbn: Some("9780441013593".to_owned()),
            created_at: 1,
            updated_at: 2,
        };
        let listed = serde_json::to_value(ListedBook::from(&book))?;
        assert_eq!(
            listed,
            serde_json::json!({
                "id": BookId::nil(), "title": "Dune", "author": "Frank Herbert",
                "status": "Reading", "rating": 4,
            }),
            "a row's book crosses IPC without notes, dates or ISBN"
        );
        assert_eq!(
            ListedBook::from(book.clone()),
            ListedBook::from(&book),
            "both conversions keep the same fields"
        );
        Ok(())
    }

    #[test]
    fn draft_defaults_missing_fields() -> Result<(), serde_json::Error> {
        let draft: BookDraft = serde_json::from_str(r#"{"title":"Dune"}"#)?;
        assert_eq!(
            draft.status,
            Status::Wishlist,
            "a draft without status is Wishlist"
        );
        assert!(
            draft.author.is_empty() && draft.rating.is_none(),
            "other fields default to empty"
        );
        Ok(())
    }
}
