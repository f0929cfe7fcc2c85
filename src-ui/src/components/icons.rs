//! The app's icons. The mark is inline SVG; every other icon is one empty element whose glyph
//! (24×24 grid, stroked, in the text colour) the stylesheet draws as a mask from a `data:`
//! URL, so the app needs no icon font or remote resource, and a list of rows builds no SVG
//! document per icon.

use bookwish_ipc::Status;
use wasm_bindgen::intern;
use yew::{html, Html};

/// An icon: one element, its glyph drawn by the stylesheet (`.icon` and the icon's own class,
/// an SVG mask painted in the text colour). The class is a literal, interned: the page
/// keeps one copy of it however often a list row draws the icon.
fn icon(class: &'static str) -> Html {
    html! { <span class={intern(class)} aria-hidden="true"></span> }
}

/// The app's mark: an open book with a star.
pub fn logo() -> Html {
    html! {
        <svg class="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true"
            focusable="false">
            <rect width="32" height="32" rx="8" class="logo-bg" />
            <path class="logo-page" d="M7 10.5c3-1.3 6-1.1 9 .8v12.2c-3-1.9-6-2.1-9-.8z" />
            <path class="logo-page" d="M25 10.5c-3-1.3-6-1.1-9 .8v12.2c3-1.9 6-2.1 9-.8z" />
            <path class="logo-star"
                d="M16 3.6l1.25 2.55 2.8.4-2.03 1.98.48 2.8L16 10l-2.5 1.32.48-2.79-2.03-1.98 2.8-.41z" />
        </svg>
    }
}

/// A plus sign.
pub fn plus() -> Html {
    icon("icon icon-plus")
}

/// A magnifying glass.
pub fn search() -> Html {
    icon("icon icon-search")
}

/// A cross, for closing.
pub fn close() -> Html {
    icon("icon icon-close")
}

/// A pencil, for editing.
pub fn pencil() -> Html {
    icon("icon icon-pencil")
}

/// A bin, for deleting.
pub fn trash() -> Html {
    icon("icon icon-trash")
}

/// A stack of books, for "all".
pub fn library() -> Html {
    icon("icon icon-library")
}

/// The icon of a status.
pub fn status(status: Status) -> Html {
    match status {
        Status::Wishlist => icon("icon icon-wishlist"),
        Status::Reading => icon("icon icon-reading"),
        Status::Finished => icon("icon icon-finished"),
    }
}

/// A laptop, for "stored on this computer".
pub fn device() -> Html {
    icon("icon icon-device")
}

/// A circled "i", for hints.
pub fn info() -> Html {
    icon("icon icon-info")
}

/// A warning triangle, for errors.
pub fn warning() -> Html {
    icon("icon icon-warning")
}

/// A box with an arrow leaving it, for "opens your browser".
pub fn external() -> Html {
    icon("icon icon-external")
}

/// A cloud, for "synced with your account".
pub fn cloud() -> Html {
    icon("icon icon-cloud")
}

/// A struck-through cloud, for "offline".
pub fn cloud_off() -> Html {
    icon("icon icon-cloud-off")
}

/// Two arrows in a circle, for "sync now".
pub fn refresh() -> Html {
    icon("icon icon-refresh")
}

/// A tick in a circle, for "synced".
pub fn check_circle() -> Html {
    icon("icon icon-check-circle")
}

/// An arrow into a tray, for importing.
pub fn upload() -> Html {
    icon("icon icon-upload")
}

/// An arrow out of a tray, for exporting.
pub fn download() -> Html {
    icon("icon icon-download")
}
