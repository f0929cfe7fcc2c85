//! What sync left for the user — field conflicts, refused changes and pulled rows this version
//! cannot read (written by the [`crate::Replica`]) — shown and settled here.
//!
//! Settling one is an ordinary edit: "use the other value" and "fix" go through the same
//! validation, outbox and clock as a typed edit, so they sync like any other change.

use bookwish_ipc::{
    Book, BookDraft, BookId, ConflictChoice, ConflictView, RejectionView, SyncIssues,
    UnreadableView,
};
use serde_json::{Map, Value};

use super::Store;
use crate::error::{Error, Result};
use crate::fields::{self, Field};
use crate::table::{books, issues, outbox};

impl Store {
    /// Conflicts, refused changes and unreadable rows waiting for the user, newest first.
    pub fn sync_issues(&self) -> Result<SyncIssues> {
        let tx = self.db.read()?;
        let mut conflicts = Vec::new();
        for row in issues::conflicts(&tx, None)? {
            conflicts.push(ConflictView {
                id: row.id,
                book_id: row.book_id,
                book_title: self.title_of(row.book_id)?,
                field: label(&row.field),
                current: shown(&row.field, &row.kept),
                other: shown(&row.field, &row.lost),
                this_device_won: row.client_won,
                detected_at: row.detected_at,
            });
        }
        let mut rejections = Vec::new();
        for row in issues::rejections(&tx)? {
            let proposed = match books::load(&tx, row.book_id)? {
                Some(stored) if !stored.deleted => Some(proposed(&stored.book, &row.patch)),
                _ => None,
            };
            rejections.push(RejectionView {
                id: row.id,
                book_id: row.book_id,
                book_title: self.title_of(row.book_id)?,
                fields: row.patch.keys().map(|name| label(name)).collect(),
                code: row.code,
                message: row.message,
                proposed,
                rejected_at: row.rejected_at,
            });
        }
        let mut unreadable = Vec::new();
        for row in issues::unreadable(&tx)? {
            let book_title = match row.book_id {
                Some(id) => books::load(&tx, id)?.map(|stored| stored.book.title),
                None => None,
            };
            unreadable.push(UnreadableView {
                id: row.id,
                book_id: row.book_id,
                book_title,
                reason: row.reason,
                raw: row.raw,
                seen_at: row.seen_at,
            });
        }
        tx.commit()?;
        Ok(SyncIssues {
            conflicts,
            rejections,
            unreadable,
        })
    }

    /// How many conflicts, refused changes and unreadable rows wait for the user.
    pub fn sync_issue_count(&self) -> Result<u32> {
        issues::attention(&self.db.conn)
    }

    /// Settles conflict `id`: keeps the current value, or applies the other one as a new edit
    /// (restoring the book for a delete that beat an edit). The conflict is forgotten only once
    /// the choice took effect: a refused value (say, a finish date now before the start) leaves
    /// it listed and says why.
    pub fn resolve_conflict(&mut self, id: i64, choice: ConflictChoice) -> Result<()> {
        let row = issues::conflicts(&self.db.conn, Some(id))?
            .pop()
            .ok_or(Error::IssueNotFound { id })?;
        if choice == ConflictChoice::UseOther {
            match Field::named(&row.field) {
                Some(Field::Deleted) => match row.lost.as_bool() {
                    Some(false) => {
                        self.restore(row.book_id)?;
                    }
                    Some(true) => {
                        self.delete(row.book_id)?;
                    }
                    None => return Err(Error::validation("deleted", "This value can't be used.")),
                },
                Some(_) => {
                    let book = self.get(row.book_id)?;
                    let mut patch = Map::new();
                    patch.insert(row.field.clone(), row.lost.clone());
                    self.update(row.book_id, &proposed(&book, &patch))?;
                }
                None => {
                    return Err(Error::validation(
                        "field",
                        "This value belongs to a field this version of Bookwish does not know.",
                    ))
                }
            }
        }
        issues::remove_conflict(&self.db.conn, id)?;
        Ok(())
    }

