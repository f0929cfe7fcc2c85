//! The IPC commands: each one checks its arguments and adapts one call on the core store.

use bookwish_ipc::{
    Account, AppInfo, Book, BookDraft, BookId, BookList, ConflictChoice, IpcError, ListQuery,
    LocalBooksOffer, MovedBooks, Status, SyncIssues, SyncStatus,
};
use tauri::{AppHandle, State};

use crate::arg::Arg;
use crate::state::AppState;
use crate::{account, local_books};

type Reply<T> = Result<T, IpcError>;

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    state.info()
}

#[tauri::command]
pub async fn list_books(state: State<'_, AppState>, query: Arg<ListQuery>) -> Reply<BookList> {
    let query = query.checked("query")?;
    state.read(move |store| store.list(&query)).await
}

#[tauri::command]
pub async fn add_book(state: State<'_, AppState>, draft: Arg<BookDraft>) -> Reply<Book> {
    let draft = draft.checked("draft")?;
    state.edit(move |store| store.add(&draft)).await
}

#[tauri::command]
pub async fn update_book(
    state: State<'_, AppState>,
    id: Arg<BookId>,
    draft: Arg<BookDraft>,
) -> Reply<Book> {
    let (id, draft) = (id.checked("id")?, draft.checked("draft")?);
    state.edit(move |store| store.update(id, &draft)).await
}

#[tauri::command]
pub async fn set_status(
    state: State<'_, AppState>,
    id: Arg<BookId>,
    status: Arg<Status>,
) -> Reply<Book> {
    let (id, status) = (id.checked("id")?, status.checked("status")?);
    state.edit(move |store| store.set_status(id, status)).await
}

#[tauri::command]
pub async fn delete_book(state: State<'_, AppState>, id: Arg<BookId>) -> Reply<Book> {
    let id = id.checked("id")?;
    state.edit(move |store| store.delete(id)).await
}

#[tauri::command]
pub async fn restore_book(state: State<'_, AppState>, id: Arg<BookId>) -> Reply<Book> {
    let id = id.checked("id")?;
    state.edit(move |store| store.restore(id)).await
}

#[tauri::command]
pub async fn sign_in(state: State<'_, AppState>) -> Reply<()> {
    account::sign_in(&state).await
}

#[tauri::command]
pub fn cancel_sign_in(state: State<'_, AppState>) -> Reply<()> {
    state.auth().map(|auth| auth.cancel_sign_in())
}

#[tauri::command]
pub async fn sign_out(app: AppHandle, state: State<'_, AppState>) -> Reply<Account> {
    account::sign_out(&app, &state).await
}

#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> Option<SyncStatus> {
    state.sync_status()
}

#[tauri::command]
pub fn sync_now(state: State<'_, AppState>) {
    state.nudge_sync(bookwish_sync::Trigger::SyncNow);
}

#[tauri::command]
pub async fn sync_issues(state: State<'_, AppState>) -> Reply<SyncIssues> {
    state.read(|store| store.sync_issues()).await
}

#[tauri::command]
pub async fn resolve_conflict(
    state: State<'_, AppState>,
    id: Arg<i64>,
    choice: Arg<ConflictChoice>,
) -> Reply<()> {
    let (id, choice) = (id.checked("id")?, choice.checked("choice")?);
    state
        .edit(move |store| store.resolve_conflict(id, choice))
        .await
}

#[tauri::command]
pub async fn fix_rejection(
    state: State<'_, AppState>,
    id: Arg<i64>,
    draft: Arg<BookDraft>,
) -> Reply<Book> {
    let (id, draft) = (id.checked("id")?, draft.checked("draft")?);
    state
        .edit(move |store| store.fix_rejection(id, &draft))
        .await
}

#[tauri::command]
pub async fn discard_rejection(state: State<'_, AppState>, id: Arg<i64>) -> Reply<()> {
    let id = id.checked("id")?;
    state.edit(move |store| store.discard_rejection(id)).await
}

#[tauri::command]
pub async fn local_books_offer(state: State<'_, AppState>) -> Reply<Option<LocalBooksOffer>> {
    local_books::offer(&state).await
}

#[tauri::command]
pub async fn move_local_books(state: State<'_, AppState>) -> Reply<MovedBooks> {
    local_books::move_into_account(&state).await
}

#[tauri::command]
pub async fn keep_local_books(state: State<'_, AppState>) -> Reply<()> {
    local_books::keep_local(&state).await
}
