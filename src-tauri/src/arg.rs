//! Command arguments that fail into `{code, message}` instead of Tauri's plain string.
//!
//! Tauri deserialises each command argument before the command runs and, on failure, rejects
//! the call with a bare string. Wrapping an argument in [`Arg`] moves that failure into the
//! command, where it becomes an [`IpcError`] of code `invalid_argument` like every other error.

use bookwish_ipc::{ErrorCode, IpcError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// A command argument whose deserialisation error is kept for the command to report.
#[derive(Debug)]
pub struct Arg<T>(Result<T, String>);

impl<T> Arg<T> {
    /// The argument, or an `invalid_argument` error naming what was wrong with it.
    pub fn checked(self, name: &str) -> Result<T, IpcError> {
        self.0.map_err(|reason| {
            IpcError::new(
                ErrorCode::InvalidArgument,
                format!("The request was malformed: argument `{name}` {reason}."),
            )
        })
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Arg<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `Option` so a missing key reaches us as `None` (Tauri calls `visit_none` for it).
        let value = Option::<serde_json::Value>::deserialize(deserializer)?;
        Ok(Arg(match value {
            None | Some(serde_json::Value::Null) => Err("is missing".to_owned()),
            Some(value) => serde_json::from_value(value).map_err(|e| format!("is invalid: {e}")),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bookwish_ipc::{BookDraft, BookId};

    #[test]
    fn a_well_formed_argument_passes_through() -> Result<(), serde_json::Error> {
        let arg: Arg<BookDraft> = serde_json::from_str(r#"{"title":"Dune"}"#)?;
        let draft = arg
            .checked("draft")
            .expect("a valid draft must be accepted");
        assert_eq!(draft.title, "Dune", "the argument's value must be kept");
        Ok(())
    }

    #[test]
    fn a_malformed_argument_becomes_invalid_argument() -> Result<(), serde_json::Error> {
        let arg: Arg<BookId> = serde_json::from_str(r#""not-a-uuid""#)?;
        let error = arg
            .checked("id")
            .expect_err("a malformed id must be refused");
        assert_eq!(
            error.code,
            ErrorCode::InvalidArgument,
            "malformed input is invalid_argument"
        );
        assert!(
            error.message.contains("`id`"),
            "the message names the argument: {error}"
        );
        Ok(())
    }

    #[test]
    fn a_missing_argument_is_reported_not_panicked() -> Result<(), serde_json::Error> {
        let arg: Arg<BookDraft> = serde_json::from_str("null")?;
        let error = arg
            .checked("draft")
            .expect_err("a missing draft must be refused");
        assert!(
            error.message.contains("missing"),
            "the message says it is missing: {error}"
        );
        Ok(())
    }

    #[test]
    fn an_unknown_status_keeps_its_readable_message() -> Result<(), serde_json::Error> {
        let arg: Arg<BookDraft> = serde_json::from_str(r#"{"title":"Dune","status":"Lost"}"#)?;
        let error = arg
            .checked("draft")
            .expect_err("an unknown status must be refused");
        assert!(
            error.message.contains("use Wishlist, Reading or Finished"),
            "the user must learn the valid statuses: {error}"
        );
        Ok(())
    }
}
