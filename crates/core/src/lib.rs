//! Bookwish without a window: the reading list's rules and its local store.

pub mod hlc;
