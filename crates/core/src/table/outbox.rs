//! `outbox`: the edits this device has made that the server has not acknowledged yet.
//!
//! One entry per book. A later edit of the same book coalesces into the pending entry: its
//! patch is merged in (later values win), the HLC stamp and the mutation id are renewed, and the
//! base version — the server version the first unsynced edit was made against — is kept. The
//! sync engine pushes entries and deletes one only if its mutation id is still the one it pushed
//! (an edit made during the push renews the id and stays queued).

use std::collections::HashMap;

use bookwish_ipc::BookId;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::Result;
use crate::fields::{Field, Fields};
use crate::hlc::Stamp;
use crate::table::{count, parse_column};

/// Changed fields with their new values, keyed by server column name.
pub type Patch = Map<String, Value>;

/// One pending mutation: what changed in one book since the server last acknowledged it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The book changed.
    pub book_id: BookId,
    /// Changed fields and their new values; a create holds every field.
    pub patch: Patch,
    /// The book's server version when the first unsynced edit was made; `None` if the server
    /// has never seen the book (the push creates it).
    pub base_version: Option<i64>,
    /// Stamp of the latest change coalesced into this entry.
    pub hlc: Stamp,
    /// Renewed on every coalescing change; the server's ledger deduplicates retries by it.
    pub mutation_id: Uuid,
    /// When the first pending edit was made (ms since the Unix epoch).
    pub created_at: i64,
    /// When the latest pending edit was made (ms since the Unix epoch).
    pub updated_at: i64,
}

/// The patch of a new book: every editable field, and `deleted: false`.
pub(crate) fn create_patch(fields: &Fields) -> Patch {
    let mut patch: Patch = Field::EDITABLE
        .into_iter()
        .map(|field| (field.name().to_owned(), fields.value(field)))
        .collect();
    patch.insert(Field::Deleted.name().to_owned(), Value::Bool(false));
    patch
}

/// The fields whose values differ between `old` and `new`, with their new values.
pub(crate) fn diff_patch(old: &Fields, new: &Fields) -> Patch {
    Field::EDITABLE
        .into_iter()
        .filter_map(|field| {
            let after = new.value(field);
            (old.value(field) != after).then(|| (field.name().to_owned(), after))
        })
        .collect()
}

/// The patch of a delete (`true`) or a restore (`false`).
pub(crate) fn deleted_patch(deleted: bool) -> Patch {
    Patch::from_iter([(Field::Deleted.name().to_owned(), Value::Bool(deleted))])
}

/// Queues `patch` for `book_id` in the caller's transaction, coalescing with a pending entry.
/// `base_version` is used only when no entry is pending.
pub(crate) fn record(
    tx: &Transaction<'_>,
    book_id: BookId,
    patch: Patch,
    base_version: Option<i64>,
    stamp: Stamp,
    now_ms: i64,
) -> Result<()> {
    let id = book_id.to_string();
    let merged = match patch_of(tx, book_id)? {
        Some(mut merged) => {
            merged.extend(patch);
            merged
        }
        None => patch,
    };
    tx.prepare_cached(
        "INSERT INTO outbox (book_id, patch, base_version, hlc, mutation_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (book_id) DO UPDATE SET
             patch = excluded.patch,
             hlc = excluded.hlc,
             mutation_id = excluded.mutation_id,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        id,
        serde_json::to_string(&merged)?,
        base_version,
        stamp.to_string(),
        Uuid::now_v7().to_string(),
        now_ms,
    ])?;
    Ok(())
}

/// Every pending entry, oldest first.
pub(crate) fn entries(conn: &Connection) -> Result<Vec<OutboxEntry>> {
    query(conn, "ORDER BY created_at, book_id")
}

/// Every pending entry in mutation-id order (the order the server wants them in).
pub(crate) fn entries_by_mutation_id(conn: &Connection) -> Result<Vec<OutboxEntry>> {
    query(conn, "ORDER BY mutation_id")
}

fn query(conn: &Connection, order: &str) -> Result<Vec<OutboxEntry>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT book_id, patch, base_version, hlc, mutation_id, created_at, updated_at
         FROM outbox {order}"
    ))?;
    let entries = statement
        .query_map([], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(entries)
}

