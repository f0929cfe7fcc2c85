//! The sync engine against the real local stack: PostgreSQL + PostgREST + the OpenID provider.

mod faults;
mod merge;
mod offline;
mod random;
mod support;
