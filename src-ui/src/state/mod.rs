//! The app's state, one reducer per area, each published by a context provider.
//!
//! - [`Library`]: what the list shows (the query, the books, the counts) and whether the first
//!   answer arrived.
//! - [`Editor`]: which form is open: none, the add form, or the inline editor of one book.
//! - [`Notices`]: the toasts (deleted with undo, errors).
//! - [`Auth`]: the account in the header, a sign-in waiting for the browser, and the last
//!   sign-in problem.
//! - [`SyncState`]: the signed-in account's sync status (offline, syncing, synced, error) and
//!   its pending changes, for the status bar.
//! - [`Review`]: the review panel of conflicts and refused changes sync left for the user.
//! - [`LocalBooks`]: the question, after signing in, about books only on this computer.
//! - [`Transfer`]: the import panel (the file's preview, the choice for books already in the
//!   list, the import's progress).
//! - [`DeletedAccounts`]: accounts the server deleted whose books are still on this computer,
//!   and the choice to remove them.
//!
//! Reducers are pure functions of `(state, action)`; side effects live in `actions` and the
//! components.

mod auth;
pub mod deleted;
mod editor;
mod library;
pub mod local_books;
mod notices;
pub mod review;
pub mod sync;
pub mod transfer;

use yew::functional::{UseReducerDispatcher, UseReducerHandle};

pub use auth::{avatar_letters, Attempt, Auth, AuthAction, AuthError, AuthStep};
pub use deleted::{DeletedAccounts, DeletedAction};
pub use editor::{Editor, EditorAction};
pub use library::{Books, Fresh, Library, LibraryAction, FIRST_SCREENFUL};
pub use local_books::{Choice, LocalBooks, LocalBooksAction};
pub use notices::{Notice, NoticeKind, Notices, NoticesAction, MAX_NOTICES};
pub use review::{Issue, Review, ReviewAction};
pub use sync::{SyncAction, SyncState};
pub use transfer::{Transfer, TransferAction};

/// The library context: the current [`Library`] and its dispatcher.
pub type LibraryContext = UseReducerHandle<Library>;
/// The editor context.
pub type EditorContext = UseReducerHandle<Editor>;
/// The notices context.
pub type NoticesContext = UseReducerHandle<Notices>;
/// The account context.
pub type AuthContext = UseReducerHandle<Auth>;
/// The sync status context.
pub type SyncContext = UseReducerHandle<SyncState>;
/// The review panel context.
pub type ReviewContext = UseReducerHandle<Review>;
/// The local books question context.
pub type LocalBooksContext = UseReducerHandle<LocalBooks>;
/// The import panel context.
pub type TransferContext = UseReducerHandle<Transfer>;
/// The deleted accounts context.
pub type DeletedContext = UseReducerHandle<DeletedAccounts>;

/// The dispatchers, published as a context that never changes value: components that
/// only act (rows, toasts) take it without re-rendering when the state changes.
#[derive(Clone, PartialEq)]
pub struct Dispatch {
    /// Changes the library.
    pub library: UseReducerDispatcher<Library>,
    /// Opens and closes forms.
    pub editor: UseReducerDispatcher<Editor>,
    /// Shows and hides toasts.
    pub notices: UseReducerDispatcher<Notices>,
    /// Changes the account in the header.
    pub auth: UseReducerDispatcher<Auth>,
    /// Follows the sync status.
    pub sync: UseReducerDispatcher<SyncState>,
    /// Opens, fills and closes the review panel.
    pub review: UseReducerDispatcher<Review>,
    /// Shows and settles the local books question.
    pub local_books: UseReducerDispatcher<LocalBooks>,
    /// Shows and runs the import panel.
    pub transfer: UseReducerDispatcher<Transfer>,
    /// Tells about deleted accounts and removes their books.
    pub deleted: UseReducerDispatcher<DeletedAccounts>,
}

impl Dispatch {
    /// Reports a failed command to the user.
    pub fn failed(&self, err: bookwish_ipc::IpcError) {
        self.notices.dispatch(NoticesAction::Failed(err));
    }

    /// Asks for the list again (after a command changed it).
    pub fn reload(&self) {
        self.library.dispatch(LibraryAction::Reload);
    }
}
