//! Toasts: "Deleted “Title”" with undo, "Imported 12 books" with undo, news ("Moved 3 books
//! into your account"), and errors from commands.

use std::rc::Rc;

use bookwish_ipc::{Book, IpcError};
use yew::Reducible;

/// At most this many toasts are shown; older ones give way.
pub const MAX_NOTICES: usize = 3;

/// One toast.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// Unique for the app's lifetime; keys the toast and its timer.
    pub id: u64,
    /// What it says.
    pub kind: NoticeKind,
}

/// What a toast is about.
#[derive(Clone, Debug, PartialEq)]
pub enum NoticeKind {
    /// A book was deleted; the toast offers undo.
    Deleted(Rc<Book>),
    /// A command failed; the toast shows its message.
    Failed(IpcError),
    /// Something worked that the user should hear about; the toast says what.
    Info(String),
    /// A file was imported; the toast says what it did and offers to undo all of it.
    Imported {
        /// The import, for `undo_import`.
        import_id: i64,
        /// What it did, in words.
        text: String,
    },
}

/// The toasts on screen, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notices {
    /// The toasts, oldest first.
    pub items: Vec<Notice>,
    next_id: u64,
}

/// What happens to toasts.
#[derive(Clone, Debug, PartialEq)]
pub enum NoticesAction {
    /// A book was deleted.
    Deleted(Book),
    /// A command failed.
    Failed(IpcError),
    /// Something worked; say so.
    Info(String),
    /// A file was imported (and can be undone).
    Imported {
        /// The import.
        import_id: i64,
        /// What it did, in words.
        text: String,
    },
    /// The toast timed out, was closed, or its undo ran.
    Dismiss(u64),
}

impl Reducible for Notices {
    type Action = NoticesAction;

    fn reduce(self: Rc<Self>, action: NoticesAction) -> Rc<Self> {
        let kind = match action {
            NoticesAction::Dismiss(id) => {
                if !self.items.iter().any(|n| n.id == id) {
                    return self;
                }
                let mut next = (*self).clone();
                next.items.retain(|n| n.id != id);
                return Rc::new(next);
            }
            NoticesAction::Deleted(book) => NoticeKind::Deleted(Rc::new(book)),
            NoticesAction::Failed(err) => NoticeKind::Failed(err),
            NoticesAction::Info(text) => NoticeKind::Info(text),
            NoticesAction::Imported { import_id, text } => NoticeKind::Imported { import_id, text },
        };
        let mut next = (*self).clone();
        // The same error again (say, the disk stays full) replaces its toast rather than
        // stacking copies; the new id restarts its timer.
        if let NoticeKind::Failed(err) = &kind {
            next.items
                .retain(|n| !matches!(&n.kind, NoticeKind::Failed(e) if e.message == err.message));
        }
        next.next_id += 1;
        next.items.push(Notice {
            id: next.next_id,
            kind,
        });
        if next.items.len() > MAX_NOTICES {
            let extra = next.items.len() - MAX_NOTICES;
            next.items.drain(..extra);
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use bookwish_ipc::{ErrorCode, Status};
    use uuid::Uuid;

    use super::*;

    fn book(n: u128) -> Book {
        Book {
            id: Uuid::from_u128(n),
            title: format!("Book {n}"),
            author: String::new(),
            status: Status::Reading,
            notes: String::new(),
            rating: None,
            started_on: None,
            finished_on: None,
            isbn: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_delete_shows_a_toast_until_dismissed() {
        let state = Rc::<Notices>::default().reduce(NoticesAction::Deleted(book(1)));
        assert_eq!(state.items.len(), 1, "a delete shows one toast");
        let id = state.items[0].id;
        assert!(
            matches!(&state.items[0].kind, NoticeKind::Deleted(b) if b.id == Uuid::from_u128(1)),
            "the toast keeps the deleted book for undo"
        );
        let state = state.reduce(NoticesAction::Dismiss(id));
        assert!(state.items.is_empty(), "dismiss removes the toast");
        let same = Rc::clone(&state).reduce(NoticesAction::Dismiss(id));
        assert!(
            Rc::ptr_eq(&state, &same),
            "dismissing twice changes nothing"
        );
    }

    #[test]
    fn ids_are_unique_and_old_toasts_give_way() {
        let mut state = Rc::<Notices>::default();
        for n in 0..5 {
            state = state.reduce(NoticesAction::Deleted(book(n)));
        }
        assert_eq!(
            state.items.len(),
            MAX_NOTICES,
            "at most {MAX_NOTICES} toasts"
        );
        let ids: Vec<u64> = state.items.iter().map(|n| n.id).collect();
        assert_eq!(
            ids,
            vec![3, 4, 5],
            "the newest toasts stay, each with its own id"
        );
    }

    #[test]
    fn a_repeated_error_replaces_its_toast() {
        let err = IpcError::new(ErrorCode::Storage, "The disk is full");
        let state = Rc::<Notices>::default()
            .reduce(NoticesAction::Failed(err.clone()))
            .reduce(NoticesAction::Failed(err));
        assert_eq!(state.items.len(), 1, "the same message is shown once");
        assert_eq!(state.items[0].id, 2, "the repeat restarts the toast");
    }

    #[test]
    fn news_is_a_toast_of_its_own() {
        let state = Rc::<Notices>::default()
            .reduce(NoticesAction::Failed(IpcError::new(
                ErrorCode::Storage,
                "Moved",
            )))
            .reduce(NoticesAction::Info("Moved".into()));
        assert_eq!(
            state.items.len(),
            2,
            "news never replaces an error, even with the same words"
        );
        assert_eq!(
            state.items[1].kind,
            NoticeKind::Info("Moved".into()),
            "the news is shown as given"
        );
    }
}