    /// Saves `draft` over the book of rejection `id` (validated and queued like any edit, so
    /// the server sees it again) and forgets the rejection, in that order.
    pub fn fix_rejection(&mut self, id: i64, draft: &BookDraft) -> Result<Book> {
        let book_id =
            issues::rejected_book(&self.db.conn, id)?.ok_or(Error::IssueNotFound { id })?;
        let book = self.update(book_id, draft)?;
        self.force_requeue(book_id)?;
        issues::remove_rejection(&self.db.conn, id)?;
        Ok(book)
    }

    /// Forgets rejection `id`: the book keeps the values the server has.
    pub fn discard_rejection(&mut self, id: i64) -> Result<()> {
        if !issues::remove_rejection(&self.db.conn, id)? {
            return Err(Error::IssueNotFound { id });
        }
        Ok(())
    }

    /// Forgets unreadable row `id` (the user has seen it; a later readable version of the book
    /// still arrives as usual).
    pub fn dismiss_unreadable(&mut self, id: i64) -> Result<()> {
        if !issues::remove_unreadable(&self.db.conn, id)? {
            return Err(Error::IssueNotFound { id });
        }
        Ok(())
    }

    fn title_of(&self, id: BookId) -> Result<String> {
        Ok(books::load(&self.db.conn, id)?
            .map(|stored| stored.book.title)
            .unwrap_or_else(|| "(a book no longer on this device)".to_owned()))
    }

    /// A fix may restate values the book already has locally (the refused edit was applied
    /// here before the server refused it), so `update` would queue nothing: queue every field
    /// then, so the server is asked again.
    fn force_requeue(&mut self, book_id: BookId) -> Result<()> {
        if outbox::has(&self.db.conn, book_id)? {
            return Ok(());
        }
        self.requeue_all_fields(book_id)
    }
}

/// `book` with the refused `patch` values on top, as a draft for the edit form. Values of the
/// wrong type are ignored (the form then shows the book's own value).
fn proposed(book: &Book, patch: &Map<String, Value>) -> BookDraft {
    let mut draft = BookDraft::from(book);
    for (name, value) in patch {
        if let Some(field) = Field::named(name) {
            let mut candidate = draft.clone();
            if fields::set(&mut candidate, field, value).is_some() {
                draft = candidate;
            }
        }
    }
    draft
}

/// A field's name as the edit form labels it (a field this version does not know, as stored).
fn label(name: &str) -> String {
    Field::named(name).map_or_else(|| name.to_owned(), |field| field.label().to_owned())
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
    use bookwish_ipc::Status;
    use uuid::Uuid;

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
            isbn: None,
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
            Field::FinishedOn.label(),
            "Finished",
            "fields use the form's labels"
        );
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;
    use rusqlite::params;
    use uuid::Uuid;

    fn dune(store: &mut Store) -> Result<Book> {
        store.add(&BookDraft {
            title: "Dune".into(),
            author: "Frank Herbert".into(),
            ..BookDraft::default()
        })
    }

    /// What `bookwish-sync` writes when the server reports a conflict.
    fn conflict(store: &Store, book: BookId, field: &str, kept: Value, lost: Value) -> Result<i64> {
        store.db.conn.execute(
            "INSERT INTO conflicts (book_id, field, kept_value, lost_value, winner, detected_at)
             VALUES (?1, ?2, ?3, ?4, 'server', 1)",
            params![book.to_string(), field, kept.to_string(), lost.to_string()],
        )?;
        Ok(store.db.conn.last_insert_rowid())
    }

    fn rejection(store: &Store, book: BookId, patch: Value) -> Result<i64> {
        store.db.conn.execute(
            "INSERT INTO rejections (book_id, mutation_id, patch, code, message, rejected_at)
             VALUES (?1, ?2, ?3, 'check_violation', 'Rating must be 1 to 5.', 2)",
            params![
                book.to_string(),
                Uuid::now_v7().to_string(),
                patch.to_string()
            ],
        )?;
        Ok(store.db.conn.last_insert_rowid())
    }

    fn clear_outbox(store: &Store) -> Result<()> {
        store.db.conn.execute("DELETE FROM outbox", [])?;
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
