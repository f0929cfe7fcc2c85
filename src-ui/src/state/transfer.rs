//! The import panel: a file picked with the OS dialog (or dropped on the window) measured
//! against the list, the user's choice for books already in it, the import's progress, and why
//! a file cannot be imported. The shell holds the file; the panel holds its token.
//!
//! Answers and events can arrive in any order: progress of an import this panel is not running
//! (another token), an offer while an import runs, a late answer after the panel closed. The
//! reducer keeps what the user sees consistent: an import in progress is never replaced, and
//! progress only moves forward.

use std::rc::Rc;

use bookwish_ipc::{
    ImportDone, ImportOffer, ImportProgress, ImportSummary, ImportUndone, IpcError, OnMatch,
};
use yew::Reducible;

use crate::text::{books, counted, grouped, size};

/// Where the panel is.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Step {
    /// Not shown.
    #[default]
    Closed,
    /// The OS dialog is open, or the chosen file is being read.
    Choosing,
    /// What the file holds, waiting for Import or Cancel.
    Offered(Rc<ImportOffer>),
    /// The import runs.
    Importing {
        /// The file.
        offer: Rc<ImportOffer>,
        /// Records done.
        done: u32,
        /// Records in all.
        total: u32,
    },
    /// The file cannot be imported, or the import failed: why. Nothing was written.
    Refused(IpcError),
}

/// The panel's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transfer {
    /// Where it is.
    pub step: Step,
    /// What books already in the list get.
    pub on_match: OnMatch,
}

/// What happened to the panel.
#[derive(Clone, Debug, PartialEq)]
pub enum TransferAction {
    /// "Import…" was pressed: the OS dialog opens.
    Choosing,
    /// The OS dialog was closed without a file.
    NotChosen,
    /// A file was read (picked or dropped).
    Offered(ImportOffer),
    /// The user chose what matching books get.
    OnMatch(OnMatch),
    /// The user pressed Import.
    Started,
    /// The shell reported progress.
    Progress(ImportProgress),
    /// The import finished (the toast says what it did).
    Finished,
    /// Reading or importing the file failed: why.
    Failed(IpcError),
    /// Cancel, Close or Esc.
    Close,
}

impl Reducible for Transfer {
    type Action = TransferAction;

