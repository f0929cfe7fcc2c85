//! Sign-in orchestration: which account is active, and the events the UI hears about it.
//! The OIDC work itself is `bookwish_auth`; this module only opens the browser, routes deep
//! links, switches the open database and emits `auth-changed` / `auth-failed`, and, when the
//! server says the account was deleted, signs out and emits `account-deleted`.

use bookwish_ipc::{
    events, Account, DeletedAccount, ErrorCode, IpcError, Profile, ACCOUNT_DELETED_EVENT,
};
use tauri::{AppHandle, Emitter, Manager, Url};

use crate::browser;
use crate::state::AppState;

/// Starts a sign-in: the authorize page opens in the user's browser, and the answer comes
/// back later as a deep link.
pub async fn sign_in(state: &AppState) -> Result<(), IpcError> {
    let url = state.auth()?.begin_sign_in().await?;
    browser::open(url.as_str()).map_err(|error| {
        tracing::warn!(%error, "no browser for sign-in");
        IpcError::new(
            ErrorCode::Internal,
            "Bookwish couldn't open your web browser for sign-in. Set a default browser (or $BROWSER) and try again.",
        )
    })
}

/// Completes a sign-in from a `bookwish://auth/callback?…` link (the query is never logged).
pub async fn complete(app: AppHandle, link: Url) {
    let state = app.state::<AppState>();
    let outcome = async {
        let profile = state.auth()?.complete_sign_in(link.as_str()).await?;
        state.switch_account(Some(profile)).await
    }
    .await;
    focus_main_window(&app);
    match outcome {
        Ok(account) => {
            start_sync(&app);
            announce(&app, &account);
        }
        Err(error) => {
            tracing::warn!(code = ?error.code, "sign-in link refused");
            emit(&app, events::AUTH_FAILED, &error);
        }
    }
}

/// Signs out and switches back to the local-only list; the account's books stay on disk.
pub async fn sign_out(app: &AppHandle, state: &AppState) -> Result<Account, IpcError> {
    state.set_sync(None);
    state.auth()?.sign_out().await?;
    let account = state.switch_account(None).await?;
    emit(app, events::BOOKS_CHANGED, &());
    Ok(account)
}

/// Confirms the remembered session at launch (refreshing its tokens when online). If the
/// provider ended it meanwhile, the app switches to the local-only list and says so.
pub async fn restore(app: AppHandle) {
    let state = app.state::<AppState>();
    let Ok(auth) = state.auth() else {
        return;
    };
    match auth.restore().await {
        Ok(profile) => {
            let signed_in_before = matches!(state.info().account, Account::SignedIn { .. });
            if profile.is_none() && signed_in_before {
                state.set_sync(None);
                match state.switch_account(None).await {
                    Ok(account) => announce(&app, &account),
                    Err(error) => tracing::error!(%error, "could not reopen the local list"),
                }
            }
        }
        Err(error) => tracing::warn!(%error, "could not restore the session"),
    }
}

/// The server says `profile`'s account was deleted (its sync stopped for good): sign out —
/// the session and its keychain entry are forgotten — and show the local-only list, keeping
/// the account's books on disk, marked so the window can offer to remove them. The window
/// hears `auth-changed`, then `account-deleted` with how many books stayed.
pub async fn deleted(app: AppHandle, profile: Profile) {
    let state = app.state::<AppState>();
    tracing::warn!(user_id = %profile.user_id, "the account was deleted on the server; signing out");
    // The user may have signed out (or into another account) meanwhile: that is left alone.
    let shown = matches!(state.account(), Account::SignedIn { profile: ref now } if now.user_id == profile.user_id);
    if shown {
        state.set_sync(None);
        if let Ok(auth) = state.auth() {
            if let Err(error) = auth.sign_out().await {
                tracing::error!(%error, "could not forget the deleted account's session");
            }
        }
    }
    let gone = state.mark_deleted(&profile).await.unwrap_or_else(|error| {
        tracing::error!(%error.message, "could not mark the deleted account's database");
        DeletedAccount {
            user_id: profile.user_id.clone(),
            name: profile.name.clone(),
            email: profile.email.clone(),
            books: 0,
            deleted_at: 0,
        }
    });
    if shown {
        match state.switch_account(None).await {
            Ok(account) => announce(&app, &account),
            Err(error) => {
                tracing::error!(%error, "could not reopen the local list");
                emit(&app, events::AUTH_CHANGED, &state.account());
            }
        }
    }
    emit(&app, ACCOUNT_DELETED_EVENT, &gone);
}

/// Starts syncing the signed-in account, when a Supabase project is configured.
pub fn start_sync(app: &AppHandle) {
    let state = app.state::<AppState>();
    let Some(target) = state.sync_target() else {
        state.set_sync(None);
        return;
    };
    match crate::sync::start(app, target) {
        Ok(handle) => state.set_sync(Some(handle)),
        Err(error) => tracing::error!(%error, "could not start sync"),
    }
}

fn announce(app: &AppHandle, account: &Account) {
    emit(app, events::AUTH_CHANGED, account);
    emit(app, events::BOOKS_CHANGED, &());
}

fn emit<T: serde::Serialize + Clone>(app: &AppHandle, event: &str, payload: &T) {
    if let Err(error) = app.emit(event, payload.clone()) {
        tracing::error!(%error, event, "could not notify the window");
    }
}

/// Brings the window to the front (after a deep link, or a second launch).
pub fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
