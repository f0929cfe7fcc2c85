//! Everything that can go wrong while signing in, refreshing or signing out.

use std::fmt;
use std::path::PathBuf;

use bookwish_ipc::{ErrorCode, IpcError};

use crate::keychain::KeychainError;

/// The result of an auth operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why signing in, refreshing or signing out failed. Messages are sentences for the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Sign-in is not configured (no Clerk issuer and client id): the app is local-only.
    #[error("Sign-in isn't set up: add clerk_issuer and clerk_client_id to Bookwish's configuration file. Your list stays on this computer meanwhile.")]
    NotConfigured,
    /// Sign-in was cancelled in the app before its link came back.
    #[error("Sign-in was cancelled.")]
    Cancelled,
    /// The pending sign-in is older than ten minutes.
    #[error("This sign-in took too long and has expired. Click Sign in to try again.")]
    AttemptExpired,
    /// No sign-in is waiting for this link: it was used already, or sign-in was not started here.
    #[error("No sign-in is waiting for this link (it was already used, or sign-in wasn't started in this app). Click Sign in to start again.")]
    NoPendingAttempt,
    /// The link's `state` is not the pending sign-in's: a forged or stale link.
    #[error("This sign-in link doesn't belong to the sign-in in progress, so it was ignored. Finish signing in in the browser tab Bookwish opened.")]
    StateMismatch,
    /// The link names another issuer than the configured one (RFC 9207 mix-up defence).
    #[error("This sign-in link came from a different sign-in provider than the one configured, so it was ignored.")]
    IssuerMismatch,
    /// The link is not `bookwish://auth/callback`.
    #[error("This link isn't a Bookwish sign-in link, so it was ignored.")]
    WrongCallback,
    /// The link has a matching `state` but no authorization code.
    #[error("The sign-in link has no authorization code. Click Sign in to try again.")]
    MissingCode,
    /// The provider answered with an OAuth error (`access_denied`, `invalid_grant`, …).
    #[error("{}", provider_message(error, description.as_deref()))]
    Provider {
        /// The OAuth error code.
        error: String,
        /// The provider's `error_description`, when given.
        description: Option<String>,
    },
    /// The provider could not be reached (offline, DNS, refused, timed out).
    #[error("Can't reach Clerk. Check your connection and try again.")]
    Unreachable(#[source] Cause),
    /// The provider answered something that is not valid OpenID Connect.
    #[error("Clerk's answer to {what} couldn't be understood. Try again later.")]
    Protocol {
        /// Which exchange (discovery, the token request, …).
        what: &'static str,
        /// What was wrong with it.
        #[source]
        cause: Cause,
    },
    /// The ID token or the token response failed validation (signature, `iss`, `aud`, `exp`,
    /// `nonce`, `at_hash`, subject).
    #[error("Clerk's answer failed a security check, so you were not signed in. Try again.")]
    TokenValidation(#[source] Cause),
    /// Sign-in was started while an account is signed in.
    #[error("You're already signed in. Sign out first to use another account.")]
    AlreadySignedIn,
    /// There is no signed-in account.
    #[error("You're not signed in.")]
    NotSignedIn,
    /// The provider no longer accepts the session (revoked, expired, signed out elsewhere).
    #[error("Your session has ended. Sign in again to keep syncing.")]
    SessionEnded,
    /// The OS keychain could not be used.
    #[error("Can't use the system keychain ({0}). Unlock it and try again.")]
    Keychain(#[from] KeychainError),
    /// Signed out, but the keychain refused to delete the refresh token: the record of who is
    /// signed in is gone (the next launch starts signed out) and the entry is deleted at the
    /// next sign-out or launch the keychain allows.
    #[error("Bookwish forgot your sign-in, but the system keychain couldn't delete its saved copy ({0}). Unlock the keychain and click Sign out again to finish.")]
    SignOutIncomplete(#[source] KeychainError),
    /// The record of who is signed in could not be read or written.
    #[error("Can't save the sign-in record in {path}: {source}")]
    Storage {
        /// The record's file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn provider_message(error: &str, description: Option<&str>) -> String {
    let lead = match error {
        "access_denied" => "Sign-in was denied",
        _ => "Clerk didn't sign you in",
    };
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(description) => format!("{lead}: {description} ({error})."),
        None => format!("{lead} ({error}). Click Sign in to try again."),
    }
}

impl Error {
    /// Whether the failure is a connectivity problem that may pass by itself.
    pub fn is_offline(&self) -> bool {
        matches!(self, Error::Unreachable(_))
    }

    /// Whether the error is a rejected sign-in link (the session was left as it was).
    pub fn is_rejected_callback(&self) -> bool {
        matches!(
            self,
            Error::Cancelled
                | Error::AttemptExpired
                | Error::NoPendingAttempt
                | Error::StateMismatch
                | Error::IssuerMismatch
                | Error::WrongCallback
                | Error::MissingCode
                | Error::Provider { .. }
        )
    }

    /// The cause worth a log line, for the variants whose causes are known to hold no secret:
    /// claim checks (issuers, audiences, times) and transport failures (URLs without queries).
    /// Parse failures are left out: a JSON error can quote a token.
    pub fn loggable_cause(&self) -> Option<&Cause> {
        match self {
            Error::TokenValidation(cause) | Error::Unreachable(cause) => Some(cause),
            _ => None,
        }
    }

    pub(crate) fn unreachable(error: impl fmt::Display) -> Self {
        Error::Unreachable(Cause::new(error))
    }

    pub(crate) fn protocol(what: &'static str, error: impl fmt::Display) -> Self {
        Error::Protocol {
            what,
            cause: Cause::new(error),
        }
    }

    pub(crate) fn invalid(error: impl fmt::Display) -> Self {
        Error::TokenValidation(Cause::new(error))
    }
}

impl From<Error> for IpcError {
    fn from(error: Error) -> Self {
        let code = match &error {
            Error::NotConfigured => ErrorCode::Config,
            Error::Unreachable(_) => ErrorCode::Offline,
            Error::Storage { .. } => ErrorCode::Storage,
            _ => ErrorCode::Auth,
        };
        IpcError::new(code, error.to_string())
    }
}

/// The cause of a failure, kept as text: the errors it comes from may carry a response body,
/// and a token response body holds tokens, so their `Debug` form must never reach a log.
/// Built from the source's `Display` chain only.
#[derive(Clone, PartialEq, Eq)]
pub struct Cause(String);

impl Cause {
    pub(crate) fn new(error: impl fmt::Display) -> Self {
        Cause(error.to_string())
    }

    /// A cause with its whole `source()` chain in one line.
    pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(inner) = source {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            source = inner.source();
        }
        Cause(text)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Cause {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_errors_carry_the_providers_description() {
        let denied = Error::Provider {
            error: "access_denied".into(),
            description: Some("End-User aborted interaction".into()),
        };
        assert_eq!(
            denied.to_string(),
            "Sign-in was denied: End-User aborted interaction (access_denied)."
        );
        let bare = Error::Provider {
            error: "server_error".into(),
            description: None,
        };
        assert_eq!(
            bare.to_string(),
            "Clerk didn't sign you in (server_error). Click Sign in to try again."
        );
    }

    #[test]
    fn unreachable_says_what_to_do() {
        let error = Error::unreachable("connection refused");
        assert_eq!(
            error.to_string(),
            "Can't reach Clerk. Check your connection and try again."
        );
        assert!(error.is_offline(), "unreachable is an offline error");
    }

    #[test]
    fn ipc_codes_let_the_ui_branch() {
        let cases = [
            (Error::unreachable("x"), ErrorCode::Offline),
            (Error::NotConfigured, ErrorCode::Config),
            (Error::StateMismatch, ErrorCode::Auth),
            (Error::SessionEnded, ErrorCode::Auth),
        ];
        for (error, code) in cases {
            let message = error.to_string();
            let ipc = IpcError::from(error);
            assert_eq!(ipc.code, code, "{message}");
            assert_eq!(
                ipc.message, message,
                "the IPC message is the user-facing sentence"
            );
        }
    }
}
