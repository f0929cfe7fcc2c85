//! Commands the user triggers from a row, a toast, the header, the status bar or a dialog:
//! call the core, then dispatch what happened.
//!
//! The forms call [`add`], [`update`] and [`fix_rejection`] themselves and await them, because
//! their errors are shown next to a field rather than as a toast.

use std::cell::Cell;

use bookwish_ipc::commands::{
    AddBook, CancelImport, CancelSignIn, Command, ConfirmImport, DeleteBook, DiscardRejection,
    DismissUnreadable, ExportBackup, ExportGoodreads, FixRejection, GetLocalBooksOffer,
    GetSyncIssues, GetSyncStatus, KeepLocalBooks, MoveLocalBooks, PickImportFile,
    RemoveAccountBooks, ResolveConflict, RestoreBook, SetStatus, SignIn, SignOut, SyncNow,
    UndoImport, UpdateBook,
};
use bookwish_ipc::{
    Account, Book, BookDraft, BookId, ConflictChoice, DeletedAccount, Exported, IpcError,
    LocalBooksOffer, OnMatch, Status,
};
use wasm_bindgen_futures::spawn_local;

use crate::ipc;
use crate::state::deleted::removed_text;
use crate::state::local_books::{kept_text, moved_text};
use crate::state::transfer::{done_text, undone_text};
use crate::state::{
    AuthAction, Choice, DeletedAction, Dispatch, EditorAction, Issue, LibraryAction,
    LocalBooksAction, NoticesAction, ReviewAction, SyncAction, TransferAction,
};
use crate::text::{books, size};

/// Moves a book to `status` (the segmented control of a row).
pub fn set_status(dispatch: &Dispatch, id: BookId, status: Status) {
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::invoke(&SetStatus { id, status }).await {
            Ok(book) => {
                dispatch
                    .library
                    .dispatch(LibraryAction::Replaced(book.into()));
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
        match ipc::invoke(&DeleteBook { id }).await {
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
    match ipc::invoke(&RestoreBook { id }).await {
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
    let book = ipc::invoke(&AddBook { draft }).await?;
    dispatch.library.dispatch(LibraryAction::Added(book.id));
    Ok(book)
}

/// Saves a book's editor; on success shows the new state and reloads. The caller shows the
/// error.
pub async fn update(dispatch: &Dispatch, id: BookId, draft: BookDraft) -> Result<Book, IpcError> {
    let book = ipc::invoke(&UpdateBook { id, draft }).await?;
    dispatch
        .library
        .dispatch(LibraryAction::Replaced((&book).into()));
    dispatch.reload();
    Ok(book)
}

/// Starts signing in: the shell opens the user's browser and answers at once; the result
/// comes later as `auth-changed` or `auth-failed`. Until then the header waits.
pub fn sign_in(dispatch: &Dispatch) {
    dispatch.auth.dispatch(AuthAction::SignInStarted);
    let dispatch = dispatch.clone();
    spawn_local(async move {
        if let Err(err) = ipc::invoke(&SignIn {}).await {
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
        if let Err(err) = ipc::invoke(&CancelSignIn {}).await {
            dispatch.failed(err);
        }
    });
}

/// Signs out; the answer is the local-only account the header shows next.
pub fn sign_out(dispatch: &Dispatch) {
    dispatch.auth.dispatch(AuthAction::SigningOut);
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::invoke(&SignOut {}).await {
            Ok(account) => account_changed(&dispatch, account),
            Err(err) => dispatch.auth.dispatch(AuthAction::SignOutFailed(err)),
        }
    });
}

/// The account changed (signed in or out, by the user or in the background): the list, the
/// sync status and the review panel were the old account's. A signed-in account is asked
/// about the books only on this computer.
pub fn account_changed(dispatch: &Dispatch, account: Account) {
    let signed_in = matches!(account, Account::SignedIn { .. });
    dispatch.auth.dispatch(AuthAction::Changed(account));
    dispatch.editor.dispatch(EditorAction::Close);
    dispatch.review.dispatch(ReviewAction::Close);
    dispatch.reload();
    fetch_sync_status(dispatch);
    if signed_in {
        ask_local_books(dispatch);
    } else {
        dispatch.local_books.dispatch(LocalBooksAction::Withdrawn);
    }
}

thread_local! {
    /// The number of the last `sync_status` question (the UI runs on one thread).
    static SYNC_QUESTIONS: Cell<u64> = const { Cell::new(0) };
    /// The number of the last `sync_issues` question.
    static ISSUE_QUESTIONS: Cell<u64> = const { Cell::new(0) };
    /// The number of the last `local_books_offer` question.
    static OFFER_QUESTIONS: Cell<u64> = const { Cell::new(0) };
}

/// The next number of a question counted by `counter`.
fn next_question(counter: &'static std::thread::LocalKey<Cell<u64>>) -> u64 {
    counter.with(|last| {
        last.set(last.get() + 1);
        last.get()
    })
}

/// Asks the shell for the sync status (at start, and whenever the account changed). The
/// answer is numbered so that one read before a newer `sync-status` event cannot replace it.
pub fn fetch_sync_status(dispatch: &Dispatch) {
    let request = next_question(&SYNC_QUESTIONS);
    dispatch.sync.dispatch(SyncAction::Asked(request));
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::invoke(&GetSyncStatus {}).await {
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
        if let Err(err) = ipc::invoke(&SyncNow {}).await {
            dispatch.failed(err);
        }
    });
}

/// Asks the shell for the conflicts and refused changes (the review panel is open). The answer
/// is numbered so a slow one cannot replace a newer one.
pub fn load_issues(dispatch: &Dispatch) {
    let request = next_question(&ISSUE_QUESTIONS);
    dispatch.review.dispatch(ReviewAction::Asked(request));
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::invoke(&GetSyncIssues {}).await {
            Ok(issues) => dispatch
                .review
                .dispatch(ReviewAction::Loaded { request, issues }),
            Err(err) => {
                dispatch
                    .review
                    .dispatch(ReviewAction::LoadFailed { request });
                dispatch.failed(err);
            }
        }
    });
}

