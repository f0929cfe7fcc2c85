//! The visible list: the query the user set, the core's answer to it, and the counts.

use std::rc::Rc;

use bookwish_ipc::{BookId, BookList, ListQuery, ListedBook, Sort, Status, StatusCounts};
use yew::Reducible;

/// How many books a new query asks for first, before the rest: rows are 64 px, so 80 fill a
/// window 5,000 px tall, overscan included.
pub const FIRST_SCREENFUL: u32 = 80;

/// The books of the visible list, shared: cloning is one pointer, comparing is pointer
/// identity (the list is never mutated in place, so the same pointer means the same books).
#[derive(Clone, Debug, Default)]
pub struct Books(Rc<Vec<Rc<ListedBook>>>);

impl Books {
    /// Wraps the core's answer.
    pub fn new(books: Vec<ListedBook>) -> Self {
        Books(Rc::new(books.into_iter().map(Rc::new).collect()))
    }

    /// The books in order.
    pub fn as_slice(&self) -> &[Rc<ListedBook>] {
        &self.0
    }

    /// Number of books.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Position of the book with `id`.
    pub fn position(&self, id: BookId) -> Option<usize> {
        self.0.iter().position(|book| book.id == id)
    }
}

impl PartialEq for Books {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// What the list shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Library {
    /// Filter, search and sort, as the user set them. The app re-queries the core when it
    /// changes.
    pub query: ListQuery,
    /// Bumped to ask for the same query again (after a command, or when the shell says the
    /// books changed).
    pub revision: u64,
    /// The core's answer to the latest request that came back.
    pub books: Books,
    /// How many books match the query: more than `books` while only the first screenful of
    /// a new query is here.
    pub matching: usize,
    /// Books per status, over the whole list.
    pub counts: StatusCounts,
    /// Whether a first answer arrived (the list is on screen).
    pub ready: bool,
    /// The request number of the answer shown; older answers that arrive late are dropped.
    pub shown_request: u64,
    /// A book just added (or restored), highlighted and scrolled into view once it is in the
    /// list.
    pub fresh: Option<Fresh>,
}

/// A book to point out once the list shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fresh {
    /// The book.
    pub id: BookId,
    /// The first revision whose answer can contain it; an answer of that revision or later
    /// without it (the filter hides it) ends the highlight.
    pub revision: u64,
}

/// What can happen to the list.
#[derive(Clone, Debug, PartialEq)]
pub enum LibraryAction {
    /// The user typed in the search field (already debounced).
    Search(String),
    /// The user picked a status filter, or all.
    Filter(Option<Status>),
    /// The user picked an order.
    Sort(Sort),
    /// Query the core again, e.g. after a change.
    Reload,
    /// The answer to request number `request` arrived.
    Loaded {
        /// Increasing number given to each request when it was sent.
        request: u64,
        /// The revision the request was sent for.
        revision: u64,
        /// The core's answer.
        list: BookList,
    },
    /// A command answered with the new state of one book: show it at once, before the
    /// reload that follows brings order and counts up to date.
    Replaced(ListedBook),
    /// A book was added: reload and point it out.
    Added(BookId),
    /// The added book was pointed out; stop highlighting it.
    Seen,
}

impl Reducible for Library {
    type Action = LibraryAction;

    fn reduce(self: Rc<Self>, action: LibraryAction) -> Rc<Self> {
        match action {
            LibraryAction::Search(search) => {
                if self.query.search == search {
                    return self;
                }
                let mut next = (*self).clone();
                next.query.search = search;
                Rc::new(next)
            }
            LibraryAction::Filter(status) => {
                if self.query.status == status {
                    return self;
                }
                let mut next = (*self).clone();
                next.query.status = status;
                Rc::new(next)
            }
            LibraryAction::Sort(sort) => {
                if self.query.sort == sort {
                    return self;
                }
                let mut next = (*self).clone();
                next.query.sort = sort;
                Rc::new(next)
            }
            LibraryAction::Reload => {
                let mut next = (*self).clone();
                next.revision += 1;
                Rc::new(next)
            }
            LibraryAction::Loaded {
                request,
                revision,
                list,
            } => {
                if request < self.shown_request {
                    return self;
                }
                let mut next = (*self).clone();
                next.books = Books::new(list.books);
                next.matching = usize::try_from(list.matching)
                    .unwrap_or(usize::MAX)
                    .max(next.books.len());
                if let Some(fresh) = next.fresh {
                    // Only the whole list can tell that the book is not in it.
                    if revision >= fresh.revision
                        && next.books.len() == next.matching
                        && next.books.position(fresh.id).is_none()
                    {
                        next.fresh = None;
                    }
                }
                next.counts = list.counts;
                next.ready = true;
                next.shown_request = request;
                Rc::new(next)
            }
            LibraryAction::Replaced(book) => {
                let Some(index) = self.books.position(book.id) else {
                    return self;
                };
                if *self.books.as_slice()[index] == book {
                    return self;
                }
                // A shallow copy: 10,000 pointer copies, no book is cloned.
                let mut books: Vec<Rc<ListedBook>> = self.books.as_slice().to_vec();
                books[index] = Rc::new(book);
                let mut next = (*self).clone();
                next.books = Books(Rc::new(books));
                Rc::new(next)
            }
            LibraryAction::Added(id) => {
                let mut next = (*self).clone();
                next.revision += 1;
                next.fresh = Some(Fresh {
                    id,
                    revision: next.revision,
                });
                Rc::new(next)
            }
            LibraryAction::Seen => {
                if self.fresh.is_none() {
                    return self;
                }
                let mut next = (*self).clone();
                next.fresh = None;
                Rc::new(next)
            }
        }
    }
}

