//! International Standard Book Numbers.
//!
//! An [`Isbn`] is always the 13-digit form (EAN "Bookland", prefix 978 or 979) with a valid
//! check digit; there is no way to hold an unchecked one. [`Isbn::parse`] also takes the
//! 10-digit form (whose last digit may be `X`, meaning 10) and converts it to 978 + the first
//! nine digits + a new check digit, so the same book has one value whichever form a file used.
//!
//! Parsing is tolerant of how ISBNs are written in the wild: hyphens and spaces between digits
//! (`978-0-441-01359-3`), and the `="…"` wrapping Goodreads puts around them so spreadsheets
//! keep the leading zeros (`="0441013597"`). Nothing else is guessed: letters, a wrong number
//! of digits or a wrong check digit are refused with an [`IsbnError`] that says which.
//!
//! It lives in the IPC crate because both sides need the one rule: the core validates and stores
//! with it (`bookwish_core::isbn` re-exports it), and the window shows what an ISBN-10 being
//! typed will be saved as.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A checked ISBN-13. Displays and serialises as its 13 digits, no hyphens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Isbn(u64);

/// Why a text is not an ISBN.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IsbnError {
    /// Something other than digits, hyphens and spaces (or an `X` anywhere but the last place
    /// of a 10-digit ISBN).
    #[error("An ISBN has only digits (and hyphens or spaces between them); {found:?} is not one.")]
    NotDigits {
        /// The first character that is not allowed.
        found: char,
    },
    /// Neither 10 nor 13 digits.
    #[error("An ISBN has 10 or 13 digits; this one has {digits}.")]
    WrongLength {
        /// How many digits (and `X`) there were.
        digits: usize,
    },
    /// 13 digits that do not start with 978 or 979, so a barcode but not a book's.
    #[error("An ISBN-13 starts with 978 or 979; this one starts with {prefix}.")]
    NotBookland {
        /// The first three digits.
        prefix: String,
    },
    /// The last digit does not match the others: a digit was mistyped or two were swapped.
    #[error(
        "The ISBN's check digit is {found} but should be {expected}: a digit may be mistyped."
    )]
    BadChecksum {
        /// The check digit the other digits call for (`X` for 10 in an ISBN-10).
        expected: char,
        /// The check digit written.
        found: char,
    },
}

impl Isbn {
    /// Parses an ISBN-13 or ISBN-10; see the module docs for what is tolerated. A blank text
    /// (or Goodreads' empty `=""`) is an error here; use [`Isbn::parse_optional`] where an
    /// ISBN may be absent.
    pub fn parse(text: &str) -> Result<Isbn, IsbnError> {
        match Isbn::parse_optional(text)? {
            Some(isbn) => Ok(isbn),
            None => Err(IsbnError::WrongLength { digits: 0 }),
        }
    }

    /// Like [`Isbn::parse`], but a blank text or an empty `=""` is no ISBN rather than an error.
    pub fn parse_optional(text: &str) -> Result<Option<Isbn>, IsbnError> {
        let inner = unwrap_spreadsheet(text.trim());
        // At most 13 digits are kept; more only count towards the error.
        let mut digits = [0u8; 13];
        let mut count = 0usize;
        let mut x_at = None;
        for c in inner.chars() {
            match c {
                '0'..='9' => {
                    if x_at.is_some() {
                        // An X before this digit: the X was not the last character.
                        return Err(IsbnError::NotDigits { found: 'X' });
                    }
                    if count < digits.len() {
                        digits[count] = c as u8 - b'0';
                    }
                    count += 1;
                }
                'X' | 'x' if x_at.is_none() => {
                    x_at = Some(count);
                    if count < digits.len() {
                        digits[count] = 10;
                    }
                    count += 1;
                }
                '-' | ' ' | '\u{2010}' | '\u{2011}' => {}
                other => return Err(IsbnError::NotDigits { found: other }),
            }
        }
        match (count, x_at) {
            (0, _) => Ok(None),
            (10, None) | (10, Some(9)) => isbn10(&digits[..10]).map(Some),
            (13, None) => isbn13(&digits).map(Some),
            (10 | 13, Some(_)) => Err(IsbnError::NotDigits { found: 'X' }),
            (digits, _) => Err(IsbnError::WrongLength { digits }),
        }
    }

    /// The 13 digits.
    pub fn digits(self) -> [u8; 13] {
        let mut digits = [0u8; 13];
        let mut rest = self.0;
        for slot in digits.iter_mut().rev() {
            *slot = (rest % 10) as u8;
            rest /= 10;
        }
        digits
    }

