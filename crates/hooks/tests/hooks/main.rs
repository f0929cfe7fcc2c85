//! bookwish-hooks against the real local stack (PostgreSQL 15 + PostgREST 12 + the OpenID
//! provider) with the service's own binary in front, deliveries signed with svix.
//!
//! Run: `cargo test -p bookwish-hooks --test hooks` (the request cases are written to
//! test-output/hooks-cases.md). The timing of a `user.deleted` with 10,000 books:
//! `cargo test -p bookwish-hooks --test hooks -- --ignored --nocapture`.

mod delete;
mod profiles;
mod support;
mod verify;
