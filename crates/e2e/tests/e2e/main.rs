//! End-to-end tests of the built app: one binary, run under Xvfb and `dbus-run-session` by
//! `./x test` (see scripts/test.sh). Tests run one at a time (the app is single-instance).

mod account_deleted;
mod engine;
mod import;
mod local_books;
mod local_first;
mod long_list;
mod offline;
mod review;
mod sign_in;
mod support;
mod unreadable;
mod upgrade;
