//! Bringing a reading list in from a file and writing it out again.
//!
//! - **Import**: the shell opens the file the user picked (the OS file dialog, or a file dropped
//!   on the window: the window never names a path) and offers it as an [`ImportOffer`]: what the
//!   file holds measured against the list ([`ImportSummary`]). The user chooses what a book
//!   already in the list gets ([`OnMatch`]) and confirms; the import runs as one transaction,
//!   reporting [`ImportProgress`], and answers [`ImportDone`]. One undo ([`ImportUndone`])
//!   reverts all of it.
//! - **Match**: a record of the file that is a book already in the list: the same id (Bookwish's
//!   own files), else the same ISBN, else the same title and author ignoring case and accents.
//! - **Export**: the shell asks where to save (the OS save dialog) and writes the list as a
//!   Goodreads-layout CSV or a Bookwish backup ([`Exported`]).

use serde::{Deserialize, Serialize};

/// What an import does with a record that matches a book already in the list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMatch {
    /// Leave the book as it is.
    #[default]
    Skip,
    /// Take the file's values: every field from a Bookwish file, the fields the record has a
    /// value for from a Goodreads or StoryGraph export.
    Update,
}

/// A record of the file that cannot be imported, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    /// The line of the file where the record starts.
    pub line: u64,
    /// What is wrong, as a sentence.
    pub reason: String,
}

/// What a file holds, measured against the list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Which program wrote it, for the user: "a Goodreads export".
    pub format: String,
    /// Records read as books.
    pub rows: u32,
    /// Books the import adds.
    pub new: u32,
    /// Records that are books already in the list.
    pub matching: u32,
    /// Of those, how many the file would change (the others already hold the file's values).
    pub matching_changed: u32,
    /// Records that repeat an earlier record of the same file (never imported twice).
    pub duplicates: u32,
    /// The titles of the first few books to add.
    pub new_titles: Vec<String>,
    /// Records that cannot be read, in file order.
    pub problems: Vec<ImportProblem>,
    /// Matching books the file's values cannot update (say, a finish date before the book's
    /// start date): left as they are when the user picks [`OnMatch::Update`].
    pub update_problems: Vec<ImportProblem>,
}

/// A file the shell has read and holds, waiting for the user's go-ahead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOffer {
    /// Names this file in `confirm_import` / `cancel_import`.
    pub token: u64,
    /// The file's name (without its folder).
    pub file_name: String,
    /// What it holds.
    pub summary: ImportSummary,
}

/// How far an import is, sent as [`crate::events::IMPORT_PROGRESS`] while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProgress {
    /// The import's token.
    pub token: u64,
    /// Records done.
    pub done: u32,
    /// Records in all.
    pub total: u32,
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDone {
    /// Names the import for `undo_import`; `None` when it changed nothing.
    pub import_id: Option<i64>,
    /// Books added (a backup's book deleted here since is added back, with its id).
    pub added: u32,
    /// Books in the list updated with the file's values.
    pub updated: u32,
    /// Matching books left as they were (skipped, or already holding the file's values).
    pub unchanged: u32,
    /// Matching books the file's values could not update.
    pub not_updated: u32,
    /// Records repeating an earlier one of the same file.
    pub duplicates: u32,
}

/// What undoing an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportUndone {
    /// Books the import had added, deleted again (the deletes sync).
    pub removed: u32,
    /// Books the import had updated, given back the values they had before.
    pub restored: u32,
    /// Books left as they are because they changed again since (edited here, or synced from
    /// another device) in every field the import had set.
    pub kept: u32,
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exported {
    /// Books written.
    pub books: u32,
    /// The file's name (without its folder).
    pub file_name: String,
}