    /// The 10-digit form, for the books that have one (prefix 978); `None` for 979 books.
    pub fn to_isbn10(self) -> Option<String> {
        let digits = self.digits();
        if digits[..3] != [9, 7, 8] {
            return None;
        }
        let body = &digits[3..12];
        let check = isbn10_check(body);
        let mut text: String = body.iter().map(|d| char::from(b'0' + d)).collect();
        text.push(check);
        Some(text)
    }
}

/// Goodreads writes `="0441013597"` (an Excel formula giving a text) so spreadsheets keep
/// the leading zero; this returns what is inside. Anything else is returned unchanged.
pub fn unwrap_spreadsheet(text: &str) -> &str {
    text.strip_prefix('=')
        .map(str::trim)
        .and_then(|rest| rest.strip_prefix('"'))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(text)
}

fn isbn13(digits: &[u8; 13]) -> Result<Isbn, IsbnError> {
    if digits[..3] != [9, 7, 8] && digits[..3] != [9, 7, 9] {
        return Err(IsbnError::NotBookland {
            prefix: digits[..3].iter().map(|d| char::from(b'0' + d)).collect(),
        });
    }
    let expected = isbn13_check(&digits[..12]);
    if digits[12] != expected {
        return Err(IsbnError::BadChecksum {
            expected: char::from(b'0' + expected),
            found: char::from(b'0' + digits[12]),
        });
    }
    Ok(Isbn(
        digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d)),
    ))
}

fn isbn10(digits: &[u8]) -> Result<Isbn, IsbnError> {
    let expected = isbn10_check(&digits[..9]);
    let found = match digits[9] {
        10 => 'X',
        d => char::from(b'0' + d),
    };
    if found != expected {
        return Err(IsbnError::BadChecksum { expected, found });
    }
    let mut thirteen = [9, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    thirteen[3..12].copy_from_slice(&digits[..9]);
    thirteen[12] = isbn13_check(&thirteen[..12]);
    isbn13(&thirteen)
}

/// EAN-13: weights 1, 3, 1, 3, … over the first twelve digits.
fn isbn13_check(first12: &[u8]) -> u8 {
    let sum: u32 = first12
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// ISBN-10: weights 10, 9, …, 2 over the first nine digits, modulo 11; 10 is written `X`.
fn isbn10_check(first9: &[u8]) -> char {
    let sum: u32 = first9
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * (10 - i as u32))
        .sum();
    match (11 - sum % 11) % 11 {
        10 => 'X',
        d => char::from(b'0' + d as u8),
    }
}

impl fmt::Display for Isbn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:013}", self.0)
    }
}

impl FromStr for Isbn {
    type Err = IsbnError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Isbn::parse(text)
    }
}

impl Serialize for Isbn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Isbn {
    /// Accepts what [`Isbn::parse`] accepts, so a hand-edited ISBN-10 in a backup still reads.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Isbn::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ISBNs in both forms, check digits worked out by hand.
    const PAIRS: [(&str, &str); 4] = [
        ("9780441013593", "0441013597"), // Dune, Ace paperback
        ("9780306406157", "0306406152"), // the textbook example of ISBN check digits
        ("9780765326355", "0765326353"), // The Way of Kings, Tor
        ("9780804429573", "080442957X"), // an ISBN-10 whose check digit is X
    ];

    #[test]
    fn isbn13_parses_to_itself() -> Result<(), IsbnError> {
        for (thirteen, _) in PAIRS {
            assert_eq!(
                Isbn::parse(thirteen)?.to_string(),
                thirteen,
                "a valid ISBN-13 displays as the same 13 digits"
            );
        }
        Ok(())
    }

    #[test]
    fn isbn10_converts_to_978_isbn13_and_back() -> Result<(), IsbnError> {
        for (thirteen, ten) in PAIRS {
            let isbn = Isbn::parse(ten)?;
            assert_eq!(
                isbn.to_string(),
                thirteen,
                "ISBN-10 {ten} is stored as its 978 ISBN-13"
            );
            assert_eq!(
                isbn.to_isbn10().as_deref(),
                Some(ten),
                "a 978 ISBN-13 gives back the ISBN-10 it came from"
            );
        }
        assert_eq!(
            Isbn::parse("080442957x")?,
            Isbn::parse("080442957X")?,
            "a lowercase x check digit is the same as X"
        );
        Ok(())
    }

