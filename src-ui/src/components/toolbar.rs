//! Above the list: the view's name, the search field, the order and "New book".

use std::cell::Cell;
use std::rc::Rc;

use bookwish_ipc::limits::SEARCH_MAX;
use bookwish_ipc::Sort;
use gloo_timers::callback::Timeout;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::icons;
use crate::state::{EditorAction, EditorContext, LibraryAction, LibraryContext};
use crate::text::{books, grouped};

/// How long typing must pause before the list is searched.
const SEARCH_DEBOUNCE_MS: u32 = 150;

/// Properties of [`Toolbar`].
#[derive(Properties, PartialEq)]
pub struct ToolbarProps {
    /// The search field, which `/` focuses.
    pub search_ref: NodeRef,
}

/// The toolbar.
#[component]
pub fn Toolbar(props: &ToolbarProps) -> Html {
    let library = use_context::<LibraryContext>();
    let editor = use_context::<EditorContext>();
    // Typed but not yet searched: the field is ahead of the query until the pause.
    let typing: Rc<Cell<bool>> = use_memo((), |_| Cell::new(false));
    let timer = use_mut_ref(|| None::<Timeout>);
    let has_text = use_state_eq(|| false);

    // The search can change elsewhere (Esc, "Clear search"): keep the field in step, unless
    // the user is mid-word.
    {
        let input = props.search_ref.clone();
        let typing = Rc::clone(&typing);
        let has_text = has_text.clone();
        let search = library
            .as_ref()
            .map(|l| l.query.search.clone())
            .unwrap_or_default();
        use_effect_with(search, move |search| {
            if !typing.get() {
                if let Some(input) = input.cast::<HtmlInputElement>() {
                    if input.value() != *search {
                        input.set_value(search);
                    }
                }
                has_text.set(!search.is_empty());
            }
        });
    }

    let (Some(library), Some(editor)) = (library, editor) else {
        return Html::default();
    };

    let search_now = {
        let library = library.clone();
        let typing = Rc::clone(&typing);
        let timer = timer.clone();
        move |text: String| {
            timer.borrow_mut().take();
            typing.set(false);
            library.dispatch(LibraryAction::Search(text));
        }
    };

    let oninput = {
        let library = library.clone();
        let typing = Rc::clone(&typing);
        let timer = timer.clone();
        let has_text = has_text.clone();
        Callback::from(move |event: InputEvent| {
            let text = event.target_unchecked_into::<HtmlInputElement>().value();
            has_text.set(!text.is_empty());
            typing.set(true);
            let library = library.clone();
            let typing = Rc::clone(&typing);
            // Replacing the timer cancels the previous one.
            *timer.borrow_mut() = Some(Timeout::new(SEARCH_DEBOUNCE_MS, move || {
                typing.set(false);
                library.dispatch(LibraryAction::Search(text));
            }));
        })
    };

    let clear = {
        let search_now = search_now.clone();
        let input = props.search_ref.clone();
        let has_text = has_text.clone();
        move || {
            if let Some(input) = input.cast::<HtmlInputElement>() {
                input.set_value("");
            }
            has_text.set(false);
            search_now(String::new());
        }
    };

    let onkeydown = {
        let clear = clear.clone();
        let search_now = search_now.clone();
        let current = library.query.search.clone();
        Callback::from(move |event: KeyboardEvent| {
            let input = event.target_unchecked_into::<HtmlInputElement>();
            match event.key().as_str() {
                // Esc first clears the search; on an empty field it falls through to the
                // window (close a form, leave the field).
                "Escape" if !input.value().is_empty() || !current.is_empty() => {
                    event.prevent_default();
                    clear();
                }
                "Enter" => {
                    event.prevent_default();
                    search_now(input.value());
                }
                _ => {}
            }
        })
    };

    let onclear = {
        let input = props.search_ref.clone();
        Callback::from(move |_: MouseEvent| {
            clear();
            if let Some(input) = input.cast::<HtmlInputElement>() {
                let _ = input.focus();
            }
        })
    };

    let onsort = {
        let library = library.clone();
        Callback::from(move |event: Event| {
            let value = event
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            if let Some(sort) = Sort::ALL.into_iter().find(|s| sort_value(*s) == value) {
                library.dispatch(LibraryAction::Sort(sort));
            }
        })
    };

    let onnew = Callback::from(move |_: MouseEvent| editor.dispatch(EditorAction::Add));

    let title = library.query.status.map_or("All books", |s| s.as_str());
    // All that match, even while only the first screenful of them is here.
    let shown = library.matching;
    let count = if !library.ready {
        String::new()
    } else if library.query.search.trim().is_empty() {
        books(shown)
    } else {
        let of = library
            .query
            .status
            .map_or(library.counts.total(), |s| library.counts.get(s));
        format!("{} of {}", grouped(shown), books(of as usize))
    };

    html! {
        <div class="toolbar">
            <div class="view-heading">
                <h1 class="view-title">{ title }</h1>
                <span class="view-count" data-testid="view-count">{ count }</span>
            </div>
            <div class="toolbar-controls">
                <div class={classes!("search", (*has_text).then_some("has-text"))}>
                    <span class="search-icon">{ icons::search() }</span>
                    <input ref={props.search_ref.clone()} type="search" class="search-input"
                        data-testid="search" placeholder="Search title, author or ISBN  /"
                        aria-label="Search title, author or ISBN" autocomplete="off"
                        spellcheck="false" maxlength={SEARCH_MAX.to_string()}
                        {oninput} {onkeydown} />
                    if *has_text {
                        <button type="button" class="search-clear" aria-label="Clear search"
                            title="Clear search (Esc)" onclick={onclear}>
                            { icons::close() }
                        </button>
                    }
                </div>
                <label class="sort">
                    <span class="sort-label">{ "Sort" }</span>
                    <span class="select-wrap">
                        <select class="select" data-testid="sort" aria-label="Sort by" onchange={onsort}>
                            for sort in Sort::ALL {
                                <option value={sort_value(sort)}
                                    selected={sort == library.query.sort}>
                                    { sort.label() }
                                </option>
                            }
                        </select>
                    </span>
                </label>
                <button type="button" class="btn btn-primary" data-testid="new-book"
                    title="New book (n)" onclick={onnew}>
                    { icons::plus() }
                    <span>{ "New book" }</span>
                </button>
            </div>
        </div>
    }
}

fn sort_value(sort: Sort) -> &'static str {
    match sort {
        Sort::RecentlyAdded => "recently_added",
        Sort::Title => "title",
        Sort::Author => "author",
    }
}
