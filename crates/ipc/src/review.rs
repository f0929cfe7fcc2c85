//! What sync needs the user to look at, and the first sign-in's question about local books.
//!
//! - A **conflict**: this device and another changed the same field before either synced; the
//!   later clock won and the other value is kept here. The user keeps the current value or uses
//!   the other one instead.
//! - A **rejection**: the server refused a change (a rule it enforces, a permission, an id
//!   already taken). The change left the queue so later edits keep syncing; the user fixes it in
//!   the edit form (which applies it again) or discards it.
//! - **Local books** on first sign-in: books made before signing in live in the local-only list;
//!   the user moves them into the account (they then sync) or keeps them on this computer.

use serde::{Deserialize, Serialize};

use crate::{BookDraft, BookId};

/// One field conflict, ready to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictView {
    /// Its id, for [`commands::RESOLVE_CONFLICT`](crate::commands::RESOLVE_CONFLICT).
    pub id: i64,
    /// The book.
    pub book_id: BookId,
    /// The book's title now (or its last known title if it was deleted).
    pub book_title: String,
    /// The field, as the edit form labels it (`Title`, `Status`, …; `Deleted` for a delete that
    /// beat an edit).
    pub field: String,
    /// The value the book has now, as text.
    pub current: String,
    /// The value that lost, as text.
    pub other: String,
    /// Whether this device's edit won (the other value came from another device), or the other
    /// way round.
    pub this_device_won: bool,
    /// When it was detected (ms since the Unix epoch).
    pub detected_at: i64,
}

/// One refused change, ready to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionView {
    /// Its id, for the fix and discard commands.
    pub id: i64,
    /// The book.
    pub book_id: BookId,
    /// The book's title now.
    pub book_title: String,
    /// The refused fields, as the edit form labels them.
    pub fields: Vec<String>,
    /// The server's stable code (`check_violation`, `forbidden`, `id_taken`, …).
    pub code: String,
    /// The server's reason, as a sentence.
    pub message: String,
    /// The book with the refused values applied, to open in the edit form; `None` when the
    /// book no longer exists here.
    pub proposed: Option<BookDraft>,
    /// When it was refused (ms since the Unix epoch).
    pub rejected_at: i64,
}

/// A book from the account that this version of Bookwish cannot show: the server holds a value
/// the app's rules refuse (written by another client or an older server). Sync went on past it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableView {
    /// Row id (to dismiss it).
    pub id: i64,
    /// The book, when its id could be read.
    pub book_id: Option<BookId>,
    /// The title this device shows for it, if it has the book at all.
    pub book_title: Option<String>,
    /// What is wrong, in words.
    pub reason: String,
    /// The row as the server sent it (cut to a few kilobytes), for a bug report.
    pub raw: String,
    /// When it arrived (ms since the Unix epoch).
    pub seen_at: i64,
}

/// Everything waiting for the user, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncIssues {
    /// Field conflicts.
    pub conflicts: Vec<ConflictView>,
    /// Refused changes.
    pub rejections: Vec<RejectionView>,
    /// Books from the account this version cannot show.
    #[serde(default)]
    pub unreadable: Vec<UnreadableView>,
}

impl SyncIssues {
    /// How many things need a look.
    pub fn len(&self) -> usize {
        self.conflicts.len() + self.rejections.len() + self.unreadable.len()
    }

    /// Nothing needs a look.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How the user settles a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictChoice {
    /// Keep the current value; forget the other.
    KeepCurrent,
    /// Use the other value instead (a new edit, which syncs like any other).
    UseOther,
}

/// The question asked after signing in while the local-only list has books.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalBooksOffer {
    /// Live books in the local-only list.
    pub count: u32,
    /// Up to three of their titles, to jog the user's memory.
    pub sample_titles: Vec<String>,
}

/// What moving the local books did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedBooks {
    /// Books now in the account (they sync from here on).
    pub moved: u32,
    /// Books the account already had (moved before an interruption); left as they are.
    pub already_there: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_choice_crosses_ipc_in_snake_case() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_string(&ConflictChoice::UseOther)?,
            "\"use_other\"",
            "choices serialise in snake_case like every other IPC enum"
        );
        Ok(())
    }

    #[test]
    fn issues_count_conflicts_and_rejections() {
        let mut issues = SyncIssues::default();
        assert!(issues.is_empty(), "no issues by default");
        issues.rejections.push(RejectionView {
            id: 1,
            book_id: BookId::nil(),
            book_title: "Dune".into(),
            fields: vec!["Title".into()],
            code: "check_violation".into(),
            message: "Too long".into(),
            proposed: None,
            rejected_at: 0,
        });
        assert_eq!(issues.len(), 1, "a rejection counts as one issue");
    }
}
