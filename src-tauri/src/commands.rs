//! The IPC commands: one [`Handle`] impl per command declared in `bookwish_ipc::commands`, each
//! adapting one call on the managed state. The Tauri handlers themselves are generated from the
//! declaration list (`bookwish_ipc::with_commands!`), so a command cannot be declared without a
//! handler or answer a type the UI does not expect.

use std::future::Future;

use bookwish_ipc::commands::{
    AddBook, CancelImport, CancelSignIn, Command, ConfirmImport, DeleteBook, DiscardRejection,
    DismissUnreadable, ExportBackup, ExportGoodreads, FixRejection, GetAppInfo, GetBook,
    GetDiagnostics, GetLocalBooksOffer, GetSyncIssues, GetSyncStatus, KeepLocalBooks, ListBooks,
    MoveLocalBooks, PickImportFile, RemoveAccountBooks, ResolveConflict, RestoreBook, SetStatus,
    SignIn, SignOut, SyncNow, UndoImport, UpdateBook,
};
use bookwish_ipc::{ErrorCode, IpcError};
use tauri::ipc::Response;
use tauri::{AppHandle, Manager};

use crate::account;
use crate::state::AppState;
use crate::transfer::{self, ExportKind};

/// How the shell answers one command.
pub trait Handle: Command {
    /// Runs the command for the window.
    fn handle(self, app: &AppHandle)
        -> impl Future<Output = Result<Self::Output, IpcError>> + Send;
}

/// One Tauri command per declared command, and the handler list. Every answer crosses as
/// JSON bytes (see [`answer`]); errors cross as the `{code, message}` object they always were.
macro_rules! tauri_commands {
    ($($name:ident: $command:path => $output:ty),* $(,)?) => {
        $(
            #[tauri::command]
            async fn $name(
                app: AppHandle,
                args: crate::arg::Args<$command>,
            ) -> Result<Response, IpcError> {
                let output: $output = <$command as Handle>::handle(args.0?, &app).await?;
                answer(&output)
            }
        )*

        /// The invoke handler for every declared command.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }
    };
}

bookwish_ipc::with_commands!(tauri_commands);

/// A command's answer as the JSON bytes of `output`. Tauri hands raw bytes to the window as an
/// `ArrayBuffer`, which the UI decodes with serde_json in wasm: for a list of 10,000 books that
/// is several times cheaper than having the webview build 10,000 JS objects and then reading
/// them back one property at a time (`serde_wasm_bindgen`).
fn answer<T: serde::Serialize>(output: &T) -> Result<Response, IpcError> {
    serde_json::to_vec(output)
        .map(Response::new)
        .map_err(|error| {
            tracing::error!(%error, "an answer could not be encoded");
            IpcError::new(
                ErrorCode::Internal,
                "Bookwish could not send its answer to the window. The log file has details.",
            )
        })
}

fn state(app: &AppHandle) -> tauri::State<'_, AppState> {
    app.state::<AppState>()
}

impl Handle for GetAppInfo {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        Ok(state(app).info())
    }
}

impl Handle for ListBooks {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        let state = state(app);
        let list = state
            .read(move |store| match self.limit {
                Some(limit) => store.list_first(&self.query, limit),
                None => store.list(&self.query),
            })
            .await;
        state.listed();
        list
    }
}

impl Handle for GetBook {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).read(move |store| store.get(self.id)).await
    }
}

impl Handle for AddBook {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).edit(move |store| store.add(&self.draft)).await
    }
}

impl Handle for UpdateBook {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app)
            .edit(move |store| store.update(self.id, &self.draft))
            .await
    }
}

impl Handle for SetStatus {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app)
            .edit(move |store| store.set_status(self.id, self.status))
            .await
    }
}

impl Handle for DeleteBook {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).edit(move |store| store.delete(self.id)).await
    }
}

impl Handle for RestoreBook {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).edit(move |store| store.restore(self.id)).await
    }
}

impl Handle for SignIn {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        account::sign_in(&state(app)).await
    }
}

impl Handle for CancelSignIn {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).auth().map(|auth| auth.cancel_sign_in())
    }
}

impl Handle for SignOut {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        account::sign_out(app, &state(app)).await
    }
}

impl Handle for GetSyncStatus {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        Ok(state(app).sync_status())
    }
}

impl Handle for SyncNow {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).nudge_sync(bookwish_sync::Trigger::SyncNow);
        Ok(())
    }
}

impl Handle for GetSyncIssues {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).read(|store| store.sync_issues()).await
    }
}

impl Handle for ResolveConflict {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app)
            .edit(move |store| store.resolve_conflict(self.id, self.choice))
            .await
    }
}

impl Handle for FixRejection {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app)
            .edit(move |store| store.fix_rejection(self.id, &self.draft))
            .await
    }
}

impl Handle for DiscardRejection {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app)
            .edit(move |store| store.discard_rejection(self.id))
            .await
    }
}

impl Handle for DismissUnreadable {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app)
            .edit(move |store| store.dismiss_unreadable(self.id))
            .await
    }
}

impl Handle for GetLocalBooksOffer {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).local_books_offer().await
    }
}

impl Handle for MoveLocalBooks {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).move_local_books().await
    }
}

impl Handle for KeepLocalBooks {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).keep_local_books().await
    }
}

impl Handle for GetDiagnostics {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).diagnostics().await
    }
}

impl Handle for PickImportFile {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        transfer::pick(app).await
    }
}

impl Handle for ConfirmImport {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        transfer::confirm(app, self.token, self.on_match).await
    }
}

impl Handle for CancelImport {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        transfer::cancel(app, self.token);
        Ok(())
    }
}

impl Handle for UndoImport {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app)
            .edit(move |store| store.undo_import(self.import_id))
            .await
    }
}

impl Handle for ExportGoodreads {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        transfer::export(app, ExportKind::Goodreads).await
    }
}

impl Handle for ExportBackup {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        transfer::export(app, ExportKind::Backup).await
    }
}

impl Handle for RemoveAccountBooks {
    async fn handle(self, app: &AppHandle) -> Result<Self::Output, IpcError> {
        state(app).remove_account_books(self.user_id).await
    }
}

#[cfg(test)]
mod tests {
    use bookwish_ipc::commands::NAMES;

    /// The window may call exactly the declared commands: the capability file names one
    /// `allow-<command>` permission per command and nothing else of ours.
    #[test]
    fn the_capability_allows_exactly_the_declared_commands() {
        let text = include_str!("../capabilities/main.json");
        let capability: serde_json::Value = serde_json::from_str(text).expect("main.json is JSON");
        let mut allowed: Vec<String> = capability["permissions"]
            .as_array()
            .expect("a permissions list")
            .iter()
            .filter_map(|p| p.as_str())
            .filter(|p| !p.starts_with("core:"))
            .map(str::to_owned)
            .collect();
        let mut declared: Vec<String> = NAMES
            .iter()
            .map(|name| format!("allow-{}", name.replace('_', "-")))
            .collect();
        allowed.sort();
        declared.sort();
        assert_eq!(
            allowed, declared,
            "capabilities/main.json must allow exactly the commands of bookwish_ipc::commands"
        );
    }
}
