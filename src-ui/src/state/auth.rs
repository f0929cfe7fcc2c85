//! The account in the header: local-only or signed in, a sign-in waiting for the browser,
//! a sign-out under way, and the last sign-in problem to explain.
//!
//! The UI never sees a token: it learns only the [`Account`] (a profile at most) from
//! `app_info`, `sign_out` and the `auth-changed` event, and keeps it in memory only.

use std::rc::Rc;

use bookwish_ipc::{Account, ErrorCode, IpcError, Profile};
use yew::Reducible;

/// The account as the header shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Auth {
    /// The account, once `app_info` answered or the shell announced one.
    pub account: Option<Account>,
    /// What is under way.
    pub step: AuthStep,
    /// The last problem, until dismissed or superseded.
    pub error: Option<AuthError>,
    /// The shell announced an account: a later `app_info` answer is older news.
    announced: bool,
}

/// What is under way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthStep {
    /// Nothing.
    #[default]
    Idle,
    /// The browser was (being) opened; the answer comes as an event.
    Waiting,
    /// `sign_out` was called and has not answered.
    SigningOut,
}

/// Which attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Signing in (starting it, or the link that came back).
    SignIn,
    /// Signing out.
    SignOut,
}

/// A failed sign-in or sign-out, as the alert under the header shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthError {
    /// What failed.
    pub attempt: Attempt,
    /// The core's error; its message is written for the user.
    pub error: IpcError,
}

/// What happened to the account.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthAction {
    /// `app_info` answered: the account at launch, unless the shell announced a newer one.
    Info(Account),
    /// The account changed (the `auth-changed` event, or `sign_out`'s answer).
    Changed(Account),
    /// The user clicked Sign in.
    SignInStarted,
    /// `sign_in` refused to start, or the `auth-failed` event: back to where it was.
    SignInFailed(IpcError),
    /// The user cancelled the waiting sign-in.
    Cancelled,
    /// The user clicked Sign out.
    SigningOut,
    /// `sign_out` failed: still signed in.
    SignOutFailed(IpcError),
    /// The user closed the alert.
    Dismiss,
}

impl Auth {
    /// Whether the header offers Sign in: local-only with sign-in configured.
    pub fn can_sign_in(&self) -> bool {
        matches!(
            self.account,
            Some(Account::LocalOnly {
                sign_in_available: true
            })
        )
    }

    /// The signed-in profile, if any.
    pub fn profile(&self) -> Option<&Profile> {
        match &self.account {
            Some(Account::SignedIn { profile }) => Some(profile),
            _ => None,
        }
    }
}

impl Reducible for Auth {
    type Action = AuthAction;

