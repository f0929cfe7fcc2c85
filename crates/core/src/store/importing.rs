//! Importing a file's books into the list, and undoing a whole import at once.
//!
//! A file is read into an [`ImportPreview`] by [`crate::import`] (nothing touches the
//! database); here each of its rows is **matched** against the live books — the same id
//! (Bookwish's own files), else the same ISBN, else the same title and author folded
//! ([`crate::fold()`]), unless both carry different ISBNs (two editions) — and then:
//!
//! - a row that matches nothing is **added**: a new book (with the file's id and times when it
//!   has them), or a deleted book of that id brought back, so restoring a backup keeps ids;
//! - a row that matches a book is skipped or **updated** ([`OnMatch`]): from a Bookwish file
//!   every field takes the file's value; from a Goodreads or StoryGraph export only the fields
//!   the record has a value for (Goodreads has no start date, so an update never clears one);
//! - a row repeating an earlier row of the same file is a **duplicate**, never imported twice.
//!
//! [`Store::preview_import`] counts all that for the window; [`Store::apply_import`] writes it in
//! one transaction (matching again inside it, so it sees the list as it is then), every book as
//! an ordinary edit — validated, queued in the outbox, stamped by the clock — and remembers what
//! it did so [`Store::undo_import`] can revert it: the added books are deleted (deletes that
//! sync, even for books already pushed), the updated ones get back, field by field, the values
//! the import replaced, unless that field changed again since.

use std::collections::{HashMap, HashSet};

use bookwish_ipc::{
    Book, BookDraft, BookId, ImportDone, ImportProblem, ImportSummary, ImportUndone, OnMatch,
};
use uuid::Uuid;

use super::Store;
use crate::error::Result;
use crate::fields::{self, Field, Fields};
use crate::fold::fold;
use crate::hlc::{self, Clock};
use crate::import::{Format, ImportPreview, ImportRow};
use crate::table::books::{self, MatchKeys};
use crate::table::imports::{self, Change};
use crate::table::meta;
use crate::table::outbox::{self, Patch};
use crate::validate;

/// Progress is reported after every this many records (and at the end).
pub const PROGRESS_EVERY: usize = 500;

/// How many titles of books to add the summary names.
const SAMPLE: usize = 5;

/// What the import does with one row of the file.
enum Step<'a> {
    /// A book to add with `id`; `revive` when a deleted book of that id exists (its server
    /// version, for the outbox).
    Add {
        row: &'a ImportRow,
        id: BookId,
        fields: Fields,
        revive: Option<Option<i64>>,
    },
    /// A book of the list the row matches, and what updating it would make of it.
    Match {
        row: &'a ImportRow,
        book: &'a MatchKeys,
        merged: Result<Fields, String>,
        changes: bool,
    },
    /// A repeat of an earlier row of the file.
    Duplicate,
    /// A row the rules refuse after all (the preview checked it: kept for safety).
    Refused { line: u64, reason: String },
}

