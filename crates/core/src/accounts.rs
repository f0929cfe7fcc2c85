//! Which file holds whose books: `local.sqlite3` for local-only use and one database per account
//! under `accounts/`, so no account ever sees another's books.
//!
//! An account's file name is derived from its user id (the provider's `sub`) so that it is
//! collision-free for any id — `a.b` and `a_b`, `User` and `user` (the same file on macOS and
//! Windows), `/`, `@`, very long ids: a readable lowercase prefix, then a SHA-256 digest of the
//! exact id. Each account database also records its owner and refuses to open for another one.
//! Files named by Bookwish 0.1.0 (the id with anything but letters, digits, `-` and `_` replaced
//! by `_`) are renamed to the new name the first time their account opens them.
//!
//! An account the server says was deleted is *marked* in its own database
//! ([`Databases::mark_deleted`]): its books stay on this computer, listed by
//! [`Databases::deleted_accounts`], until the user removes them
//! ([`Databases::remove_deleted_account`], which deletes the file with its `-wal` and `-shm`,
//! and refuses an account not marked deleted or the database open in the window). Signing in to
//! the account again (the provider knows it after all) forgets the mark.

use std::path::{Path, PathBuf};

use bookwish_ipc::{DeletedAccount, Profile};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::db::create_private_dir;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::table::books;
use crate::table::meta::{self, Key};

