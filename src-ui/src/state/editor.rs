//! Which form is open. One at a time: opening one closes the other, so Esc always has one
//! obvious meaning (and the edit form's element ids are never on the page twice).

use std::rc::Rc;

use bookwish_ipc::BookId;
use yew::Reducible;

/// The open form, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Editor {
    /// No form open.
    #[default]
    Closed,
    /// The add form is open.
    Adding,
    /// The row of this book is expanded into its editor.
    Editing(BookId),
    /// The edit form is open in the review panel, on the refused change with this id.
    Fixing(i64),
}

/// What the user did with the forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditorAction {
    /// Open the add form ("New book" or `n`).
    Add,
    /// Expand the row of this book into its editor.
    Edit(BookId),
    /// Open the edit form on a refused change ("Fix…" in the review panel).
    Fix(i64),
    /// Close whatever is open (Esc, Cancel, or saved).
    Close,
    /// This book is gone (deleted): close its editor if it is open.
    Removed(BookId),
}

impl Editor {
    /// The book being edited, if any.
    pub fn editing(self) -> Option<BookId> {
        match self {
            Editor::Editing(id) => Some(id),
            _ => None,
        }
    }

    /// The refused change being fixed, if any.
    pub fn fixing(self) -> Option<i64> {
        match self {
            Editor::Fixing(id) => Some(id),
            _ => None,
        }
    }
}

impl Reducible for Editor {
    type Action = EditorAction;

    fn reduce(self: Rc<Self>, action: EditorAction) -> Rc<Self> {
        let next = match action {
            EditorAction::Add => Editor::Adding,
            EditorAction::Edit(id) => Editor::Editing(id),
            EditorAction::Fix(id) => Editor::Fixing(id),
            EditorAction::Close => Editor::Closed,
            EditorAction::Removed(id) if *self == Editor::Editing(id) => Editor::Closed,
            EditorAction::Removed(_) => *self,
        };
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn one_form_at_a_time() {
        let id = Uuid::from_u128(1);
        let state = Rc::new(Editor::Closed).reduce(EditorAction::Edit(id));
        assert_eq!(*state, Editor::Editing(id), "edit opens the row's editor");
        let state = state.reduce(EditorAction::Add);
        assert_eq!(*state, Editor::Adding, "the add form replaces the editor");
        let state = state.reduce(EditorAction::Fix(7));
        assert_eq!(
            *state,
            Editor::Fixing(7),
            "fixing a refused change replaces the add form"
        );
        assert_eq!(state.fixing(), Some(7), "the fixed change is known");
        assert_eq!(state.editing(), None, "no row is expanded while fixing");
        let state = state.reduce(EditorAction::Edit(id));
        assert_eq!(state.fixing(), None, "a row's editor replaces the fix form");
        let state = state.reduce(EditorAction::Close);
        assert_eq!(*state, Editor::Closed, "close closes");
    }

    #[test]
    fn deleting_the_edited_book_closes_its_editor_only() {
        let edited = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let state = Rc::new(Editor::Editing(edited));
        let same = Rc::clone(&state).reduce(EditorAction::Removed(other));
        assert!(
            Rc::ptr_eq(&state, &same),
            "deleting another book leaves the editor open"
        );
        let closed = state.reduce(EditorAction::Removed(edited));
        assert_eq!(
            *closed,
            Editor::Closed,
            "deleting the edited book closes its editor"
        );
        let adding = Rc::new(Editor::Adding).reduce(EditorAction::Removed(edited));
        assert_eq!(
            *adding,
            Editor::Adding,
            "a delete never closes the add form"
        );
    }
}
