//! The connection to one database file: the only place in the workspace that opens SQLite.
//!
//! [`Db`] opens a file (creating its folder), applies the per-connection settings SQLite does
//! not keep in the file, brings the schema up to date (or refuses a file from a newer app) and
//! knows the database's device id. Both faces — [`crate::Store`] for the window and
//! [`crate::Replica`] for the sync engine — own a `Db` of their own: two connections to one
//! file, coordinated by SQLite (WAL: readers never wait; writers wait up to [`BUSY_TIMEOUT`]).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use rusqlite_migration::MigrationDefinitionError;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::schema::MIGRATIONS;
use crate::table::meta::{self, Key};

/// How long a statement waits for another connection's write lock before failing as busy.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL size (pages) at which a commit checkpoints by itself; see [`configure`].
pub(crate) const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// One open connection with its settings applied and its schema current.
#[derive(Debug)]
pub(crate) struct Db {
    pub(crate) conn: Connection,
    pub(crate) device_id: Uuid,
}

impl Db {
    /// Opens (creating if needed, its folder included) the database file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Db> {
        tracing::debug!(path = %path.display(), "opening the local database");
        // The first sign-in of an account opens a database in a folder that may not exist yet.
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            create_private_dir(folder)?;
        }
        make_private(path);
        #[allow(clippy::disallowed_methods)] // this is the one place that opens SQLite
        let conn = Connection::open(path)?;
        let mut db = Db::prepare(conn)?;
        db.claim(&installation(path))?;
        Ok(db)
    }

    /// A fresh database in memory, for tests and throwaway use.
    pub(crate) fn open_in_memory() -> Result<Db> {
        #[allow(clippy::disallowed_methods)] // this is the one place that opens SQLite
        let conn = Connection::open_in_memory()?;
        Db::prepare(conn)
    }

    /// A connection to the in-memory database `name`, shared by every connection of this
    /// process that opens the same name (for tests that need a `Store` and a `Replica` on one
    /// database without touching the disk).
    #[cfg(test)]
    pub(crate) fn open_shared_memory(name: &str) -> Result<Db> {
        use rusqlite::OpenFlags;
        #[allow(clippy::disallowed_methods)] // this is the one place that opens SQLite
        let conn = Connection::open_with_flags(
            format!("file:{name}?mode=memory&cache=shared"),
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Db::prepare(conn)
    }

    fn prepare(mut conn: Connection) -> Result<Db> {
        configure(&conn)?;
        // Before any migration: a migration may expect the list's indexes to be there.
        crate::bulk::recover(&mut conn)?;
        MIGRATIONS
            .to_latest(&mut conn)
            .map_err(|error| match error {
                rusqlite_migration::Error::MigrationDefinition(
                    MigrationDefinitionError::DatabaseTooFarAhead,
                ) => Error::TooNew,
                other => Error::Migration(other),
            })?;
        let device_id = meta::device_id(&conn)?;
        Ok(Db { conn, device_id })
    }

    /// Binds this database to the installation opening it. A database last opened elsewhere —
    /// a data folder copied to a second machine, or to a second folder — is a copy: it takes a
    /// new device id, so the server never mistakes the two copies' changes for retries of one
    /// device's (and drops one). Pending changes stay queued and go out under the new id.
    fn claim(&mut self, installation: &str) -> Result<()> {
        let tx = self.write()?;
        let renewed = match meta::get(&tx, Key::Installation)? {
            Some(known) if known == installation => return Ok(()),
            Some(_) => {
                let device_id = Uuid::now_v7();
                tracing::info!(%device_id, "this database was copied from elsewhere: it syncs as a new device");
                meta::set(&tx, Key::DeviceId, &device_id.to_string())?;
                meta::delete(&tx, Key::SentThrough)?;
                meta::delete(&tx, Key::InFlight)?;
                Some(device_id)
            }
            None => None,
        };
        meta::set(&tx, Key::Installation, installation)?;
        tx.commit()?;
        if let Some(device_id) = renewed {
            self.device_id = device_id;
        }
        Ok(())
    }

    /// A write transaction that holds the write lock from its start: a deferred one would read
    /// a snapshot first and could then fail as busy, unretried, when it tries to write.
    pub(crate) fn write(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// Lets this connection's page cache grow to `kib` KiB (SQLite's default is 2 MiB). A big
    /// pull writes every index of `books` at random places: with a cache smaller than the
    /// indexes, each transaction spills and re-reads the same pages again and again. The cache
    /// only takes memory as pages are read; [`Db::release_memory`] gives it back.
    pub(crate) fn set_cache_kib(&self, kib: u32) -> Result<()> {
        self.conn
            .pragma_update(None, "cache_size", -i64::from(kib))?;
        Ok(())
    }

    /// Frees the page cache's unused memory (`PRAGMA shrink_memory`).
    pub(crate) fn release_memory(&self) -> Result<()> {
        self.conn.execute_batch("PRAGMA shrink_memory")?;
        Ok(())
    }

    /// A read transaction: one snapshot for several statements, even while another connection
    /// writes.
    pub(crate) fn read(&self) -> Result<Transaction<'_>> {
        Ok(self.conn.unchecked_transaction()?)
    }
}

