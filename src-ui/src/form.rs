//! What a form holds while the user types, and where the core's error goes.

use std::rc::Rc;

use bookwish_ipc::isbn::Isbn;
use bookwish_ipc::{Book, BookDraft, IpcError, Status};
use yew::Reducible;

/// The fields of the add form and the inline editor, as typed. Dates are what
/// `<input type="date">` gives: `YYYY-MM-DD` or empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    /// Title as typed (not trimmed: the core trims and validates).
    pub title: String,
    /// Author as typed.
    pub author: String,
    /// Chosen status.
    pub status: Status,
    /// Notes as typed.
    pub notes: String,
    /// Chosen rating, or none.
    pub rating: Option<u8>,
    /// Start date or empty.
    pub started_on: String,
    /// Finish date or empty.
    pub finished_on: String,
    /// ISBN as typed (an ISBN-10, hyphens and spaces are fine: the core converts and checks).
    pub isbn: String,
}

/// A form field the user can type in or pick, named as the core names it in
/// [`IpcError::field`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// `title`
    Title,
    /// `author`
    Author,
    /// `status`
    Status,
    /// `notes`
    Notes,
    /// `rating`
    Rating,
    /// `started_on`
    StartedOn,
    /// `finished_on`
    FinishedOn,
    /// `isbn`
    Isbn,
}

impl Field {
    /// Every field, in form order.
    pub const ALL: [Field; 8] = [
        Field::Title,
        Field::Author,
        Field::Status,
        Field::Notes,
        Field::Rating,
        Field::StartedOn,
        Field::FinishedOn,
        Field::Isbn,
    ];

    /// The name the core uses for it.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Author => "author",
            Field::Status => "status",
            Field::Notes => "notes",
            Field::Rating => "rating",
            Field::StartedOn => "started_on",
            Field::FinishedOn => "finished_on",
            Field::Isbn => "isbn",
        }
    }

    /// The field the core names, if it is one of these.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.name() == name)
    }
}

impl Fields {
    /// A new book with this status.
    pub fn with_status(status: Status) -> Self {
        Fields {
            status,
            ..Fields::default()
        }
    }

    /// The fields of an existing book, for its editor.
    pub fn of(book: &Book) -> Self {
        Fields {
            title: book.title.clone(),
            author: book.author.clone(),
            status: book.status,
            notes: book.notes.clone(),
            rating: book.rating,
            started_on: book.started_on.clone().unwrap_or_default(),
            finished_on: book.finished_on.clone().unwrap_or_default(),
            isbn: book.isbn.clone().unwrap_or_default(),
        }
    }

    /// The fields of a draft: a refused change's proposal, for its fix form.
    pub fn of_draft(draft: &BookDraft) -> Self {
        Fields {
            title: draft.title.clone(),
            author: draft.author.clone(),
            status: draft.status,
            notes: draft.notes.clone(),
            rating: draft.rating,
            started_on: draft.started_on.clone().unwrap_or_default(),
            finished_on: draft.finished_on.clone().unwrap_or_default(),
            isbn: draft.isbn.clone().unwrap_or_default(),
        }
    }

    /// What to send to the core: everything as typed; an empty date or ISBN means none.
    pub fn draft(&self) -> BookDraft {
        let optional = |text: &str| {
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_owned())
        };
        BookDraft {
            title: self.title.clone(),
            author: self.author.clone(),
            status: self.status,
            notes: self.notes.clone(),
            rating: self.rating,
            started_on: optional(&self.started_on),
            finished_on: optional(&self.finished_on),
            isbn: optional(&self.isbn),
        }
    }

    /// What the typed ISBN will be saved as, when that differs from what was typed: an ISBN-10
    /// (or one written with hyphens) is saved as its 13 digits. `None` while it is not (yet) a
    /// valid ISBN: the core explains what is wrong on save.
    pub fn isbn_saved_as(&self) -> Option<String> {
        let typed = self.isbn.trim();
        let isbn = Isbn::parse(typed).ok()?.to_string();
        (isbn != typed).then_some(isbn)
    }
}

/// One change the user made to a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Typed in the title.
    Title(String),
    /// Typed in the author.
    Author(String),
    /// Picked a status.
    Status(Status),
    /// Typed in the notes.
    Notes(String),
    /// Picked a rating, or none.
    Rating(Option<u8>),
    /// Picked or cleared the start date.
    StartedOn(String),
    /// Picked or cleared the finish date.
    FinishedOn(String),
    /// Typed in the ISBN.
    Isbn(String),
}

/// Forms keep their fields in a reducer so quick keystrokes always apply to the latest value.
impl Reducible for Fields {
    type Action = Edit;

    fn reduce(self: Rc<Self>, edit: Edit) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        match edit {
            Edit::Title(text) => next.title = text,
            Edit::Author(text) => next.author = text,
            Edit::Status(status) => next.status = status,
            Edit::Notes(text) => next.notes = text,
            Edit::Rating(rating) => next.rating = rating,
            Edit::StartedOn(date) => next.started_on = date,
            Edit::FinishedOn(date) => next.finished_on = date,
            Edit::Isbn(text) => next.isbn = text,
        }
        Rc::new(next)
    }
}

/// Where a form shows the core's error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormError {
    /// The field at fault, if it is one the form shows; otherwise the message goes above the
    /// buttons.
    pub field: Option<Field>,
    /// The core's message.
    pub message: String,
}

