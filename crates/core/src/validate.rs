//! The rules a draft must follow before it reaches the database, each answered with a sentence
//! the user understands.
//!
//! Validation runs before any transaction starts, so a rejected edit writes nothing.

use bookwish_ipc::{limits, BookDraft};
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::fields::Fields;
use crate::fold::fold;
use crate::isbn::Isbn;

/// Checks every field of `draft` and returns them in canonical form, or the first rule broken.
pub(crate) fn draft(draft: &BookDraft) -> Result<Fields> {
    let fields = stored(draft)?;
    if let (Some(started), Some(finished)) = (&fields.started_on, &fields.finished_on) {
        // Canonical YYYY-MM-DD: text order is date order.
        if finished < started {
            return Err(Error::validation(
                "finished_on",
                "The finish date is before the start date.",
            ));
        }
    }
    Ok(fields)
}

/// The rules every stored book follows, whatever its source (typed, pulled, imported): each
/// field on its own. A book the user edits must also finish no earlier than it started
/// ([`draft`]); a row from the server may not (two devices' edits of the two dates merge
/// field by field), and is still stored and shown.
pub(crate) fn stored(draft: &BookDraft) -> Result<Fields> {
    let title = title(&draft.title)?;
    let author = line("author", "Author", &draft.author, limits::AUTHOR_MAX)?;
    let notes = notes(&draft.notes)?;
    let rating = rating(draft.rating)?;
    let started_on = date("started_on", "Start date", draft.started_on.as_deref())?;
    let finished_on = date("finished_on", "Finish date", draft.finished_on.as_deref())?;
    let isbn = isbn(draft.isbn.as_deref())?;
    Ok(Fields {
        title,
        author,
        status: draft.status,
        notes,
        rating,
        started_on: started_on.map(format_date),
        finished_on: finished_on.map(format_date),
        isbn,
    })
}

/// A search as the list runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Search {
    /// The text, folded, matched anywhere in the folded title or author.
    pub(crate) folded: String,
    /// When the text reads as (the start of) an ISBN: the digits an ISBN must start with,
    /// either as an ISBN-13 or as the ISBN-10 inside a 978 ISBN-13. A complete ISBN-10 is
    /// converted to its ISBN-13, so it finds the book whichever form was typed.
    pub(crate) isbn: Option<String>,
}

/// Fewest digits that search ISBNs: shorter runs of digits are years and numbers in titles
/// ("1984") far more often than the start of an ISBN.
pub(crate) const ISBN_SEARCH_MIN_DIGITS: usize = 5;

/// The search for `text`, or `None` when it is blank (no search).
pub(crate) fn search(text: &str) -> Result<Option<Search>> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars > limits::SEARCH_MAX {
        return Err(Error::validation(
            "search",
            format!(
                "Search text is too long ({chars} characters; the limit is {}).",
                limits::SEARCH_MAX
            ),
        ));
    }
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(Search {
        folded: fold(text),
        isbn: isbn_search(text),
    }))
}

/// The ISBN digits `text` searches for: it must be digits with hyphens or spaces between them
/// (and an ISBN-10's final X), at least [`ISBN_SEARCH_MIN_DIGITS`] of them.
fn isbn_search(text: &str) -> Option<String> {
    if let Ok(isbn) = Isbn::parse(text) {
        return Some(isbn.to_string());
    }
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}' | '\u{2011}'))
        .collect();
    (digits.len() >= ISBN_SEARCH_MIN_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// An ISBN as typed (ISBN-10 or -13, hyphens and spaces allowed) in its 13-digit form; blank
/// is none.
fn isbn(raw: Option<&str>) -> Result<Option<Isbn>> {
    Isbn::parse_optional(raw.unwrap_or(""))
        .map_err(|error| Error::validation("isbn", error.to_string()))
}

fn title(raw: &str) -> Result<String> {
    let title = line("title", "Title", raw, limits::TITLE_MAX)?;
    if title.is_empty() {
        return Err(Error::validation("title", "Title can't be empty."));
    }
    Ok(title)
}

/// A one-line field: trimmed, at most `max` characters, no control characters.
fn line(field: &'static str, label: &str, raw: &str, max: usize) -> Result<String> {
    let text = raw.trim();
    too_long(field, &format!("{label} is"), text, max)?;
    if text.chars().any(char::is_control) {
        return Err(Error::validation(
            field,
            format!("{label} can't contain line breaks, tabs or other control characters."),
        ));
    }
    Ok(text.to_owned())
}

/// Notes keep their line breaks and tabs; Windows line ends become `\n` so one text has one
/// form (and an unchanged note never shows up as a change).
fn notes(raw: &str) -> Result<String> {
    let notes = if raw.contains('\r') {
        raw.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        raw.to_owned()
    };
    too_long("notes", "Notes are", &notes, limits::NOTES_MAX)?;
    if notes
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::validation(
            "notes",
            "Notes can't contain control characters other than line breaks and tabs.",
        ));
    }
    Ok(notes)
}