    fn reduce(self: Rc<Self>, action: TransferAction) -> Rc<Self> {
        let importing = matches!(self.step, Step::Importing { .. });
        let mut next = (*self).clone();
        match action {
            // An import under way is never replaced: it finishes or fails first.
            TransferAction::Choosing | TransferAction::Offered(_) | TransferAction::Close
                if importing =>
            {
                return self;
            }
            TransferAction::Choosing => next.step = Step::Choosing,
            TransferAction::NotChosen => {
                if self.step != Step::Choosing {
                    return self;
                }
                next.step = Step::Closed;
            }
            TransferAction::Offered(offer) => {
                next.step = Step::Offered(Rc::new(offer));
                next.on_match = OnMatch::Skip;
            }
            TransferAction::OnMatch(choice) => next.on_match = choice,
            TransferAction::Started => {
                let Step::Offered(offer) = &self.step else {
                    return self;
                };
                next.step = Step::Importing {
                    offer: Rc::clone(offer),
                    done: 0,
                    total: offer.summary.rows,
                };
            }
            TransferAction::Progress(progress) => match &self.step {
                Step::Importing { offer, done, .. }
                    if offer.token == progress.token && progress.done >= *done =>
                {
                    next.step = Step::Importing {
                        offer: Rc::clone(offer),
                        done: progress.done,
                        total: progress.total,
                    };
                }
                _ => return self,
            },
            TransferAction::Finished => next.step = Step::Closed,
            TransferAction::Failed(error) => next.step = Step::Refused(error),
            TransferAction::Close => next.step = Step::Closed,
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

/// How many books pressing Import changes with `on_match`.
pub fn to_write(summary: &ImportSummary, on_match: OnMatch) -> u32 {
    match on_match {
        OnMatch::Skip => summary.new,
        OnMatch::Update => summary.new + summary.matching_changed,
    }
}

/// The Import button's words.
pub fn confirm_text(summary: &ImportSummary, on_match: OnMatch) -> String {
    match (to_write(summary, on_match), on_match) {
        (0, _) => "Nothing to import".to_owned(),
        (n, OnMatch::Skip) => format!("Import {}", books(size(n))),
        (_, OnMatch::Update) => match (summary.new, summary.matching_changed) {
            (0, changed) => format!("Update {}", books(size(changed))),
            (new, 0) => format!("Import {}", books(size(new))),
            (new, changed) => format!("Import {} and update {}", grouped(size(new)), size(changed)),
        },
    }
}

/// "12 books will be added", "No new books: every book in it is in your list already".
pub fn new_text(summary: &ImportSummary) -> String {
    match summary.new {
        0 if summary.matching > 0 => {
            "No new books: every book in it is in your list already".to_owned()
        }
        0 => "No books to add".to_owned(),
        1 => "1 book will be added".to_owned(),
        n => format!("{} will be added", books(size(n))),
    }
}

/// "3 are already in your list (2 with different details)".
pub fn matching_text(summary: &ImportSummary) -> String {
    let verb = if summary.matching == 1 { "is" } else { "are" };
    let head = format!(
        "{} {verb} already in your list",
        counted(size(summary.matching), "book", "books")
    );
    match summary.matching_changed {
        0 => format!("{head}, with the same details"),
        n if n == summary.matching => format!("{head}, with different details"),
        n => format!("{head} ({} with different details)", grouped(size(n))),
    }
}

/// "2 lines repeat a book listed earlier in the file".
pub fn duplicates_text(summary: &ImportSummary) -> String {
    match summary.duplicates {
        1 => "1 line repeats a book listed earlier in the file (imported once)".to_owned(),
        n => format!(
            "{} lines repeat books listed earlier in the file (imported once)",
            grouped(size(n))
        ),
    }
}

/// "4 lines can't be read", for the heading of the problems.
pub fn problems_text(summary: &ImportSummary) -> String {
    match summary.problems.len() {
        1 => "1 line can't be read and will be left out:".to_owned(),
        n => format!("{} lines can't be read and will be left out:", grouped(n)),
    }
}

/// The toast after an import: "Imported 12 books", "Imported 12 books and updated 3".
pub fn done_text(done: &ImportDone) -> String {
    match (done.added, done.updated) {
        (0, 0) => "Nothing was imported: the file's books are already in your list".to_owned(),
        (added, 0) => format!("Imported {}", books(size(added))),
        (0, updated) => format!("Updated {}", books(size(updated))),
        (added, updated) => format!(
            "Imported {} and updated {}",
            books(size(added)),
            grouped(size(updated))
        ),
    }
}

/// The toast after undoing an import.
pub fn undone_text(undone: &ImportUndone) -> String {
    let mut parts = Vec::new();
    if undone.removed > 0 {
        parts.push(format!("{} removed", books(size(undone.removed))));
    }
    if undone.restored > 0 {
        parts.push(format!("{} restored", books(size(undone.restored))));
    }
    if undone.kept > 0 {
        parts.push(format!("{} kept (changed since)", books(size(undone.kept))));
    }
    if parts.is_empty() {
        "Import undone: nothing was left to undo".to_owned()
    } else {
        format!("Import undone: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use bookwish_ipc::{ErrorCode, ImportProblem};

    use super::*;

    fn offer(token: u64, summary: ImportSummary) -> ImportOffer {
        ImportOffer {
            token,
            file_name: "goodreads_library_export.csv".into(),
            summary,
        }
    }

    fn summary(new: u32, matching: u32, changed: u32) -> ImportSummary {
        ImportSummary {
            format: "a Goodreads export".into(),
            rows: new + matching,
            new,
            matching,
            matching_changed: changed,
            ..ImportSummary::default()
        }
    }

    #[test]
    fn a_file_goes_from_choosing_to_offered_to_importing_to_closed() {
        let state = Rc::<Transfer>::default()
            .reduce(TransferAction::Choosing)
            .reduce(TransferAction::Offered(offer(1, summary(12, 3, 2))))
            .reduce(TransferAction::OnMatch(OnMatch::Update))
            .reduce(TransferAction::Started);
        assert!(
            matches!(
                &state.step,
                Step::Importing {
                    done: 0,
                    total: 15,
                    ..
                }
            ),
            "the import starts at 0 of the file's books: {:?}",
            state.step
        );
        assert_eq!(state.on_match, OnMatch::Update, "the choice is kept");
        let state = state
            .reduce(TransferAction::Progress(ImportProgress {
                token: 1,
                done: 10,
                total: 15,
            }))
            .reduce(TransferAction::Progress(ImportProgress {
                token: 1,
                done: 5,
                total: 15,
            }))
            .reduce(TransferAction::Progress(ImportProgress {
                token: 9,
                done: 15,
                total: 15,
            }));
        assert!(
            matches!(&state.step, Step::Importing { done: 10, .. }),
            "progress only moves forward, and only for this import: {:?}",
            state.step
        );
        let state = state.reduce(TransferAction::Finished);
        assert_eq!(
            state.step,
            Step::Closed,
            "a finished import closes the panel"
        );
    }

    #[test]
    fn an_import_under_way_is_never_replaced_or_closed() {
        let importing = Rc::<Transfer>::default()
            .reduce(TransferAction::Offered(offer(1, summary(2, 0, 0))))
            .reduce(TransferAction::Started);
        for action in [
            TransferAction::Choosing,
            TransferAction::Offered(offer(2, summary(5, 0, 0))),
            TransferAction::Close,
        ] {
            let after = Rc::clone(&importing).reduce(action.clone());
            assert!(
                Rc::ptr_eq(&after, &importing),
                "{action:?} leaves the running import alone"
            );
        }
        let failed = importing.reduce(TransferAction::Failed(IpcError::new(
            ErrorCode::Storage,
            "The disk is full",
        )));
        assert!(
            matches!(&failed.step, Step::Refused(error) if error.message == "The disk is full"),
            "a failed import says why"
        );
    }

    #[test]
    fn a_closed_dialog_closes_the_panel_and_a_new_offer_starts_over() {
        let state = Rc::<Transfer>::default()
            .reduce(TransferAction::Choosing)
            .reduce(TransferAction::NotChosen);
        assert_eq!(state.step, Step::Closed, "no file chosen: nothing to show");
        let state = state
            .reduce(TransferAction::Offered(offer(1, summary(1, 1, 1))))
            .reduce(TransferAction::OnMatch(OnMatch::Update))
            .reduce(TransferAction::Offered(offer(2, summary(1, 1, 1))));
        assert_eq!(
            state.on_match,
            OnMatch::Skip,
            "a new file starts from Skip, the choice that changes nothing"
        );
    }

    #[test]
    fn the_panel_says_what_the_import_will_do() {
        let s = summary(12, 3, 2);
        assert_eq!(new_text(&s), "12 books will be added");
        assert_eq!(
            matching_text(&s),
            "3 books are already in your list (2 with different details)"
        );
        assert_eq!(confirm_text(&s, OnMatch::Skip), "Import 12 books");
        assert_eq!(confirm_text(&s, OnMatch::Update), "Import 12 and update 2");
        let nothing = summary(0, 4, 0);
        assert_eq!(
            new_text(&nothing),
            "No new books: every book in it is in your list already"
        );
        assert_eq!(
            matching_text(&nothing),
            "4 books are already in your list, with the same details"
        );
        assert_eq!(confirm_text(&nothing, OnMatch::Update), "Nothing to import");
        assert_eq!(
            confirm_text(&summary(0, 2, 2), OnMatch::Update),
            "Update 2 books"
        );
        let mut problems = summary(1, 0, 0);
        problems.problems = vec![ImportProblem {
            line: 7,
            reason: "Date Read 2024/13/01 isn't a real calendar date.".into(),
        }];
        assert_eq!(
            problems_text(&problems),
            "1 line can't be read and will be left out:"
        );
    }

    #[test]
    fn toasts_say_what_happened() {
        assert_eq!(
            done_text(&ImportDone {
                added: 12,
                updated: 3,
                ..ImportDone::default()
            }),
            "Imported 12 books and updated 3"
        );
        assert_eq!(
            done_text(&ImportDone::default()),
            "Nothing was imported: the file's books are already in your list"
        );
        assert_eq!(
            undone_text(&ImportUndone {
                removed: 12,
                restored: 3,
                kept: 1
            }),
            "Import undone: 12 books removed, 3 books restored, 1 book kept (changed since)"
        );
    }
}
