//! The sync engine against the real local stack: PostgreSQL + PostgREST + the OpenID provider.
#![allow(
    clippy::unwrap_used,
    reason = "tests and their support: a panic with its location is the failure report"
)]

mod answers;
mod deleted;
mod download;
mod faults;
mod hardening;
mod http_proxy;
mod merge;
mod offline;
mod random;
mod server_v2;
mod support;
