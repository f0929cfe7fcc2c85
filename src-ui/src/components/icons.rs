//! Inline SVG icons (24×24 grid, drawn with `currentColor`), so the app needs no icon font or
//! remote resource.

use bookwish_ipc::Status;
use yew::{html, Html};

fn icon(class: &'static str, paths: Html) -> Html {
    html! {
        <svg class={format!("icon {class}")} viewBox="0 0 24 24" width="16" height="16"
            fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"
            stroke-linejoin="round" aria-hidden="true" focusable="false">
            { paths }
        </svg>
    }
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
    icon("icon-plus", html! { <path d="M12 5v14M5 12h14" /> })
}

/// A magnifying glass.
pub fn search() -> Html {
    icon(
        "icon-search",
        html! { <><circle cx="11" cy="11" r="7" /><path d="M20 20l-3.5-3.5" /></> },
    )
}

/// A cross, for closing.
pub fn close() -> Html {
    icon("icon-close", html! { <path d="M18 6L6 18M6 6l12 12" /> })
}

/// A pencil, for editing.
pub fn pencil() -> Html {
    icon(
        "icon-pencil",
        html! { <><path d="M4 20h4L19 9a2.8 2.8 0 0 0-4-4L4 16z" /><path d="M13.5 6.5l4 4" /></> },
    )
}

/// A bin, for deleting.
pub fn trash() -> Html {
    icon(
        "icon-trash",
        html! {
            <>
                <path d="M4 7h16M10 11v6M14 11v6" />
                <path d="M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3" />
            </>
        },
    )
}

/// A stack of books, for "all".
pub fn library() -> Html {
    icon(
        "icon-library",
        html! {
            <>
                <path d="M5 4h3v16H5zM10 4h3v16h-3z" />
                <path d="M15.5 5.2l2.9-.8 3.6 15-2.9.8z" />
            </>
        },
    )
}

/// The icon of a status.
pub fn status(status: Status) -> Html {
    match status {
        Status::Wishlist => icon(
            "icon-wishlist",
            html! { <path d="M7 4h10a1 1 0 0 1 1 1v15l-6-4-6 4V5a1 1 0 0 1 1-1z" /> },
        ),
        Status::Reading => icon(
            "icon-reading",
            html! {
                <>
                    <path d="M3 5.5C6 4.5 9 4.8 12 7v13c-3-2.2-6-2.5-9-1.5z" />
                    <path d="M21 5.5c-3-1-6-.7-9 1.5v13c3-2.2 6-2.5 9-1.5z" />
                </>
            },
        ),
        Status::Finished => icon(
            "icon-finished",
            html! { <><circle cx="12" cy="12" r="9" /><path d="M8 12.5l2.7 2.7L16 9.5" /></> },
        ),
    }
}

/// A laptop, for "stored on this computer".
pub fn device() -> Html {
    icon(
        "icon-device",
        html! { <><rect x="4" y="5" width="16" height="11" rx="1.5" /><path d="M2 19h20" /></> },
    )
}

/// A circled "i", for hints.
pub fn info() -> Html {
    icon(
        "icon-info",
        html! { <><circle cx="12" cy="12" r="9" /><path d="M12 11v5M12 8h.01" /></> },
    )
}

/// A warning triangle, for errors.
pub fn warning() -> Html {
    icon(
        "icon-warning",
        html! {
            <>
                <path d="M10.3 4.3L2.6 18a2 2 0 0 0 1.7 3h15.4a2 2 0 0 0 1.7-3L13.7 4.3a2 2 0 0 0-3.4 0z" />
                <path d="M12 10v4M12 17h.01" />
            </>
        },
    )
}

/// A box with an arrow leaving it, for "opens your browser".
pub fn external() -> Html {
    icon(
        "icon-external",
        html! {
            <>
                <path d="M14 4h6v6M20 4l-9 9" />
                <path d="M18 14v4a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h4" />
            </>
        },
    )
}

/// A cloud, for "synced with your account".
pub fn cloud() -> Html {
    icon(
        "icon-cloud",
        html! { <path d="M7 18a4.5 4.5 0 0 1-.6-8.96A6 6 0 0 1 18 9.5a4.25 4.25 0 0 1-.5 8.5z" /> },
    )
}

/// A struck-through cloud, for "offline".
pub fn cloud_off() -> Html {
    icon(
        "icon-cloud-off",
        html! {
            <>
                <path d="M7 18a4.5 4.5 0 0 1-.6-8.96c.2-.6.5-1.15.87-1.64M10 5.3A6 6 0 0 1 18 9.5a4.25 4.25 0 0 1 2.2 7.4M17.5 18H7" />
                <path d="M3 3l18 18" />
            </>
        },
    )
}

/// Two arrows in a circle, for "sync now".
pub fn refresh() -> Html {
    icon(
        "icon-refresh",
        html! {
            <>
                <path d="M20 11a8 8 0 0 0-14.9-3M4 4v4h4" />
                <path d="M4 13a8 8 0 0 0 14.9 3M20 20v-4h-4" />
            </>
        },
    )
}

/// A tick in a circle, for "synced".
pub fn check_circle() -> Html {
    icon(
        "icon-check-circle",
        html! { <><circle cx="12" cy="12" r="9" /><path d="M8 12.5l2.7 2.7L16 9.5" /></> },
    )
}

/// An arrow into a tray, for importing.
pub fn upload() -> Html {
    icon(
        "icon-upload",
        html! { <><path d="M12 4v11" /><path d="M7 10l5 5 5-5" /><path d="M4 17v3h16v-3" /></> },
    )
}

/// An arrow out of a tray, for exporting.
pub fn download() -> Html {
    icon(
        "icon-download",
        html! { <><path d="M12 15V4" /><path d="M7 9l5-5 5 5" /><path d="M4 17v3h16v-3" /></> },
    )
}
