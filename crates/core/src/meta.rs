//! `sync_meta`: small facts about this database — the device id, the clock's last stamp, the
//! time of the last idle checkpoint.

use rusqlite::{Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::error::Result;
use crate::hlc::{Clock, Stamp};
use crate::outbox::parse_column;

const DEVICE_ID: &str = "device_id";
const HLC: &str = "hlc";
const CHECKPOINTED_AT: &str = "checkpointed_at";

/// This database's device id, made (UUIDv7) on the first open and never changed after.
pub(crate) fn device_id(conn: &Connection) -> Result<Uuid> {
    let read = |conn: &Connection| -> Result<Option<Uuid>> {
        Ok(conn
            .query_row(
                "SELECT value FROM sync_meta WHERE key = ?1",
                [DEVICE_ID],
                |row| parse_column(row, 0, Uuid::try_parse),
            )
            .optional()?)
    };
    if let Some(id) = read(conn)? {
        return Ok(id);
    }
    // Insert-if-absent then read again: two first opens racing still agree on one id.
    conn.execute(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        (DEVICE_ID, Uuid::now_v7().to_string()),
    )?;
    let id = read(conn)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    Ok(id)
}

/// The clock's last stamp as persisted, if it ever ticked.
pub(crate) fn last_stamp(conn: &Connection) -> Result<Option<Stamp>> {
    let stamp = conn
        .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
        .query_row([HLC], |row| parse_column(row, 0, str::parse::<Stamp>))
        .optional()?;
    Ok(stamp)
}

/// A new stamp for a local edit, persisted in the edit's own transaction: if the edit rolls
/// back, so does the clock.
pub(crate) fn tick(tx: &Transaction<'_>, device: Uuid, wall_ms: u64) -> Result<Stamp> {
    let mut clock = match last_stamp(tx)? {
        Some(last) => Clock::resume(last, device),
        None => Clock::new(device),
    };
    let stamp = clock.now(wall_ms);
    tx.prepare_cached(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute((HLC, stamp.to_string()))?;
    Ok(stamp)
}

/// Notes the time of the last idle checkpoint (ms since the Unix epoch).
pub(crate) fn record_checkpoint(conn: &Connection, wall_ms: u64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute((CHECKPOINTED_AT, wall_ms.to_string()))?;
    Ok(())
}