/// The suffixes of an SQLite database's files besides the main one (WAL mode; `-journal` only
/// after a crash in another journal mode).
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// What [`Key::AccountDeleted`] holds.
#[derive(Serialize, Deserialize)]
struct DeletionMark {
    /// When this computer learnt of it (ms).
    at: i64,
    /// The account's display name then.
    #[serde(default)]
    name: String,
    /// Its email then.
    #[serde(default)]
    email: String,
}

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
    /// 0.1.0 made for it), and refuses a file that records another owner. The account is being
    /// signed in to, so a mark that it was deleted is forgotten (the server marks it again if
    /// it still refuses the account).
    pub fn open_account(&self, user_id: &str) -> Result<Store> {
        let store = self.open_owned(user_id)?;
        if meta::get(store.connection(), Key::AccountDeleted)?.is_some() {
            tracing::info!("signed in to an account marked deleted: the mark is forgotten");
            meta::delete(store.connection(), Key::AccountDeleted)?;
        }
        Ok(store)
    }

    /// Records in the database of `profile`'s account that the server deleted the account, at
    /// `at_ms`: its books stay, and [`Databases::deleted_accounts`] lists it from now on.
    pub fn mark_deleted(&self, profile: &Profile, at_ms: i64) -> Result<DeletedAccount> {
        let store = self.open_owned(&profile.user_id)?;
        let mark = DeletionMark {
            at: at_ms,
            name: profile.name.clone(),
            email: profile.email.clone(),
        };
        meta::set(
            store.connection(),
            Key::AccountDeleted,
            &serde_json::to_string(&mark)?,
        )?;
        tracing::info!(user_id = %profile.user_id, "account marked deleted; its books are kept");
        deleted_account(&store)?.ok_or_else(|| Error::AccountNotDeleted {
            user_id: profile.user_id.clone(),
        })
    }

    /// The accounts marked deleted whose databases are still in `accounts/`, oldest deletion
    /// first. A file that cannot be opened (damaged, from a newer Bookwish) is logged and left
    /// out.
    pub fn deleted_accounts(&self) -> Result<Vec<DeletedAccount>> {
        let folder = self.root.join("accounts");
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(Error::Folder {
                    path: folder,
                    source,
                })
            }
        };
        let mut deleted = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("sqlite3") || !path.is_file() {
                continue;
            }
            match Store::open(&path).and_then(|store| deleted_account(&store)) {
                Ok(Some(account)) => deleted.push(account),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, path = %path.display(), "an account database could not be read");
                }
            }
        }
        deleted.sort_by(|a, b| (a.deleted_at, &a.user_id).cmp(&(b.deleted_at, &b.user_id)));
        Ok(deleted)
    }

    /// Removes the database of `user_id` from this computer — the file with its `-wal` and
    /// `-shm` — and answers how many live books it held. Only for an account marked deleted
    /// ([`Error::AccountNotDeleted`] otherwise), and never the database `open` in the window
    /// ([`Error::AccountOpen`]). Removing an account already gone answers 0.
    ///
    /// The log is checkpointed into the file first, so a failure part-way leaves either every
    /// book in place or an empty log behind, never a log that could replay into a new file.
    pub fn remove_deleted_account(&self, user_id: &str, open: Option<&Store>) -> Result<u32> {
        let path = self.account(user_id);
        if !path.exists() {
            return Ok(0);
        }
        let books = {
            let store = self.open_owned(user_id)?;
            if open.is_some_and(|open| open.device_id() == store.device_id()) {
                return Err(Error::AccountOpen {
                    user_id: user_id.to_owned(),
                });
            }
            let Some(account) = deleted_account(&store)? else {
                return Err(Error::AccountNotDeleted {
                    user_id: user_id.to_owned(),
                });
            };
            store
                .connection()
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            account.books
        };
        for suffix in std::iter::once("").chain(COMPANIONS) {
            let file = with_suffix(&path, suffix);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Remove { path: file, source }),
            }
        }
        tracing::info!(%user_id, books, "a deleted account's books were removed from this computer");
        Ok(books)
    }

    /// [`Databases::open_account`] without forgetting a deletion mark.
    fn open_owned(&self, user_id: &str) -> Result<Store> {
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

/// The account of `store` as [`Databases::deleted_accounts`] lists it, if it is marked deleted
/// (and records its owner).
fn deleted_account(store: &Store) -> Result<Option<DeletedAccount>> {
    let conn = store.connection();
    let (Some(mark), Some(user_id)) = (
        meta::get(conn, Key::AccountDeleted)?,
        meta::get(conn, Key::Owner)?,
    ) else {
        return Ok(None);
    };
    let mark: DeletionMark = serde_json::from_str(&mark)?;
    Ok(Some(DeletedAccount {
        user_id,
        name: mark.name,
        email: mark.email,
        books: books::counts(conn)?.total(),
        deleted_at: mark.at,
    }))
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

    fn profile(user_id: &str, email: &str) -> Profile {
        Profile {
            user_id: user_id.into(),
            name: String::new(),
            email: email.into(),
            initials: String::new(),
        }
    }

    fn draft(title: &str) -> BookDraft {
        BookDraft {
            title: title.into(),
            ..BookDraft::default()
        }
    }

    /// The files of the database at `path` that exist: the main one and its companions.
    fn files_of(path: &Path) -> Vec<PathBuf> {
        std::iter::once("")
            .chain(COMPANIONS)
            .map(|suffix| with_suffix(path, suffix))
            .filter(|file| file.exists())
            .collect()
    }

    #[test]
    fn a_deleted_accounts_books_stay_until_the_user_removes_them() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let dbs = Databases::new(dir.path());
        let mut local = dbs.open_local()?;
        local.add(&draft("Local only"))?;
        let mut alice = dbs.open_account("user_alice")?;
        alice.add(&draft("Dune"))?;
        alice.add(&draft("Piranesi"))?;
        let gone = alice.add(&draft("Deleted before"))?;
        alice.delete(gone.id)?;
        dbs.open_account("user_bob")?.add(&draft("Bob's"))?;
        assert!(
            dbs.deleted_accounts()?.is_empty(),
            "no account is listed as deleted before the server says so"
        );

        let marked = dbs.mark_deleted(&profile("user_alice", "alice@example.com"), 1_000)?;
        let expected = DeletedAccount {
            user_id: "user_alice".into(),
            name: String::new(),
            email: "alice@example.com".into(),
            books: 2,
            deleted_at: 1_000,
        };
        assert_eq!(
            marked, expected,
            "marking names the account and counts its live books"
        );
        assert_eq!(
            dbs.deleted_accounts()?,
            vec![expected],
            "the deleted account is listed (bob's is not) until its books are removed"
        );
        let path = dbs.account("user_alice");
        assert!(
            files_of(&path).len() >= 2,
            "alice's database and its log are on disk while her store is open: {:?}",
            files_of(&path)
        );

        assert!(
            matches!(
                dbs.remove_deleted_account("user_alice", Some(&alice)),
                Err(Error::AccountOpen { .. })
            ),
            "the database the window shows is never removed"
        );
        assert!(
            matches!(
                dbs.remove_deleted_account("user_bob", Some(&local)),
                Err(Error::AccountNotDeleted { .. })
            ),
            "an account the server did not delete keeps its books"
        );
        assert!(dbs.account("user_bob").is_file(), "bob's file is untouched");
        assert_eq!(
            alice.list(&bookwish_ipc::ListQuery::default())?.books.len(),
            2,
            "refusals remove nothing"
        );

        drop(alice);
        assert_eq!(
            dbs.remove_deleted_account("user_alice", Some(&local))?,
            2,
            "removing answers how many books went"
        );
        assert_eq!(
            files_of(&path),
            Vec::<PathBuf>::new(),
            "the database goes with its -wal and -shm"
        );
        assert!(
            dbs.deleted_accounts()?.is_empty(),
            "and is no longer listed"
        );
        assert_eq!(
            dbs.remove_deleted_account("user_alice", None)?,
            0,
            "removing it again finds nothing to remove"
        );
        assert!(!path.exists(), "and does not create the file again");
        assert_eq!(
            local.list(&bookwish_ipc::ListQuery::default())?.books.len(),
            1,
            "the local-only list is untouched"
        );
        Ok(())
    }

    #[test]
    fn a_database_open_elsewhere_is_removed_with_its_log() -> Result<()> {
        // The sync engine's connection may still be closing when the user confirms.
        let dir = tempfile::tempdir().expect("temp dir");
        let dbs = Databases::new(dir.path());
        let mut lingering = dbs.open_account("user_carol")?;
        lingering.add(&draft("Unsynced"))?;
        dbs.mark_deleted(&profile("user_carol", ""), 5)?;
        assert_eq!(dbs.remove_deleted_account("user_carol", None)?, 1);
        assert_eq!(
            files_of(&dbs.account("user_carol")),
            Vec::<PathBuf>::new(),
            "no file of the account is left, even with a connection still open"
        );
        Ok(())
    }

    #[test]
    fn signing_in_to_a_deleted_account_again_forgets_the_mark() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let dbs = Databases::new(dir.path());
        dbs.open_account("user_dave")?.add(&draft("Kept"))?;
        dbs.mark_deleted(&profile("user_dave", "dave@example.com"), 7)?;
        assert_eq!(dbs.deleted_accounts()?.len(), 1, "listed once marked");
        let store = dbs.open_account("user_dave")?;
        assert!(
            dbs.deleted_accounts()?.is_empty(),
            "the provider signed the account in: it is not listed as deleted any more"
        );
        assert_eq!(
            store.list(&bookwish_ipc::ListQuery::default())?.books.len(),
            1,
            "and its books are all there"
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