/// Settles a conflict: keep the current value or use the other one. The book may change, so
/// the list is reloaded too.
pub fn resolve_conflict(dispatch: &Dispatch, id: i64, choice: ConflictChoice) {
    settle(
        dispatch,
        Issue::Conflict(id),
        ResolveConflict { id, choice },
    );
}

/// Forgets a refused change; the book keeps the server's values.
pub fn discard_rejection(dispatch: &Dispatch, id: i64) {
    settle(dispatch, Issue::Rejection(id), DiscardRejection { id });
}

/// Forgets a book from the account this version cannot show (the user has seen it).
pub fn dismiss_unreadable(dispatch: &Dispatch, id: i64) {
    settle(dispatch, Issue::Unreadable(id), DismissUnreadable { id });
}

/// Runs `command` on one item of the review panel, its buttons waiting meanwhile.
fn settle<C: Command<Output = ()>>(dispatch: &Dispatch, issue: Issue, command: C) {
    dispatch.review.dispatch(ReviewAction::Started(issue));
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::invoke(&command).await {
            Ok(()) => {
                dispatch.review.dispatch(ReviewAction::Done(issue));
                dispatch.reload();
            }
            Err(err) => {
                dispatch.review.dispatch(ReviewAction::Failed(issue));
                dispatch.failed(err);
            }
        }
    });
}

/// Saves the corrected book of a refused change (it syncs again) and forgets the refusal. The
/// caller (the edit form) shows the error.
pub async fn fix_rejection(
    dispatch: &Dispatch,
    id: i64,
    draft: BookDraft,
) -> Result<Book, IpcError> {
    let book = ipc::invoke(&FixRejection { id, draft }).await?;
    dispatch
        .review
        .dispatch(ReviewAction::Done(Issue::Rejection(id)));
    dispatch
        .library
        .dispatch(LibraryAction::Replaced((&book).into()));
    dispatch.reload();
    Ok(book)
}

/// Asks whether books only on this computer wait for a decision (after signing in, and at
/// start when signed in).
pub fn ask_local_books(dispatch: &Dispatch) {
    let request = next_question(&OFFER_QUESTIONS);
    dispatch
        .local_books
        .dispatch(LocalBooksAction::Asked(request));
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::invoke(&GetLocalBooksOffer {}).await {
            Ok(offer) => dispatch
                .local_books
                .dispatch(LocalBooksAction::Answered { request, offer }),
            Err(err) => dispatch.failed(err),
        }
    });
}

/// Answers the local books question: move them into the account (they sync from then on) or
/// keep them on this computer. Says what happened in a toast.
pub fn decide_local_books(dispatch: &Dispatch, offer: &LocalBooksOffer, choice: Choice) {
    dispatch
        .local_books
        .dispatch(LocalBooksAction::Started(choice));
    let dispatch = dispatch.clone();
    let kept = kept_text(offer);
    spawn_local(async move {
        let done = match choice {
            Choice::Move => ipc::invoke(&MoveLocalBooks {}).await.map(moved_text),
            Choice::Keep => ipc::invoke(&KeepLocalBooks {}).await.map(|()| kept),
        };
        match done {
            Ok(news) => {
                dispatch.local_books.dispatch(LocalBooksAction::Finished);
                dispatch.notices.dispatch(NoticesAction::Info(news));
                // Moved books join the account's list; kept ones were never in it.
                if choice == Choice::Move {
                    dispatch.reload();
                }
            }
            Err(err) => {
                dispatch.local_books.dispatch(LocalBooksAction::Failed);
                dispatch.failed(err);
            }
        }
    });
}

