//! The question asked after signing in while books made before it are only on this computer:
//! move them into the account, or keep them here.
//!
//! The UI asks `local_books_offer` whenever the account becomes signed in (at start too), so
//! the question can be asked twice at once (a restored session is both `app_info`'s answer
//! and an `auth-changed` event); the dialog shows the latest answer once. "Decide later" (Esc,
//! close) only hides it: the shell asks again at the next sign-in or launch. Questions are
//! numbered so an answer to one asked before the user closed the dialog, or before the
//! account changed, does not bring it back.

use std::rc::Rc;

use bookwish_ipc::{LocalBooksOffer, MovedBooks};
use yew::Reducible;

use crate::text::{books, counted, grouped, size};

/// The dialog's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalBooks {
    /// The question on screen, if any.
    pub offer: Option<LocalBooksOffer>,
    /// The answer being carried out (both buttons wait).
    pub busy: Option<Choice>,
    /// The highest question number asked so far.
    asked: u64,
    /// Answers to questions numbered up to this are no longer wanted.
    stale_through: u64,
}

/// The user's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Move the books into the account.
    Move,
    /// Keep them on this computer only.
    Keep,
}

/// What happened to the question.
#[derive(Clone, Debug, PartialEq)]
pub enum LocalBooksAction {
    /// `local_books_offer` was called; its answer comes with the same number.
    Asked(u64),
    /// `local_books_offer` answered question `request`: `None` means nothing to ask.
    Answered {
        /// The question's number.
        request: u64,
        /// The answer.
        offer: Option<LocalBooksOffer>,
    },
    /// The user chose; the command runs.
    Started(Choice),
    /// The command succeeded: the question is settled.
    Finished,
    /// The command failed (shown as a toast): the question stays to try again.
    Failed,
    /// Esc or close: decide later.
    Later,
    /// The account signed out or changed: the question is about another account now.
    Withdrawn,
}

impl LocalBooks {
    /// Hides the dialog and drops the answers to every question asked so far.
    fn forget(&mut self) {
        self.offer = None;
        self.busy = None;
        self.stale_through = self.asked;
    }
}

impl Reducible for LocalBooks {
    type Action = LocalBooksAction;