    fn reduce(self: Rc<Self>, action: AuthAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            AuthAction::Info(account) => {
                if self.announced {
                    return self;
                }
                next.account = Some(account);
            }
            AuthAction::Changed(account) => {
                next.account = Some(account);
                next.announced = true;
                next.step = AuthStep::Idle;
                next.error = None;
            }
            AuthAction::SignInStarted => {
                if self.profile().is_some() {
                    return self;
                }
                next.step = AuthStep::Waiting;
                next.error = None;
            }
            AuthAction::SignInFailed(error) => {
                if next.step == AuthStep::Waiting {
                    next.step = AuthStep::Idle;
                }
                next.error = Some(AuthError {
                    attempt: Attempt::SignIn,
                    error,
                });
            }
            AuthAction::Cancelled => {
                if self.step != AuthStep::Waiting {
                    return self;
                }
                next.step = AuthStep::Idle;
            }
            AuthAction::SigningOut => {
                next.step = AuthStep::SigningOut;
                next.error = None;
            }
            AuthAction::SignOutFailed(error) => {
                next.step = AuthStep::Idle;
                next.error = Some(AuthError {
                    attempt: Attempt::SignOut,
                    error,
                });
            }
            AuthAction::Dismiss => {
                if self.error.is_none() {
                    return self;
                }
                next.error = None;
            }
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

impl AuthError {
    /// A short title for the alert; the core's message below it says what to do.
    pub fn title(&self) -> &'static str {
        if self.attempt == Attempt::SignOut {
            return match self.error.code {
                ErrorCode::Offline => "Can't reach Clerk",
                _ => "Couldn't sign out",
            };
        }
        let message = self.error.message.to_lowercase();
        match self.error.code {
            ErrorCode::Offline => "Can't reach Clerk",
            ErrorCode::Config => "Sign-in isn't configured",
            ErrorCode::Auth if message.contains("cancelled") => "Sign-in cancelled",
            ErrorCode::Auth if message.contains("denied") => "Sign-in denied",
            ErrorCode::Auth if message.contains("expired") => "Sign-in expired — try again",
            ErrorCode::Auth if message.contains("session has ended") => "Signed out",
            ErrorCode::Auth if message.contains("ignored") => "Sign-in link ignored",
            ErrorCode::Auth => "Sign-in didn't finish",
            _ => "Couldn't sign in",
        }
    }

    /// Whether trying again could help (everything but a missing configuration).
    pub fn retryable(&self) -> bool {
        self.attempt == Attempt::SignIn && self.error.code != ErrorCode::Config
    }
}

/// One or two letters for the avatar: the shell's initials, else the first letter of the
/// name or email, else "?".
pub fn avatar_letters(profile: &Profile) -> String {
    let given = profile.initials.trim();
    if !given.is_empty() {
        return given.chars().take(2).flat_map(char::to_uppercase).collect();
    }
    [&profile.name, &profile.email]
        .into_iter()
        .find_map(|s| s.trim().chars().find(|c| c.is_alphanumeric()))
        .map_or_else(|| "?".to_owned(), |c| c.to_uppercase().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Account {
        Account::SignedIn {
            profile: Profile {
                user_id: "user_alice".into(),
                name: "Alice Liddell".into(),
                email: "alice@example.com".into(),
                initials: "AL".into(),
            },
        }
    }

    fn local(sign_in_available: bool) -> Account {
        Account::LocalOnly { sign_in_available }
    }

    fn start(account: Account) -> Rc<Auth> {
        Rc::<Auth>::default().reduce(AuthAction::Info(account))
    }

    #[test]
    fn sign_in_offered_only_when_local_and_configured() {
        assert!(!Auth::default().can_sign_in(), "nothing before app_info");
        assert!(start(local(true)).can_sign_in(), "local and configured");
        assert!(!start(local(false)).can_sign_in(), "not configured");
        assert!(!start(alice()).can_sign_in(), "already signed in");
    }

    #[test]
    fn a_sign_in_waits_then_the_event_signs_in() {
        let state = start(local(true)).reduce(AuthAction::SignInStarted);
        assert_eq!(
            state.step,
            AuthStep::Waiting,
            "clicking waits for the browser"
        );
        let state = state.reduce(AuthAction::Changed(alice()));
        assert_eq!(state.step, AuthStep::Idle, "the event ends the wait");
        assert_eq!(
            state.profile().map(|p| p.email.as_str()),
            Some("alice@example.com")
        );
    }

    #[test]
    fn cancel_returns_to_signed_out() {
        let state = start(local(true))
            .reduce(AuthAction::SignInStarted)
            .reduce(AuthAction::Cancelled);
        assert_eq!(state.step, AuthStep::Idle, "cancel ends the wait");
        assert_eq!(state.account, Some(local(true)), "still local-only");
        assert!(state.error.is_none(), "a cancel the user chose is no error");
        let same = Rc::clone(&state).reduce(AuthAction::Cancelled);
        assert!(
            Rc::ptr_eq(&state, &same),
            "cancelling twice changes nothing"
        );
    }

    #[test]
    fn a_failure_ends_the_wait_and_is_shown_until_dismissed() {
        let offline = IpcError::new(
            ErrorCode::Offline,
            "Can't reach Clerk. Check your connection and try again.",
        );
        let state = start(local(true))
            .reduce(AuthAction::SignInStarted)
            .reduce(AuthAction::SignInFailed(offline.clone()));
        assert_eq!(state.step, AuthStep::Idle, "a failure ends the wait");
        let shown = state.error.as_ref().expect("the failure is shown");
        assert_eq!(shown.error, offline, "with the core's message");
        assert_eq!(
            shown.title(),
            "Can't reach Clerk",
            "offline reads as offline"
        );
        let state = state.reduce(AuthAction::Dismiss);
        assert!(state.error.is_none(), "dismiss hides it");
        let same = Rc::clone(&state).reduce(AuthAction::Dismiss);
        assert!(
            Rc::ptr_eq(&state, &same),
            "dismissing twice changes nothing"
        );
    }

    #[test]
    fn trying_again_clears_the_old_error() {
        let state = start(local(true))
            .reduce(AuthAction::SignInFailed(IpcError::new(
                ErrorCode::Auth,
                "Sign-in was cancelled.",
            )))
            .reduce(AuthAction::SignInStarted);
        assert!(state.error.is_none(), "a new attempt hides the old problem");
        assert_eq!(state.step, AuthStep::Waiting);
    }

    #[test]
    fn the_event_wins_over_a_late_app_info() {
        let state = Rc::<Auth>::default()
            .reduce(AuthAction::Changed(alice()))
            .reduce(AuthAction::Info(local(true)));
        assert_eq!(state.account, Some(alice()), "the restored session stays");
        let state = start(local(true)).reduce(AuthAction::Changed(alice()));
        assert_eq!(
            state.account,
            Some(alice()),
            "an event after app_info applies"
        );
    }

    #[test]
    fn sign_out_shows_local_only_or_the_failure() {
        let state = start(alice()).reduce(AuthAction::SigningOut);
        assert_eq!(state.step, AuthStep::SigningOut);
        let out = Rc::clone(&state).reduce(AuthAction::Changed(local(true)));
        assert_eq!(out.account, Some(local(true)), "the answer is the header");
        assert_eq!(out.step, AuthStep::Idle);
        let failed = state.reduce(AuthAction::SignOutFailed(IpcError::new(
            ErrorCode::Auth,
            "Can't use the system keychain (locked). Unlock it and try again.",
        )));
        assert_eq!(failed.account, Some(alice()), "still signed in");
        let error = failed.error.as_ref().expect("shown");
        assert_eq!(error.title(), "Couldn't sign out");
        assert!(!error.retryable(), "Try again is for sign-in");
    }

    #[test]
    fn titles_name_the_problem() {
        let title = |code, message: &str| {
            AuthError {
                attempt: Attempt::SignIn,
                error: IpcError::new(code, message),
            }
            .title()
        };
        assert_eq!(
            title(ErrorCode::Auth, "Sign-in was cancelled."),
            "Sign-in cancelled"
        );
        assert_eq!(
            title(
                ErrorCode::Auth,
                "This sign-in took too long and has expired. Click Sign in to try again."
            ),
            "Sign-in expired — try again"
        );
        assert_eq!(
            title(
                ErrorCode::Auth,
                "This sign-in link doesn't belong to the sign-in in progress, so it was ignored."
            ),
            "Sign-in link ignored"
        );
        assert_eq!(
            title(
                ErrorCode::Auth,
                "Sign-in was denied (access_denied). Click Sign in to try again."
            ),
            "Sign-in denied"
        );
        assert_eq!(
            title(ErrorCode::Config, "Sign-in isn't set up"),
            "Sign-in isn't configured"
        );
        assert_eq!(title(ErrorCode::Internal, "no browser"), "Couldn't sign in");
        let config = AuthError {
            attempt: Attempt::SignIn,
            error: IpcError::new(ErrorCode::Config, "x"),
        };
        assert!(
            !config.retryable(),
            "trying again cannot fix the configuration"
        );
    }

    #[test]
    fn avatar_letters_fall_back_sensibly() {
        let profile = |name: &str, email: &str, initials: &str| Profile {
            user_id: "u".into(),
            name: name.into(),
            email: email.into(),
            initials: initials.into(),
        };
        assert_eq!(avatar_letters(&profile("Alice Liddell", "a@x", "AL")), "AL");
        assert_eq!(avatar_letters(&profile("", "", "al")), "AL", "upper case");
        assert_eq!(
            avatar_letters(&profile("", "bob@x.org", "")),
            "B",
            "from the email"
        );
        assert_eq!(
            avatar_letters(&profile("élodie", "", " ")),
            "É",
            "from the name"
        );
        assert_eq!(
            avatar_letters(&profile("", "", "")),
            "?",
            "nothing to go on"
        );
    }
}
