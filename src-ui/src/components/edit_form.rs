//! The edit form: the inline editor a row expands into, and the fix form of a refused change
//! in the review panel. Both edit every field of a book; they differ only in what saving does.

use std::rc::Rc;

use bookwish_ipc::limits::{AUTHOR_MAX, NOTES_MAX, RATING_MAX, RATING_MIN, TITLE_MAX};
use bookwish_ipc::BookId;
use wasm_bindgen_futures::spawn_local;
use web_sys::{ScrollBehavior, ScrollIntoViewOptions, ScrollLogicalPosition};
use yew::prelude::*;

use super::fields::{
    described_by, field_error, focus, general_error, invalid, isbn_hint, isbn_input, on_input,
    on_status, on_text_area, status_options,
};
use crate::actions;
use crate::form::{Edit, Field, Fields, FormError};
use crate::state::{Dispatch, EditorAction};

const FORM: &str = "edit";

/// What saving the form does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditTarget {
    /// Saves the book (`update_book`).
    Book(BookId),
    /// Saves the corrected book of a refused change (`fix_rejection`), which forgets the
    /// refusal.
    Rejection {
        /// The refused change.
        id: i64,
        /// Its book.
        book_id: BookId,
    },
}

impl EditTarget {
    /// The book being edited.
    pub fn book_id(self) -> BookId {
        match self {
            EditTarget::Book(id) | EditTarget::Rejection { book_id: id, .. } => id,
        }
    }
}

/// Properties of [`EditForm`].
#[derive(Properties, PartialEq)]
pub struct EditFormProps {
    /// What saving does.
    pub target: EditTarget,
    /// The book's title, to name the form.
    pub title: AttrValue,
    /// The fields as the form opens with them.
    pub initial: Rc<Fields>,
}

