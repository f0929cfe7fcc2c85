//! `sync_meta`: small facts about one database, under the keys of [`Key`] — and nothing else
//! writes that table.

use rusqlite::{Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::error::Result;
use crate::hlc::{self, Clock, Stamp};
use crate::table::parse_column;

/// Every key `sync_meta` holds. The names are stored in files already written; never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// This database's device id (UUIDv7), made on the first open.
    DeviceId,
    /// The clock's last stamp.
    Hlc,
    /// When the log was last restarted after a checkpoint (ms): by the store while idle, or by
    /// the replica's checkpoint thread after a pull. Written only so that restart is a real
    /// write.
    CheckpointedAt,
    /// The pull cursor: the highest server version applied.
    Cursor,
    /// When a sync last finished without error (ms).
    LastSync,
    /// Set while a full re-download is under way.
    FullResync,
    /// The highest mutation id ever sent.
    SentThrough,
    /// The ids of the batch sent last, until its answer is recorded (JSON array).
    InFlight,
    /// The user's answer to "move the local-only books into this account?" (an account
    /// database's setting).
    LocalBooksAnswer,
    /// The account (`sub`) this database belongs to; unset in local-only databases and in
    /// account databases written before it was recorded.
    Owner,
    /// A digest of the installation (machine and path) that last opened the file: a copy opened
    /// elsewhere takes a new device id.
    Installation,
    /// In an account database: the server said the account was deleted (JSON: when, and the
    /// name and email it had), so the window offers to remove the file.
    AccountDeleted,
    /// The list indexes of `books` dropped for a bulk load into an empty table, as a JSON list
    /// of `[name, CREATE statement]`, until they are built again (at the load's end, or on the
    /// next open after a crash).
    DeferredIndexes,
}

impl Key {
    /// The stored name.
    const fn name(self) -> &'static str {
        match self {
            Key::DeviceId => "device_id",
            Key::Hlc => "hlc",
            Key::CheckpointedAt => "checkpointed_at",
            Key::Cursor => "sync_cursor",
            Key::LastSync => "sync_last_success",
            Key::FullResync => "sync_full_resync",
            Key::SentThrough => "sync_sent_through",
            Key::InFlight => "sync_in_flight",
            Key::LocalBooksAnswer => "setting.local_books",
            Key::Owner => "account_owner",
            Key::Installation => "installation",
            Key::AccountDeleted => "account_deleted",
            Key::DeferredIndexes => "deferred_indexes",
        }
    }
}

/// The value of `key`, if set.
pub(crate) fn get(conn: &Connection, key: Key) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
        .query_row([key.name()], |row| row.get(0))
        .optional()?)
}

/// The value of `key` parsed as a number, if set and readable.
pub(crate) fn get_i64(conn: &Connection, key: Key) -> Result<Option<i64>> {
    Ok(get(conn, key)?.and_then(|text| text.parse().ok()))
}

/// Sets `key` to `value`.
pub(crate) fn set(conn: &Connection, key: Key, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute((key.name(), value))?;
    Ok(())
}

/// Forgets `key`.
pub(crate) fn delete(conn: &Connection, key: Key) -> Result<()> {
    conn.prepare_cached("DELETE FROM sync_meta WHERE key = ?1")?
        .execute([key.name()])?;
    Ok(())
}

/// This database's device id, made (UUIDv7) on the first open and never changed after.
pub(crate) fn device_id(conn: &Connection) -> Result<Uuid> {
    let read = |conn: &Connection| -> Result<Option<Uuid>> {
        Ok(conn
            .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
            .query_row([Key::DeviceId.name()], |row| {
                parse_column(row, 0, Uuid::try_parse)
            })
            .optional()?)
    };
    if let Some(id) = read(conn)? {
        return Ok(id);
    }
    // Insert-if-absent then read again: two first opens racing still agree on one id.
    conn.execute(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        (Key::DeviceId.name(), Uuid::now_v7().to_string()),
    )?;
    let id = read(conn)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    Ok(id)
}

/// The clock's last stamp as persisted, if it ever ticked.
pub(crate) fn last_stamp(conn: &Connection) -> Result<Option<Stamp>> {
    let stamp = conn
        .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
        .query_row([Key::Hlc.name()], |row| {
            parse_column(row, 0, str::parse::<Stamp>)
        })
        .optional()?;
    Ok(stamp)
}

/// The clock of `device` as persisted: for a batch of edits in one transaction that stamps
/// many times and persists the last stamp once ([`save_stamp`]).
pub(crate) fn clock(conn: &Connection, device: Uuid) -> Result<Clock> {
    Ok(match last_stamp(conn)? {
        Some(last) => Clock::resume(last, device),
        None => Clock::new(device),
    })
}

/// A new stamp for a local edit, persisted in the edit's own transaction: if the edit rolls
/// back, so does the clock.
pub(crate) fn tick(tx: &Transaction<'_>, device: Uuid, wall_ms: u64) -> Result<Stamp> {
    let stamp = clock(tx, device)?.now(wall_ms);
    set(tx, Key::Hlc, &stamp.to_string())?;
    Ok(stamp)
}

/// Persists `stamp` as the clock's last one (after a batch stamped with [`clock`]).
pub(crate) fn save_stamp(tx: &Transaction<'_>, stamp: Stamp) -> Result<()> {
    set(tx, Key::Hlc, &stamp.to_string())
}

/// Moves the persisted clock past `remote` (a stamp pulled from another device), so every
/// later local edit stamps after it. A stamp too far in the future is logged and ignored.
pub(crate) fn observe(tx: &Transaction<'_>, device: Uuid, remote: &Stamp) -> Result<()> {
    match clock(tx, device)?.observe(remote, hlc::wall_ms()) {
        Ok(stamp) => set(tx, Key::Hlc, &stamp.to_string())?,
        Err(error) => tracing::warn!(%error, "a pulled stamp was not observed"),
    }
    Ok(())
}
