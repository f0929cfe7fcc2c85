//! Sign-in against the local stack's OpenID provider (standing in for Clerk), with the real
//! Secret Service keychain. Run inside `scripts/test.sh` (or `dbus-run-session` with an
//! unlocked `gnome-keyring-daemon`, HOME pointed at a temporary directory).

mod flow;
mod offline;
mod rejected;
mod support;
mod trouble;
