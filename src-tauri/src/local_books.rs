//! The first sign-in's question: books made before signing in are in the local-only database;
//! the user moves them into the account (then they sync) or keeps them on this computer.
//!
//! Moving copies the books into the account's database (same ids, queued as creations) and
//! only then leaves tombstones in the local one, so an interruption at any point loses nothing
//! and moving again adds nothing twice. The answer "keep" is remembered per account; after a
//! move the question comes back only if new local books appear.

use bookwish_ipc::{Account, ErrorCode, IpcError, LocalBooksOffer, MovedBooks};

use crate::state::AppState;

/// The account database's setting holding the answer.
const ANSWER: &str = "local_books";
const KEPT: &str = "kept";
const MOVED: &str = "moved";
/// How many titles the question shows.
const SAMPLE: usize = 3;

fn signed_in(state: &AppState) -> Result<(), IpcError> {
    match state.account() {
        Account::SignedIn { .. } => Ok(()),
        Account::LocalOnly { .. } => Err(IpcError::new(
            ErrorCode::Auth,
            "Sign in first: books can only be moved into an account.",
        )),
    }
}

/// The question to ask now, if any.
pub async fn offer(state: &AppState) -> Result<Option<LocalBooksOffer>, IpcError> {
    if signed_in(state).is_err() {
        return Ok(None);
    }
    let answer = state.read(|store| store.setting(ANSWER)).await?;
    if answer.as_deref() == Some(KEPT) {
        return Ok(None);
    }
    let books = state.with_local_store(|store| store.live_books()).await?;
    if books.is_empty() {
        return Ok(None);
    }
    Ok(Some(LocalBooksOffer {
        count: u32::try_from(books.len()).unwrap_or(u32::MAX),
        sample_titles: books.iter().take(SAMPLE).map(|b| b.title.clone()).collect(),
    }))
}

/// Moves every local-only book into the signed-in account.
pub async fn move_into_account(state: &AppState) -> Result<MovedBooks, IpcError> {
    signed_in(state)?;
    let books = state.with_local_store(|store| store.live_books()).await?;
    let ids: Vec<_> = books.iter().map(|book| book.id).collect();
    let imported = state
        .edit(move |store| {
            let imported = store.import(&books)?;
            store.set_setting(ANSWER, MOVED)?;
            Ok(imported)
        })
        .await?;
    state
        .with_local_store(move |store| store.remove_moved(&ids))
        .await?;
    tracing::info!(
        moved = imported.added,
        already_there = imported.already_there,
        "local books moved into the account"
    );
    Ok(MovedBooks {
        moved: imported.added,
        already_there: imported.already_there,
    })
}

/// Keeps the local-only books where they are; the account is not asked again.
pub async fn keep_local(state: &AppState) -> Result<(), IpcError> {
    signed_in(state)?;
    state.edit(|store| store.set_setting(ANSWER, KEPT)).await
}
