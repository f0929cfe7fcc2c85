//! One row of the list: title, author, rating, a status switch and the row's actions — or,
//! while it is edited, its editor, opened on the whole book read from the core (the list
//! holds only what a row shows).

use std::rc::Rc;

use bookwish_ipc::commands::GetBook;
use bookwish_ipc::{Book, BookId, ListedBook, Status};
use wasm_bindgen::{intern, JsCast};
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use super::edit_form::{EditForm, EditTarget};
use super::{focus, icons};
use crate::form::Fields;
use crate::state::{Dispatch, EditorAction};
use crate::{actions, ipc};

/// Properties of [`BookRow`]. All compare cheaply: an unchanged book is the same `Rc`.
#[derive(Properties, PartialEq)]
pub struct BookRowProps {
    /// The book, as the list holds it.
    pub book: Rc<ListedBook>,
    /// Whether the row is expanded into its editor.
    pub editing: bool,
    /// Whether the book was just added (highlighted).
    pub fresh: bool,
}

/// One row.
#[component]
pub fn BookRow(props: &BookRowProps) -> Html {
    let dispatch = use_context::<Dispatch>();
    let row_ref = use_node_ref();
    let edit_ref = use_node_ref();
    // The row's element is reused for another book as the list scrolls (`viewport::Slots`).
    // The keyboard focus stays with the book it was on: if that book left, the focus leaves
    // the element too, as it would had the element been removed.
    {
        let row_ref = row_ref.clone();
        let shown = use_mut_ref(|| props.book.id);
        use_effect_with(props.book.id, move |&id| {
            let was = std::mem::replace(&mut *shown.borrow_mut(), id);
            if was != id {
                if let (Some(row), Some(active)) = (row_ref.cast::<Element>(), focus::active()) {
                    if row.contains(Some(&active)) {
                        if let Some(active) = active.dyn_ref::<HtmlElement>() {
                            let _ = active.blur();
                        }
                    }
                }
            }
        });
    }
    // When the editor closes (Esc, Cancel, Save) focus would fall to the page: put it back on
    // this row's Edit button so the keyboard user keeps their place. Only for the book that was
    // edited: an editor that closed because its book went away hands the focus to no other.
    {
        let edit_ref = edit_ref.clone();
        let was_editing = use_mut_ref(|| None::<BookId>);
        let id = props.book.id;
        use_effect_with((id, props.editing), move |&(id, editing)| {
            let was = std::mem::replace(&mut *was_editing.borrow_mut(), editing.then_some(id));
            if was == Some(id) && !editing && focus::is_lost() {
                if let Some(button) = edit_ref.cast::<HtmlElement>() {
                    let _ = button.focus();
                }
            }
        });
    }
    let Some(dispatch) = dispatch else {
        return Html::default();
    };
    let book = &props.book;
    let id = book.id;
    let status = book.status;

    // A row's class list and status come from a handful of values: interned (see
    // [`interned`]), they are sent to the page once, not once per book scrolled into view.
    let row_classes = interned(
        classes!(
            "row",
            format!("row-{}", status.as_str().to_lowercase()),
            props.editing.then_some("row-editing"),
            props.fresh.then_some("row-fresh"),
        )
        .to_string(),
    );
    let status_name = intern(status.as_str());

    if props.editing {
        return html! {
            <div ref={row_ref} class={row_classes} role="listitem" data-testid="book-row"
                data-id={id.to_string()} data-status={status_name} data-editing="true">
                <RowEditor book={Rc::clone(book)} />
            </div>
        };
    }

    let onedit = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.editor.dispatch(EditorAction::Edit(id)))
    };
    let ondelete = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| actions::delete(&dispatch, id))
    };
    let status_button = |choice: Status| {
        let pressed = choice == status;
        let onclick = {
            let dispatch = dispatch.clone();
            Callback::from(move |_: MouseEvent| {
                if !pressed {
                    actions::set_status(&dispatch, id, choice);
                }
            })
        };
        // Literals, interned: sent to the page once, not once per row drawn.
        let (class, testid, title) = match choice {
            Status::Wishlist => ("seg seg-wishlist", "status-Wishlist", "Mark as Wishlist"),
            Status::Reading => ("seg seg-reading", "status-Reading", "Mark as Reading"),
            Status::Finished => ("seg seg-finished", "status-Finished", "Mark as Finished"),
        };
        html! {
            <button type="button" class={intern(class)} data-testid={intern(testid)}
                aria-pressed={intern(if pressed { "true" } else { "false" })}
                title={intern(title)} {onclick}>
                { intern(choice.as_str()) }
            </button>
        }
    };

    html! {
        <div ref={row_ref} class={row_classes} role="listitem" data-testid="book-row"
            data-id={id.to_string()} data-status={status_name} data-editing="false">
            <span class="row-spine" aria-hidden="true"></span>
            <div class="row-main" ondblclick={onedit.clone()}>
                <div class="row-title" data-testid="book-title" title={book.title.clone()}>
                    { &book.title }
                </div>
                <div class="row-author" data-testid="book-author">{ &book.author }</div>
            </div>
            { stars(book.rating) }
            <div class="segmented" role="group" aria-label="Status">
                { status_button(Status::Wishlist) }
                { status_button(Status::Reading) }
                { status_button(Status::Finished) }
            </div>
            <div class="row-actions">
                <button ref={edit_ref} type="button" class="icon-btn" data-testid="edit"
                    aria-label={format!("Edit “{}”", book.title)} title="Edit" onclick={onedit}>
                    { icons::pencil() }
                </button>
                <button type="button" class="icon-btn icon-btn-danger" data-testid="delete"
                    aria-label={format!("Delete “{}”", book.title)} title="Delete"
                    onclick={ondelete}>
                    { icons::trash() }
                </button>
            </div>
        </div>
    }
}

