//! A command's argument object, read whole into the command's struct (its fields are the
//! call's arguments), with failures as `{code, message}` instead of Tauri's plain string.
//!
//! Tauri would deserialise each argument by name before the command runs and reject a bad one
//! with a bare string. [`Args`] takes the whole object as the [`Command`] struct declared in
//! `bookwish-ipc` — so the shell and the UI share one declaration — and keeps a failure for the
//! command to report as an [`IpcError`] of code `invalid_argument`, naming the field at fault.

use bookwish_ipc::commands::Command;
use bookwish_ipc::{ErrorCode, IpcError};
use tauri::ipc::{CommandArg, CommandItem, InvokeBody, InvokeError};
use tauri::Runtime;

/// The arguments of command `C`, or why they could not be read.
#[derive(Debug)]
pub struct Args<C>(pub Result<C, IpcError>);

impl<'de, C: Command, R: Runtime> CommandArg<'de, R> for Args<C> {
    fn from_command(command: CommandItem<'de, R>) -> Result<Self, InvokeError> {
        Ok(Args(match command.message.payload() {
            InvokeBody::Json(value) => decode(value),
            InvokeBody::Raw(_) => Err(malformed("it is not a JSON object".to_owned())),
        }))
    }
}

/// Reads `value` as the arguments of `C`, naming the field at fault when it cannot.
pub fn decode<C: Command>(value: &serde_json::Value) -> Result<C, IpcError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let reason = error.into_inner();
        malformed(if path == "." {
            format!("{reason}")
        } else {
            format!("`{path}` is invalid: {reason}")
        })
    })
}

fn malformed(reason: String) -> IpcError {
    IpcError::new(
        ErrorCode::InvalidArgument,
        format!("The request was malformed: {reason}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bookwish_ipc::commands::{AddBook, SetStatus};
    use serde_json::json;

    #[test]
    fn a_well_formed_argument_object_passes_through() {
        let call: AddBook =
            decode(&json!({"draft": {"title": "Dune"}})).expect("a valid draft must be accepted");
        assert_eq!(
            call.draft.title, "Dune",
            "the argument's value must be kept"
        );
    }

    #[test]
    fn a_malformed_argument_becomes_invalid_argument_naming_it() {
        let error = decode::<SetStatus>(&json!({"id": "not-a-uuid", "status": "Reading"}))
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
    }

    #[test]
    fn a_missing_argument_is_reported_not_panicked() {
        let error = decode::<AddBook>(&json!({})).expect_err("a missing draft must be refused");
        assert!(
            error.message.contains("missing field `draft`"),
            "the message says what is missing: {error}"
        );
    }

    #[test]
    fn an_unknown_status_keeps_its_readable_message() {
        let error = decode::<AddBook>(&json!({"draft": {"title": "Dune", "status": "Lost"}}))
            .expect_err("an unknown status must be refused");
        assert!(
            error.message.contains("use Wishlist, Reading or Finished")
                && error.message.contains("draft.status"),
            "the user must learn the valid statuses and where: {error}"
        );
    }
}
