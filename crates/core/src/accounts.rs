//! Which file holds whose books: `local.sqlite3` for local-only use and one database per account
//! under `accounts/`, so no account ever sees another's books.
//!
//! An account's file name is derived from its user id (the provider's `sub`) so that it is
//! collision-free for any id — `a.b` and `a_b`, `User` and `user` (the same file on macOS and
//! Windows), `/`, `@`, very long ids: a readable lowercase prefix, then a SHA-256 digest of the
//! exact id. Each account database also records its owner and refuses to open for another one.
//! Files named by Bookwish 0.1.0 (the id with anything but letters, digits, `-` and `_` replaced
//! by `_`) are renamed to the new name the first time their account opens them.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use crate::db::create_private_dir;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::table::meta::{self, Key};

/// Longest readable prefix of an account's file name, in characters.
const PREFIX_MAX: usize = 40;

/// The databases in one data folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Databases {
    root: PathBuf,
}

impl Databases {
    /// The databases kept in `root` (the app's data folder).
    pub fn new(root: impl Into<PathBuf>) -> Databases {
        Databases { root: root.into() }
    }

    /// The folder holding them.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The database used while no account is signed in.
    pub fn local(&self) -> PathBuf {
        self.root.join("local.sqlite3")
    }

    /// The database of account `user_id`.
    pub fn account(&self, user_id: &str) -> PathBuf {
        self.root.join("accounts").join(file_name(user_id))
    }

    /// Opens the local-only database.
    pub fn open_local(&self) -> Result<Store> {
        Store::open(&self.local())
    }

    /// Opens the database of account `user_id` (creating it, or renaming the file Bookwish
    /// 0.1.0 made for it), and refuses a file that records another owner.
    pub fn open_account(&self, user_id: &str) -> Result<Store> {
        let path = self.account(user_id);
        if !path.exists() {
            self.adopt_legacy(user_id, &path)?;
        }
        let store = Store::open(&path)?;
        let conn = store.connection();
        match meta::get(conn, Key::Owner)? {
            Some(owner) if owner != user_id => return Err(Error::WrongOwner { path }),
            Some(_) => {}
            None => meta::set(conn, Key::Owner, user_id)?,
        }
        Ok(store)
    }

    /// Renames the 0.1.0 file of `user_id`, if there is one, to `path`, with its log files.
    fn adopt_legacy(&self, user_id: &str, path: &Path) -> Result<()> {
        let legacy = self.root.join("accounts").join(legacy_file_name(user_id));
        if !legacy.is_file() {
            return Ok(());
        }
        tracing::info!(from = %legacy.display(), to = %path.display(), "renaming an account database");
        for suffix in ["-wal", "-shm", ""] {
            let from = with_suffix(&legacy, suffix);
            if from.exists() {
                std::fs::rename(&from, with_suffix(path, suffix)).map_err(|source| {
                    Error::Folder {
                        path: from.clone(),
                        source,
                    }
                })?;
            }
        }
        Ok(())
    }
}

/// `path` with `suffix` appended to its file name (`x.sqlite3-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `<readable prefix>-<sha256 of the id, 32 hex digits>.sqlite3`: lowercase only, so two ids
/// differing in case never meet in one file on a case-insensitive file system.
fn file_name(user_id: &str) -> String {
    let prefix: String = user_id
        .chars()
        .take(PREFIX_MAX)
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let digest = Sha256::digest(user_id.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}.sqlite3")
}

/// The name Bookwish 0.1.0 gave the database of `user_id`.
fn legacy_file_name(user_id: &str) -> String {
    let name: String = user_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}.sqlite3")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use bookwish_ipc::BookDraft;

    use super::*;

    #[test]
    fn every_account_has_its_own_file_apart_from_local() {
        let dbs = Databases::new("/d");
        assert_eq!(
            dbs.local(),
            PathBuf::from("/d/local.sqlite3"),
            "no account: local"
        );
        let ids = [
            "user_alice",
            "user_bob",
            "a.b",
            "a_b",
            "a@b",
            "a/b",
            "User_2abc",
            "user_2abc",
            "USER_2ABC",
            "../../etc/passwd",
            &"x".repeat(300),
            &format!("{}y", "x".repeat(300)),
        ];
        let mut seen = HashSet::new();
        for id in ids {
            let path = dbs.account(id);
            assert_eq!(
                path.parent(),
                Some(Path::new("/d/accounts")),
                "a user id must never escape the accounts folder: {path:?}"
            );
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a UTF-8 file name")
                .to_owned();
            assert!(
                name.len() <= 100 && name.chars().all(|c| !c.is_ascii_uppercase()),
                "file names are short and lowercase (case-insensitive file systems): {name}"
            );
            assert!(
                seen.insert(name.clone()),
                "two user ids must never share a database file (even ignoring case): {id} → {name}"
            );
        }
    }

    #[test]
    fn a_database_named_by_0_1_0_is_adopted_with_its_books() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let dbs = Databases::new(dir.path());
        let legacy = dir.path().join("accounts").join("user_2AbC.sqlite3");
        let book = Store::open(&legacy)?.add(&BookDraft {
            title: "Dune".into(),
            ..BookDraft::default()
        })?;
        let store = dbs.open_account("user_2AbC")?;
        assert_eq!(store.get(book.id)?, book, "the 0.1.0 file's books are kept");
        assert!(!legacy.exists(), "the 0.1.0 file was renamed, not copied");
        assert!(
            dbs.account("user_2AbC").is_file(),
            "it now has its new name"
        );
        Ok(())
    }

    #[test]
    fn an_account_database_refuses_another_owner() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let dbs = Databases::new(dir.path());
        dbs.open_account("user_alice")?.add(&BookDraft {
            title: "Alice's".into(),
            ..BookDraft::default()
        })?;
        // Someone copies alice's file over bob's name.
        std::fs::copy(dbs.account("user_alice"), dbs.account("user_bob")).expect("copy");
        assert!(
            matches!(dbs.open_account("user_bob"), Err(Error::WrongOwner { .. })),
            "bob must never open a file that records alice as its owner"
        );
        assert!(
            dbs.open_account("user_alice").is_ok(),
            "the owner still opens it"
        );
        Ok(())
    }
}
