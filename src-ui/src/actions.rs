//! Commands the user triggers from a row, a toast, the header or the status bar: call the core, then dispatch
//! what happened.
//!
//! The forms call [`add`] and [`update`] themselves and await them, because their errors are
//! shown next to a field rather than as a toast.

use std::cell::Cell;

use bookwish_ipc::args::{AddBook, ById, SetStatus, UpdateBook};
use bookwish_ipc::{commands, Account, Book, BookDraft, BookId, IpcError, Status, SyncStatus};
use wasm_bindgen_futures::spawn_local;

use crate::ipc::{self, NoArgs};
use crate::state::{AuthAction, Dispatch, EditorAction, LibraryAction, NoticesAction, SyncAction};

/// Moves a book to `status` (the segmented control of a row).
pub fn set_status(dispatch: &Dispatch, id: BookId, status: Status) {
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::call::<_, Book>(commands::SET_STATUS, &SetStatus { id, status }).await {
            Ok(book) => {
                dispatch.library.dispatch(LibraryAction::Replaced(book));
                dispatch.reload();
            }
            Err(err) => dispatch.failed(err),
        }
    });
}

/// Deletes a book and offers undo in a toast.
pub fn delete(dispatch: &Dispatch, id: BookId) {
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::call::<_, Book>(commands::DELETE_BOOK, &ById { id }).await {
            Ok(book) => {
                dispatch.editor.dispatch(EditorAction::Removed(book.id));
                dispatch.notices.dispatch(NoticesAction::Deleted(book));
                dispatch.reload();
            }
            Err(err) => dispatch.failed(err),
        }
    });
}

/// Undoes the delete announced by toast `notice`: the toast goes, the book comes back and is
/// pointed out. Whether it worked is returned so the toast can offer undo again on failure
/// (the failure itself is reported as a toast here).
pub async fn restore(dispatch: &Dispatch, notice: u64, id: BookId) -> bool {
    match ipc::call::<_, Book>(commands::RESTORE_BOOK, &ById { id }).await {
        Ok(book) => {
            dispatch.notices.dispatch(NoticesAction::Dismiss(notice));
            dispatch.library.dispatch(LibraryAction::Added(book.id));
            true
        }
        Err(err) => {
            dispatch.failed(err);
            false
        }
    }
}

/// Adds a book; on success reloads the list and points the book out. The caller shows the
/// error.
pub async fn add(dispatch: &Dispatch, draft: BookDraft) -> Result<Book, IpcError> {
    let book: Book = ipc::call(commands::ADD_BOOK, &AddBook { draft }).await?;
    dispatch.library.dispatch(LibraryAction::Added(book.id));
    Ok(book)
}

/// Saves a book's editor; on success shows the new state and reloads. The caller shows the
/// error.
pub async fn update(dispatch: &Dispatch, id: BookId, draft: BookDraft) -> Result<Book, IpcError> {
    let book: Book = ipc::call(commands::UPDATE_BOOK, &UpdateBook { id, draft }).await?;
    dispatch
        .library
        .dispatch(LibraryAction::Replaced(book.clone()));
    dispatch.reload();
    Ok(book)
}

/// Starts signing in: the shell opens the user's browser and answers at once; the result
/// comes later as `auth-changed` or `auth-failed`. Until then the header waits.
pub fn sign_in(dispatch: &Dispatch) {
    dispatch.auth.dispatch(AuthAction::SignInStarted);
    let dispatch = dispatch.clone();
    spawn_local(async move {
        if let Err(err) = ipc::call::<_, ()>(commands::SIGN_IN, &NoArgs {}).await {
            dispatch.auth.dispatch(AuthAction::SignInFailed(err));
        }
    });
}

/// Abandons the waiting sign-in: the header is signed out again at once, and a link that
/// still comes back is refused by the shell.
pub fn cancel_sign_in(dispatch: &Dispatch) {
    dispatch.auth.dispatch(AuthAction::Cancelled);
    let dispatch = dispatch.clone();
    spawn_local(async move {
        if let Err(err) = ipc::call::<_, ()>(commands::CANCEL_SIGN_IN, &NoArgs {}).await {
            dispatch.failed(err);
        }
    });
}

/// Signs out; the answer is the local-only account the header shows next.
pub fn sign_out(dispatch: &Dispatch) {
    dispatch.auth.dispatch(AuthAction::SigningOut);
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::call::<_, Account>(commands::SIGN_OUT, &NoArgs {}).await {
            Ok(account) => {
                dispatch.auth.dispatch(AuthAction::Changed(account));
                dispatch.editor.dispatch(EditorAction::Close);
                dispatch.reload();
                fetch_sync_status(&dispatch);
            }
            Err(err) => dispatch.auth.dispatch(AuthAction::SignOutFailed(err)),
        }
    });
}

thread_local! {
    /// The number of the last `sync_status` question (the UI runs on one thread).
    static SYNC_QUESTIONS: Cell<u64> = const { Cell::new(0) };
}

/// Asks the shell for the sync status (at start, and whenever the account changed). The
/// answer is numbered so that one read before a newer `sync-status` event cannot replace it.
pub fn fetch_sync_status(dispatch: &Dispatch) {
    let request = SYNC_QUESTIONS.with(|last| {
        last.set(last.get() + 1);
        last.get()
    });
    dispatch.sync.dispatch(SyncAction::Asked(request));
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::call::<_, Option<SyncStatus>>(commands::SYNC_STATUS, &NoArgs {}).await {
            Ok(status) => dispatch
                .sync
                .dispatch(SyncAction::Answered { request, status }),
            Err(err) => dispatch.failed(err),
        }
    });
}

/// "Sync now": wakes the sync engine; what it does next arrives as `sync-status` events.
pub fn sync_now(dispatch: &Dispatch) {
    let dispatch = dispatch.clone();
    spawn_local(async move {
        if let Err(err) = ipc::call::<_, ()>(commands::SYNC_NOW, &NoArgs {}).await {
            dispatch.failed(err);
        }
    });
}
