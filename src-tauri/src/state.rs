//! The one state object the shell manages: the open store of the account shown now, the sign-in
//! session (when Clerk is configured), the running sync and the idle-time checkpoint.
//!
//! Which file holds whose books is the core's business (`bookwish_core::accounts`): signing in
//! switches the open store to the account's database, signing out switches back to the
//! local-only one. A database that cannot be opened (say, written by a newer Bookwish) is not a
//! crash: every command answers why, and the window shows it.
//!
//! An account the server deleted is marked in its database by the core and listed (read at
//! start, kept up to date here) until the user removes its books — through the core, which
//! deletes the file and refuses the one open in the window.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bookwish_auth::Auth;
use bookwish_config::{AppConfig, SupabaseConfig};
use bookwish_core::accounts::Databases;
use bookwish_core::Store;
use bookwish_ipc::{
    Account, AppInfo, DeletedAccount, ErrorCode, IpcError, LocalBooksOffer, MovedBooks, Profile,
    SyncStatus,
};
use bookwish_sync::{SyncHandle, Trigger};
use tokio::sync::Notify;

use crate::paths::Paths;
use crate::transfer::Imports;

/// Quiet time after the last edit before the log is checkpointed into the database file.
const IDLE_CHECKPOINT: Duration = Duration::from_secs(2);

/// The store of the account shown now, or why it could not be opened.
type Opened = Result<Arc<Mutex<Store>>, IpcError>;

/// The account shown now and its store, switched together.
struct Current {
    account: Account,
    store: Opened,
}

/// Everything the sync engine of the signed-in account needs.
pub struct SyncTarget {
    /// The session, for tokens.
    pub auth: Arc<Auth>,
    /// The Supabase project.
    pub supabase: SupabaseConfig,
    /// The app's one HTTP client.
    pub http: reqwest::Client,
    /// The account's database file.
    pub database: PathBuf,
    /// Who is signed in (saved to `profiles`).
    pub profile: Profile,
}

/// Managed by Tauri for the whole run; commands reach the core only through it.
pub struct AppState {
    current: Mutex<Current>,
    databases: Databases,
    auth: Option<Arc<Auth>>,
    supabase: Option<SupabaseConfig>,
    http: reqwest::Client,
    sync: Mutex<Option<SyncHandle>>,
    edited: Arc<Notify>,
    /// Told when the window was answered a list (the launch sync waits for the first).
    listed: Notify,
    version: String,
    log_dir: PathBuf,
    imports: Imports,
    /// Accounts deleted on the server whose books are still here, oldest first.
    deleted: Mutex<Vec<DeletedAccount>>,
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

fn sign_in_first() -> IpcError {
    IpcError::new(
        ErrorCode::Auth,
        "Sign in first: books can only be moved into an account.",
    )
}

/// Runs blocking `work` off the async runtime, turning core errors into `{code, message}`.
async fn blocking<T, F>(what: &'static str, work: F) -> Result<T, IpcError>
where
    F: FnOnce() -> bookwish_core::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tauri::async_runtime::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, what, "command refused");
            Err(IpcError::from(error))
        }
        Err(join_error) => {
            tracing::error!(error = %join_error, what, "command crashed");
            Err(internal(what))
        }
    }
}

impl AppState {
    /// Opens the database of the account remembered from last time (or the local-only one)
    /// and prepares sign-in when the configuration names a Clerk instance.
    pub fn open(paths: &Paths, config: &AppConfig, version: String) -> anyhow::Result<AppState> {
        let http = bookwish_config::http_client();
        let auth = config.clerk.clone().map(|clerk| {
            Arc::new(Auth::new(
                clerk,
                Arc::new(bookwish_auth::Keychain::new()),
                paths.data_dir.clone(),
                http.clone(),
            ))
        });
        let remembered = match &auth {
            Some(auth) => auth.remembered()?,
            None => None,
        };
        let databases = Databases::new(&paths.data_dir);
        let current = open_current(&databases, auth.is_some(), remembered);
        let deleted = databases.deleted_accounts().unwrap_or_else(|error| {
            tracing::error!(%error, "could not look for deleted accounts' books");
            Vec::new()
        });
        Ok(AppState {
            current: Mutex::new(current),
            databases,
            auth,
            supabase: config.supabase.clone(),
            http,
            sync: Mutex::new(None),
            edited: Arc::new(Notify::new()),
            listed: Notify::new(),
            version,
            log_dir: paths.log_dir.clone(),
            imports: Imports::default(),
            deleted: Mutex::new(deleted),
        })
    }

    /// The window was answered a list.
    pub fn listed(&self) {
        self.listed.notify_one();
    }

    /// Waits until the window was answered its first list, or `max`.
    pub async fn first_list_shown(&self, max: Duration) {
        let _ = tokio::time::timeout(max, self.listed.notified()).await;
    }

    /// Waits until the window has asked for no list for `quiet` (at launch: the first
    /// screenful, then the rest of the list), or `max` in all.
    pub async fn lists_settled(&self, quiet: Duration, max: Duration) {
        settled(&self.listed, quiet, max).await;
    }

