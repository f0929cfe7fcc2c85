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
    /// A web page came where data was expected (a Wi-Fi sign-in page, a proxy, or a server
    /// address that is not Supabase's): retried, as a captive portal goes away by itself.
    #[error("the server answered with a web page (HTTP {status}) instead of data")]
    WebPage {
        /// The HTTP status it came with.
        status: u16,
    },
    /// The answer's JSON ended early (cut off on the way): retried.
    #[error("the server's answer was cut off: {0}")]
    Truncated(String),
    /// The answer was larger than [`crate::MAX_ANSWER_BYTES`]; it was not read. A page that
    /// large is asked again smaller first.
    #[error("the server's answer is larger than {limit} bytes")]
    TooLarge {
        /// The cap it went over.
        limit: usize,
    },
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
        matches!(
            self,
            Error::Offline(_)
                | Error::Unavailable { .. }
                | Error::WebPage { .. }
                | Error::Truncated(_)
        ) || matches!(self, Error::Token(TokenError::Unreachable(_)))
    }

    /// Whether a retry costs the server next to nothing, so the run loop probes as often as
    /// for an unreachable server: nothing reached it, or something else answered in its place.
    pub fn is_cheap_to_retry(&self) -> bool {
        self.is_offline() || matches!(self, Error::WebPage { .. })
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

    /// A sentence for the status line: what happened and what the user can do. It never
    /// quotes the server's answer (a page, a token in an echo): that goes to the log only.
    pub fn user_message(&self) -> String {
        const KEPT: &str = "Your changes are kept on this computer.";
        match self {
            Error::Offline(_) | Error::Token(TokenError::Unreachable(_)) => {
                "Offline: changes are kept on this computer and sync when the connection returns."
                    .to_owned()
            }
            Error::Unavailable { status, .. } => format!(
                "The sync server is busy or restarting (HTTP {status}); Bookwish will try again \
                 by itself. {KEPT}"
            ),
            Error::AccountDeleted { .. } => "This account no longer exists: it was deleted, and \
                                             its books on the server with it. Its books on this \
                                             computer are kept."
                .to_owned(),
            Error::Unauthorized { .. } | Error::Token(_) => {
                "Your session has ended. Sign in again to keep syncing.".to_owned()
            }
            Error::Refused { status: 404, .. } => format!(
                "The sync server has no Bookwish data here (HTTP 404): check the Supabase \
                 address in bookwish.toml, or ask whoever runs the server to apply Bookwish's \
                 migrations. {KEPT}"
            ),
            Error::Refused { status, .. } => format!(
                "The sync server refused this device's request (HTTP {status}). Updating \
                 Bookwish may help. {KEPT}"
            ),
            Error::BadAnswer(_) => format!(
                "The sync server sent an answer Bookwish can't use. {KEPT} Bookwish tries again \
                 at the next sync; if this keeps happening, check the Supabase address in \
                 bookwish.toml or copy the diagnostics for whoever runs the server."
            ),
            Error::WebPage { .. } => format!(
                "Bookwish reached a web page instead of the sync server: sign in to the Wi-Fi or \
                 network if it asks you to, or check the Supabase address in bookwish.toml. \
                 Bookwish will try again by itself. {KEPT}"
            ),
            Error::Truncated(_) => format!(
                "The sync server's answer was cut off on the way; Bookwish will try again by \
                 itself. {KEPT}"
            ),
            Error::TooLarge { limit } => format!(
                "The sync server sent an answer too large to accept (over {} MB), so Bookwish \
                 did not read it. {KEPT} If this keeps happening, copy the diagnostics for \
                 whoever runs the server.",
                limit / (1024 * 1024)
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_message_says_what_to_do_and_quotes_nothing_from_the_server() {
        let page = "<html><body>token=eyJhbGciOi.secret</body></html>";
        let errors = [
            Error::Unavailable {
                status: 503,
                retry_after: None,
                body: page.into(),
            },
            Error::Unauthorized {
                status: 401,
                body: page.into(),
            },
            Error::Token(TokenError::SignedOut(page.into())),
            Error::Token(TokenError::Unreachable(page.into())),
            Error::Refused {
                status: 400,
                body: page.into(),
            },
            Error::Refused {
                status: 404,
                body: page.into(),
            },
            Error::BadAnswer(page.into()),
            Error::WebPage { status: 200 },
            Error::Truncated(page.into()),
            Error::TooLarge {
                limit: crate::MAX_ANSWER_BYTES,
            },
            Error::Local(bookwish_core::Error::TooNew),
        ];
        for error in errors {
            let message = error.user_message();
            for leak in ["<html", "token=", "eyJ", "secret"] {
                assert!(
                    !message.contains(leak),
                    "the status never quotes the server ({leak}): {message}"
                );
            }
            assert!(
                !message.to_lowercase().contains("settings"),
                "the app has no settings screen to send the user to: {message}"
            );
            let acts = [
                "Sign in",
                "try again",
                "kept",
                "Check",
                "check",
                "Update",
                "Install",
            ];
            assert!(
                acts.iter().any(|act| message.contains(act)),
                "every message says what the user can do, or that nothing is lost: {message}"
            );
            assert!(message.ends_with('.'), "a whole sentence: {message}");
        }
    }

    #[test]
    fn web_pages_and_cut_answers_are_retried_wrong_shapes_are_not() {
        assert!(Error::WebPage { status: 200 }.is_retryable());
        assert!(Error::WebPage { status: 200 }.is_cheap_to_retry());
        assert!(Error::Truncated("x".into()).is_retryable());
        assert!(!Error::BadAnswer("x".into()).is_retryable());
        assert!(!Error::TooLarge { limit: 1 }.is_retryable());
    }
}
