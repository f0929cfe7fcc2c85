//! The status filters with their counts, and importing and exporting the list.

use bookwish_ipc::Status;
use yew::prelude::*;

use super::icons;
use crate::actions::{self, Export};
use crate::state::{Dispatch, LibraryAction, LibraryContext};
use crate::text::grouped;

/// The filters: All, then one per status; then import and export.
#[component]
pub fn Sidebar() -> Html {
    let (Some(library), Some(dispatch)) =
        (use_context::<LibraryContext>(), use_context::<Dispatch>())
    else {
        return Html::default();
    };
    let counts = library.counts;
    let current = library.query.status;
    let ready = library.ready;

    let item = |status: Option<Status>| {
        let (key, label, icon, count) = match status {
            None => ("all", "All", icons::library(), counts.total()),
            Some(s) => (s.as_str(), s.as_str(), icons::status(s), counts.get(s)),
        };
        let selected = current == status;
        let onclick = {
            let library = library.clone();
            Callback::from(move |_: MouseEvent| library.dispatch(LibraryAction::Filter(status)))
        };
        html! {
            <li key={key}>
                <button type="button"
                    class={classes!("nav-item", format!("nav-{}", key.to_lowercase()),
                        selected.then_some("selected"))}
                    data-testid={format!("filter-{key}")}
                    aria-current={selected.then_some("page")}
                    {onclick}>
                    <span class="nav-icon">{ icon }</span>
                    <span class="nav-label">{ label }</span>
                    <span class="nav-count" data-testid={format!("count-{key}")}>
                        { if ready { grouped(count as usize) } else { String::new() } }
                    </span>
                </button>
            </li>
        }
    };

    let onimport = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| actions::pick_import_file(&dispatch))
    };
    let export = |kind: Export| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| actions::export(&dispatch, kind))
    };

    html! {
        <div class="sidebar">
            <nav aria-label="Filter by status">
                <div class="sidebar-title">{ "Library" }</div>
                <ul class="nav-list">
                    { item(None) }
                    for status in Status::ALL {
                        { item(Some(status)) }
                    }
                </ul>
            </nav>
            <section class="sidebar-actions" aria-label="Import and export">
                <div class="sidebar-title">{ "Your books" }</div>
                <ul class="nav-list">
                    <li>
                        <button type="button" class="nav-item" data-testid="import-books"
                            title="Import a Goodreads or StoryGraph export, or a Bookwish backup \
                                   (you can also drop the file on the window)"
                            onclick={onimport}>
                            <span class="nav-icon">{ icons::upload() }</span>
                            <span class="nav-label">{ "Import…" }</span>
                        </button>
                    </li>
                    <li>
                        <button type="button" class="nav-item" data-testid="export-goodreads"
                            title="Save your list as a CSV that Goodreads imports"
                            onclick={export(Export::Goodreads)}>
                            <span class="nav-icon">{ icons::download() }</span>
                            <span class="nav-label">{ "Export for Goodreads…" }</span>
                        </button>
                    </li>
                    <li>
                        <button type="button" class="nav-item" data-testid="export-backup"
                            title="Save every book with every detail, to restore later"
                            onclick={export(Export::Backup)}>
                            <span class="nav-icon">{ icons::download() }</span>
                            <span class="nav-label">{ "Save a backup…" }</span>
                        </button>
                    </li>
                </ul>
            </section>
        </div>
    }
}
