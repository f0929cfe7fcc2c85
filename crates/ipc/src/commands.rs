//! Every command the window may call, declared once: its name, its argument object and its
//! answer.
//!
//! A command is a struct (its fields are the call's arguments, as the UI sends them) that
//! implements [`Command`]: the name it is called by and the type of its answer. The list in
//! [`with_commands!`](crate::with_commands) is the single source of those pairs: this crate
//! derives the [`Command`] impls and [`NAMES`] from it, the shell derives its handlers and
//! permissions from it, and the UI calls `invoke(&ListBooks { query, limit })` and gets a
//! `BookList` — so a renamed command, argument or answer fails to compile, never at run time.
//!
//! Every command answers `Result<Output, IpcError>`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{BookDraft, BookId, ConflictChoice, ListQuery, OnMatch, Status};

/// A command of the shell: its arguments are the struct's fields.
pub trait Command: Serialize + DeserializeOwned + Send + 'static {
    /// The name the window calls it by.
    const NAME: &'static str;
    /// What it answers on success.
    type Output: Serialize + DeserializeOwned + Send + 'static;
}

/// Calls `$callback!` with every command as `name: Type => Output,` (paths through `$crate`).
/// The one list of commands: add a command here, declare its struct below, and the compiler
/// points at every place that must handle it.
#[macro_export]
macro_rules! with_commands {
    ($callback:ident) => {
        $callback! {
            app_info: $crate::commands::GetAppInfo => $crate::AppInfo,
            list_books: $crate::commands::ListBooks => $crate::BookList,
            get_book: $crate::commands::GetBook => $crate::Book,
            add_book: $crate::commands::AddBook => $crate::Book,
            update_book: $crate::commands::UpdateBook => $crate::Book,
            set_status: $crate::commands::SetStatus => $crate::Book,
            delete_book: $crate::commands::DeleteBook => $crate::Book,
            restore_book: $crate::commands::RestoreBook => $crate::Book,
            sign_in: $crate::commands::SignIn => (),
            cancel_sign_in: $crate::commands::CancelSignIn => (),
            sign_out: $crate::commands::SignOut => $crate::Account,
            sync_status: $crate::commands::GetSyncStatus => Option<$crate::SyncStatus>,
            sync_now: $crate::commands::SyncNow => (),
            sync_issues: $crate::commands::GetSyncIssues => $crate::SyncIssues,
            resolve_conflict: $crate::commands::ResolveConflict => (),
            fix_rejection: $crate::commands::FixRejection => $crate::Book,
            discard_rejection: $crate::commands::DiscardRejection => (),
            dismiss_unreadable: $crate::commands::DismissUnreadable => (),
            local_books_offer: $crate::commands::GetLocalBooksOffer
                => Option<$crate::LocalBooksOffer>,
            move_local_books: $crate::commands::MoveLocalBooks => $crate::MovedBooks,
            keep_local_books: $crate::commands::KeepLocalBooks => (),
            diagnostics: $crate::commands::GetDiagnostics => String,
            pick_import_file: $crate::commands::PickImportFile => Option<$crate::ImportOffer>,
            confirm_import: $crate::commands::ConfirmImport => $crate::ImportDone,
            cancel_import: $crate::commands::CancelImport => (),
            undo_import: $crate::commands::UndoImport => $crate::ImportUndone,
            export_goodreads: $crate::commands::ExportGoodreads => Option<$crate::Exported>,
            export_backup: $crate::commands::ExportBackup => Option<$crate::Exported>,
            remove_account_books: $crate::commands::RemoveAccountBooks => u32,
        }
    };
}

macro_rules! declare {
    ($($name:ident: $command:path => $output:ty),* $(,)?) => {
        $(
            impl Command for $command {
                const NAME: &'static str = stringify!($name);
                type Output = $output;
            }
        )*

        /// Every command's name, in the order of [`with_commands!`](crate::with_commands).
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

with_commands!(declare);

/// What the UI needs at start → [`crate::AppInfo`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetAppInfo {}

/// The visible list → [`crate::BookList`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListBooks {
    /// Filter, search and order.
    pub query: ListQuery,
    /// Only the first this many books (a first screenful, shown while the rest comes); all of
    /// them when `None`.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One whole book, for its editor → the [`crate::Book`] (the list carries only what a row
/// shows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetBook {
    /// Which book.
    pub id: BookId,
}

/// Adds a book → the [`crate::Book`] made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddBook {
    /// What the user typed.
    pub draft: BookDraft,
}

/// Replaces a book's editable fields → the [`crate::Book`] as saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateBook {
    /// Which book.
    pub id: BookId,
    /// Its new editable fields.
    pub draft: BookDraft,
}

/// Moves a book to a status → the [`crate::Book`] as saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetStatus {
    /// Which book.
    pub id: BookId,
    /// The new status.
    pub status: Status,
}

/// Deletes a book → the deleted [`crate::Book`], for the undo toast.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteBook {
    /// Which book.
    pub id: BookId,
}

/// Undoes a delete → the [`crate::Book`] back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreBook {
    /// Which book.
    pub id: BookId,
}

/// Opens the sign-in page in the user's browser; the result arrives later as
/// [`crate::events::AUTH_CHANGED`] or [`crate::events::AUTH_FAILED`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {}