    fn reduce(self: Rc<Self>, action: LocalBooksAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            LocalBooksAction::Asked(request) => {
                next.asked = next.asked.max(request);
            }
            LocalBooksAction::Answered { request, offer } => {
                // While a choice runs the dialog stays as the user saw it.
                if request <= self.stale_through || self.busy.is_some() {
                    return self;
                }
                next.offer = offer.filter(|offer| offer.count > 0);
                next.asked = next.asked.max(request);
                next.stale_through = request;
            }
            LocalBooksAction::Started(choice) => {
                if self.offer.is_none() || self.busy.is_some() {
                    return self;
                }
                next.busy = Some(choice);
            }
            LocalBooksAction::Finished => next.forget(),
            LocalBooksAction::Failed => next.busy = None,
            LocalBooksAction::Later => {
                // A choice under way finishes first; its answer closes the dialog.
                if self.busy.is_some() {
                    return self;
                }
                next.forget();
            }
            LocalBooksAction::Withdrawn => next.forget(),
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

/// The dialog's title: "1 book is only on this computer", "3 books are only on this computer".
pub fn title(offer: &LocalBooksOffer) -> String {
    let n = size(offer.count);
    let verb = if n == 1 { "is" } else { "are" };
    format!("{} {verb} only on this computer", books(n))
}

/// After the sample titles: "and 1 more", "and 12 more"; `None` when all are shown.
pub fn more(offer: &LocalBooksOffer) -> Option<String> {
    let rest = size(offer.count).saturating_sub(offer.sample_titles.len());
    (rest > 0).then(|| format!("and {} more", grouped(rest)))
}

/// The toast after moving: "Moved 3 books into your account", noting books the account
/// already had (moved before an interruption).
pub fn moved_text(moved: MovedBooks) -> String {
    let (moved, already) = (size(moved.moved), size(moved.already_there));
    match (moved, already) {
        (0, 0) => "No books needed moving".to_owned(),
        (0, already) => format!(
            "{} already in your account",
            counted(already, "book was", "books were")
        ),
        (moved, 0) => format!("Moved {} into your account", books(moved)),
        (moved, already) => format!(
            "Moved {} into your account; {} already there",
            books(moved),
            counted(already, "was", "were")
        ),
    }
}

/// The toast after keeping: where the books are now.
pub fn kept_text(offer: &LocalBooksOffer) -> String {
    let n = size(offer.count);
    let shows = if n == 1 { "it shows" } else { "they show" };
    format!(
        "Kept {} on this computer only; {shows} when you're signed out",
        books(n)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(count: u32, titles: &[&str]) -> LocalBooksOffer {
        LocalBooksOffer {
            count,
            sample_titles: titles.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    fn asked(offer_answer: Option<LocalBooksOffer>) -> Rc<LocalBooks> {
        Rc::<LocalBooks>::default()
            .reduce(LocalBooksAction::Asked(1))
            .reduce(LocalBooksAction::Answered {
                request: 1,
                offer: offer_answer,
            })
    }

    #[test]
    fn an_offer_shows_the_dialog_and_none_does_not() {
        let shown = asked(Some(offer(3, &["Dune"])));
        assert_eq!(
            shown.offer,
            Some(offer(3, &["Dune"])),
            "an offer opens the dialog"
        );
        assert_eq!(asked(None).offer, None, "no offer, no dialog");
        assert_eq!(
            asked(Some(offer(0, &[]))).offer,
            None,
            "an offer of no books is no question"
        );
    }

    #[test]
    fn the_same_offer_twice_shows_one_dialog() {
        let state = asked(Some(offer(3, &["Dune"])))
            .reduce(LocalBooksAction::Asked(2))
            .reduce(LocalBooksAction::Answered {
                request: 2,
                offer: Some(offer(3, &["Dune"])),
            });
        assert_eq!(
            state.offer,
            Some(offer(3, &["Dune"])),
            "app_info and auth-changed asking together still show one question"
        );
    }

    #[test]
    fn later_hides_until_the_next_question() {
        let state = Rc::<LocalBooks>::default()
            .reduce(LocalBooksAction::Asked(1))
            .reduce(LocalBooksAction::Asked(2))
            .reduce(LocalBooksAction::Answered {
                request: 1,
                offer: Some(offer(2, &[])),
            })
            .reduce(LocalBooksAction::Later);
        assert_eq!(state.offer, None, "decide later hides the dialog");
        let state = state.reduce(LocalBooksAction::Answered {
            request: 2,
            offer: Some(offer(2, &[])),
        });
        assert_eq!(
            state.offer, None,
            "an answer to a question asked before 'later' must not bring it back"
        );
        let state = state
            .reduce(LocalBooksAction::Asked(3))
            .reduce(LocalBooksAction::Answered {
                request: 3,
                offer: Some(offer(2, &[])),
            });
        assert!(
            state.offer.is_some(),
            "the next sign-in asks again and shows it"
        );
    }

    #[test]
    fn a_choice_waits_then_closes_or_stays_on_failure() {
        let state = asked(Some(offer(3, &[]))).reduce(LocalBooksAction::Started(Choice::Move));
        assert_eq!(
            state.busy,
            Some(Choice::Move),
            "both buttons wait while the call runs"
        );
        let same = Rc::clone(&state).reduce(LocalBooksAction::Started(Choice::Keep));
        assert!(Rc::ptr_eq(&state, &same), "one choice at a time");
        let later = Rc::clone(&state).reduce(LocalBooksAction::Later);
        assert!(
            Rc::ptr_eq(&state, &later),
            "Esc while a choice runs leaves the dialog to its answer"
        );
        let failed = Rc::clone(&state).reduce(LocalBooksAction::Failed);
        assert_eq!(failed.busy, None, "a failure frees the buttons");
        assert!(
            failed.offer.is_some(),
            "and keeps the question to try again"
        );
        let done = state.reduce(LocalBooksAction::Finished);
        assert_eq!(done.offer, None, "success closes the dialog");
        assert_eq!(done.busy, None, "and nothing waits");
    }

    #[test]
    fn signing_out_withdraws_the_question() {
        let state = Rc::<LocalBooks>::default()
            .reduce(LocalBooksAction::Asked(1))
            .reduce(LocalBooksAction::Withdrawn)
            .reduce(LocalBooksAction::Answered {
                request: 1,
                offer: Some(offer(1, &[])),
            });
        assert_eq!(
            state.offer, None,
            "an answer for an account that signed out is not shown"
        );
    }

    #[test]
    fn texts_count_the_books() {
        assert_eq!(
            title(&offer(1, &["Dune"])),
            "1 book is only on this computer"
        );
        assert_eq!(
            title(&offer(2_500, &[])),
            "2,500 books are only on this computer"
        );
        assert_eq!(
            more(&offer(5, &["A", "B", "C"])).as_deref(),
            Some("and 2 more"),
            "the titles not shown are counted"
        );
        assert_eq!(
            more(&offer(3, &["A", "B", "C"])),
            None,
            "nothing more when every title is shown"
        );
        assert_eq!(
            kept_text(&offer(1, &[])),
            "Kept 1 book on this computer only; it shows when you're signed out"
        );
        assert_eq!(
            kept_text(&offer(4, &[])),
            "Kept 4 books on this computer only; they show when you're signed out"
        );
    }

    #[test]
    fn the_move_toast_says_what_happened() {
        let moved = |moved, already_there| MovedBooks {
            moved,
            already_there,
        };
        assert_eq!(moved_text(moved(3, 0)), "Moved 3 books into your account");
        assert_eq!(moved_text(moved(1, 0)), "Moved 1 book into your account");
        assert_eq!(
            moved_text(moved(2, 1)),
            "Moved 2 books into your account; 1 was already there",
            "books moved before an interruption are mentioned"
        );
        assert_eq!(
            moved_text(moved(0, 2)),
            "2 books were already in your account"
        );
        assert_eq!(moved_text(moved(0, 0)), "No books needed moving");
    }
}