/// "Import…": the shell opens the OS file dialog; the file chosen is read and measured against
/// the list, and the panel shows what it holds (or why it cannot be imported).
pub fn pick_import_file(dispatch: &Dispatch) {
    dispatch.transfer.dispatch(TransferAction::Choosing);
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::invoke(&PickImportFile {}).await {
            Ok(Some(offer)) => dispatch.transfer.dispatch(TransferAction::Offered(offer)),
            Ok(None) => dispatch.transfer.dispatch(TransferAction::NotChosen),
            Err(err) => dispatch.transfer.dispatch(TransferAction::Failed(err)),
        }
    });
}

/// Imports the offered file; progress arrives as events meanwhile. The toast that follows
/// says what it did and offers one undo for all of it.
pub fn confirm_import(dispatch: &Dispatch, token: u64, on_match: OnMatch) {
    dispatch.transfer.dispatch(TransferAction::Started);
    let dispatch = dispatch.clone();
    spawn_local(async move {
        match ipc::invoke(&ConfirmImport { token, on_match }).await {
            Ok(done) => {
                dispatch.transfer.dispatch(TransferAction::Finished);
                let text = done_text(&done);
                match done.import_id {
                    Some(import_id) => dispatch
                        .notices
                        .dispatch(NoticesAction::Imported { import_id, text }),
                    None => dispatch.notices.dispatch(NoticesAction::Info(text)),
                }
                dispatch.reload();
            }
            Err(err) => dispatch.transfer.dispatch(TransferAction::Failed(err)),
        }
    });
}

/// Closes the panel and lets the shell drop the file.
pub fn cancel_import(dispatch: &Dispatch, token: Option<u64>) {
    dispatch.transfer.dispatch(TransferAction::Close);
    let Some(token) = token else {
        return;
    };
    let dispatch = dispatch.clone();
    spawn_local(async move {
        if let Err(err) = ipc::invoke(&CancelImport { token }).await {
            dispatch.failed(err);
        }
    });
}

/// Undoes the import announced by toast `notice`. Whether it worked, so the toast can offer
/// undo again on failure (the failure itself is reported as a toast here).
pub async fn undo_import(dispatch: &Dispatch, notice: u64, import_id: i64) -> bool {
    match ipc::invoke(&UndoImport { import_id }).await {
        Ok(undone) => {
            dispatch.notices.dispatch(NoticesAction::Dismiss(notice));
            dispatch
                .notices
                .dispatch(NoticesAction::Info(undone_text(&undone)));
            dispatch.reload();
            true
        }
        Err(err) => {
            dispatch.failed(err);
            false
        }
    }
}

/// What an export writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// A CSV Goodreads imports.
    Goodreads,
    /// A Bookwish backup.
    Backup,
}

/// Saves the list where the user says in the OS save dialog; a toast says what was written.
pub fn export(dispatch: &Dispatch, kind: Export) {
    let dispatch = dispatch.clone();
    spawn_local(async move {
        let written = match kind {
            Export::Goodreads => ipc::invoke(&ExportGoodreads {}).await,
            Export::Backup => ipc::invoke(&ExportBackup {}).await,
        };
        match written {
            Ok(Some(exported)) => dispatch
                .notices
                .dispatch(NoticesAction::Info(exported_text(&exported))),
            Ok(None) => {}
            Err(err) => dispatch.failed(err),
        }
    });
}

/// "Saved 12 books to bookwish-backup-2024-05-01.json".
pub fn exported_text(exported: &Exported) -> String {
    format!(
        "Saved {} to {}",
        books(size(exported.books)),
        exported.file_name
    )
}

/// Removes the books of a deleted account from this computer (confirmed by the user, or none
/// were left), then says what went in a toast; a failure keeps the notice to try again.
pub fn remove_account_books(dispatch: &Dispatch, account: &DeletedAccount) {
    let user_id = account.user_id.clone();
    dispatch
        .deleted
        .dispatch(DeletedAction::Removing(user_id.clone()));
    let dispatch = dispatch.clone();
    let account = account.clone();
    spawn_local(async move {
        match ipc::invoke(&RemoveAccountBooks {
            user_id: user_id.clone(),
        })
        .await
        {
            Ok(removed) => {
                dispatch.deleted.dispatch(DeletedAction::Removed(user_id));
                dispatch
                    .notices
                    .dispatch(NoticesAction::Info(removed_text(&account, removed)));
            }
            Err(err) => {
                dispatch
                    .deleted
                    .dispatch(DeletedAction::RemoveFailed(user_id));
                dispatch.failed(err);
            }
        }
    });
}