impl Library {
    /// Whether the user narrowed the list (a filter or a search is set).
    pub fn is_narrowed(&self) -> bool {
        self.query.status.is_some() || !self.query.search.trim().is_empty()
    }

    /// Whether every matching book is here (not only the first screenful of a new query).
    pub fn is_complete(&self) -> bool {
        self.ready && self.books.len() >= self.matching
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn book(n: u128, title: &str) -> ListedBook {
        ListedBook {
            id: Uuid::from_u128(n),
            title: title.to_owned(),
            author: String::new(),
            status: Status::Wishlist,
            rating: None,
        }
    }

    fn list(books: Vec<ListedBook>) -> BookList {
        let matching = books.len() as u32;
        head(books, matching)
    }

    /// The first of `matching` books.
    fn head(books: Vec<ListedBook>, matching: u32) -> BookList {
        let counts = StatusCounts {
            wishlist: matching,
            ..StatusCounts::default()
        };
        BookList {
            books,
            matching,
            counts,
        }
    }

    #[test]
    fn a_first_screenful_shows_at_once_and_the_rest_completes_it() {
        let first = reduce(
            Rc::default(),
            LibraryAction::Loaded {
                request: 1,
                revision: 0,
                list: head(vec![book(1, "Dune")], 3),
            },
        );
        assert!(first.ready, "the first screenful makes the list ready");
        assert!(
            !first.is_complete(),
            "one book of three is not the whole list"
        );
        assert_eq!(first.matching, 3, "the list knows how many books match");
        let whole = reduce(
            first,
            LibraryAction::Loaded {
                request: 2,
                revision: 0,
                list: list(vec![book(1, "Dune"), book(2, "Emma"), book(3, "Ulysses")]),
            },
        );
        assert!(whole.is_complete(), "the rest completes the list");
        assert_eq!(whole.books.len(), 3, "every book is shown");
        let late = reduce(
            Rc::clone(&whole),
            LibraryAction::Loaded {
                request: 1,
                revision: 0,
                list: head(vec![book(1, "Dune")], 3),
            },
        );
        assert!(
            Rc::ptr_eq(&late, &whole),
            "a first screenful arriving after the whole list is dropped"
        );
    }

    #[test]
    fn a_first_screenful_without_the_fresh_book_keeps_it_highlighted() {
        let id = Uuid::from_u128(9);
        let added = reduce(Rc::default(), LibraryAction::Added(id));
        let first = reduce(
            Rc::clone(&added),
            LibraryAction::Loaded {
                request: 1,
                revision: added.revision,
                list: head(vec![book(1, "Dune")], 2),
            },
        );
        assert!(
            first.fresh.is_some(),
            "the book may be in the part of the list still to come"
        );
    }

    fn reduce(state: Rc<Library>, action: LibraryAction) -> Rc<Library> {
        state.reduce(action)
    }

    #[test]
    fn answers_make_the_list_ready() {
        let state = reduce(
            Rc::default(),
            LibraryAction::Loaded {
                request: 1,
                revision: 0,
                list: list(vec![book(1, "Dune")]),
            },
        );
        assert!(state.ready, "the first answer makes the list ready");
        assert_eq!(state.books.len(), 1, "the answer's books are shown");
        assert_eq!(state.counts.total(), 1, "the answer's counts are shown");
    }

    #[test]
    fn a_late_answer_to_an_older_request_is_dropped() {
        let state = reduce(
            Rc::default(),
            LibraryAction::Loaded {
                request: 2,
                revision: 0,
                list: list(vec![book(1, "Dune")]),
            },
        );
        let after = reduce(
            Rc::clone(&state),
            LibraryAction::Loaded {
                request: 1,
                revision: 0,
                list: list(vec![]),
            },
        );
        assert!(
            Rc::ptr_eq(&state, &after),
            "an answer older than the one shown must not replace it"
        );
    }

    #[test]
    fn changing_the_query_keeps_the_books_until_the_answer() {
        let state = reduce(
            Rc::default(),
            LibraryAction::Loaded {
                request: 1,
                revision: 0,
                list: list(vec![book(1, "Dune")]),
            },
        );
        let searched = reduce(Rc::clone(&state), LibraryAction::Search("dun".into()));
        assert_eq!(searched.query.search, "dun", "the search is stored");
        assert_eq!(
            searched.books, state.books,
            "the books are shared, not cloned"
        );
        let filtered = reduce(searched, LibraryAction::Filter(Some(Status::Reading)));
        assert_eq!(
            filtered.query.status,
            Some(Status::Reading),
            "the filter is stored"
        );
        let sorted = reduce(filtered, LibraryAction::Sort(Sort::Title));
        assert_eq!(sorted.query.sort, Sort::Title, "the order is stored");
        assert!(
            sorted.is_narrowed(),
            "a filter or a search narrows the list"
        );
    }

    #[test]
    fn an_unchanged_query_does_not_re_render() {
        let state: Rc<Library> = Rc::default();
        let same = reduce(Rc::clone(&state), LibraryAction::Search(String::new()));
        assert!(Rc::ptr_eq(&state, &same), "an equal search keeps the state");
        let same = reduce(Rc::clone(&state), LibraryAction::Filter(None));
        assert!(Rc::ptr_eq(&state, &same), "an equal filter keeps the state");
        let same = reduce(Rc::clone(&state), LibraryAction::Sort(Sort::RecentlyAdded));
        assert!(Rc::ptr_eq(&state, &same), "an equal order keeps the state");
    }

    #[test]
    fn reload_bumps_the_revision() {
        let state = reduce(Rc::default(), LibraryAction::Reload);
        assert_eq!(state.revision, 1, "reload asks for the same query again");
        let added = reduce(state, LibraryAction::Added(Uuid::from_u128(9)));
        assert_eq!(added.revision, 2, "adding a book reloads");
        assert_eq!(
            added.fresh.map(|f| f.id),
            Some(Uuid::from_u128(9)),
            "the new book is pointed out"
        );
        let seen = reduce(added, LibraryAction::Seen);
        assert_eq!(
            seen.fresh, None,
            "once seen, the new book is no longer highlighted"
        );
    }

    #[test]
    fn a_fresh_book_the_filter_hides_is_forgotten() {
        let id = Uuid::from_u128(9);
        let added = reduce(Rc::default(), LibraryAction::Added(id));
        let stale = reduce(
            Rc::clone(&added),
            LibraryAction::Loaded {
                request: 1,
                revision: 0,
                list: list(vec![]),
            },
        );
        assert!(
            stale.fresh.is_some(),
            "an answer sent before the add cannot tell whether the book is shown"
        );
        let hidden = reduce(
            stale,
            LibraryAction::Loaded {
                request: 2,
                revision: added.revision,
                list: list(vec![book(1, "Dune")]),
            },
        );
        assert_eq!(
            hidden.fresh, None,
            "a newer answer without the book ends the highlight"
        );
        let shown = reduce(
            Rc::clone(&added),
            LibraryAction::Loaded {
                request: 1,
                revision: added.revision,
                list: list(vec![book(9, "New")]),
            },
        );
        assert!(
            shown.fresh.is_some(),
            "the book in the answer stays highlighted"
        );
    }

    #[test]
    fn replaced_swaps_one_book_and_shares_the_others() {
        let state = reduce(
            Rc::default(),
            LibraryAction::Loaded {
                request: 1,
                revision: 0,
                list: list(vec![book(1, "Dune"), book(2, "Emma")]),
            },
        );
        let mut changed = book(2, "Emma");
        changed.status = Status::Reading;
        let next = reduce(Rc::clone(&state), LibraryAction::Replaced(changed));
        assert_eq!(
            next.books.as_slice()[1].status,
            Status::Reading,
            "the replaced book shows its new status"
        );
        assert!(
            Rc::ptr_eq(&next.books.as_slice()[0], &state.books.as_slice()[0]),
            "untouched books keep their allocation, so their rows do not re-render"
        );
        let unknown = reduce(Rc::clone(&next), LibraryAction::Replaced(book(7, "Gone")));
        assert!(
            Rc::ptr_eq(&next, &unknown),
            "a book not in the list changes nothing"
        );
    }
}