    #[test]
    fn hyphens_spaces_and_goodreads_wrapping_are_tolerated() -> Result<(), IsbnError> {
        let dune = Isbn::parse("9780441013593")?;
        for written in [
            "978-0-441-01359-3",
            " 978 0441 013593 ",
            "=\"9780441013593\"",
            "=\"0441013597\"",
            "0-441-01359-7",
            "978\u{2010}0441013593",
        ] {
            assert_eq!(Isbn::parse(written)?, dune, "{written:?} is Dune's ISBN");
        }
        for blank in ["", "  ", "=\"\"", "= \"\""] {
            assert_eq!(
                Isbn::parse_optional(blank)?,
                None,
                "{blank:?} is no ISBN, not an error"
            );
        }
        assert_eq!(
            Isbn::parse(""),
            Err(IsbnError::WrongLength { digits: 0 }),
            "parse insists on an ISBN"
        );
        Ok(())
    }

    #[test]
    fn bad_check_digits_say_what_was_expected() {
        assert_eq!(
            Isbn::parse("9780441013594"),
            Err(IsbnError::BadChecksum {
                expected: '3',
                found: '4'
            }),
            "a wrong ISBN-13 check digit names the right one"
        );
        assert_eq!(
            Isbn::parse("0441013598"),
            Err(IsbnError::BadChecksum {
                expected: '7',
                found: '8'
            }),
            "a wrong ISBN-10 check digit names the right one"
        );
        assert_eq!(
            Isbn::parse("0804429570"),
            Err(IsbnError::BadChecksum {
                expected: 'X',
                found: '0'
            }),
            "an ISBN-10 whose check is 10 expects X"
        );
        // Two swapped digits: the transposition the check digit exists to catch.
        assert!(
            matches!(
                Isbn::parse("9780441015393"),
                Err(IsbnError::BadChecksum { .. })
            ),
            "swapped digits fail the checksum"
        );
    }

    #[test]
    fn wrong_lengths_letters_and_other_barcodes_are_refused() {
        assert_eq!(
            Isbn::parse("978044101359"),
            Err(IsbnError::WrongLength { digits: 12 }),
            "12 digits is neither form"
        );
        assert_eq!(
            Isbn::parse("97804410135930"),
            Err(IsbnError::WrongLength { digits: 14 }),
            "14 digits is neither form"
        );
        assert_eq!(
            Isbn::parse("B00B7NPRY8"),
            Err(IsbnError::NotDigits { found: 'B' }),
            "an Amazon ASIN is not an ISBN"
        );
        assert_eq!(
            Isbn::parse("97804410X3593"),
            Err(IsbnError::NotDigits { found: 'X' }),
            "X only ever ends an ISBN-10"
        );
        assert_eq!(
            Isbn::parse("978044101359X"),
            Err(IsbnError::NotDigits { found: 'X' }),
            "an ISBN-13 never ends in X"
        );
        assert_eq!(
            Isbn::parse("4006381333931"),
            Err(IsbnError::NotBookland {
                prefix: "400".to_owned()
            }),
            "a valid EAN-13 of a pen is not a book's"
        );
        assert_eq!(
            Isbn::parse("978.0441013593"),
            Err(IsbnError::NotDigits { found: '.' }),
            "dots are not tolerated separators"
        );
    }

    #[test]
    fn isbn_979_has_no_isbn10() -> Result<(), IsbnError> {
        let isbn = Isbn::parse("9791032305690")?;
        assert_eq!(
            isbn.to_isbn10(),
            None,
            "979 ISBNs were never given a 10-digit form"
        );
        Ok(())
    }

    #[test]
    fn serde_uses_the_13_digit_string() -> Result<(), serde_json::Error> {
        let isbn: Isbn = serde_json::from_str("\"0-441-01359-7\"")?;
        assert_eq!(
            serde_json::to_string(&isbn)?,
            "\"9780441013593\"",
            "ISBNs serialise as 13 digits whatever form they were read from"
        );
        let refused = serde_json::from_str::<Isbn>("\"9780441013594\"");
        assert!(
            refused.is_err_and(|e| e.to_string().contains("should be 3")),
            "deserialising checks the ISBN like parse does"
        );
        Ok(())
    }

    #[test]
    fn messages_are_sentences_for_the_user() {
        assert_eq!(
            IsbnError::BadChecksum {
                expected: '3',
                found: '4'
            }
            .to_string(),
            "The ISBN's check digit is 4 but should be 3: a digit may be mistyped."
        );
        assert_eq!(
            IsbnError::WrongLength { digits: 12 }.to_string(),
            "An ISBN has 10 or 13 digits; this one has 12."
        );
    }
}