/// Every row's step, in file order.
fn plan<'a>(
    preview: &'a ImportPreview,
    live: &'a [MatchKeys],
    tombstones: &HashMap<BookId, Option<i64>>,
) -> Vec<Step<'a>> {
    let mut by_id: HashMap<BookId, usize> = HashMap::with_capacity(live.len());
    let mut by_isbn: HashMap<&str, usize> = HashMap::with_capacity(live.len());
    let mut by_key: HashMap<(&str, &str), usize> = HashMap::with_capacity(live.len());
    // Oldest first: of two equal books in the list, the first added is the one matched.
    for (i, keys) in live.iter().enumerate() {
        by_id.insert(keys.book.id, i);
        if let Some(isbn) = keys.book.isbn.as_deref() {
            by_isbn.entry(isbn).or_insert(i);
        }
        by_key
            .entry((keys.title_fold.as_str(), keys.author_fold.as_str()))
            .or_insert(i);
    }
    let every_field = matches!(preview.format, Format::BookwishCsv | Format::BookwishJson);
    let mut matched: HashSet<BookId> = HashSet::new();
    let mut added_ids: HashSet<BookId> = HashSet::new();
    let mut added_isbns: HashSet<String> = HashSet::new();
    let mut added_keys: HashMap<(String, String), Option<String>> = HashMap::new();
    let mut steps = Vec::with_capacity(preview.rows.len());
    for row in &preview.rows {
        let isbn = row.isbn.map(|isbn| isbn.to_string());
        let key = (fold(&row.title), fold(&row.author));
        let other_edition = |theirs: Option<&str>| matches!((theirs, isbn.as_deref()), (Some(a), Some(b)) if a != b);
        let hit = row
            .id
            .and_then(|id| by_id.get(&id))
            .or_else(|| isbn.as_deref().and_then(|isbn| by_isbn.get(isbn)))
            .or_else(|| {
                by_key
                    .get(&(key.0.as_str(), key.1.as_str()))
                    .filter(|&&i| !other_edition(live[i].book.isbn.as_deref()))
            })
            .copied();
        if let Some(i) = hit {
            let book = &live[i];
            if !matched.insert(book.book.id) {
                steps.push(Step::Duplicate);
                continue;
            }
            let merged = merge(&book.book, row, every_field);
            let changes = merged
                .as_ref()
                .is_ok_and(|new| !outbox::diff_patch(&Fields::of(&book.book), new).is_empty());
            steps.push(Step::Match {
                row,
                book,
                merged,
                changes,
            });
            continue;
        }
        let repeated = row.id.is_some_and(|id| added_ids.contains(&id))
            || isbn.as_ref().is_some_and(|isbn| added_isbns.contains(isbn))
            || added_keys
                .get(&key)
                .is_some_and(|theirs| !other_edition(theirs.as_deref()));
        if repeated {
            steps.push(Step::Duplicate);
            continue;
        }
        let fields = match validate::draft(&row.draft()) {
            Ok(fields) => fields,
            Err(refusal) => {
                steps.push(Step::Refused {
                    line: row.line,
                    reason: refusal.to_string(),
                });
                continue;
            }
        };
        let id = row.id.unwrap_or_else(Uuid::now_v7);
        added_ids.insert(id);
        if let Some(isbn) = &isbn {
            added_isbns.insert(isbn.clone());
        }
        added_keys.entry(key).or_insert(isbn);
        steps.push(Step::Add {
            row,
            id,
            fields,
            revive: tombstones.get(&id).copied(),
        });
    }
    steps
}

/// `book` with `row`'s values: all of them from a file that carries `every_field`, else those
/// the record has; checked like a typed edit. The reason, when they cannot go together.
fn merge(book: &Book, row: &ImportRow, every_field: bool) -> Result<Fields, String> {
    let draft = if every_field {
        row.draft()
    } else {
        let mut draft = BookDraft::from(book);
        let file = row.draft();
        draft.title = file.title;
        draft.status = file.status;
        if !file.author.is_empty() {
            draft.author = file.author;
        }
        if !file.notes.is_empty() {
            draft.notes = file.notes;
        }
        draft.rating = file.rating.or(draft.rating);
        draft.started_on = file.started_on.or(draft.started_on);
        draft.finished_on = file.finished_on.or(draft.finished_on);
        draft.isbn = file.isbn.or(draft.isbn);
        draft
    };
    validate::draft(&draft).map_err(|refusal| {
        format!(
            "“{}” is already in your list and can't take this record's values: {refusal}",
            book.title
        )
    })
}

