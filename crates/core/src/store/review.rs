//! What sync left for the user: field conflicts and refused changes (tables from migration
//! `0002_conflicts_rejections.sql`, written by `bookwish-sync`), shown and settled here.
//!
//! Settling one is an ordinary edit: "use the other value" and "fix" go through the same
//! validation, outbox and clock as a typed edit, so they sync like any other change.

use bookwish_ipc::{
    Book, BookDraft, BookId, ConflictChoice, ConflictView, RejectionView, Status, SyncIssues,
};
use rusqlite::{params, OptionalExtension};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{load, Store};
use crate::error::{Error, Result};
use crate::outbox::parse_column;

/// A conflict row as stored.
struct ConflictRow {
    id: i64,
    book_id: BookId,
    field: String,
    kept: Value,
    lost: Value,
    winner: String,
    detected_at: i64,
}

impl Store {
    /// Conflicts and refused changes waiting for the user, newest first.
    pub fn sync_issues(&self) -> Result<SyncIssues> {
        let mut conflicts = Vec::new();
        for row in self.conflict_rows(None)? {
            let book_title = self.title_of(row.book_id)?;
            conflicts.push(ConflictView {
                id: row.id,
                book_id: row.book_id,
                book_title,
                field: label(&row.field).to_owned(),
                current: shown(&row.field, &row.kept),
                other: shown(&row.field, &row.lost),
                this_device_won: row.winner == "client",
                detected_at: row.detected_at,
            });
        }
        let mut rejections = Vec::new();
        let mut statement = self.conn.prepare_cached(
            "SELECT id, book_id, patch, code, message, rejected_at FROM rejections
             ORDER BY id DESC",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                parse_column(row, 1, Uuid::try_parse)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })?;
        for row in rows {
            let (id, book_id, patch, code, message, rejected_at) = row?;
            let patch: Map<String, Value> = serde_json::from_str(&patch)?;
            let proposed = match load(&self.conn, book_id)? {
                Some(stored) if !stored.deleted => Some(proposed(&stored.book, &patch)),
                _ => None,
            };
            rejections.push(RejectionView {
                id,
                book_id,
                book_title: self.title_of(book_id)?,
                fields: patch.keys().map(|field| label(field).to_owned()).collect(),
                code,
                message,
                proposed,
                rejected_at,
            });
        }
        Ok(SyncIssues {
            conflicts,
            rejections,
        })
    }

    /// How many conflicts and refused changes wait for the user.
    pub fn sync_issue_count(&self) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM conflicts) + (SELECT count(*) FROM rejections)",
            [],
            |row| row.get(0),
        )?)
    }

    /// Settles conflict `id`: keeps the current value, or applies the other one as a new edit
    /// (restoring the book for a delete that beat an edit). The conflict is forgotten only once
    /// the choice took effect: a refused value (say, a finish date now before the start) leaves
    /// it listed and says why.
    pub fn resolve_conflict(&mut self, id: i64, choice: ConflictChoice) -> Result<()> {
        let row = self
            .conflict_rows(Some(id))?
            .pop()
            .ok_or(Error::IssueNotFound { id })?;
        if choice == ConflictChoice::UseOther {
            if row.field == "deleted" {
                match row.lost.as_bool() {
                    Some(false) => {
                        self.restore(row.book_id)?;
                    }
                    Some(true) => {
                        self.delete(row.book_id)?;
                    }
                    None => return Err(Error::validation("deleted", "This value can't be used.")),
                }
            } else {
                let book = self.get(row.book_id)?;
                let mut patch = Map::new();
                patch.insert(row.field.clone(), row.lost.clone());
                self.update(row.book_id, &proposed(&book, &patch))?;
            }
        }
        self.conn
            .execute("DELETE FROM conflicts WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Saves `draft` over the book of rejection `id` (validated and queued like any edit, so
    /// the server sees it again) and forgets the rejection, in that order.
    pub fn fix_rejection(&mut self, id: i64, draft: &BookDraft) -> Result<Book> {
        let book_id: BookId = self
            .conn
            .query_row(
                "SELECT book_id FROM rejections WHERE id = ?1",
                [id],
                |row| parse_column(row, 0, Uuid::try_parse),
            )
            .optional()?
            .ok_or(Error::IssueNotFound { id })?;
        let book = self.update(book_id, draft)?;
        self.force_requeue(book_id)?;
        self.conn
            .execute("DELETE FROM rejections WHERE id = ?1", [id])?;
        Ok(book)
    }

    /// Forgets rejection `id`: the book keeps the values the server has.
    pub fn discard_rejection(&mut self, id: i64) -> Result<()> {
        let removed = self
            .conn
            .execute("DELETE FROM rejections WHERE id = ?1", [id])?;
        if removed == 0 {
            return Err(Error::IssueNotFound { id });
        }
        Ok(())
    }

    fn conflict_rows(&self, only: Option<i64>) -> Result<Vec<ConflictRow>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, book_id, field, kept_value, lost_value, winner, detected_at
             FROM conflicts WHERE ?1 IS NULL OR id = ?1 ORDER BY id DESC",
        )?;
        let rows = statement.query_map(params![only], |row| {
            Ok(ConflictRow {
                id: row.get(0)?,
                book_id: parse_column(row, 1, Uuid::try_parse)?,
                field: row.get(2)?,
                kept: parse_column(row, 3, |text| serde_json::from_str::<Value>(text))?,
                lost: parse_column(row, 4, |text| serde_json::from_str::<Value>(text))?,
                winner: row.get(5)?,
                detected_at: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn title_of(&self, id: BookId) -> Result<String> {
        Ok(load(&self.conn, id)?
            .map(|stored| stored.book.title)
            .unwrap_or_else(|| "(a book no longer on this device)".to_owned()))
    }

    /// A fix may restate values the book already has locally (the refused edit was applied
    /// here before the server refused it), so `update` would queue nothing: queue every field
    /// then, so the server is asked again.
    fn force_requeue(&mut self, book_id: BookId) -> Result<()> {
        let pending: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE book_id = ?1)",
            [book_id.to_string()],
            |row| row.get(0),
        )?;
        if pending {
            return Ok(());
        }
        self.requeue_all_fields(book_id)
    }
}

/// `book` with the refused `patch` values on top, as a draft for the edit form. Values of the
/// wrong type are ignored (the form then shows the book's own value).
fn proposed(book: &Book, patch: &Map<String, Value>) -> BookDraft {
    let mut draft = BookDraft::from(book);
    for (field, value) in patch {
        let text = value.as_str().map(str::to_owned);
        match field.as_str() {
            "title" => draft.title = text.unwrap_or(draft.title),
            "author" => draft.author = text.unwrap_or(draft.author),
            "notes" => draft.notes = text.unwrap_or(draft.notes),
            "status" => {
                if let Some(status) = text.and_then(|s| s.parse::<Status>().ok()) {
                    draft.status = status;
                }
            }
            "rating" => {
                draft.rating = match value {
                    Value::Null => None,
                    other => other
                        .as_u64()
                        .and_then(|n| u8::try_from(n).ok())
                        .or(draft.rating),
                }
            }
            "started_on" if value.is_null() || text.is_some() => draft.started_on = text,
            "finished_on" if value.is_null() || text.is_some() => draft.finished_on = text,
            _ => {}
        }
    }
    draft
}

/// A field's name as the edit form labels it.
fn label(field: &str) -> &str {
    match field {
        "title" => "Title",
        "author" => "Author",
        "status" => "Status",
        "notes" => "Notes",
        "rating" => "Rating",
        "started_on" => "Started",
        "finished_on" => "Finished",
        "deleted" => "Deleted",
        other => other,
    }
}

/// A stored JSON value as the user reads it.
fn shown(field: &str, value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_owned(),
        Value::Bool(deleted) if field == "deleted" => if *deleted {
            "Deleted"
        } else {
            "Kept, with the edit"
        }
        .to_owned(),
        Value::String(text) if text.is_empty() => "(empty)".to_owned(),
        Value::String(text) => text.clone(),
        Value::Number(n) if field == "rating" => format!("{n} of 5"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> Book {
        Book {
            id: Uuid::nil(),
            title: "Dune".into(),
            author: "Frank Herbert".into(),
            status: Status::Reading,
            notes: String::new(),
            rating: Some(3),
            started_on: Some("2026-01-02".into()),
            finished_on: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn proposed_puts_the_refused_values_over_the_book() {
        let patch: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"title": "Dune Messiah", "rating": null,
                                                      "status": "Finished"}))
            .expect("a JSON object");
        let draft = proposed(&book(), &patch);
        assert_eq!(draft.title, "Dune Messiah", "the refused title is proposed");
        assert_eq!(draft.rating, None, "a refused null clears the rating");
        assert_eq!(
            draft.status,
            Status::Finished,
            "the refused status is proposed"
        );
        assert_eq!(
            draft.author, "Frank Herbert",
            "fields not refused keep the book's value"
        );
    }

    #[test]
    fn values_of_the_wrong_type_keep_the_books_own() {
        let patch: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"title": 7, "status": "Abandoned",
                                                      "rating": "five", "started_on": 3}))
            .expect("a JSON object");
        assert_eq!(
            proposed(&book(), &patch),
            BookDraft::from(&book()),
            "malformed refused values never reach the form"
        );
    }

    #[test]
    fn values_read_as_the_user_would_write_them() {
        assert_eq!(shown("rating", &serde_json::json!(4)), "4 of 5");
        assert_eq!(shown("notes", &serde_json::json!("")), "(empty)");
        assert_eq!(shown("started_on", &Value::Null), "(none)");
        assert_eq!(shown("deleted", &Value::Bool(true)), "Deleted");
        assert_eq!(
            label("finished_on"),
            "Finished",
            "fields use the form's labels"
        );
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;

    fn dune(store: &mut Store) -> Result<Book> {
        store.add(&BookDraft {
            title: "Dune".into(),
            author: "Frank Herbert".into(),
            ..BookDraft::default()
        })
    }

    /// What `bookwish-sync` writes when the server reports a conflict.
    fn conflict(store: &Store, book: BookId, field: &str, kept: Value, lost: Value) -> Result<i64> {
        store.conn.execute(
            "INSERT INTO conflicts (book_id, field, kept_value, lost_value, winner, detected_at)
             VALUES (?1, ?2, ?3, ?4, 'server', 1)",
            params![book.to_string(), field, kept.to_string(), lost.to_string()],
        )?;
        Ok(store.conn.last_insert_rowid())
    }

    fn rejection(store: &Store, book: BookId, patch: Value) -> Result<i64> {
        store.conn.execute(
            "INSERT INTO rejections (book_id, mutation_id, patch, code, message, rejected_at)
             VALUES (?1, ?2, ?3, 'check_violation', 'Rating must be 1 to 5.', 2)",
            params![
                book.to_string(),
                Uuid::now_v7().to_string(),
                patch.to_string()
            ],
        )?;
        Ok(store.conn.last_insert_rowid())
    }

    fn clear_outbox(store: &Store) -> Result<()> {
        store.conn.execute("DELETE FROM outbox", [])?;
        Ok(())
    }

    #[test]
    fn using_the_other_value_is_a_synced_edit_and_settles_the_conflict() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = dune(&mut store)?;
        clear_outbox(&store)?;
        let id = conflict(
            &store,
            book.id,
            "title",
            "Dune".into(),
            "Dune Messiah".into(),
        )?;

        let issues = store.sync_issues()?;
        assert_eq!(issues.conflicts.len(), 1, "the conflict is listed");
        let shown = &issues.conflicts[0];
        assert_eq!(
            (
                shown.field.as_str(),
                shown.current.as_str(),
                shown.other.as_str()
            ),
            ("Title", "Dune", "Dune Messiah"),
            "the conflict shows the field's label and both values"
        );
        assert!(!shown.this_device_won, "the server's value won here");
        assert_eq!(store.sync_issue_count()?, 1);

        store.resolve_conflict(id, ConflictChoice::UseOther)?;
        assert_eq!(
            store.get(book.id)?.title,
            "Dune Messiah",
            "the other value is applied"
        );
        assert!(
            store.outbox()?.iter().any(|e| e.book_id == book.id
                && e.patch.get("title") == Some(&Value::from("Dune Messiah"))),
            "the applied value is queued for sync like any edit"
        );
        assert_eq!(store.sync_issue_count()?, 0, "the conflict is settled");
        assert!(
            matches!(
                store.resolve_conflict(id, ConflictChoice::KeepCurrent),
                Err(Error::IssueNotFound { .. })
            ),
            "settling twice says it was already settled"
        );
        Ok(())
    }

    #[test]
    fn keeping_the_current_value_changes_nothing_but_the_list() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = dune(&mut store)?;
        clear_outbox(&store)?;
        let id = conflict(&store, book.id, "rating", Value::from(5), Value::from(2))?;
        store.resolve_conflict(id, ConflictChoice::KeepCurrent)?;
        assert_eq!(store.get(book.id)?, book, "the book is unchanged");
        assert!(store.outbox()?.is_empty(), "nothing is queued");
        assert_eq!(store.sync_issue_count()?, 0, "the conflict is gone");
        Ok(())
    }

    #[test]
    fn a_delete_that_beat_an_edit_can_be_undone() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = dune(&mut store)?;
        store.delete(book.id)?;
        let id = conflict(
            &store,
            book.id,
            "deleted",
            Value::Bool(true),
            Value::Bool(false),
        )?;
        assert_eq!(
            store.sync_issues()?.conflicts[0].book_title,
            "Dune",
            "a deleted book is still named"
        );
        store.resolve_conflict(id, ConflictChoice::UseOther)?;
        assert!(
            store.get(book.id).is_ok(),
            "using the edit restores the book"
        );
        Ok(())
    }

    #[test]
    fn a_refused_other_value_keeps_the_conflict() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = dune(&mut store)?;
        let id = conflict(&store, book.id, "title", "Dune".into(), Value::from("   "))?;
        assert!(
            matches!(
                store.resolve_conflict(id, ConflictChoice::UseOther),
                Err(Error::Validation { field: "title", .. })
            ),
            "a value breaking the rules is refused with the field named"
        );
        assert_eq!(
            store.sync_issue_count()?,
            1,
            "the conflict stays to be settled"
        );
        Ok(())
    }

    #[test]
    fn fixing_a_rejection_queues_the_corrected_book_again() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = dune(&mut store)?;
        clear_outbox(&store)?;
        let id = rejection(&store, book.id, serde_json::json!({"rating": 9}))?;

        let issues = store.sync_issues()?;
        let shown = &issues.rejections[0];
        assert_eq!(shown.fields, vec!["Rating"], "the refused field is named");
        let mut proposed = shown.proposed.clone().expect("the book exists");
        assert_eq!(
            proposed.rating,
            Some(9),
            "the form opens with the refused value, for the user to correct"
        );
        assert!(
            matches!(
                store.fix_rejection(id, &proposed),
                Err(Error::Validation {
                    field: "rating",
                    ..
                })
            ),
            "saving it uncorrected is refused on the field, as in any edit"
        );

        // Unchanged values still go back to the server: the refused edit was already local.
        proposed.rating = book.rating;
        let fixed = store.fix_rejection(id, &proposed)?;
        assert_eq!(fixed, book, "saving the proposal changes nothing locally");
        assert!(
            store.outbox()?.iter().any(|e| e.book_id == book.id),
            "a fix is queued even when the local values did not change"
        );
        assert_eq!(store.sync_issue_count()?, 0, "the rejection is settled");
        Ok(())
    }

    #[test]
    fn an_invalid_fix_keeps_the_rejection_and_a_discard_forgets_it() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let book = dune(&mut store)?;
        let id = rejection(&store, book.id, serde_json::json!({"title": "x"}))?;
        let bad = BookDraft {
            title: String::new(),
            ..BookDraft::from(&book)
        };
        assert!(
            store.fix_rejection(id, &bad).is_err(),
            "an empty title is refused"
        );
        assert_eq!(
            store.sync_issue_count()?,
            1,
            "a failed fix keeps the rejection"
        );
        store.discard_rejection(id)?;
        assert_eq!(store.sync_issue_count()?, 0, "discarding forgets it");
        assert!(
            matches!(
                store.discard_rejection(id),
                Err(Error::IssueNotFound { .. })
            ),
            "discarding twice says it was already settled"
        );
        Ok(())
    }
}
