//! The one state object the shell manages: the open store of the current account, the
//! sign-in session (when Clerk is configured) and the resolved paths.
//!
//! Each account has its own database (`accounts/<user id>.sqlite3`), apart from the
//! local-only one (`local.sqlite3`): signing in switches the open store, signing out switches
//! back, and no account ever sees another's books.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bookwish_auth::{AppConfig, Auth, SupabaseConfig};
use bookwish_core::Store;
use bookwish_ipc::{Account, AppInfo, ErrorCode, IpcError, Profile, SyncStatus};
use bookwish_sync::{SyncHandle, Trigger};

use crate::paths::Paths;

/// Managed by Tauri for the whole run; commands reach the core only through it.
pub struct AppState {
    store: Mutex<Arc<Mutex<Store>>>,
    account: Mutex<Account>,
    auth: Option<Arc<Auth>>,
    supabase: Option<SupabaseConfig>,
    sync: Mutex<Option<SyncHandle>>,
    paths: Paths,
    version: String,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside an earlier call rolled its transaction back when its guard dropped, so
    // what the mutex protects is still consistent: keep serving.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn internal(what: &str) -> IpcError {
    IpcError::new(
        ErrorCode::Internal,
        format!(
            "Bookwish hit an internal error {what}; nothing was saved. The log file has details."
        ),
    )
}

impl AppState {
    /// Opens the database of the account remembered from last time (or the local-only one)
    /// and prepares sign-in when the configuration names a Clerk instance.
    pub fn open(paths: Paths, config: &AppConfig, version: String) -> anyhow::Result<AppState> {
        let auth = config.clerk.clone().map(|clerk| {
            Arc::new(
                Auth::new(
                    clerk,
                    config.supabase.clone(),
                    Arc::new(bookwish_auth::Keychain::new()),
                    paths.data_dir.clone(),
                )
                .with_http_client(bookwish_auth::http_client()),
            )
        });
        let remembered = match &auth {
            Some(auth) => auth.remembered()?,
            None => None,
        };
        let account = account_for(auth.is_some(), remembered.clone());
        let store = Store::open(&database_for(&paths, remembered.as_ref()))?;
        Ok(AppState {
            store: Mutex::new(Arc::new(Mutex::new(store))),
            account: Mutex::new(account),
            auth,
            supabase: config.supabase.clone(),
            sync: Mutex::new(None),
            paths,
            version,
        })
    }

    /// What the UI needs at start.
    pub fn info(&self) -> AppInfo {
        AppInfo {
            version: self.version.clone(),
            account: lock(&self.account).clone(),
            data_dir: self.paths.data_dir.display().to_string(),
        }
    }

    /// The sign-in session, or a `config` error saying sign-in is not set up.
    pub fn auth(&self) -> Result<&Arc<Auth>, IpcError> {
        self.auth
            .as_ref()
            .ok_or_else(|| IpcError::from(bookwish_auth::Error::NotConfigured))
    }

    /// The account shown now.
    pub fn account(&self) -> Account {
        lock(&self.account).clone()
    }

    /// What is needed to sync the signed-in account: the session and the Supabase project.
    pub fn sync_target(&self) -> Option<(Arc<Auth>, SupabaseConfig, PathBuf)> {
        let Account::SignedIn { profile } = self.account() else {
            return None;
        };
        let auth = Arc::clone(self.auth.as_ref()?);
        let supabase = self.supabase.clone()?;
        Some((auth, supabase, database_for(&self.paths, Some(&profile))))
    }

    /// Replaces the running sync (stopping the old one, if any).
    pub fn set_sync(&self, handle: Option<SyncHandle>) {
        if let Some(old) = std::mem::replace(&mut *lock(&self.sync), handle) {
            old.shutdown();
        }
    }

    /// Wakes the sync engine, if one runs.
    pub fn nudge_sync(&self, trigger: Trigger) {
        if let Some(handle) = lock(&self.sync).as_ref() {
            handle.trigger(trigger);
        }
    }

    /// The sync status, or `None` while no account syncs.
    pub fn sync_status(&self) -> Option<SyncStatus> {
        lock(&self.sync)
            .as_ref()
            .map(|handle| handle.status().borrow().clone())
    }