/// Abandons the pending sign-in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelSignIn {}

/// Signs out → the [`crate::Account`] now shown; the account's books stay on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOut {}

/// The sync status, `None` while no account syncs; changes arrive as
/// [`crate::SYNC_STATUS_EVENT`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSyncStatus {}

/// Syncs now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncNow {}

/// What waits for the user → [`crate::SyncIssues`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSyncIssues {}

/// Settles a conflict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveConflict {
    /// Which conflict.
    pub id: i64,
    /// What the user chose.
    pub choice: ConflictChoice,
}

/// Saves the corrected book of a refused change (queued for sync again) and forgets the refusal
/// → the [`crate::Book`] as saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixRejection {
    /// Which refusal.
    pub id: i64,
    /// The book as the user corrected it in the edit form.
    pub draft: BookDraft,
}

/// Forgets a refused change; the book keeps the server's values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscardRejection {
    /// Which refusal.
    pub id: i64,
}

/// Forgets a book from the account this version cannot show (the user has seen it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DismissUnreadable {
    /// Which one.
    pub id: i64,
}

/// After signing in, whether to ask about the local-only books → `None`: none, or the user
/// already answered for this account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetLocalBooksOffer {}

/// Moves the local-only books into the signed-in account → [`crate::MovedBooks`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveLocalBooks {}

/// Keeps the local-only books on this computer; not asked again for this account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeepLocalBooks {}

/// What went wrong, for the user to copy: the app's version, the OS, sync's state and the
/// recent log, with tokens, codes, query strings, e-mail addresses and user ids taken out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetDiagnostics {}

/// Asks the user for a file to import with the OS file dialog (opened by the shell: the window
/// never names a path), reads it and measures it against the list → the offer to confirm, or
/// `None` when the user closed the dialog. A file that cannot be imported is an error of code
/// `validation` on the field `file` saying why; nothing is written either way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickImportFile {}

/// Imports the offered file → [`crate::ImportDone`]; progress arrives as
/// [`crate::events::IMPORT_PROGRESS`] meanwhile. The offer is used up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmImport {
    /// The offer's token.
    pub token: u64,
    /// What books already in the list get.
    pub on_match: OnMatch,
}

/// Drops the offered file without importing anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelImport {
    /// The offer's token.
    pub token: u64,
}

/// Reverts a whole import → [`crate::ImportUndone`]: the books it added are deleted (the
/// deletes sync), the books it updated get their previous values back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoImport {
    /// [`crate::ImportDone::import_id`].
    pub import_id: i64,
}

/// Saves the list as a CSV in Goodreads' import layout, asking where with the OS save dialog →
/// what was written, or `None` when the user closed the dialog.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportGoodreads {}

/// Saves the list as a Bookwish backup (JSON, every field and id), asking where with the OS
/// save dialog → what was written, or `None` when the user closed the dialog.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportBackup {}

/// Removes the books of an account deleted on the server from this computer (its database
/// file) → how many live books went. Refused for an account that was not deleted, and for the
/// one the window shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveAccountBooks {
    /// The deleted account ([`crate::DeletedAccount::user_id`]).
    pub user_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_match_the_impls() {
        let mut seen = std::collections::HashSet::new();
        for name in NAMES {
            assert!(seen.insert(name), "command {name} is declared twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "command names are snake_case: {name}"
            );
        }
        assert_eq!(
            ListBooks::NAME,
            "list_books",
            "a command's NAME comes from the list"
        );
        assert!(
            NAMES.contains(&DismissUnreadable::NAME),
            "every impl is in NAMES"
        );
    }

    #[test]
    fn arguments_cross_ipc_as_the_structs_fields() -> Result<(), serde_json::Error> {
        let call = SetStatus {
            id: BookId::nil(),
            status: Status::Reading,
        };
        assert_eq!(
            serde_json::to_value(&call)?,
            serde_json::json!({"id": BookId::nil(), "status": "Reading"}),
            "the argument object is the struct's fields, named as in Rust"
        );
        assert_eq!(
            serde_json::to_value(SignIn {})?,
            serde_json::json!({}),
            "a command without arguments sends an empty object"
        );
        Ok(())
    }

    #[test]
    fn import_choices_cross_ipc_in_snake_case() -> Result<(), serde_json::Error> {
        let call = ConfirmImport {
            token: 7,
            on_match: OnMatch::Update,
        };
        assert_eq!(
            serde_json::to_value(&call)?,
            serde_json::json!({"token": 7, "on_match": "update"}),
            "the window names the choice for matching books as the shell reads it"
        );
        assert_eq!(
            serde_json::from_value::<ConfirmImport>(
                serde_json::json!({"token": 7, "on_match": "skip"})
            )?,
            ConfirmImport {
                token: 7,
                on_match: OnMatch::Skip
            },
            "and back"
        );
        for name in [
            "pick_import_file",
            "confirm_import",
            "cancel_import",
            "undo_import",
            "export_goodreads",
            "export_backup",
        ] {
            assert!(
                NAMES.contains(&name),
                "{name} is a command the window may call"
            );
        }
        Ok(())
    }
}
