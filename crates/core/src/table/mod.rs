//! One module per table: the only SQL in the workspace. The faces ([`crate::Store`],
//! [`crate::Replica`]) decide *what* to write and in which transaction; these modules know *how*
//! a row is written and read.
//!
//! - [`books`]: the reading list (live books and tombstones) with its folded search columns;
//! - [`outbox`]: one pending mutation per book;
//! - [`meta`]: small facts under typed keys (device id, clock, cursor, settings);
//! - [`issues`]: what sync leaves for the user — conflicts, refused changes and pulled rows this
//!   version cannot read;
//! - [`imports`]: what each import from a file did, so it can be undone as a whole.

pub(crate) mod books;
pub(crate) mod imports;
pub(crate) mod issues;
pub(crate) mod meta;
pub(crate) mod outbox;

use rusqlite::types::Type;
use rusqlite::Row;

/// Reads a text column through `parse`, reporting a failure as a conversion error of that column.
pub(crate) fn parse_column<T, E>(
    row: &Row<'_>,
    index: usize,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> rusqlite::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let failure = |error: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(index, Type::Text, error)
    };
    let text = row
        .get_ref(index)?
        .as_str()
        .map_err(|error| failure(Box::new(error)))?;
    parse(text).map_err(|error| failure(Box::new(error)))
}

/// A count from SQLite as the `u32` the UI shows.
pub(crate) fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