/// `subject` is the start of the sentence: "Title is", "Notes are".
fn too_long(field: &'static str, subject: &str, text: &str, max: usize) -> Result<()> {
    // Byte length bounds the character count from above: skip counting short texts.
    if text.len() <= max {
        return Ok(());
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(Error::validation(
            field,
            format!("{subject} too long ({chars} characters; the limit is {max})."),
        ));
    }
    Ok(())
}

fn rating(rating: Option<u8>) -> Result<Option<u8>> {
    match rating {
        Some(stars) if !(limits::RATING_MIN..=limits::RATING_MAX).contains(&stars) => {
            Err(Error::validation(
                "rating",
                format!(
                    "Rating must be between {} and {} stars.",
                    limits::RATING_MIN,
                    limits::RATING_MAX
                ),
            ))
        }
        rating => Ok(rating),
    }
}

/// `None`, empty or blank means no date; anything else must be a real `YYYY-MM-DD` date.
fn date(field: &'static str, label: &str, raw: Option<&str>) -> Result<Option<NaiveDate>> {
    let Some(text) = raw.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(Error::validation(
            field,
            format!("{label} must be a date written like 2024-05-31."),
        ));
    }
    // Shape checked: the slices are ASCII digits, so the parses cannot fail.
    let part = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let year = i32::try_from(part(0..4)).unwrap_or(0);
    NaiveDate::from_ymd_opt(year, part(5..7), part(8..10))
        .filter(|_| year >= 1)
        .map(Some)
        .ok_or_else(|| {
            Error::validation(field, format!("{label} {text} isn't a real calendar date."))
        })
}