/// The problem of a row, as the window shows it.
fn problem(line: u64, reason: impl Into<String>) -> ImportProblem {
    ImportProblem {
        line,
        reason: reason.into(),
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The name an import's format is recorded under.
fn format_name(format: Format) -> &'static str {
    match format {
        Format::Goodreads => "Goodreads",
        Format::StoryGraph => "StoryGraph",
        Format::BookwishCsv => "BookwishCsv",
        Format::BookwishJson => "BookwishJson",
    }
}

impl Store {
    /// What importing `preview` would do to the list: how many books it adds, how many match
    /// books already there (and how many of those it would change), the repeats, and every
    /// record that cannot be imported. Writes nothing.
    pub fn preview_import(&self, preview: &ImportPreview) -> Result<ImportSummary> {
        let tx = self.db.read()?;
        let live = books::live_with_keys(&tx)?;
        let tombstones = books::tombstones(&tx)?;
        tx.commit()?;
        let steps = plan(preview, &live, &tombstones);
        let mut summary = ImportSummary {
            format: preview.format.label().to_owned(),
            rows: count(preview.rows.len()),
            problems: preview
                .problems
                .iter()
                .map(|p| problem(p.line, p.reason.as_str()))
                .collect(),
            ..ImportSummary::default()
        };
        for step in &steps {
            match step {
                Step::Add { row, .. } => {
                    summary.new += 1;
                    if summary.new_titles.len() < SAMPLE {
                        summary.new_titles.push(row.title.clone());
                    }
                }
                Step::Match {
                    row,
                    merged,
                    changes,
                    ..
                } => {
                    summary.matching += 1;
                    match merged {
                        Ok(_) if *changes => summary.matching_changed += 1,
                        Ok(_) => {}
                        Err(reason) => summary.update_problems.push(problem(row.line, reason)),
                    }
                }
                Step::Duplicate => summary.duplicates += 1,
                Step::Refused { line, reason } => {
                    summary.problems.push(problem(*line, reason.as_str()))
                }
            }
        }
        summary.problems.sort_by_key(|p| p.line);
        Ok(summary)
    }

    /// Imports `preview` in one transaction: adds the books that match nothing, and skips or
    /// updates (`on_match`) those that match a book of the list, each as an ordinary edit
    /// (validated, queued for sync). `progress(done, total)` hears how far it is every
    /// [`PROGRESS_EVERY`] records. What it did is remembered for [`Store::undo_import`].
    pub fn apply_import(
        &mut self,
        preview: &ImportPreview,
        on_match: OnMatch,
        progress: &mut dyn FnMut(u32, u32),
    ) -> Result<ImportDone> {
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let live = books::live_with_keys(&tx)?;
        let tombstones = books::tombstones(&tx)?;
        let steps = plan(preview, &live, &tombstones);
        let total = count(steps.len());
        let now_ms = i64::try_from(hlc::wall_ms()).unwrap_or(i64::MAX);
        let wall = hlc::wall_ms();
        let mut clock: Clock = meta::clock(&tx, device_id)?;
        let mut done = ImportDone::default();
        let mut changes: Vec<Change> = Vec::new();
        for (n, step) in steps.iter().enumerate() {
            match step {
                Step::Add {
                    row,
                    id,
                    fields,
                    revive,
                } => {
                    let patch = outbox::create_patch(fields);
                    let stamp = clock.now(wall);
                    match revive {
                        None => {
                            let book = fields.clone().into_book(
                                *id,
                                row.created_at.unwrap_or(now_ms),
                                row.updated_at.unwrap_or(now_ms),
                            );
                            books::insert(&tx, &book)?;
                            outbox::record(&tx, *id, patch, None, stamp, now_ms)?;
                        }
                        Some(server_version) => {
                            books::write_fields(&tx, *id, fields, Some(now_ms))?;
                            books::write_deleted(&tx, *id, false, Some(now_ms))?;
                            outbox::record(&tx, *id, patch, *server_version, stamp, now_ms)?;
                        }
                    }
                    changes.push(Change::Added(*id));
                    done.added += 1;
                }
                Step::Match {
                    book,
                    merged,
                    changes: differs,
                    ..
                } => match (on_match, merged) {
                    (OnMatch::Update, Err(_)) => done.not_updated += 1,
                    (OnMatch::Update, Ok(new)) if *differs => {
                        let old = Fields::of(&book.book);
                        let after = outbox::diff_patch(&old, new);
                        let before: Patch = after
                            .keys()
                            .filter_map(|name| Field::named(name))
                            .map(|field| (field.name().to_owned(), old.value(field)))
                            .collect();
                        let id = book.book.id;
                        books::write_fields(&tx, id, new, Some(now_ms))?;
                        let stamp = clock.now(wall);
                        outbox::record(&tx, id, after.clone(), book.server_version, stamp, now_ms)?;
                        changes.push(Change::Updated { id, before, after });
                        done.updated += 1;
                    }
                    _ => done.unchanged += 1,
                },
                Step::Duplicate => done.duplicates += 1,
                Step::Refused { .. } => {}
            }
            if (n + 1) % PROGRESS_EVERY == 0 {
                progress(count(n + 1), total);
            }
        }
        if !changes.is_empty() {
            meta::save_stamp(&tx, clock.last())?;
            let import_id = imports::begin(&tx, format_name(preview.format), now_ms)?;
            imports::record(&tx, import_id, &changes)?;
            done.import_id = Some(import_id);
        }
        tx.commit()?;
        progress(total, total);
        if !changes.is_empty() {
            self.edited_since_checkpoint = true;
        }
        tracing::info!(
            format = format_name(preview.format),
            added = done.added,
            updated = done.updated,
            unchanged = done.unchanged,
            duplicates = done.duplicates,
            "import written"
        );
        Ok(done)
    }

    /// Reverts import `import_id` in one transaction, as ordinary edits that sync: the books it
    /// added are deleted, the books it updated get back each value it replaced — unless that
    /// field changed again since, which then keeps its newer value.
    /// [`crate::Error::ImportNotFound`] when it was undone already.
    pub fn undo_import(&mut self, import_id: i64) -> Result<ImportUndone> {
        let device_id = self.device_id();
        let tx = self.db.write()?;
        let changes = imports::changes(&tx, import_id)?;
        let now_ms = i64::try_from(hlc::wall_ms()).unwrap_or(i64::MAX);
        let wall = hlc::wall_ms();
        let mut clock = meta::clock(&tx, device_id)?;
        let mut undone = ImportUndone::default();
        for change in &changes {
            match change {
                Change::Added(id) => {
                    let Some(stored) = books::load(&tx, *id)?.filter(|stored| !stored.deleted)
                    else {
                        continue;
                    };
                    books::write_deleted(&tx, *id, true, Some(now_ms))?;
                    outbox::record(
                        &tx,
                        *id,
                        outbox::deleted_patch(true),
                        stored.server_version,
                        clock.now(wall),
                        now_ms,
                    )?;
                    undone.removed += 1;
                }
                Change::Updated { id, before, after } => {
                    let Some(stored) = books::load(&tx, *id)?.filter(|stored| !stored.deleted)
                    else {
                        undone.kept += 1;
                        continue;
                    };
                    let current = Fields::of(&stored.book);
                    let mut draft = BookDraft::from(&stored.book);
                    for (name, written) in after {
                        let Some(field) = Field::named(name) else {
                            continue;
                        };
                        // A field changed again since the import keeps its newer value.
                        if current.value(field) != *written {
                            continue;
                        }
                        if let Some(previous) = before.get(name) {
                            let _ = fields::set(&mut draft, field, previous);
                        }
                    }
                    // The values the book had before are values it held: the per-field rules
                    // are enough (a typed edit's date order may not hold for a synced book).
                    let restored = match validate::stored(&draft) {
                        Ok(restored) => restored,
                        Err(refusal) => {
                            tracing::warn!(%id, %refusal, "an imported update could not be undone");
                            undone.kept += 1;
                            continue;
                        }
                    };
                    let patch = outbox::diff_patch(&current, &restored);
                    if patch.is_empty() {
                        undone.kept += 1;
                        continue;
                    }
                    books::write_fields(&tx, *id, &restored, Some(now_ms))?;
                    outbox::record(
                        &tx,
                        *id,
                        patch,
                        stored.server_version,
                        clock.now(wall),
                        now_ms,
                    )?;
                    undone.restored += 1;
                }
            }
        }
        if undone.removed + undone.restored > 0 {
            meta::save_stamp(&tx, clock.last())?;
        }
        imports::undone(&tx, import_id, now_ms)?;
        tx.commit()?;
        self.edited_since_checkpoint = true;
        tracing::info!(
            import_id,
            removed = undone.removed,
            restored = undone.restored,
            kept = undone.kept,
            "import undone"
        );
        Ok(undone)
    }

    /// Every live book, oldest first, with every field: what an export writes.
    pub fn export_books(&self) -> Result<Vec<Book>> {
        books::live_oldest_first(&self.db.conn)
    }
}

#[cfg(test)]
mod tests {
    use bookwish_ipc::{ListQuery, Status};
    use serde_json::json;

    use super::*;
    use crate::error::Error;
    use crate::import::preview_bytes;

    const GOODREADS: &[u8] = include_bytes!("../import/fixtures/goodreads_library_export.csv");

    /// A Goodreads export of `records` (title, author, ISBN13, rating, date read, shelf).
    fn goodreads(records: &[(&str, &str, &str, u8, &str, &str)]) -> Vec<u8> {
        let mut file =
            String::from("Title,Author,ISBN13,My Rating,Date Read,Date Added,Exclusive Shelf\n");
        for (title, author, isbn, rating, read, shelf) in records {
            file.push_str(&format!(
                "\"{title}\",\"{author}\",\"=\"\"{isbn}\"\"\",{rating},{read},2024/01/05,{shelf}\n"
            ));
        }
        file.into_bytes()
    }

    fn draft(title: &str, author: &str, isbn: Option<&str>) -> BookDraft {
        BookDraft {
            title: title.into(),
            author: author.into(),
            isbn: isbn.map(str::to_owned),
            ..BookDraft::default()
        }
    }

    fn import(store: &mut Store, file: &[u8], on_match: OnMatch) -> Result<ImportDone> {
        let preview = preview_bytes(file).expect("a readable file");
        store.apply_import(&preview, on_match, &mut |_, _| {})
    }

    fn titles(store: &Store) -> Result<Vec<String>> {
        Ok(store
            .export_books()?
            .into_iter()
            .map(|book| book.title)
            .collect())
    }

    /// What the server has acknowledged: every book synced at `version`, nothing pending.
    fn synced(store: &Store, version: i64) -> rusqlite::Result<()> {
        store.conn_for_tests().execute_batch(&format!(
            "UPDATE books SET server_version = {version}; DELETE FROM outbox;"
        ))
    }

    #[test]
    fn a_goodreads_export_is_previewed_then_imported_as_ordinary_edits() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let preview = preview_bytes(GOODREADS).expect("the fixture reads");
        let summary = store.preview_import(&preview)?;
        assert_eq!(summary.format, "a Goodreads export", "the format is named");
        assert_eq!(
            (summary.new, summary.matching, summary.duplicates),
            (count(preview.rows.len()), 0, 0),
            "into an empty list every readable record is new"
        );
        assert_eq!(
            summary.new_titles[0], "The Salt Cartographer",
            "the summary names the first books to add, in file order"
        );
        assert!(store.export_books()?.is_empty(), "a preview writes nothing");

        let mut reports = Vec::new();
        let done = store.apply_import(&preview, OnMatch::Skip, &mut |done, total| {
            reports.push((done, total))
        })?;
        assert_eq!(
            done.added, summary.new,
            "the import adds what the preview said"
        );
        assert!(
            done.import_id.is_some(),
            "an import that wrote something can be undone"
        );
        assert_eq!(
            reports.last(),
            Some(&(summary.new, summary.new)),
            "progress ends at the total"
        );
        let books = store.export_books()?;
        assert_eq!(books.len(), preview.rows.len(), "every row became a book");
        let first = books
            .iter()
            .find(|book| book.title == "The Salt Cartographer")
            .expect("the first record is a book");
        assert_eq!(
            (first.isbn.as_deref(), first.rating, first.status),
            (Some("9780999100370"), Some(4), Status::Finished),
            "its ISBN, rating and shelf are kept"
        );
        let queued = store.outbox()?;
        assert_eq!(
            queued.len(),
            books.len(),
            "every imported book is queued for sync"
        );
        assert!(
            queued
                .iter()
                .all(|e| e.base_version.is_none() && e.patch.contains_key("isbn")),
            "as creations carrying every field"
        );
        let list = store.list(&ListQuery::default())?;
        assert_eq!(
            list.counts.total(),
            count(books.len()),
            "the list and its counts show them"
        );
        Ok(())
    }

    #[test]
    fn books_added_on_the_same_day_list_in_the_order_they_were_written() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        // One Date Added for all: the day alone cannot order them.
        let in_file = [
            "Persuasion",
            "Beloved",
            "Emma",
            "Ulysses",
            "Dune",
            "Middlemarch",
        ];
        let records: Vec<_> = in_file
            .iter()
            .map(|&title| (title, "Some Author", "", 0, "", "to-read"))
            .collect();
        import(&mut store, &goodreads(&records), OnMatch::Skip)?;
        let listed: Vec<String> = store
            .list(&ListQuery::default())?
            .books
            .into_iter()
            .map(|book| book.title)
            .collect();
        let newest_first: Vec<&str> = in_file.iter().rev().copied().collect();
        assert_eq!(
            listed, newest_first,
            "books added on one day list newest first under Recently added: the file's last \
             row, written last, first"
        );
        assert_eq!(
            titles(&store)?,
            in_file,
            "an export writes them in that order too, so it imports back the same"
        );
        Ok(())
    }

    #[test]
    fn matches_are_found_by_isbn_else_by_folded_title_and_author() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let goedel = store.add(&draft("Gödel, Escher, Bach", "Douglas Hofstadter", None))?;
        let dune = store.add(&draft("Dune (Ace)", "Frank Herbert", Some("9780441013593")))?;
        let kings = store.add(&draft(
            "The Way of Kings",
            "Brandon Sanderson",
            Some("9780765326355"),
        ))?;
        let file = goodreads(&[
            (
                "GODEL, ESCHER, BACH",
                "douglas  hofstadter",
                "",
                5,
                "",
                "read",
            ),
            ("Dune", "Frank Herbert", "9780441013593", 4, "", "read"),
            (
                "The Way of Kings",
                "Brandon Sanderson",
                "9780765365279",
                0,
                "",
                "to-read",
            ),
            ("Emma", "Jane Austen", "9780141439587", 0, "", "to-read"),
            ("Emma", "Jane Austen", "", 0, "", "to-read"),
            ("Dune", "Frank Herbert", "9780441013593", 0, "", "to-read"),
        ]);
        let preview = preview_bytes(&file).expect("readable");
        let summary = store.preview_import(&preview)?;
        assert_eq!(
            (summary.new, summary.matching, summary.duplicates),
            (2, 2, 2),
            "Gödel matches ignoring case and accents, Dune by its ISBN despite another title; \
             a Way of Kings of another ISBN is another edition and Emma is new; the second \
             Emma and the second Dune repeat earlier records"
        );
        assert_eq!(summary.new_titles, ["The Way of Kings", "Emma"]);
        assert_eq!(summary.matching_changed, 2, "both matches would change");

        import(&mut store, &file, OnMatch::Skip)?;
        assert_eq!(
            store.get(goedel.id)?,
            goedel,
            "with Skip a matching book is left exactly as it was"
        );
        assert_eq!(store.get(dune.id)?, dune, "Dune too");
        assert_eq!(
            store.get(kings.id)?,
            kings,
            "the other edition is not a match"
        );
        assert_eq!(
            store.export_books()?.len(),
            5,
            "three books plus the other Way of Kings and one Emma"
        );
        Ok(())
    }

    #[test]
    fn update_takes_the_files_values_but_never_clears_what_the_file_lacks() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let dune = store.add(&BookDraft {
            status: Status::Reading,
            started_on: Some("2024-03-01".into()),
            notes: "my own notes".into(),
            rating: Some(3),
            ..draft("Dune", "Frank Herbert", None)
        })?;
        let emma = store.add(&BookDraft {
            started_on: Some("2024-06-01".into()),
            ..draft("Emma", "Jane Austen", None)
        })?;
        let file = goodreads(&[
            (
                "Dune",
                "Frank Herbert",
                "9780441013593",
                5,
                "2024/04/02",
                "read",
            ),
            ("Emma", "Jane Austen", "", 0, "2024/05/01", "read"),
        ]);
        let summary = store.preview_import(&preview_bytes(&file).expect("readable"))?;
        assert_eq!(summary.update_problems.len(), 1, "Emma cannot be updated");
        assert!(
            summary.update_problems[0].line == 3
                && summary.update_problems[0].reason.contains("“Emma”")
                && summary.update_problems[0]
                    .reason
                    .contains("The finish date is before the start date."),
            "the problem names its line, the book and the rule: {:?}",
            summary.update_problems
        );

        let done = import(&mut store, &file, OnMatch::Update)?;
        assert_eq!(
            (done.updated, done.not_updated, done.added),
            (1, 1, 0),
            "Dune is updated, Emma refused, nothing added"
        );
        let updated = store.get(dune.id)?;
        assert_eq!(
            (
                updated.status,
                updated.rating,
                updated.finished_on.as_deref(),
                updated.isbn.as_deref()
            ),
            (
                Status::Finished,
                Some(5),
                Some("2024-04-02"),
                Some("9780441013593")
            ),
            "the file's status, rating, date read and ISBN are taken"
        );
        assert_eq!(
            (updated.started_on.as_deref(), updated.notes.as_str()),
            (Some("2024-03-01"), "my own notes"),
            "what the file has no value for (Goodreads has no start date) is kept"
        );
        assert_eq!(store.get(emma.id)?, emma, "a refused update writes nothing");
        let entry = store
            .outbox()?
            .into_iter()
            .find(|e| e.book_id == dune.id)
            .expect("the update is queued");
        assert_eq!(
            serde_json::Value::Object(entry.patch),
            json!({"title": "Dune", "author": "Frank Herbert", "status": "Finished",
                   "notes": "my own notes", "rating": 5, "started_on": "2024-03-01",
                   "finished_on": "2024-04-02", "isbn": "9780441013593", "deleted": false}),
            "coalesced with the pending creation, it carries the new values"
        );
        Ok(())
    }

    #[test]
    fn one_undo_reverts_the_whole_import_even_after_it_synced() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let dune = store.add(&BookDraft {
            rating: Some(3),
            ..draft("Dune", "Frank Herbert", None)
        })?;
        let emma = store.add(&draft("Emma", "Jane Austen", None))?;
        synced(&store, 7)?;
        let file = goodreads(&[
            (
                "Dune",
                "Frank Herbert",
                "9780441013593",
                5,
                "2024/04/02",
                "read",
            ),
            ("Emma", "Jane Austen", "9780141439587", 4, "", "read"),
            ("Persuasion", "Jane Austen", "", 0, "", "to-read"),
            ("Middlemarch", "George Eliot", "", 0, "", "to-read"),
        ]);
        let done = import(&mut store, &file, OnMatch::Update)?;
        assert_eq!((done.added, done.updated), (2, 2), "two added, two updated");
        let import_id = done.import_id.expect("undoable");
        // The import synced; then the user edits one field of Emma the import had set.
        synced(&store, 8)?;
        let mut mine = BookDraft::from(&store.get(emma.id)?);
        mine.rating = Some(2);
        store.update(emma.id, &mine)?;

        let undone = store.undo_import(import_id)?;
        assert_eq!(
            (undone.removed, undone.restored, undone.kept),
            (2, 2, 0),
            "both added books go, both updated books get their values back"
        );
        assert_eq!(
            titles(&store)?,
            ["Dune", "Emma"],
            "the list is as before the import"
        );
        let dune_now = store.get(dune.id)?;
        assert_eq!(
            (
                dune_now.rating,
                dune_now.status,
                dune_now.isbn,
                dune_now.finished_on
            ),
            (Some(3), Status::Wishlist, None, None),
            "Dune has every value it had before"
        );
        let emma_now = store.get(emma.id)?;
        assert_eq!(
            (emma_now.rating, emma_now.isbn, emma_now.status),
            (Some(2), None, Status::Wishlist),
            "Emma's rating, changed since, keeps the newer value; the rest is undone"
        );
        let queued = store.outbox()?;
        let removed: Vec<_> = queued
            .iter()
            .filter(|e| e.patch.get("deleted") == Some(&json!(true)))
            .collect();
        assert_eq!(
            removed.len(),
            2,
            "the added books' removal is queued as deletes"
        );
        assert!(
            removed.iter().all(|e| e.base_version == Some(8)),
            "deletes of books the server already has, based on its version"
        );
        assert_eq!(
            queued
                .iter()
                .find(|e| e.book_id == dune.id)
                .map(|e| serde_json::Value::Object(e.patch.clone())),
            Some(json!({"status": "Wishlist", "rating": 3, "finished_on": null, "isbn": null})),
            "the restored values are queued as an edit of Dune"
        );
        assert!(
            matches!(
                store.undo_import(import_id),
                Err(Error::ImportNotFound { .. })
            ),
            "an import is undone once"
        );
        Ok(())
    }

    #[test]
    fn restoring_a_backup_twice_adds_nothing_and_keeps_ids() -> Result<()> {
        let mut device = Store::open_in_memory()?;
        for n in 0..5 {
            device.add(&BookDraft {
                isbn: (n == 0).then(|| "9780441013593".to_owned()),
                notes: format!("=HYPERLINK(\"x\", {n})\nline two"),
                rating: Some(n % 5 + 1),
                ..draft(&format!("Book {n}"), "Someone", None)
            })?;
        }
        let books = device.export_books()?;
        let mut backup = Vec::new();
        crate::export::backup_json(&books, 1, &mut backup).expect("written");

        let mut restored = Store::open_in_memory()?;
        let first = import(&mut restored, &backup, OnMatch::Skip)?;
        assert_eq!(first.added, 5, "the first restore adds every book");
        assert_eq!(
            restored.export_books()?,
            books,
            "with the same ids, fields and times"
        );
        let again = import(&mut restored, &backup, OnMatch::Update)?;
        assert_eq!(
            (again.added, again.updated, again.unchanged, again.import_id),
            (0, 0, 5, None),
            "restoring again adds and changes nothing"
        );
        restored.delete(books[1].id)?;
        let revived = import(&mut restored, &backup, OnMatch::Skip)?;
        assert_eq!(revived.added, 1, "a book deleted since comes back");
        assert_eq!(
            restored.get(books[1].id)?.title,
            books[1].title,
            "under its own id"
        );
        assert_eq!(restored.export_books()?.len(), 5, "and nothing is doubled");
        Ok(())
    }

    #[test]
    fn an_export_imports_back_to_the_same_list() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        for (title, author, isbn, status, notes) in [
            (
                "Gödel, Escher, Bach",
                "Douglas Hofstadter",
                Some("9780465026562"),
                Status::Finished,
                "-ish",
            ),
            (
                "北の庭の記録",
                "佐藤 美咲",
                None,
                Status::Wishlist,
                "@home\n\tindented",
            ),
            (
                "Dune",
                "Frank Herbert",
                Some("0-441-01359-7"),
                Status::Reading,
                "+1, \"quoted\"",
            ),
        ] {
            store.add(&BookDraft {
                status,
                notes: notes.into(),
                rating: Some(4),
                finished_on: (status == Status::Finished).then(|| "2024-02-03".to_owned()),
                ..draft(title, author, isbn)
            })?;
        }
        let books = store.export_books()?;
        for (name, file) in [
            ("Bookwish CSV", {
                let mut out = Vec::new();
                crate::export::bookwish_csv(&books, &mut out).expect("written");
                out
            }),
            ("backup", {
                let mut out = Vec::new();
                crate::export::backup_json(&books, 0, &mut out).expect("written");
                out
            }),
        ] {
            let mut other = Store::open_in_memory()?;
            import(&mut other, &file, OnMatch::Skip)?;
            assert_eq!(
                other.export_books()?,
                books,
                "{name}: the same books come back"
            );
        }

        let mut goodreads = Vec::new();
        crate::export::goodreads_csv(&books, &mut goodreads).expect("written");
        let mut other = Store::open_in_memory()?;
        import(&mut other, &goodreads, OnMatch::Skip)?;
        let back = other.export_books()?;
        assert_eq!(
            back.len(),
            books.len(),
            "the Goodreads CSV gives every book back"
        );
        for book in &books {
            let twin = back
                .iter()
                .find(|b| b.title == book.title)
                .expect("found by title");
            assert_eq!(
                (
                    &twin.author,
                    twin.status,
                    twin.rating,
                    &twin.isbn,
                    &twin.finished_on,
                    &twin.notes
                ),
                (
                    &book.author,
                    book.status,
                    book.rating,
                    &book.isbn,
                    &book.finished_on,
                    &book.notes
                ),
                "what Goodreads' layout carries survives the round trip"
            );
        }
        let summary = store.preview_import(&preview_bytes(&goodreads).expect("readable"))?;
        assert_eq!(
            (summary.new, summary.matching, summary.matching_changed),
            (0, 3, 0),
            "imported into the list it came from, it matches every book and changes none"
        );
        Ok(())
    }

    #[test]
    fn progress_is_reported_as_the_import_goes() -> Result<()> {
        let mut store = Store::open_in_memory()?;
        let records: Vec<(String, String)> = (0..1_203)
            .map(|n| (format!("Book {n}"), format!("Author {n}")))
            .collect();
        let rows: Vec<(&str, &str, &str, u8, &str, &str)> = records
            .iter()
            .map(|(t, a)| (t.as_str(), a.as_str(), "", 0, "", "to-read"))
            .collect();
        let preview = preview_bytes(&goodreads(&rows)).expect("readable");
        let mut reports = Vec::new();
        store.apply_import(&preview, OnMatch::Skip, &mut |done, total| {
            reports.push((done, total))
        })?;
        assert_eq!(
            reports,
            [(500, 1_203), (1_000, 1_203), (1_203, 1_203)],
            "every {PROGRESS_EVERY} records and at the end"
        );
        Ok(())
    }
}
