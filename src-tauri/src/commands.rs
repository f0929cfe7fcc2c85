//! The IPC commands: each one checks its arguments and adapts one call on the core store.

use bookwish_ipc::{
    Account, AppInfo, Book, BookDraft, BookId, BookList, IpcError, ListQuery, Status, SyncStatus,
};
use tauri::{AppHandle, State};

use crate::account;
use crate::arg::Arg;
use crate::state::AppState;

type Reply<T> = Result<T, IpcError>;

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    state.info()
}

#[tauri::command]
pub async fn list_books(state: State<'_, AppState>, query: Arg<ListQuery>) -> Reply<BookList> {
    let query = query.checked("query")?;
    state.with_store(move |store| store.list(&query)).await
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
    state
        .with_store(move |store| store.update(id, &draft))
        .await
}

#[tauri::command]
pub async fn set_status(
    state: State<'_, AppState>,
    id: Arg<BookId>,
    status: Arg<Status>,
) -> Reply<Book> {
    let (id, status) = (id.checked("id")?, status.checked("status")?);
    state
        .with_store(move |store| store.set_status(id, status))
        .await
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
