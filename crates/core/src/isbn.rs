//! International Standard Book Numbers: the checked [`Isbn`] type, shared with the window
//! through the IPC crate (`bookwish_ipc::isbn`, where its rules and tests live), so the core
//! stores and the window shows one and the same conversion.

pub(crate) use bookwish_ipc::isbn::unwrap_spreadsheet;
pub use bookwish_ipc::isbn::{Isbn, IsbnError};