/// Properties of [`RowEditor`].
#[derive(Properties, PartialEq)]
struct RowEditorProps {
    /// The book as the list holds it.
    book: Rc<ListedBook>,
}

/// The editor a row expands into. It asks the core for the whole book — notes, dates and ISBN
/// are not in the list — and opens the form on it; until the answer comes (a few
/// milliseconds) the row keeps its title and author. A book that cannot be read (deleted
/// meanwhile, say by a sync) closes the editor and says why.
#[component]
fn RowEditor(props: &RowEditorProps) -> Html {
    let dispatch = use_context::<Dispatch>();
    let loaded = use_state(|| None::<Rc<Book>>);
    {
        let loaded = loaded.clone();
        let dispatch = dispatch.clone();
        use_effect_with(props.book.id, move |&id| {
            if let Some(dispatch) = dispatch {
                spawn_local(async move {
                    match ipc::invoke(&GetBook { id }).await {
                        Ok(book) => loaded.set(Some(Rc::new(book))),
                        Err(err) => {
                            dispatch.editor.dispatch(EditorAction::Removed(id));
                            dispatch.failed(err);
                        }
                    }
                });
            }
        });
    }
    match &*loaded {
        Some(book) => html! {
            <EditForm target={EditTarget::Book(book.id)} title={book.title.clone()}
                initial={Rc::new(Fields::of(book))} />
        },
        None => html! {
            <>
                <span class="row-spine" aria-hidden="true"></span>
                <div class="row-main" aria-busy="true">
                    <div class="row-title">{ &props.book.title }</div>
                    <div class="row-author">{ &props.book.author }</div>
                </div>
            </>
        },
    }
}

/// The row's rating: one element, its stars drawn by the stylesheet (five dim ones, and over
/// them as many lit ones as `data-rating`), so a row scrolled to another book changes an
/// attribute and makes no element. An unrated book's row keeps the element, empty
/// (`row-rating-none`, a slot that keeps the columns aligned) and out of the accessibility
/// tree.
fn stars(rating: Option<u8>) -> Html {
    const DIGITS: [&str; 6] = ["0", "1", "2", "3", "4", "5"];
    let label = rating.map(|rating| interned(format!("Rated {rating} out of 5")));
    html! {
        <div class={intern(if rating.is_some() { "row-rating" } else { "row-rating row-rating-none" })}
            data-testid={rating.is_some().then(|| intern("book-rating"))}
            data-rating={rating.and_then(|rating| DIGITS.get(usize::from(rating))).map(|n| intern(n))}
            role={rating.is_some().then(|| intern("img"))}
            aria-hidden={rating.is_none().then(|| intern("true"))}
            aria-label={label.clone()} title={label}>
        </div>
    }
}

/// `value`, interned: wasm-bindgen keeps the page's copy of an interned string and reuses it
/// whenever the same text is sent again, instead of decoding a fresh copy each time. Every
/// copy sent is garbage in the web process once replaced, held (with the memory behind it)
/// until the JavaScript collector runs, which a long scroll outpaces. Only for values from a
/// small set: the cache is never emptied.
fn interned(value: String) -> AttrValue {
    intern(&value);
    AttrValue::from(value)
}