/// The stored and serialised form of a date.
pub(crate) fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use bookwish_ipc::Status;

    use super::*;

    fn ok_draft() -> BookDraft {
        BookDraft {
            title: "Dune".to_owned(),
            ..BookDraft::default()
        }
    }

    /// The field and message of the rejection of `draft`; panics if it was accepted.
    fn rejection(draft: &BookDraft) -> (&'static str, String) {
        match super::draft(draft) {
            Err(Error::Validation { field, message }) => (field, message),
            other => panic!("draft must be rejected with a validation error, got {other:?}"),
        }
    }

    #[test]
    fn title_is_trimmed_and_required() -> Result<()> {
        let fields = draft(&BookDraft {
            title: "  Dune \n".to_owned(),
            author: "\tFrank Herbert  ".to_owned(),
            ..BookDraft::default()
        })?;
        assert_eq!(fields.title, "Dune", "titles are stored trimmed");
        assert_eq!(fields.author, "Frank Herbert", "authors are stored trimmed");
        for blank in ["", "   ", "\n\t", "\u{00a0}\u{3000}"] {
            let (field, message) = rejection(&BookDraft {
                title: blank.to_owned(),
                ..BookDraft::default()
            });
            assert_eq!(
                (field, message.as_str()),
                ("title", "Title can't be empty."),
                "a blank title ({blank:?}) is rejected on the title field"
            );
        }
        Ok(())
    }

    #[test]
    fn title_length_is_counted_in_characters() -> Result<()> {
        let at_limit = "é".repeat(limits::TITLE_MAX);
        assert_eq!(
            draft(&BookDraft {
                title: at_limit.clone(),
                ..ok_draft()
            })?
            .title,
            at_limit,
            "a title of exactly TITLE_MAX characters (more bytes) is accepted"
        );
        let (field, message) = rejection(&BookDraft {
            title: "x".repeat(612),
            ..ok_draft()
        });
        assert_eq!(
            (field, message.as_str()),
            (
                "title",
                "Title is too long (612 characters; the limit is 500)."
            ),
            "the message gives the length and the limit"
        );
        Ok(())
    }

    #[test]
    fn author_is_optional_but_bounded() -> Result<()> {
        assert_eq!(draft(&ok_draft())?.author, "", "an empty author is allowed");
        let (field, message) = rejection(&BookDraft {
            author: "a".repeat(limits::AUTHOR_MAX + 1),
            ..ok_draft()
        });
        assert_eq!(
            field, "author",
            "a long author is rejected on the author field"
        );
        assert_eq!(
            message,
            "Author is too long (301 characters; the limit is 300)."
        );
        Ok(())
    }

    #[test]
    fn control_characters_are_rejected_in_title_and_author() {
        for bad in [
            "Du\u{0}ne",
            "Du\nne",
            "Du\tne",
            "Du\u{1f}ne",
            "Du\u{7f}ne",
            "Du\u{85}ne",
        ] {
            let (field, message) = rejection(&BookDraft {
                title: bad.to_owned(),
                ..ok_draft()
            });
            assert_eq!(
                field, "title",
                "control characters inside a title are rejected: {bad:?}"
            );
            assert_eq!(
                message,
                "Title can't contain line breaks, tabs or other control characters."
            );
            let (field, _) = rejection(&BookDraft {
                author: bad.to_owned(),
                ..ok_draft()
            });
            assert_eq!(
                field, "author",
                "control characters inside an author are rejected: {bad:?}"
            );
        }
    }

    #[test]
    fn notes_keep_line_breaks_and_tabs_but_no_other_controls() -> Result<()> {
        let fields = draft(&BookDraft {
            notes: "line one\n\tindented\r\nwindows\rold mac".to_owned(),
            ..ok_draft()
        })?;
        assert_eq!(
            fields.notes, "line one\n\tindented\nwindows\nold mac",
            "notes keep \\n and \\t; \\r\\n and \\r become \\n"
        );
        let (field, message) = rejection(&BookDraft {
            notes: "bell\u{7}".to_owned(),
            ..ok_draft()
        });
        assert_eq!(
            field, "notes",
            "other control characters in notes are rejected"
        );
        assert_eq!(
            message,
            "Notes can't contain control characters other than line breaks and tabs."
        );
        let (field, message) = rejection(&BookDraft {
            notes: "n".repeat(limits::NOTES_MAX + 1),
            ..ok_draft()
        });
        assert_eq!(field, "notes", "notes longer than NOTES_MAX are rejected");
        assert_eq!(
            message,
            "Notes are too long (10001 characters; the limit is 10000)."
        );
        Ok(())
    }

    #[test]
    fn rating_is_none_or_one_to_five() -> Result<()> {
        for stars in [None, Some(1), Some(5)] {
            assert_eq!(
                draft(&BookDraft {
                    rating: stars,
                    ..ok_draft()
                })?
                .rating,
                stars,
                "rating {stars:?} is accepted"
            );
        }
        for stars in [0, 6, 255] {
            let (field, message) = rejection(&BookDraft {
                rating: Some(stars),
                ..ok_draft()
            });
            assert_eq!(field, "rating", "rating {stars} is rejected");
            assert_eq!(message, "Rating must be between 1 and 5 stars.");
        }
        Ok(())
    }

    #[test]
    fn dates_are_strict_real_calendar_dates() -> Result<()> {
        let with = |started: Option<&str>, finished: Option<&str>| BookDraft {
            started_on: started.map(str::to_owned),
            finished_on: finished.map(str::to_owned),
            ..ok_draft()
        };
        let fields = draft(&with(Some("2024-02-29"), Some("")))?;
        assert_eq!(
            fields.started_on.as_deref(),
            Some("2024-02-29"),
            "a leap day is a real date"
        );
        assert_eq!(
            fields.finished_on, None,
            "an empty date string means no date"
        );
        assert_eq!(
            draft(&with(None, Some("  ")))?.finished_on,
            None,
            "a blank date is no date"
        );

        for bad in [
            "2024-5-31",
            "31/05/2024",
            "2024-05-31T10:00",
            "２０２４-05-31",
            "+024-05-31",
        ] {
            let (field, message) = rejection(&with(Some(bad), None));
            assert_eq!(field, "started_on", "{bad:?} is not YYYY-MM-DD");
            assert_eq!(
                message,
                "Start date must be a date written like 2024-05-31."
            );
        }
        for unreal in [
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "0000-01-01",
            "2024-00-10",
        ] {
            let (field, message) = rejection(&with(None, Some(unreal)));
            assert_eq!(field, "finished_on", "{unreal} is not a real date");
            assert_eq!(
                message,
                format!("Finish date {unreal} isn't a real calendar date.")
            );
        }
        Ok(())
    }

    #[test]
    fn finish_date_is_not_before_start_date() -> Result<()> {
        let draft_with = |started: &str, finished: &str| BookDraft {
            started_on: Some(started.to_owned()),
            finished_on: Some(finished.to_owned()),
            ..ok_draft()
        };
        draft(&draft_with("2024-05-01", "2024-05-01"))?;
        let (field, message) = rejection(&draft_with("2024-05-02", "2024-05-01"));
        assert_eq!(
            (field, message.as_str()),
            ("finished_on", "The finish date is before the start date."),
            "finishing before starting is rejected on the finish date"
        );
        Ok(())
    }

    #[test]
    fn isbns_are_checked_and_stored_as_13_digits() -> Result<()> {
        let with = |isbn: &str| BookDraft {
            isbn: Some(isbn.to_owned()),
            ..ok_draft()
        };
        for typed in [
            "9780441013593",
            "978-0-441-01359-3",
            "0-441-01359-7",
            " 0441013597 ",
        ] {
            assert_eq!(
                draft(&with(typed))?
                    .isbn
                    .map(|isbn| isbn.to_string())
                    .as_deref(),
                Some("9780441013593"),
                "{typed:?} is stored as Dune's ISBN-13"
            );
        }
        assert_eq!(draft(&with("  "))?.isbn, None, "a blank ISBN is none");
        assert_eq!(draft(&ok_draft())?.isbn, None, "no ISBN is none");
        let (field, message) = rejection(&with("978-0-441-01359-4"));
        assert_eq!(
            (field, message.as_str()),
            (
                "isbn",
                "The ISBN's check digit is 4 but should be 3: a digit may be mistyped."
            ),
            "a wrong check digit is refused on the ISBN field, saying which digit is right"
        );
        let (field, message) = rejection(&with("97804410135"));
        assert_eq!(field, "isbn", "a wrong length is refused on the ISBN field");
        assert_eq!(message, "An ISBN has 10 or 13 digits; this one has 11.");
        Ok(())
    }

    #[test]
    fn digit_searches_also_look_for_an_isbn() -> Result<()> {
        let isbn_of = |text: &str| -> Result<Option<String>> {
            Ok(search(text)?.and_then(|search| search.isbn))
        };
        assert_eq!(
            isbn_of("0-441-01359-7")?.as_deref(),
            Some("9780441013593"),
            "a whole ISBN-10 searches for its ISBN-13"
        );
        assert_eq!(
            isbn_of("978 0441")?.as_deref(),
            Some("9780441"),
            "the start of an ISBN, spaces dropped"
        );
        assert_eq!(
            isbn_of("1984")?,
            None,
            "four digits are a title's number, not an ISBN"
        );
        assert_eq!(isbn_of("Dune 2")?, None, "words are not an ISBN");
        Ok(())
    }

    #[test]
    fn search_is_folded_and_bounded() -> Result<()> {
        assert_eq!(search("  ")?, None, "blank search means no search");
        assert_eq!(
            search(" ÉCOLE ")?.map(|search| search.folded).as_deref(),
            Some("ecole"),
            "search is trimmed and folded, accents and all"
        );
        assert!(
            search(&"s".repeat(limits::SEARCH_MAX))?.is_some(),
            "SEARCH_MAX is allowed"
        );
        match search(&"s".repeat(limits::SEARCH_MAX + 1)) {
            Err(Error::Validation { field, message }) => {
                assert_eq!(
                    field, "search",
                    "long searches are rejected on the search field"
                );
                assert_eq!(
                    message,
                    "Search text is too long (201 characters; the limit is 200)."
                );
            }
            other => panic!("a search over SEARCH_MAX must be rejected, got {other:?}"),
        }
        Ok(())
    }

    #[test]
    fn unknown_status_names_are_rejected() {
        for name in ["Abandoned", "reading", "", " Wishlist"] {
            assert!(
                name.parse::<Status>().is_err(),
                "only the three seed names parse as a status: {name:?}"
            );
        }
        assert_eq!(
            "Finished".parse::<Status>(),
            Ok(Status::Finished),
            "seed names parse"
        );
    }

    #[test]
    fn dates_format_back_to_iso() {
        let date = NaiveDate::from_ymd_opt(987, 1, 2).expect("valid date");
        assert_eq!(
            format_date(date),
            "0987-01-02",
            "stored dates are zero-padded YYYY-MM-DD"
        );
    }
}
