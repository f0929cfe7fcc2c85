//! Bookwish's user interface: a Yew app compiled to wasm and shown by the Tauri shell.
//!
//! Layers, from the outside in:
//! - [`ipc`]: the only module that talks to Tauri (`invoke` and events). Everything else calls
//!   typed commands and gets `Result<T, IpcError>`.
//! - [`state`]: the app's state as pure reducers, one per area (`Library`: the visible list and
//!   its query; `Editor`: which form is open; `Notices`: toasts; `Auth`: the account;
//!   `SyncState`: the sync indicator; `Review`: the panel of conflicts and refused changes;
//!   `LocalBooks`: the first sign-in's question about books only on this computer). Reducers
//!   never call IPC, so `cargo test` checks them natively.
//! - [`actions`]: the commands the user triggers (change status, delete, undo, settle a
//!   conflict, move local books): call IPC, then dispatch what happened.
//! - [`marks`]: what the start-up benchmark reads of the page: the launch's marks (page and
//!   wasm start) and the wasm app's memory.
//! - [`components`]: the views. They read state from context providers and keep only what the
//!   user is typing in local state, so a keystroke re-renders one form, never the list.
//!
//! Invariants:
//! - The core is the authority on validation: forms submit what was typed and show the core's
//!   message next to the field it names; they never lose the user's input on an error.
//! - The list holds `Rc<ListedBook>`s (what a row shows: no notes, dates or ISBN) behind one
//!   `Rc`: an action never deep-clones 10,000 books, and rows compare by pointer so only
//!   changed rows re-render. A row's editor reads the whole book from the core when it opens.
//! - Only the rows in view (plus a margin) are in the DOM; see [`viewport`].
//! - One form at a time (the add form, a row's editor, or the review panel's fix form), so Esc
//!   has one meaning and the edit form's ids are unique; an open dialog takes the keys first.
//! - No inline `style` attributes (the app's CSP forbids them): dynamic sizes are set through
//!   the CSS object model.

pub mod actions;
pub mod components;
pub mod form;
pub mod ipc;
pub mod keys;
pub mod marks;
pub mod state;
pub mod text;
pub mod viewport;

/// Mounts the app on the page's `<body>`.
pub fn start() {
    marks::note(marks::Mark::WasmStarted);
    yew::Renderer::<components::App>::new().render();
}
