//! One sign-in attempt: the secrets made when it starts (PKCE verifier, `state`, `nonce`) and
//! the checks the returning `bookwish://auth/callback` link must pass before its code is used.
//!
//! There is at most one pending attempt; starting another supersedes it. An attempt lives ten
//! minutes and is used at most once. Each rejection has its own [`Error`] so the UI can say what
//! happened; the last ended attempt is remembered so a late or replayed link gets the precise
//! reason (cancelled, expired, already used) rather than a generic one.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use openidconnect::{AuthorizationCode, CsrfToken, Nonce, PkceCodeVerifier};
use subtle::ConstantTimeEq;
use url::Url;

use crate::error::Error;

/// The redirect URI registered with the provider; the OS hands links to it to the app.
pub const REDIRECT_URI: &str = "bookwish://auth/callback";
/// How long a started sign-in waits for its link.
pub const ATTEMPT_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The time, injectable so expiry can be tested without waiting.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that starts at the real time and moves only when told: for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
}

impl ManualClock {
    /// A clock at the current real time.
    pub fn new() -> Self {
        ManualClock {
            now: Mutex::new(SystemTime::now()),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A started sign-in, waiting for its link.
pub(crate) struct PendingAttempt {
    pub(crate) state: CsrfToken,
    pub(crate) nonce: Nonce,
    pub(crate) verifier: PkceCodeVerifier,
    pub(crate) started: SystemTime,
}

impl PendingAttempt {
    fn expired(&self, now: SystemTime) -> bool {
        // A clock set back makes the age an error: treat that as fresh, not expired.
        now.duration_since(self.started)
            .is_ok_and(|age| age >= ATTEMPT_LIFETIME)
    }
}

/// Why an attempt is no longer pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    Cancelled,
    Used,
    Expired,
    Superseded,
}

/// What an accepted link gives the code exchange.
pub(crate) struct Accepted {
    pub(crate) code: AuthorizationCode,
    pub(crate) verifier: PkceCodeVerifier,
    pub(crate) nonce: Nonce,
    /// The attempt's generation: if it changed by the time the exchange ends, the user cancelled.
    pub(crate) generation: u64,
}

/// The pending attempt, and the one that ended last.
#[derive(Default)]
pub(crate) struct Attempts {
    current: Option<PendingAttempt>,
    ended: Option<(CsrfToken, Ended)>,
    generation: u64,
}

impl Attempts {
    /// Starts `attempt`, superseding any pending one.
    pub(crate) fn begin(&mut self, attempt: PendingAttempt) {
        if let Some(previous) = self.current.take() {
            self.ended = Some((previous.state, Ended::Superseded));
        }
        self.current = Some(attempt);
        self.generation += 1;
    }

    /// Forgets the pending attempt; its link, if it still comes, is answered "cancelled".
    pub(crate) fn cancel(&mut self) {
        if let Some(previous) = self.current.take() {
            self.ended = Some((previous.state, Ended::Cancelled));
        }
        self.generation += 1;
    }

    /// The generation of the current attempt (changes on begin and cancel).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether an attempt is waiting for its link.
    pub(crate) fn is_pending(&self) -> bool {
        self.current.is_some()
    }

    /// Checks a parsed link against the pending attempt. On success the attempt is used up; a
    /// link whose `state` matches ends the attempt whatever it says (single use); any other
    /// link leaves the pending attempt as it was, so a forged link cannot cancel a real one.
    pub(crate) fn accept(
        &mut self,
        link: &Callback,
        now: SystemTime,
        issuer: &str,
    ) -> Result<Accepted, Error> {
        let state = link.state.as_deref().unwrap_or_default();
        let matches_current = self
            .current
            .as_ref()
            .is_some_and(|attempt| same_secret(attempt.state.secret(), state));
        if !matches_current {
            if let Some((ended_state, why)) = &self.ended {
                if same_secret(ended_state.secret(), state) {
                    return Err(match why {
                        Ended::Cancelled => Error::Cancelled,
                        Ended::Expired => Error::AttemptExpired,
                        Ended::Used | Ended::Superseded => Error::NoPendingAttempt,
                    });
                }
            }
            return Err(if self.current.is_some() {
                Error::StateMismatch
            } else {
                Error::NoPendingAttempt
            });
        }
        let Some(attempt) = self.current.take() else {
            return Err(Error::NoPendingAttempt);
        };
        if attempt.expired(now) {
            self.ended = Some((attempt.state, Ended::Expired));
            return Err(Error::AttemptExpired);
        }
        let PendingAttempt {
            state,
            nonce,
            verifier,
            ..
        } = attempt;
        self.ended = Some((state, Ended::Used));
        if let Some(error) = &link.error {
            return Err(Error::Provider {
                error: error.clone(),
                description: link.error_description.clone(),
            });
        }
        if link.iss.as_deref().is_some_and(|iss| iss != issuer) {
            return Err(Error::IssuerMismatch);
        }
        let code = link
            .code
            .clone()
            .filter(|code| !code.is_empty())
            .ok_or(Error::MissingCode)?;
        Ok(Accepted {
            code: AuthorizationCode::new(code),
            verifier,
            nonce,
            generation: self.generation,
        })
    }
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The parts of a callback link the flow uses. Never logged: the query holds the code.
#[derive(Default)]
pub(crate) struct Callback {
    pub(crate) code: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) iss: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
}

impl Callback {
    /// Parses a link, accepting only exactly `bookwish://auth/callback` (no port, no user
    /// info, no fragment); the query parameters are kept, each given at most once.
    pub(crate) fn parse(link: &str) -> Result<Callback, Error> {
        let url = Url::parse(link.trim()).map_err(|_| Error::WrongCallback)?;
        let exact = url.scheme() == "bookwish"
            && url.host_str() == Some("auth")
            && url.port().is_none()
            && url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/callback"
            && url.fragment().is_none();
        if !exact {
            return Err(Error::WrongCallback);
        }
        let mut callback = Callback::default();
        for (key, value) in url.query_pairs() {
            let slot = match key.as_ref() {
                "code" => &mut callback.code,
                "state" => &mut callback.state,
                "iss" => &mut callback.iss,
                "error" => &mut callback.error,
                "error_description" => &mut callback.error_description,
                _ => continue,
            };
            // A parameter given twice is a crafted link: which one is meant is ambiguous.
            if slot.replace(value.into_owned()).is_some() {
                return Err(Error::WrongCallback);
            }
        }
        Ok(callback)
    }
}

/// A link for logs: scheme, host and path only, never the query (it holds the code).
pub(crate) fn redacted(link: &str) -> String {
    match Url::parse(link.trim()) {
        Ok(url) => format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.path()
        ),
        Err(_) => "<not a URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use openidconnect::PkceCodeChallenge;

    use super::*;

    const ISSUER: &str = "http://127.0.0.1:4000";

    fn attempt(now: SystemTime) -> (PendingAttempt, String) {
        let (_, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = CsrfToken::new_random();
        let secret = state.secret().clone();
        (
            PendingAttempt {
                state,
                nonce: Nonce::new_random(),
                verifier,
                started: now,
            },
            secret,
        )
    }

    fn link(query: &str) -> Callback {
        Callback::parse(&format!("{REDIRECT_URI}?{query}")).expect("a well-formed callback")
    }

    #[test]
    fn only_the_exact_callback_url_is_accepted() {
        let good = "bookwish://auth/callback?code=c&state=s";
        assert!(
            Callback::parse(good).is_ok(),
            "the redirect URI itself is accepted"
        );
        let wrong = [
            "https://auth/callback?code=c&state=s",
            "bookwish://evil/callback?code=c&state=s",
            "bookwish://auth/callback/x?code=c&state=s",
            "bookwish://auth/callbackx?code=c&state=s",
            "bookwish://auth/?code=c&state=s",
            "bookwish://auth:99/callback?code=c&state=s",
            "bookwish://me@auth/callback?code=c&state=s",
            "bookwish://auth/callback?code=c&state=s#frag",
            "bookwish:auth/callback?code=c&state=s",
            "bookwish://auth/callback?code=c&code=d&state=s",
            "not a url",
            "",
        ];
        for link in wrong {
            assert!(
                matches!(Callback::parse(link), Err(Error::WrongCallback)),
                "{link:?} must be rejected as a wrong callback"
            );
        }
    }

    #[test]
    fn redacted_links_have_no_query() {
        assert_eq!(
            redacted("bookwish://auth/callback?code=SECRET&state=S"),
            "bookwish://auth/callback"
        );
        assert!(!redacted("https://x/?code=SECRET").contains("SECRET"));
    }

    #[test]
    fn a_matching_link_is_accepted_once() {
        let now = SystemTime::now();
        let mut attempts = Attempts::default();
        let (pending, state) = attempt(now);
        attempts.begin(pending);
        let callback = link(&format!("code=abc&state={state}&iss={ISSUER}"));
        let accepted = attempts.accept(&callback, now, ISSUER).expect("accepted");
        assert_eq!(accepted.code.secret(), "abc");
        assert!(!attempts.is_pending(), "an accepted attempt is used up");
        assert!(
            matches!(
                attempts.accept(&callback, now, ISSUER),
                Err(Error::NoPendingAttempt)
            ),
            "a replayed link must be rejected"
        );
    }

    #[test]
    fn a_wrong_state_leaves_the_attempt_pending() {
        let now = SystemTime::now();
        let mut attempts = Attempts::default();
        let (pending, state) = attempt(now);
        attempts.begin(pending);
        for query in ["code=abc&state=forged", "code=abc", "code=abc&state="] {
            assert!(
                matches!(
                    attempts.accept(&link(query), now, ISSUER),
                    Err(Error::StateMismatch)
                ),
                "{query} must be a state mismatch"
            );
        }
        assert!(
            attempts.is_pending(),
            "a forged link must not end the real attempt"
        );
        let real = link(&format!("code=abc&state={state}"));
        assert!(
            attempts.accept(&real, now, ISSUER).is_ok(),
            "the real link still works"
        );
    }

    #[test]
    fn an_attempt_expires_after_ten_minutes() {
        let clock = ManualClock::new();
        let mut attempts = Attempts::default();
        let (pending, state) = attempt(clock.now());
        attempts.begin(pending);
        clock.advance(ATTEMPT_LIFETIME);
        let callback = link(&format!("code=abc&state={state}"));
        assert!(
            matches!(
                attempts.accept(&callback, clock.now(), ISSUER),
                Err(Error::AttemptExpired)
            ),
            "a link ten minutes after the start is expired"
        );
        assert!(
            matches!(
                attempts.accept(&callback, clock.now(), ISSUER),
                Err(Error::AttemptExpired)
            ),
            "the same link again is still reported as expired"
        );
        assert!(!attempts.is_pending(), "an expired attempt is over");
    }

    #[test]
    fn a_link_just_before_expiry_is_accepted() {
        let clock = ManualClock::new();
        let mut attempts = Attempts::default();
        let (pending, state) = attempt(clock.now());
        attempts.begin(pending);
        clock.advance(ATTEMPT_LIFETIME - Duration::from_secs(1));
        let callback = link(&format!("code=abc&state={state}"));
        assert!(attempts.accept(&callback, clock.now(), ISSUER).is_ok());
    }

    #[test]
    fn provider_errors_end_the_attempt_with_the_description() {
        let now = SystemTime::now();
        let mut attempts = Attempts::default();
        let (pending, state) = attempt(now);
        attempts.begin(pending);
        let callback = link(&format!(
            "error=access_denied&error_description=User+said+no&state={state}"
        ));
        match attempts.accept(&callback, now, ISSUER) {
            Err(Error::Provider { error, description }) => {
                assert_eq!(error, "access_denied");
                assert_eq!(description.as_deref(), Some("User said no"));
            }
            _ => panic!("an error= link must be a provider error"),
        }
        assert!(!attempts.is_pending(), "an error answer ends the attempt");
    }

    #[test]
    fn an_error_link_with_a_wrong_state_cannot_end_the_attempt() {
        let now = SystemTime::now();
        let mut attempts = Attempts::default();
        let (pending, _) = attempt(now);
        attempts.begin(pending);
        let callback = link("error=access_denied&state=forged");
        assert!(matches!(
            attempts.accept(&callback, now, ISSUER),
            Err(Error::StateMismatch)
        ));
        assert!(
            attempts.is_pending(),
            "a forged error link leaves the attempt pending"
        );
    }

    #[test]
    fn missing_code_and_foreign_issuer_are_their_own_errors() {
        let now = SystemTime::now();
        let mut attempts = Attempts::default();
        let (pending, state) = attempt(now);
        attempts.begin(pending);
        assert!(matches!(
            attempts.accept(&link(&format!("state={state}")), now, ISSUER),
            Err(Error::MissingCode)
        ));
        let (pending, state) = attempt(now);
        attempts.begin(pending);
        assert!(matches!(
            attempts.accept(
                &link(&format!("code=c&state={state}&iss=https://evil.example")),
                now,
                ISSUER
            ),
            Err(Error::IssuerMismatch)
        ));
    }

    #[test]
    fn cancelled_and_superseded_attempts_are_told_apart() {
        let now = SystemTime::now();
        let mut attempts = Attempts::default();
        let (first, first_state) = attempt(now);
        attempts.begin(first);
        let (second, second_state) = attempt(now);
        attempts.begin(second);
        assert!(
            matches!(
                attempts.accept(&link(&format!("code=c&state={first_state}")), now, ISSUER),
                Err(Error::NoPendingAttempt)
            ),
            "a superseded attempt's link is not pending any more"
        );
        let generation = attempts.generation();
        attempts.cancel();
        assert_ne!(
            attempts.generation(),
            generation,
            "cancelling moves the generation on"
        );
        assert!(
            matches!(
                attempts.accept(&link(&format!("code=c&state={second_state}")), now, ISSUER),
                Err(Error::Cancelled)
            ),
            "a cancelled attempt's link says cancelled"
        );
        assert!(
            matches!(
                attempts.accept(&link("code=c&state=x"), now, ISSUER),
                Err(Error::NoPendingAttempt)
            ),
            "with nothing pending an unknown link has no attempt"
        );
    }

    #[test]
    fn pkce_is_s256_with_a_long_random_verifier() {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        assert_eq!(challenge.method().as_str(), "S256", "only S256 is used");
        assert!(
            verifier.secret().len() >= 43,
            "RFC 7636 wants 43..128 characters"
        );
        let (_, other) = PkceCodeChallenge::new_random_sha256();
        assert_ne!(verifier.secret(), other.secret(), "verifiers are random");
        assert_ne!(
            CsrfToken::new_random().secret(),
            CsrfToken::new_random().secret()
        );
    }

    #[test]
    fn constant_time_compare_needs_equal_non_empty_secrets() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", ""), "an empty state never matches");
    }
}
