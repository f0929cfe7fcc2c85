//! Bookwish's sign-in, without a window: OpenID Connect (Clerk, or any certified provider)
//! through the system browser, per RFC 8252, and the session that follows.
//!
//! # The flow
//!
//! 1. [`Auth::begin_sign_in`] discovers the provider from its issuer, makes a PKCE verifier
//!    (S256), a `state` and a `nonce`, keeps them as the one pending attempt (ten minutes) and
//!    returns the authorization URL. The shell opens it in the user's browser.
//! 2. The provider redirects to `bookwish://auth/callback?code=…&state=…`; the OS hands the link
//!    to the app and the shell passes it to [`Auth::complete_sign_in`], which accepts only that
//!    exact URL with the pending `state` (compared in constant time), once, in time. Every
//!    rejection is its own [`Error`] and leaves the session as it was.
//! 3. The code is exchanged with the verifier; the ID token is checked (JWKS signature, `iss`,
//!    `aud`, `exp`, `nonce`, `at_hash`); the refresh token goes to the OS keychain. The UI gets
//!    a [`Profile`], never a token (sync saves it to Supabase's `profiles`).
//! 4. [`Auth::access_token`] hands out the in-memory access token, refreshing it (single-flight,
//!    the rotated refresh token saved first) when less than a minute is left.
//!    [`Auth::restore`] brings the session back at launch; [`Auth::sign_out`] revokes, deletes
//!    the keychain entry and forgets.
//!
//! # Vocabulary
//!
//! - `bookwish_config::ClerkConfig`: which provider (the app's configuration is its own crate).
//! - [`Auth`]: the flow and the session; one per app.
//! - [`SecretStore`] / [`Keychain`]: where refresh tokens live, one entry per account (`sub`).
//! - [`SecretString`]: a token that never prints.
//!
//! # Invariants
//!
//! - Access and ID tokens exist only in memory; the refresh token only in the keychain (a
//!   rotated one the keychain refuses is kept in memory for the session rather than lost: the
//!   keychain's copy is spent); the record on disk (`signed-in.json` in the state dir, 0600 on
//!   Unix) holds the user id, name and email.
//! - Sign-out removes the record first: whatever the keychain or the provider do next, the
//!   next launch starts signed out. An entry the keychain would not delete is listed in
//!   `signed-out.json` and deleted at the next sign-out or launch that can.
//! - Every endpoint discovery names is HTTPS or on this computer, like the configured issuer;
//!   an ID token whose signature does not verify makes the provider's keys be fetched again,
//!   once (key rotation), before it is refused.
//! - No token, code, verifier or callback query string is logged.
//! - One HTTP client for the app (`bookwish_config::http_client`: reqwest 0.11, shared with
//!   sync's `postgrest`), never following redirects.

//! # For the shell
//!
//! - At start: `bookwish_config::AppConfig::load(<config dir>/bookwish.toml)`; with `clerk`
//!   absent the app is local-only ([`Error::NotConfigured`] for sign-in commands). Build one
//!   [`Auth`] with `Arc::new(Keychain::new())`, the app's data dir and the app's HTTP client,
//!   keep it in the managed state, and call [`Auth::restore`] off the main thread; emit the
//!   account once it answers.
//! - Sign in: [`Auth::begin_sign_in`], open the URL with `$BROWSER` or the OS opener, show the
//!   waiting state; every deep link (argv at cold start, single-instance, `on_open_url`) goes to
//!   [`Auth::complete_sign_in`] as the raw string; then focus the window and emit the account.
//!   Cancel calls [`Auth::cancel_sign_in`].
//! - Errors cross IPC as `IpcError` (`From<Error>`): codes `auth`, `offline`, `config`.
//! - Sync asks [`Auth::access_token`] before each request and [`Auth::refresh`] once after a
//!   401; [`Error::SessionEnded`] means the account is signed out.

mod attempt;
mod auth;
mod error;
mod http;
mod keychain;
mod profile;
mod provider;
mod secret;
mod session;

pub use attempt::{Clock, ManualClock, SystemClock, ATTEMPT_LIFETIME, REDIRECT_URI};
pub use auth::Auth;
pub use bookwish_ipc::Profile;
pub use error::{Cause, Error, Result};
pub use keychain::{Keychain, KeychainError, MemoryKeychain, SecretStore, DEFAULT_SERVICE};
pub use secret::SecretString;
pub use session::{LEFTOVERS_FILE, RECORD_FILE, REFRESH_MARGIN};
