//! Runs the sync engine for the signed-in account and tells the window about it: every status
//! change as `sync-status`, and `books-changed` after each sync that changed books here, so the
//! list shows what came from other devices (a sync that only carried this window's own edits up
//! and back does not make it read 10,000 rows again). When the engine stops because the server
//! deleted the account, the account flow signs out (`account::deleted`).

use std::sync::Arc;

use bookwish_auth::Auth;
use bookwish_ipc::{events, SyncPhase, SyncStatus, SYNC_STATUS_EVENT};
use bookwish_sync::{Stopped, SyncConfig, SyncEngine, SyncHandle, TokenError, TokenSource};
use tauri::{AppHandle, Emitter};

use crate::state::SyncTarget;

/// Bearer tokens for Supabase from the sign-in session.
pub struct AuthTokens(pub Arc<Auth>);

fn token_error(error: bookwish_auth::Error) -> TokenError {
    if error.is_offline() {
        TokenError::Unreachable(error.to_string())
    } else {
        TokenError::SignedOut(error.to_string())
    }
}

impl TokenSource for AuthTokens {
    async fn access_token(&self) -> Result<String, TokenError> {
        let token = self.0.access_token().await.map_err(token_error)?;
        Ok(token.expose().to_owned())
    }

    async fn refresh(&self) -> Result<String, TokenError> {
        let token = self.0.refresh().await.map_err(token_error)?;
        Ok(token.expose().to_owned())
    }
}

/// Rows pushed and pulled from which a finished sync hands its freed memory back to the OS.
const LARGE_SYNC_ROWS: u64 = 1_000;

/// Starts syncing the signed-in account; the returned handle stops it when told to (or
/// dropped). Must run inside the async runtime.
pub fn start(app: &AppHandle, target: SyncTarget) -> Result<SyncHandle, bookwish_sync::Error> {
    let mut config = SyncConfig::new(
        target.supabase.rest_url.as_str(),
        target.supabase.anon_key.clone(),
    );
    let profile = target.profile.clone();
    config.profile = Some(target.profile);
    let engine = SyncEngine::open(
        &target.database,
        config,
        target.http,
        AuthTokens(target.auth),
    )?;
    let (handle, task) = engine.spawn();
    let deleted = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Ok(Stopped::AccountDeleted) = task.await {
            crate::account::deleted(deleted, profile).await;
        }
    });
    let mut status = handle.status();
    let window = app.clone();
    tauri::async_runtime::spawn(async move {
        // The most rows the sync under way has pushed and pulled so far.
        let mut moved = None;
        loop {
            let now: SyncStatus = status.borrow_and_update().clone();
            // A sync that moved thousands of rows leaves its decoded pages' garbage behind.
            match now.phase {
                SyncPhase::Syncing { done, .. } => moved = moved.max(Some(done)),
                _ => {
                    if moved.take().is_some_and(|rows| rows >= LARGE_SYNC_ROWS) {
                        crate::release_heap("sync");
                    }
                }
            }
            if let Err(error) = window.emit(SYNC_STATUS_EVENT, now) {
                tracing::warn!(%error, "could not send the sync status to the window");
            }
            if status.changed().await.is_err() {
                break; // the engine stopped
            }
        }
    });
    let mut changes = handle.changes();
    let window = app.clone();
    tauri::async_runtime::spawn(async move {
        while changes.changed().await.is_ok() {
            let _ = window.emit(events::BOOKS_CHANGED, ());
        }
    });
    Ok(handle)
}
