//! The add form, above the list.

use bookwish_ipc::limits::{AUTHOR_MAX, TITLE_MAX};
use bookwish_ipc::Status;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::fields::{
    described_by, field_error, focus, general_error, invalid, isbn_hint, isbn_input, on_input,
    on_status, status_options,
};
use super::icons;
use crate::actions;
use crate::form::{Edit, Field, Fields, FormError};
use crate::state::{Dispatch, EditorAction, LibraryContext};

/// The fields this form shows (errors about others go above the buttons).
const SHOWN: [Field; 4] = [Field::Title, Field::Author, Field::Isbn, Field::Status];
const FORM: &str = "add";

/// The add form: title, author, ISBN, status. Errors come from the core, next to their field.
#[component]
pub fn AddForm() -> Html {
    let dispatch = use_context::<Dispatch>();
    // A book added while a status is shown starts in that status.
    let status = use_context::<LibraryContext>()
        .and_then(|library| library.query.status)
        .unwrap_or(Status::Wishlist);
    let fields = use_reducer(move || Fields::with_status(status));
    let error = use_state(|| None::<FormError>);
    let busy = use_state_eq(|| false);
    let title_ref = use_node_ref();
    let author_ref = use_node_ref();
    let isbn_ref = use_node_ref();
    let status_ref = use_node_ref();
    let refs = [
        (Field::Title, title_ref.clone()),
        (Field::Author, author_ref.clone()),
        (Field::Isbn, isbn_ref.clone()),
        (Field::Status, status_ref.clone()),
    ];

    {
        let refs = refs.clone();
        use_effect_with((), move |_| focus(&refs, Field::Title));
    }
    {
        let refs = refs.clone();
        use_effect_with((*error).clone(), move |error| {
            if let Some(field) = error.as_ref().and_then(|e| e.field) {
                focus(&refs, field);
            }
        });
    }

    let Some(dispatch) = dispatch else {
        return Html::default();
    };

    let onsubmit = {
        let fields = fields.clone();
        let error = error.clone();
        let busy = busy.clone();
        let dispatch = dispatch.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            let draft = fields.draft();
            let (error, busy, dispatch) = (error.clone(), busy.clone(), dispatch.clone());
            spawn_local(async move {
                match actions::add(&dispatch, draft).await {
                    Ok(_) => dispatch.editor.dispatch(EditorAction::Close),
                    Err(err) => {
                        // Keep what was typed; say what the core objects to.
                        error.set(Some(FormError::place(err, &SHOWN)));
                        busy.set(false);
                    }
                }
            });
        })
    };
    let oncancel = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.editor.dispatch(EditorAction::Close))
    };

    let err = error.as_ref();
    html! {
        <form class="add-card" data-testid="add-form" aria-label="New book"
            autocomplete="off" {onsubmit}>
            <div class="card-head">
                <h2 class="card-title">{ "New book" }</h2>
                <button type="button" class="icon-btn" aria-label="Close" title="Close (Esc)"
                    onclick={oncancel.clone()}>
                    { icons::close() }
                </button>
            </div>
            <div class="add-grid">
                <div class="field field-title">
                    <label class="label" for="add-title">{ "Title" }</label>
                    <input id="add-title" ref={title_ref} class="input" data-testid="add-title"
                        type="text" maxlength={TITLE_MAX.to_string()} value={fields.title.clone()}
                        placeholder="e.g. The Left Hand of Darkness"
                        aria-invalid={invalid(err, Field::Title)}
                        aria-describedby={described_by(err, FORM, Field::Title)}
                        oninput={on_input(&fields, Edit::Title)} />
                    { field_error(err, FORM, Field::Title) }
                </div>
                <div class="field field-author">
                    <label class="label" for="add-author">{ "Author" }</label>
                    <input id="add-author" ref={author_ref} class="input" data-testid="add-author"
                        type="text" maxlength={AUTHOR_MAX.to_string()}
                        value={fields.author.clone()} placeholder="e.g. Ursula K. Le Guin"
                        aria-invalid={invalid(err, Field::Author)}
                        aria-describedby={described_by(err, FORM, Field::Author)}
                        oninput={on_input(&fields, Edit::Author)} />
                    { field_error(err, FORM, Field::Author) }
                </div>
                <div class="field field-isbn">
                    <label class="label" for="add-isbn">{ "ISBN" }</label>
                    { isbn_input(&fields, err, FORM, isbn_ref) }
                    { field_error(err, FORM, Field::Isbn) }
                    { isbn_hint(err, FORM, &fields) }
                </div>
                <div class="field field-status">
                    <label class="label" for="add-status">{ "Status" }</label>
                    <span class="select-wrap">
                        <select id="add-status" ref={status_ref} class="select" data-testid="add-status"
                            aria-invalid={invalid(err, Field::Status)}
                            aria-describedby={described_by(err, FORM, Field::Status)}
                            onchange={on_status(&fields)}>
                            { status_options(fields.status) }
                        </select>
                    </span>
                    { field_error(err, FORM, Field::Status) }
                </div>
                <div class="add-actions">
                    <button type="submit" class="btn btn-primary" data-testid="add-submit"
                        disabled={*busy}>
                        { if *busy { "Adding…" } else { "Add book" } }
                    </button>
                    <button type="button" class="btn btn-ghost" data-testid="add-cancel"
                        onclick={oncancel}>
                        { "Cancel" }
                    </button>
                </div>
            </div>
            { general_error(err) }
        </form>
    }
}
