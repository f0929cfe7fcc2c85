//! The one state object the shell manages: the open store and the resolved paths.

use std::sync::{Arc, Mutex, PoisonError};

use bookwish_core::Store;
use bookwish_ipc::{Account, AppInfo, ErrorCode, IpcError};

use crate::paths::Paths;

/// Managed by Tauri for the whole run; commands reach the core only through it.
pub struct AppState {
    store: Arc<Mutex<Store>>,
    paths: Paths,
    version: String,
}

impl AppState {
    /// Wraps an open store.
    pub fn new(store: Store, paths: Paths, version: String) -> Self {
        AppState {
            store: Arc::new(Mutex::new(store)),
            paths,
            version,
        }
    }

    /// What the UI needs at start. Sign-in arrives with the auth issue; until then the app is
    /// local-only and says that sign-in is not configured.
    pub fn info(&self) -> AppInfo {
        AppInfo {
            version: self.version.clone(),
            account: Account::LocalOnly {
                sign_in_available: false,
            },
            data_dir: self.paths.data_dir.display().to_string(),
        }
    }

    /// Runs `work` on the store off the async runtime (rusqlite is blocking) and turns core
    /// errors into `{code, message}`.
    pub async fn with_store<T, F>(&self, work: F) -> Result<T, IpcError>
    where
        F: FnOnce(&mut Store) -> bookwish_core::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let outcome = tauri::async_runtime::spawn_blocking(move || {
            // A panic inside an earlier call rolled its transaction back when the guard
            // dropped, so the connection is still consistent: keep serving.
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut store)
        })
        .await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "command refused");
                Err(IpcError::from(error))
            }
            Err(join_error) => {
                tracing::error!(error = %join_error, "command crashed");
                Err(IpcError::new(
                    ErrorCode::Internal,
                    "Bookwish hit an internal error; nothing was saved. The log file has details.",
                ))
            }
        }
    }
}
