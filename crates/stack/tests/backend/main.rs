//! Backend tests against the real local stack: PostgreSQL 15 + PostgREST 12 + the OpenID
//! provider, with tokens from its real sign-in flow.
//!
//! Run: `cargo test -p bookwish-stack --test backend` (the RLS audit table is written to
//! test-output/rls-audit.md).

mod bad_input;
mod bounds;
mod hosted;
mod idp;
mod isbn;
mod keyset;
mod lifecycle;
mod lockdown;
mod rls;
mod support;
mod sync;