impl FormError {
    /// Places `err` in a form that shows `shown` fields.
    pub fn place(err: IpcError, shown: &[Field]) -> Self {
        let field = err
            .field
            .as_deref()
            .and_then(Field::from_name)
            .filter(|field| shown.contains(field));
        FormError {
            field,
            message: err.message,
        }
    }

    /// The message, if it belongs next to `field`.
    pub fn on(&self, field: Field) -> Option<&str> {
        (self.field == Some(field)).then_some(self.message.as_str())
    }

    /// The message, if it belongs to no shown field.
    pub fn general(&self) -> Option<&str> {
        self.field.is_none().then_some(self.message.as_str())
    }
}

#[cfg(test)]
mod tests {
    use bookwish_ipc::ErrorCode;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_draft_is_what_was_typed_with_empty_dates_as_none() {
        let fields = Fields {
            title: "  ".into(),
            author: "Frank Herbert".into(),
            started_on: "2024-01-02".into(),
            ..Fields::with_status(Status::Reading)
        };
        let draft = fields.draft();
        assert_eq!(
            draft.title, "  ",
            "the title goes to the core untouched, even blank"
        );
        assert_eq!(draft.status, Status::Reading, "the chosen status is sent");
        assert_eq!(
            draft.started_on.as_deref(),
            Some("2024-01-02"),
            "a date is sent"
        );
        assert_eq!(draft.finished_on, None, "an empty date means no date");
    }

    #[test]
    fn edits_change_one_field_each() {
        let fields = Rc::new(Fields::default())
            .reduce(Edit::Title("Dune".into()))
            .reduce(Edit::Author("Herbert".into()))
            .reduce(Edit::Status(Status::Finished))
            .reduce(Edit::Notes("Spice".into()))
            .reduce(Edit::Rating(Some(4)))
            .reduce(Edit::StartedOn("2024-01-02".into()))
            .reduce(Edit::FinishedOn("2024-02-03".into()))
            .reduce(Edit::Isbn("0-441-01359-7".into()));
        let expected = Fields {
            title: "Dune".into(),
            author: "Herbert".into(),
            status: Status::Finished,
            notes: "Spice".into(),
            rating: Some(4),
            started_on: "2024-01-02".into(),
            finished_on: "2024-02-03".into(),
            isbn: "0-441-01359-7".into(),
        };
        assert_eq!(*fields, expected, "each edit sets its own field");
        let cleared = fields.reduce(Edit::Rating(None));
        assert_eq!(cleared.rating, None, "the rating can be cleared");
    }

    #[test]
    fn a_book_round_trips_through_its_editor() {
        let book = Book {
            id: Uuid::from_u128(1),
            title: "Dune".into(),
            author: "Frank Herbert".into(),
            status: Status::Finished,
            notes: "Spice".into(),
            rating: Some(5),
            started_on: Some("2024-01-02".into()),
            finished_on: Some("2024-02-03".into()),
            isbn: Some("9780441013593".into()),
            created_at: 1,
            updated_at: 2,
        };
        assert_eq!(
            Fields::of(&book).draft(),
            BookDraft::from(&book),
            "saving an unchanged editor sends the book as it is"
        );
        let draft = BookDraft::from(&book);
        assert_eq!(
            Fields::of_draft(&draft),
            Fields::of(&book),
            "a proposal opens like the book it describes"
        );
        assert_eq!(
            Fields::of_draft(&draft).draft(),
            draft,
            "saving an unchanged fix form sends the proposal as it is"
        );
    }

    #[test]
    fn an_isbn_is_sent_as_typed_and_shown_as_it_will_be_saved() {
        let typed = |isbn: &str| Fields {
            isbn: isbn.into(),
            ..Fields::default()
        };
        assert_eq!(
            typed(" 0-441-01359-7 ").draft().isbn.as_deref(),
            Some("0-441-01359-7"),
            "the core gets the ISBN as typed, trimmed"
        );
        assert_eq!(typed("  ").draft().isbn, None, "a blank ISBN is none");
        assert_eq!(
            typed("0-441-01359-7").isbn_saved_as().as_deref(),
            Some("9780441013593"),
            "an ISBN-10 is shown as the ISBN-13 it will be saved as"
        );
        assert_eq!(
            typed("9780441013593").isbn_saved_as(),
            None,
            "an ISBN-13 needs no note"
        );
        assert_eq!(
            typed("0-441-01359-8").isbn_saved_as(),
            None,
            "a wrong check digit gets no note: the core's message says what is wrong"
        );
    }

    #[test]
    fn errors_go_next_to_the_field_they_name() {
        let shown = [Field::Title, Field::Author, Field::Status];
        let on_title = FormError::place(IpcError::validation("title", "Add a title"), &shown);
        assert_eq!(
            on_title.on(Field::Title),
            Some("Add a title"),
            "next to the title"
        );
        assert_eq!(on_title.general(), None, "not repeated above the buttons");

        let hidden = FormError::place(IpcError::validation("rating", "1 to 5"), &shown);
        assert_eq!(
            hidden.general(),
            Some("1 to 5"),
            "a field the form lacks: general"
        );

        let storage = FormError::place(IpcError::new(ErrorCode::Storage, "Disk full"), &shown);
        assert_eq!(storage.general(), Some("Disk full"), "no field: general");
        assert_eq!(storage.on(Field::Title), None, "and not on a field");
    }
}
