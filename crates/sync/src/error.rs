//! Why a sync failed, and whether trying again later can help.

use std::time::Duration;

/// Result of the engine's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a sync step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not be reached (connection refused or reset, timeout, DNS): offline.
    #[error("the server could not be reached")]
    Offline(#[source] reqwest::Error),
    /// The server answered 5xx or 429: busy or restarting; `retry_after` is its `Retry-After`.
    #[error("the server is unavailable (HTTP {status})")]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// How long the server asked us to wait, if it did.
        retry_after: Option<Duration>,
        /// The body PostgREST sent, for the log.
        body: String,
    },
    /// The token was refused even after a refresh: the user must sign in again.
    #[error("the server refused the session (HTTP {status}): {body}")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// PostgREST's message.
        body: String,
    },
    /// The server says the signed-in account was deleted (Clerk's `user.deleted` reached it, and
    /// its data on the server is gone): HTTP 403 with code `BW403` from every request, or, for
    /// a push already under way when the delete committed, SQLSTATE 42501 "this account was
    /// deleted". Final: no retry or refresh can help; the app signs out and keeps the local
    /// books until the user removes them.
    #[error("the account was deleted on the server (HTTP {status}): {body}")]
    AccountDeleted {
        /// 401 or 403.
        status: u16,
        /// PostgREST's message.
        body: String,
    },
    /// No token could be had: signed out, or the refresh token was revoked.
    #[error("no access token: {0}")]
    Token(#[source] TokenError),
    /// The server refused the request as malformed (4xx other than 401/429): a bug on one
    /// side; retrying sends the same request again.
    #[error("the server refused the request (HTTP {status}): {body}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// PostgREST's message.
        body: String,
    },
    /// The server's answer did not have the documented shape.
    #[error("unexpected answer from the server: {0}")]
    BadAnswer(String),
    /// The local database failed (opening it, or writing what the server answered).
    #[error("the local database failed")]
    Local(#[from] bookwish_core::Error),
    /// The blocking database task died (a panic in it).
    #[error("the local database task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl Error {
    /// Whether the failure is transient: the network, a busy or restarting server. The run loop
    /// retries these with backoff; the others wait for the next trigger.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Offline(_) | Error::Unavailable { .. })
            || matches!(self, Error::Token(TokenError::Unreachable(_)))
    }

    /// Whether the failure means the server is unreachable (the status shows Offline).
    pub fn is_offline(&self) -> bool {
        matches!(self, Error::Offline(_))
            || matches!(self, Error::Token(TokenError::Unreachable(_)))
    }

    /// Whether the server says the account was deleted: the run loop stops for good, and the
    /// shell signs out ([`crate::Stopped::AccountDeleted`]).
    pub fn is_account_deleted(&self) -> bool {
        matches!(self, Error::AccountDeleted { .. })
    }

    /// How long the server asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A sentence for the status line: what happened and what the user can do.
    pub fn user_message(&self) -> String {
        match self {
            Error::Offline(_) | Error::Token(TokenError::Unreachable(_)) => {
                "Offline: changes are kept on this computer and sync when the connection returns."
                    .to_owned()
            }
            Error::Unavailable { status, .. } => format!(
                "The sync server is busy or restarting (HTTP {status}); Bookwish will try again."
            ),
            Error::AccountDeleted { .. } => "This account no longer exists: it was deleted, and \
                                             its books on the server with it. Its books on this \
                                             computer are kept."
                .to_owned(),
            Error::Unauthorized { .. } | Error::Token(_) => {
                "Your session has ended. Sign in again to keep syncing.".to_owned()
            }
            Error::Refused { status, .. } => format!(
                "The sync server refused this device's changes (HTTP {status}). \
                 Update Bookwish; your changes are kept."
            ),
            Error::BadAnswer(_) => {
                "The sync server sent an unexpected answer. Check the Supabase URL in the settings."
                    .to_owned()
            }
            Error::Local(error) => format!(
                "Sync stopped: {} Your changes are kept on this computer.",
                bookwish_ipc::IpcError::from(error).message
            ),
            Error::Task(_) => "Sync stopped after an internal error; your changes are kept on \
                               this computer. Restart Bookwish to try again."
                .to_owned(),
        }
    }
}

/// Why a [`crate::TokenSource`] gave no token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Nobody is signed in, or the session was revoked: sign in again.
    #[error("signed out: {0}")]
    SignedOut(String),
    /// The identity provider could not be reached; try again later.
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
}