/// Every pending patch, by book.
pub(crate) fn patches(conn: &Connection) -> Result<HashMap<BookId, Patch>> {
    let mut statement = conn.prepare_cached("SELECT book_id, patch FROM outbox")?;
    let rows = statement.query_map([], |row| {
        Ok((
            parse_column(row, 0, Uuid::try_parse)?,
            parse_column(row, 1, |text| serde_json::from_str::<Patch>(text))?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
}

/// The pending patch of book `id`, if any.
pub(crate) fn patch_of(conn: &Connection, id: BookId) -> Result<Option<Patch>> {
    Ok(conn
        .prepare_cached("SELECT patch FROM outbox WHERE book_id = ?1")?
        .query_row([id.to_string()], |row| {
            parse_column(row, 0, |text| serde_json::from_str::<Patch>(text))
        })
        .optional()?)
}

/// Removes the entry of `book` if its mutation id is still `mutation_id` (an edit made since
/// renewed it, and that edit stays queued). Whether it was removed.
pub(crate) fn remove(tx: &Transaction<'_>, book: BookId, mutation_id: Uuid) -> Result<bool> {
    Ok(tx
        .prepare_cached("DELETE FROM outbox WHERE book_id = ?1 AND mutation_id = ?2")?
        .execute(params![book.to_string(), mutation_id.to_string()])?
        > 0)
}

/// Gives the entry of `book` the new mutation id `id`.
pub(crate) fn renew(tx: &Transaction<'_>, book: BookId, id: Uuid) -> Result<()> {
    tx.prepare_cached("UPDATE outbox SET mutation_id = ?2 WHERE book_id = ?1")?
        .execute(params![book.to_string(), id.to_string()])?;
    Ok(())
}

/// Books with a pending change.
pub(crate) fn len(conn: &Connection) -> Result<u32> {
    Ok(count(conn.query_row(
        "SELECT count(*) FROM outbox",
        [],
        |row| row.get(0),
    )?))
}

/// Whether book `id` has a pending change.
pub(crate) fn has(conn: &Connection, id: BookId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE book_id = ?1)")?
        .query_row([id.to_string()], |row| row.get(0))?)
}

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<OutboxEntry> {
    Ok(OutboxEntry {
        book_id: parse_column(row, 0, Uuid::try_parse)?,
        patch: parse_column(row, 1, |text| serde_json::from_str::<Patch>(text))?,
        base_version: row.get(2)?,
        hlc: parse_column(row, 3, str::parse::<Stamp>)?,
        mutation_id: parse_column(row, 4, Uuid::try_parse)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use bookwish_ipc::{BookDraft, Status};
    use serde_json::json;

    use super::*;
    use crate::Store;

    fn draft(title: &str) -> BookDraft {
        BookDraft {
            title: title.to_owned(),
            ..BookDraft::default()
        }
    }

    fn only_entry(store: &Store) -> crate::Result<OutboxEntry> {
        let mut entries = store.outbox()?;
        assert_eq!(entries.len(), 1, "one book has exactly one pending entry");
        Ok(entries.remove(0))
    }

    /// What the sync engine will do after a push is acknowledged: the server now has version
    /// `version` of every book and nothing is pending.
    fn acknowledge_all(store: &Store, version: i64) -> rusqlite::Result<()> {
        store.conn_for_tests().execute_batch(&format!(
            "UPDATE books SET server_version = {version}; DELETE FROM outbox;"
        ))
    }

    #[test]
    fn a_create_queues_every_field() -> crate::Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&BookDraft {
            author: "Frank Herbert".to_owned(),
            rating: Some(4),
            started_on: Some("2024-01-02".to_owned()),
            ..draft("Dune")
        })?;
        let entry = only_entry(&store)?;
        assert_eq!(entry.book_id, book.id, "the entry is for the new book");
        assert_eq!(
            Value::Object(entry.patch),
            json!({
                "title": "Dune", "author": "Frank Herbert", "status": "Wishlist", "notes": "",
                "rating": 4, "started_on": "2024-01-02", "finished_on": null, "isbn": null,
                "deleted": false,
            }),
            "a create's patch holds every field"
        );
        assert_eq!(
            entry.base_version, None,
            "a new book has no server version to base on"
        );
        assert_eq!(
            entry.mutation_id.get_version_num(),
            7,
            "mutation ids are UUIDv7"
        );
        assert_eq!(
            entry.hlc.device,
            store.device_id(),
            "the stamp is this device's"
        );
        assert_eq!(
            (entry.created_at, entry.updated_at),
            (book.created_at, book.created_at),
            "the entry is timed like the edit"
        );
        Ok(())
    }

    #[test]
    fn create_then_update_coalesces_into_one_create() -> crate::Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&draft("Dune"))?;
        let created = only_entry(&store)?;
        store.update(
            book.id,
            &BookDraft {
                rating: Some(5),
                ..draft("Dune Messiah")
            },
        )?;
        let entry = only_entry(&store)?;
        assert_eq!(
            Value::Object(entry.patch),
            json!({
                "title": "Dune Messiah", "author": "", "status": "Wishlist", "notes": "",
                "rating": 5, "started_on": null, "finished_on": null, "isbn": null,
                "deleted": false,
            }),
            "create + update is one create carrying the latest values"
        );
        assert_ne!(
            entry.mutation_id, created.mutation_id,
            "coalescing renews the mutation id"
        );
        assert!(
            entry.hlc > created.hlc,
            "coalescing stamps the latest change"
        );
        assert_eq!(
            entry.created_at, created.created_at,
            "the entry keeps its first-edit time"
        );
        assert_eq!(entry.base_version, None, "still a create");
        Ok(())
    }

    #[test]
    fn updates_after_a_sync_merge_their_patches_and_keep_the_base() -> crate::Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&draft("Dune"))?;
        acknowledge_all(&store, 7)?;
        store.update(book.id, &draft("Dune Messiah"))?;
        let first = only_entry(&store)?;
        assert_eq!(
            Value::Object(first.patch.clone()),
            json!({"title": "Dune Messiah"}),
            "an update queues only the changed field"
        );
        assert_eq!(
            first.base_version,
            Some(7),
            "the base is the server version at the first edit"
        );

        // A pull lands a newer server version while the edit is still pending.
        store
            .conn_for_tests()
            .execute("UPDATE books SET server_version = 9", [])?;
        store.set_status(book.id, Status::Reading)?;
        let merged = only_entry(&store)?;
        let today = crate::validate::format_date(chrono::Local::now().date_naive());
        assert_eq!(
            Value::Object(merged.patch),
            json!({"title": "Dune Messiah", "status": "Reading", "started_on": today}),
            "a second update merges its fields into the pending patch"
        );
        assert_eq!(
            merged.base_version,
            Some(7),
            "the base stays the version the first unsynced edit was made against"
        );
        assert_ne!(
            merged.mutation_id, first.mutation_id,
            "each coalescing change renews the id"
        );

        store.update(book.id, &draft("Dune"))?;
        assert_eq!(
            only_entry(&store)?.patch.get("title"),
            Some(&json!("Dune")),
            "a later value of the same field replaces the earlier one"
        );
        Ok(())
    }

    #[test]
    fn delete_after_create_keeps_one_entry_with_the_tombstone() -> crate::Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&draft("Dune"))?;
        store.delete(book.id)?;
        let entry = only_entry(&store)?;
        assert_eq!(
            entry.patch.get("deleted"),
            Some(&json!(true)),
            "the delete is queued"
        );
        assert_eq!(
            entry.patch.get("title"),
            Some(&json!("Dune")),
            "the create's fields stay, so an undo needs no second create"
        );
        store.restore(book.id)?;
        assert_eq!(
            only_entry(&store)?.patch.get("deleted"),
            Some(&json!(false)),
            "restore queues deleted=false over the delete"
        );
        Ok(())
    }

    #[test]
    fn delete_and_restore_of_a_synced_book_queue_only_the_flag() -> crate::Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = store.add(&draft("Dune"))?;
        acknowledge_all(&store, 3)?;
        store.delete(book.id)?;
        let deleted = only_entry(&store)?;
        assert_eq!(
            Value::Object(deleted.patch),
            json!({"deleted": true}),
            "a delete queues {{\"deleted\":true}}"
        );
        assert_eq!(
            deleted.base_version,
            Some(3),
            "a delete is based on the synced version"
        );
        acknowledge_all(&store, 4)?;
        store.restore(book.id)?;
        assert_eq!(
            Value::Object(only_entry(&store)?.patch),
            json!({"deleted": false}),
            "a restore queues {{\"deleted\":false}}"
        );
        Ok(())
    }

    #[test]
    fn each_book_has_its_own_entry_oldest_first() -> crate::Result<()> {
        let mut store = Store::open_in_memory()?;
        let first = store.add(&draft("Dune"))?;
        let second = store.add(&draft("Emma"))?;
        store.update(first.id, &draft("Dune!"))?;
        let ids: Vec<BookId> = store.outbox()?.iter().map(|e| e.book_id).collect();
        assert_eq!(
            ids,
            [first.id, second.id],
            "one entry per book, in first-edit order"
        );
        Ok(())
    }

    #[test]
    fn diff_lists_only_changed_fields_with_null_for_cleared_ones() -> crate::Result<()> {
        let old = crate::validate::draft(&BookDraft {
            rating: Some(2),
            notes: "n".to_owned(),
            ..draft("Dune")
        })?;
        let new = crate::validate::draft(&BookDraft {
            notes: "n".to_owned(),
            ..draft("Dune")
        })?;
        assert_eq!(
            Value::Object(diff_patch(&old, &new)),
            json!({"rating": null}),
            "a cleared field is sent as null; unchanged fields are left out"
        );
        assert!(
            diff_patch(&old, &old).is_empty(),
            "equal fields give an empty patch"
        );
        Ok(())
    }
}