/// Every field of a book. Enter in a one-line field saves, Ctrl+Enter saves from the notes,
/// Esc cancels (handled by the window, or by the dialog the form is in).
#[component]
pub fn EditForm(props: &EditFormProps) -> Html {
    let dispatch = use_context::<Dispatch>();
    let target = props.target;
    // Starts from the fields as they were; later changes to the book (say, from sync) do not
    // overwrite what the user is typing.
    let fields = use_reducer({
        let initial = Rc::clone(&props.initial);
        move || Rc::unwrap_or_clone(initial)
    });
    let error = use_state(|| None::<FormError>);
    let busy = use_state_eq(|| false);
    let form_ref = use_node_ref();
    let refs: Rc<Vec<(Field, NodeRef)>> = use_memo((), |_| {
        Field::ALL
            .into_iter()
            .map(|field| (field, NodeRef::default()))
            .collect()
    });

    {
        let refs = Rc::clone(&refs);
        let form_ref = form_ref.clone();
        use_effect_with((), move |_| {
            focus(&refs, Field::Title);
            if let Some(form) = form_ref.cast::<web_sys::Element>() {
                let options = ScrollIntoViewOptions::new();
                options.set_block(ScrollLogicalPosition::Nearest);
                options.set_behavior(ScrollBehavior::Instant);
                form.scroll_into_view_with_scroll_into_view_options(&options);
            }
        });
    }
    {
        let refs = Rc::clone(&refs);
        use_effect_with((*error).clone(), move |error| {
            if let Some(field) = error.as_ref().and_then(|e| e.field) {
                focus(&refs, field);
            }
        });
    }

    let Some(dispatch) = dispatch else {
        return Html::default();
    };
    let node = |field: Field| {
        refs.iter()
            .find(|(f, _)| *f == field)
            .map(|(_, node)| node.clone())
            .unwrap_or_default()
    };

    let save = {
        let fields = fields.clone();
        let error = error.clone();
        let busy = busy.clone();
        let dispatch = dispatch.clone();
        Callback::from(move |()| {
            if *busy {
                return;
            }
            busy.set(true);
            let draft = fields.draft();
            let (error, busy, dispatch) = (error.clone(), busy.clone(), dispatch.clone());
            spawn_local(async move {
                let saved = match target {
                    EditTarget::Book(id) => actions::update(&dispatch, id, draft).await,
                    EditTarget::Rejection { id, .. } => {
                        actions::fix_rejection(&dispatch, id, draft).await
                    }
                };
                match saved {
                    Ok(_) => dispatch.editor.dispatch(EditorAction::Close),
                    Err(err) => {
                        error.set(Some(FormError::place(err, &Field::ALL)));
                        busy.set(false);
                    }
                }
            });
        })
    };
    let onsubmit = save.reform(|event: SubmitEvent| event.prevent_default());
    let onnoteskey = {
        let save = save.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Enter" && (event.ctrl_key() || event.meta_key()) {
                event.prevent_default();
                save.emit(());
            }
        })
    };
    let oncancel = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.editor.dispatch(EditorAction::Close))
    };

    let err = error.as_ref();
    let rating_name = format!("rating-{}", target.book_id());
    let rating_option = |value: Option<u8>| {
        let checked = fields.rating == value;
        let lit = value.is_some_and(|n| fields.rating.is_some_and(|rating| n <= rating));
        let onchange = {
            let fields = fields.clone();
            Callback::from(move |_: Event| fields.dispatch(Edit::Rating(value)))
        };
        let (class, label, text) = match value {
            Some(_) => (
                classes!("star-choice", lit.then_some("on")),
                format!("{} out of 5", value.unwrap_or_default()),
                "★",
            ),
            None => (classes!("star-none"), "No rating".to_owned(), "None"),
        };
        let testid = value.map_or("edit-rating-none".to_owned(), |n| {
            format!("edit-rating-{n}")
        });
        html! {
            <label class={class} title={label.clone()}>
                <input type="radio" class="visually-hidden" name={rating_name.clone()}
                    data-testid={testid} aria-label={label} {checked} {onchange}
                    ref={if value == Some(RATING_MIN) { node(Field::Rating) } else { NodeRef::default() }} />
                <span aria-hidden="true">{ text }</span>
            </label>
        }
    };

    html! {
        <form ref={form_ref} class="editor" data-testid="edit-form" autocomplete="off"
            aria-label={format!("Edit “{}”", props.title)} {onsubmit}>
            <div class="editor-grid">
                <div class="field field-wide">
                    <label class="label" for="edit-title">{ "Title" }</label>
                    <input id="edit-title" ref={node(Field::Title)} class="input" type="text"
                        data-testid="edit-title" maxlength={TITLE_MAX.to_string()}
                        value={fields.title.clone()}
                        aria-invalid={invalid(err, Field::Title)}
                        aria-describedby={described_by(err, FORM, Field::Title)}
                        oninput={on_input(&fields, Edit::Title)} />
                    { field_error(err, FORM, Field::Title) }
                </div>
                <div class="field field-wide">
                    <label class="label" for="edit-author">{ "Author" }</label>
                    <input id="edit-author" ref={node(Field::Author)} class="input" type="text"
                        data-testid="edit-author" maxlength={AUTHOR_MAX.to_string()}
                        value={fields.author.clone()}
                        aria-invalid={invalid(err, Field::Author)}
                        aria-describedby={described_by(err, FORM, Field::Author)}
                        oninput={on_input(&fields, Edit::Author)} />
                    { field_error(err, FORM, Field::Author) }
                </div>
                <div class="field">
                    <label class="label" for="edit-status">{ "Status" }</label>
                    <span class="select-wrap">
                        <select id="edit-status" ref={node(Field::Status)} class="select"
                            data-testid="edit-status"
                            aria-invalid={invalid(err, Field::Status)}
                            aria-describedby={described_by(err, FORM, Field::Status)}
                            onchange={on_status(&fields)}>
                            { status_options(fields.status) }
                        </select>
                    </span>
                    { field_error(err, FORM, Field::Status) }
                </div>
                <fieldset class="field rating-field"
                    aria-describedby={described_by(err, FORM, Field::Rating)}>
                    <legend class="label">{ "Rating" }</legend>
                    <div class="star-picker" data-testid="edit-rating">
                        for n in RATING_MIN..=RATING_MAX {
                            { rating_option(Some(n)) }
                        }
                        { rating_option(None) }
                    </div>
                    { field_error(err, FORM, Field::Rating) }
                </fieldset>
                <div class="field">
                    <label class="label" for="edit-started">{ "Started" }</label>
                    <input id="edit-started" ref={node(Field::StartedOn)} class="input"
                        type="date" data-testid="edit-started" value={fields.started_on.clone()}
                        aria-invalid={invalid(err, Field::StartedOn)}
                        aria-describedby={described_by(err, FORM, Field::StartedOn)}
                        oninput={on_input(&fields, Edit::StartedOn)} />
                    { field_error(err, FORM, Field::StartedOn) }
                </div>
                <div class="field">
                    <label class="label" for="edit-finished">{ "Finished" }</label>
                    <input id="edit-finished" ref={node(Field::FinishedOn)} class="input"
                        type="date" data-testid="edit-finished" value={fields.finished_on.clone()}
                        aria-invalid={invalid(err, Field::FinishedOn)}
                        aria-describedby={described_by(err, FORM, Field::FinishedOn)}
                        oninput={on_input(&fields, Edit::FinishedOn)} />
                    { field_error(err, FORM, Field::FinishedOn) }
                </div>
                <div class="field field-wide">
                    <label class="label" for="edit-isbn">{ "ISBN" }</label>
                    { isbn_input(&fields, err, FORM, node(Field::Isbn)) }
                    { field_error(err, FORM, Field::Isbn) }
                    { isbn_hint(err, FORM, &fields) }
                </div>
                <div class="field field-full">
                    <label class="label" for="edit-notes">{ "Notes" }</label>
                    <textarea id="edit-notes" ref={node(Field::Notes)} class="input textarea"
                        data-testid="edit-notes" rows="3" maxlength={NOTES_MAX.to_string()}
                        value={fields.notes.clone()} placeholder="Thoughts, quotes, who lent it to you…"
                        aria-invalid={invalid(err, Field::Notes)}
                        aria-describedby={described_by(err, FORM, Field::Notes)}
                        oninput={on_text_area(&fields, Edit::Notes)} onkeydown={onnoteskey} />
                    { field_error(err, FORM, Field::Notes) }
                </div>
            </div>
            { general_error(err) }
            <div class="editor-actions">
                <span class="editor-hint">
                    <kbd>{ "Enter" }</kbd>{ " save · " }<kbd>{ "Esc" }</kbd>{ " cancel" }
                </span>
                <button type="button" class="btn btn-ghost" data-testid="edit-cancel"
                    onclick={oncancel}>
                    { "Cancel" }
                </button>
                <button type="submit" class="btn btn-primary" data-testid="edit-save"
                    disabled={*busy}>
                    { if *busy { "Saving…" } else { "Save" } }
                </button>
            </div>
        </form>
    }
}