    /// What the UI needs at start.
    pub fn info(&self) -> AppInfo {
        let current = lock(&self.current);
        AppInfo {
            version: self.version.clone(),
            account: current.account.clone(),
            data_dir: self.databases.root().display().to_string(),
            problem: current.store.as_ref().err().cloned(),
            deleted_accounts: lock(&self.deleted).clone(),
            launched_at: crate::launch::launched_at(),
        }
    }

    /// The file waiting in the import preview.
    pub fn imports(&self) -> &Imports {
        &self.imports
    }

    /// The sign-in session, or a `config` error saying sign-in is not set up.
    pub fn auth(&self) -> Result<&Arc<Auth>, IpcError> {
        self.auth
            .as_ref()
            .ok_or_else(|| IpcError::from(bookwish_auth::Error::NotConfigured))
    }

    /// The account shown now.
    pub fn account(&self) -> Account {
        lock(&self.current).account.clone()
    }

    /// What is needed to sync the signed-in account, when a Supabase project is configured.
    pub fn sync_target(&self) -> Option<SyncTarget> {
        let Account::SignedIn { profile } = self.account() else {
            return None;
        };
        Some(SyncTarget {
            auth: Arc::clone(self.auth.as_ref()?),
            supabase: self.supabase.clone()?,
            http: self.http.clone(),
            database: self.databases.account(&profile.user_id),
            profile,
        })
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

    /// The diagnostics text the window offers to copy when sync fails: version, OS, account
    /// kind (never who), sync's state and the recent log, with secrets taken out by the core.
    pub async fn diagnostics(&self) -> Result<String, IpcError> {
        let account = match self.account() {
            Account::SignedIn { .. } => "signed in",
            Account::LocalOnly {
                sign_in_available: true,
            } => "local-only (sign-in configured)",
            Account::LocalOnly { .. } => "local-only",
        };
        let report = bookwish_core::diagnostics::Report {
            version: self.version.clone(),
            account: account.to_owned(),
            sync: self.sync_status(),
            ..Default::default()
        };
        let log_dir = self.log_dir.clone();
        tauri::async_runtime::spawn_blocking(move || {
            bookwish_core::diagnostics::Report {
                os: bookwish_core::diagnostics::os_description(),
                log: bookwish_core::diagnostics::recent_log(&log_dir),
                ..report
            }
            .render()
        })
        .await
        .map_err(|_| internal("while gathering the diagnostics"))
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
        if let Some(profile) = &profile {
            // Signing in to it again forgets that it was deleted (the core does the same).
            lock(&self.deleted).retain(|gone| gone.user_id != profile.user_id);
        }
        let databases = self.databases.clone();
        let signs_in = self.auth.is_some();
        let current = tauri::async_runtime::spawn_blocking(move || {
            open_current(&databases, signs_in, profile)
        })
        .await
        .map_err(|_| internal("while opening the account's books"))?;
        let problem = current.store.as_ref().err().cloned();
        let account = current.account.clone();
        *lock(&self.current) = current;
        match problem {
            Some(problem) => Err(problem),
            None => Ok(account),
        }
    }

    /// Runs a change on the current store (see [`AppState::read`]); on success the sync
    /// engine hears of it (the change is pushed, debounced) and an idle checkpoint is due.
    /// Every write goes through here: `read` cannot write, so no edit can forget the nudge.
    pub async fn edit<T, F>(&self, work: F) -> Result<T, IpcError>
    where
        F: FnOnce(&mut Store) -> bookwish_core::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store()?;
        let value = blocking("while saving", move || work(&mut lock(&store))).await?;
        self.edited();
        Ok(value)
    }

