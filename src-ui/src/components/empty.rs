//! What the list area shows when there is nothing to list.

use yew::prelude::*;

use super::icons;
use crate::state::{EditorAction, EditorContext, LibraryAction, LibraryContext};

/// Either "your list is empty" (with a way to start) or "nothing matches" (with a way out).
#[component]
pub fn EmptyState() -> Html {
    let (Some(library), Some(editor)) = (
        use_context::<LibraryContext>(),
        use_context::<EditorContext>(),
    ) else {
        return Html::default();
    };

    if library.counts.total() == 0 {
        let onnew = Callback::from(move |_: MouseEvent| editor.dispatch(EditorAction::Add));
        return html! {
            <div class="empty" data-testid="empty-state" data-kind="empty-library">
                <div class="empty-art" aria-hidden="true">{ icons::logo() }</div>
                <h2 class="empty-title">{ "Your reading list is empty" }</h2>
                <p class="empty-text">
                    { "Add the books you want to read, are reading, or have finished." }
                </p>
                <button type="button" class="btn btn-primary" data-testid="empty-new-book"
                    onclick={onnew}>
                    { icons::plus() }
                    <span>{ "New book" }</span>
                </button>
                <p class="empty-hint">{ "or press " }<kbd>{ "n" }</kbd></p>
            </div>
        };
    }

    let search = library.query.search.trim().to_owned();
    let status = library.query.status;
    let title = match (search.is_empty(), status) {
        (false, None) => format!("No books match “{search}”"),
        (false, Some(status)) => format!("No books match “{search}” in {status}"),
        (true, Some(status)) => format!("No books match the {status} filter"),
        (true, None) => "No books match".to_owned(),
    };
    let onclear = {
        let library = library.clone();
        Callback::from(move |_: MouseEvent| library.dispatch(LibraryAction::Search(String::new())))
    };
    let onall = {
        let library = library.clone();
        Callback::from(move |_: MouseEvent| library.dispatch(LibraryAction::Filter(None)))
    };
    html! {
        <div class="empty" data-testid="empty-state" data-kind="no-match">
            <div class="empty-icon" aria-hidden="true">{ icons::search() }</div>
            <h2 class="empty-title">{ title }</h2>
            <p class="empty-text">{ "Try a different spelling, or look in all your books." }</p>
            <div class="empty-actions">
                if !search.is_empty() {
                    <button type="button" class="btn" data-testid="clear-search" onclick={onclear}>
                        { "Clear search" }
                    </button>
                }
                if status.is_some() {
                    <button type="button" class="btn" data-testid="show-all" onclick={onall}>
                        { "Show all books" }
                    </button>
                }
            </div>
        </div>
    }
}