/// Which installation opens the file at `path`: a digest of the machine's id (never stored as
/// such) and the file's absolute path. Two machines, or two folders on one machine, differ.
fn installation(path: &Path) -> String {
    let machine = machine_uid::get().unwrap_or_default();
    let place = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut digest = Sha256::new();
    digest.update(b"bookwish installation\0");
    digest.update(machine.as_bytes());
    digest.update(b"\0");
    digest.update(place.to_string_lossy().as_bytes());
    digest.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Creates `folder` (and its parents) readable by this user only where the OS has such modes:
/// the databases hold the user's reading list and account data.
pub fn create_private_dir(folder: &Path) -> Result<()> {
    let made = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(folder)
        }
        #[cfg(not(unix))]
        {
            std::fs::create_dir_all(folder)
        }
    };
    made.map_err(|source| Error::Folder {
        path: folder.to_path_buf(),
        source,
    })
}

/// Makes the database at `path` readable by this user only, where the OS has such modes: a
/// missing file is created empty with mode 0600 before SQLite opens it (SQLite then gives its
/// `-wal` and `-shm` files the same mode), and files an older version left with the default
/// mode are tightened. Best effort: a file whose mode cannot be changed (another owner, a
/// file system without modes) is still opened, and the failure logged.
fn make_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if let Err(error) = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
        {
            tracing::warn!(%error, path = %path.display(), "could not create the database file");
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = Path::new(&name);
            let Ok(meta) = std::fs::metadata(file) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 != 0 {
                if let Err(error) =
                    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                {
                    tracing::warn!(%error, file = %file.display(), "could not make a database file private");
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A second connection to the file at `path`, which [`Db::open`] has already prepared, for
/// checkpoints only: the connection settings, and no migrations or bookkeeping.
pub(crate) fn open_for_checkpoints(path: &Path) -> Result<Connection> {
    #[allow(clippy::disallowed_methods)] // this is the one place that opens SQLite
    let conn = Connection::open(path)?;
    configure(&conn)?;
    Ok(conn)
}

/// Copies committed changes from the write-ahead log into the database file without waiting
/// for readers or writers (a passive checkpoint). When the whole log was copied and `restart`
/// is set, restarts the log with a tiny write, so the next edit does not pay for the
/// restart's fsync. Cheap when nothing changed.
pub(crate) fn checkpoint(conn: &Connection, restart: bool) -> Result<()> {
    let (busy, log_pages, copied_pages): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    tracing::trace!(busy, log_pages, copied_pages, "WAL checkpoint");
    if restart && busy == 0 && log_pages > 0 && copied_pages == log_pages {
        // The log is all copied, so the next write starts it over, and SQLite fsyncs the new
        // log header inside that write. Make that write here, off the path of an edit. It must
        // change a value: SQLite skips a write that leaves a row as it was.
        meta::set(
            conn,
            Key::CheckpointedAt,
            &crate::hlc::wall_ms().to_string(),
        )?;
    }
    Ok(())
}

/// Applies the connection settings SQLite does not keep in the file (all but journal_mode),
/// so every connection — the store's and the replica's alike — sets them.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && mode != "memory" {
        tracing::warn!(%mode, "SQLite refused WAL: readers and the writer will block each other");
    }
    // In WAL, NORMAL loses no committed data on a crash, only the last commits on power loss;
    // commits then skip fsync, which keeps an edit well under a millisecond.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A checkpoint fsyncs twice, and SQLite runs it inside whichever commit crosses the limit
    // (default 1,000 pages, i.e. every ~90 edits here): that edit then takes milliseconds. The
    // shell calls Store::checkpoint when idle instead; this high limit is only the safety net
    // that keeps the WAL bounded if it never does.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use super::*;

    fn modes(path: &Path) -> Vec<(String, u32)> {
        ["", "-wal", "-shm"]
            .iter()
            .map(|suffix| format!("{}{suffix}", path.display()))
            .filter(|file| Path::new(file).exists())
            .map(|file| {
                let mode = std::fs::metadata(&file).map_or(0, |m| m.permissions().mode() & 0o777);
                (file, mode)
            })
            .collect()
    }

    #[test]
    fn the_database_and_its_wal_and_shm_are_readable_by_the_user_only() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("accounts").join("books.sqlite3");
        let db = Db::open(&path)?;
        db.conn
            .execute_batch("CREATE TABLE probe(x); INSERT INTO probe VALUES (1);")?;
        let found = modes(&path);
        assert_eq!(
            found.len(),
            3,
            "the database, its WAL and its shared memory exist"
        );
        for (file, mode) in &found {
            assert_eq!(
                *mode, 0o600,
                "{file} must be readable by the user only, is {mode:o}"
            );
        }

        // A file an older Bookwish made with the default mode is made private when opened
        // (closing the last connection removed the WAL and shared memory).
        drop(db);
        for (file, _) in modes(&path) {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644))?;
        }
        let db = Db::open(&path)?;
        db.conn.execute_batch("INSERT INTO probe VALUES (2);")?;
        let found = modes(&path);
        assert_eq!(found.len(), 3, "all three files exist again");
        for (file, mode) in found {
            assert_eq!(mode, 0o600, "{file} is made private again, is {mode:o}");
        }
        Ok(())
    }
}