    /// Switches to the database of `profile` (or the local-only one for `None`) and returns
    /// the account the UI should now show.
    pub async fn switch_account(&self, profile: Option<Profile>) -> Result<Account, IpcError> {
        let path = database_for(&self.paths, profile.as_ref());
        let store = tauri::async_runtime::spawn_blocking(move || Store::open(&path))
            .await
            .map_err(|_| internal("while opening the account's books"))??;
        *lock(&self.store) = Arc::new(Mutex::new(store));
        let account = account_for(self.auth.is_some(), profile);
        *lock(&self.account) = account.clone();
        Ok(account)
    }

    /// Runs a change on the current store (see [`AppState::read`]); on success the sync
    /// engine hears of it, so the change is pushed (debounced) and the pending count updates.
    /// Every write goes through here: `read` cannot write, so no edit can forget the nudge.
    pub async fn edit<T, F>(&self, work: F) -> Result<T, IpcError>
    where
        F: FnOnce(&mut Store) -> bookwish_core::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let value = self.run(work).await?;
        self.nudge_sync(Trigger::LocalEdit);
        Ok(value)
    }

    /// Runs a read on the current store off the async runtime.
    pub async fn read<T, F>(&self, work: F) -> Result<T, IpcError>
    where
        F: FnOnce(&Store) -> bookwish_core::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |store| work(store)).await
    }

    /// Runs `work` on the local-only database (the one used while signed out), whichever
    /// account is open: on a connection of its own, off the async runtime.
    pub async fn with_local_store<T, F>(&self, work: F) -> Result<T, IpcError>
    where
        F: FnOnce(&mut Store) -> bookwish_core::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let path = self.paths.local_database();
        let outcome =
            tauri::async_runtime::spawn_blocking(move || work(&mut Store::open(&path)?)).await;
        match outcome {
            Ok(result) => result.map_err(|error| {
                tracing::warn!(error = %error, "local-only database refused");
                IpcError::from(error)
            }),
            Err(_) => Err(internal("while reading the books kept on this computer")),
        }
    }

    /// Runs `work` on the current store off the async runtime (rusqlite is blocking) and turns
    /// core errors into `{code, message}`.
    async fn run<T, F>(&self, work: F) -> Result<T, IpcError>
    where
        F: FnOnce(&mut Store) -> bookwish_core::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(&lock(&self.store));
        let outcome = tauri::async_runtime::spawn_blocking(move || work(&mut lock(&store))).await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "command refused");
                Err(IpcError::from(error))
            }
            Err(join_error) => {
                tracing::error!(error = %join_error, "command crashed");
                Err(internal("while saving"))
            }
        }
    }
}

fn account_for(sign_in_available: bool, profile: Option<Profile>) -> Account {
    match profile {
        Some(profile) => Account::SignedIn { profile },
        None => Account::LocalOnly { sign_in_available },
    }
}

/// `local.sqlite3` for no account, `accounts/<user id>.sqlite3` for one. The user id is the
/// provider's `sub`; anything but letters, digits, `-` and `_` is replaced so it is always a
/// plain file name.
fn database_for(paths: &Paths, profile: Option<&Profile>) -> PathBuf {
    match profile {
        None => paths.local_database(),
        Some(profile) => {
            let name: String = profile
                .user_id
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            paths
                .data_dir
                .join("accounts")
                .join(format!("{name}.sqlite3"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(user_id: &str) -> Profile {
        Profile {
            user_id: user_id.to_owned(),
            name: String::new(),
            email: String::new(),
            initials: "?".to_owned(),
        }
    }

    #[test]
    fn each_account_has_its_own_database_apart_from_local() {
        let paths = Paths::resolve(Some(std::path::Path::new("/d")), "/x".into(), "/y".into());
        let local = database_for(&paths, None);
        let alice = database_for(&paths, Some(&profile("user_alice")));
        let bob = database_for(&paths, Some(&profile("user_bob")));
        assert_eq!(
            local,
            PathBuf::from("/d/local.sqlite3"),
            "no account: the local database"
        );
        assert_eq!(alice, PathBuf::from("/d/accounts/user_alice.sqlite3"));
        assert_ne!(alice, bob, "two accounts never share a database");
    }

    #[test]
    fn a_hostile_user_id_stays_a_plain_file_name() {
        let paths = Paths::resolve(Some(std::path::Path::new("/d")), "/x".into(), "/y".into());
        let path = database_for(&paths, Some(&profile("../../etc/passwd")));
        assert_eq!(
            path.parent(),
            Some(std::path::Path::new("/d/accounts")),
            "a user id must never escape the accounts folder: {path:?}"
        );
    }
}