    /// Runs a read on the current store off the async runtime.
    pub async fn read<T, F>(&self, work: F) -> Result<T, IpcError>
    where
        F: FnOnce(&Store) -> bookwish_core::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store()?;
        blocking("while reading", move || work(&lock(&store))).await
    }

    /// After signing in, whether to ask about the books kept in the local-only database.
    pub async fn local_books_offer(&self) -> Result<Option<LocalBooksOffer>, IpcError> {
        let Some(account) = self.account_store()? else {
            return Ok(None);
        };
        let databases = self.databases.clone();
        blocking("while reading the books kept on this computer", move || {
            let local = databases.open_local()?;
            lock(&account).local_books_offer(&local)
        })
        .await
    }

    /// Moves the local-only books into the account signed in now — that account's database,
    /// taken once, whatever happens to the session meanwhile.
    pub async fn move_local_books(&self) -> Result<MovedBooks, IpcError> {
        let account = self.account_store()?.ok_or_else(sign_in_first)?;
        let databases = self.databases.clone();
        let moved = blocking("while moving the books", move || {
            let mut local = databases.open_local()?;
            lock(&account).move_local_books(&mut local)
        })
        .await?;
        self.edited();
        Ok(moved)
    }

    /// Keeps the local-only books on this computer; the signed-in account is not asked again.
    pub async fn keep_local_books(&self) -> Result<(), IpcError> {
        let account = self.account_store()?.ok_or_else(sign_in_first)?;
        blocking("while saving the answer", move || {
            lock(&account).keep_local_books()
        })
        .await
    }

    /// Records that the server deleted `profile`'s account: its database is marked (its books
    /// stay) and listed for the window from now on. Answers what the window is told.
    pub async fn mark_deleted(&self, profile: &Profile) -> Result<DeletedAccount, IpcError> {
        let databases = self.databases.clone();
        let who = profile.clone();
        let at = now_ms();
        let marked = blocking("while noting that the account was deleted", move || {
            databases.mark_deleted(&who, at)
        })
        .await?;
        let mut deleted = lock(&self.deleted);
        deleted.retain(|gone| gone.user_id != marked.user_id);
        deleted.push(marked.clone());
        Ok(marked)
    }

    /// Removes the books of deleted account `user_id` from this computer (through the core,
    /// which refuses the database open in the window); answers how many went.
    pub async fn remove_account_books(&self, user_id: String) -> Result<u32, IpcError> {
        let databases = self.databases.clone();
        let open = self.store().ok();
        let who = user_id.clone();
        let removed = blocking("while removing the account's books", move || {
            let open = open.as_ref().map(|store| lock(store));
            databases.remove_deleted_account(&who, open.as_deref())
        })
        .await?;
        lock(&self.deleted).retain(|gone| gone.user_id != user_id);
        Ok(removed)
    }

    /// Checkpoints the current database a little after the last edit, so edits themselves
    /// never pay for flushing the log (see `Store::checkpoint`). Runs until the app exits.
    pub async fn checkpoint_when_idle(&self) {
        loop {
            self.edited.notified().await;
            // Wait for a quiet spell: every edit meanwhile starts it over.
            while tokio::time::timeout(IDLE_CHECKPOINT, self.edited.notified())
                .await
                .is_ok()
            {}
            if let Ok(store) = self.store() {
                let done = blocking("while tidying the database", move || {
                    lock(&store).checkpoint()
                })
                .await;
                if let Err(error) = done {
                    tracing::warn!(%error.message, "idle checkpoint failed");
                }
            }
        }
    }

    /// A change was committed: tell sync, and start the idle-checkpoint countdown.
    fn edited(&self) {
        self.nudge_sync(Trigger::LocalEdit);
        self.edited.notify_one();
    }

    fn store(&self) -> Opened {
        lock(&self.current).store.clone()
    }

    /// The signed-in account's store, `None` while local-only.
    fn account_store(&self) -> Result<Option<Arc<Mutex<Store>>>, IpcError> {
        let current = lock(&self.current);
        match current.account {
            Account::SignedIn { .. } => current.store.clone().map(Some),
            Account::LocalOnly { .. } => Ok(None),
        }
    }
}

/// Now, in milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Opens the database of `profile` (or the local-only one), keeping a failure to show.
fn open_current(
    databases: &Databases,
    sign_in_available: bool,
    profile: Option<Profile>,
) -> Current {
    let opened = match &profile {
        Some(profile) => databases.open_account(&profile.user_id),
        None => databases.open_local(),
    };
    let store = opened
        .map(|store| Arc::new(Mutex::new(store)))
        .map_err(|error| {
            tracing::error!(%error, "the books could not be opened");
            IpcError::from(error)
        });
    let account = match profile {
        Some(profile) => Account::SignedIn { profile },
        None => Account::LocalOnly { sign_in_available },
    };
    Current { account, store }
}

/// Waits until `signal` has not been notified for `quiet`, or `max` in all.
async fn settled(signal: &Notify, quiet: Duration, max: Duration) {
    let _ = tokio::time::timeout(max, async {
        while tokio::time::timeout(quiet, signal.notified()).await.is_ok() {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::time::Instant;

    use super::*;

    const QUIET: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn settles_a_quiet_spell_after_the_last_notification() {
        let signal = Arc::new(Notify::new());
        let start = Instant::now();
        let notifier = Arc::clone(&signal);
        // A list every 400 ms for 2 s: never a second without one until then.
        tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(400)).await;
                notifier.notify_one();
            }
        });
        settled(&signal, QUIET, MAX).await;
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(2000) + QUIET,
            "settling must wait a whole quiet spell after the last notification, no longer"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_notification_before_the_wait_counts() {
        let signal = Notify::new();
        // The rest of the list answered before the launch task started waiting.
        signal.notify_one();
        let start = Instant::now();
        settled(&signal, QUIET, MAX).await;
        assert_eq!(
            start.elapsed(),
            QUIET,
            "a list answered before the wait must restart the quiet spell, not be lost"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn never_waits_past_the_limit() {
        let signal = Arc::new(Notify::new());
        let notifier = Arc::clone(&signal);
        // Lists asked forever, faster than the quiet spell.
        let busy = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                notifier.notify_one();
            }
        });
        let start = Instant::now();
        settled(&signal, QUIET, MAX).await;
        busy.abort();
        assert_eq!(
            start.elapsed(),
            MAX,
            "a window that never stops asking must not keep the release from happening"
        );
    }
}
