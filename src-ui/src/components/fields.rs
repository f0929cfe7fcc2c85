//! Pieces shared by the add form and the inline editor.

use bookwish_ipc::Status;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::icons;
use crate::form::{Edit, Field, Fields, FormError};

/// The fields' reducer handle.
pub type FieldsHandle = UseReducerHandle<Fields>;

/// `oninput` of a text or date input: sends `edit(value)`.
pub fn on_input(fields: &FieldsHandle, edit: fn(String) -> Edit) -> Callback<InputEvent> {
    let fields = fields.clone();
    Callback::from(move |event: InputEvent| {
        fields.dispatch(edit(
            event.target_unchecked_into::<HtmlInputElement>().value(),
        ));
    })
}

/// `oninput` of a textarea: sends `edit(value)`.
pub fn on_text_area(fields: &FieldsHandle, edit: fn(String) -> Edit) -> Callback<InputEvent> {
    let fields = fields.clone();
    Callback::from(move |event: InputEvent| {
        fields.dispatch(edit(
            event.target_unchecked_into::<HtmlTextAreaElement>().value(),
        ));
    })
}

/// `onchange` of a status select.
pub fn on_status(fields: &FieldsHandle) -> Callback<Event> {
    let fields = fields.clone();
    Callback::from(move |event: Event| {
        let value = event.target_unchecked_into::<HtmlSelectElement>().value();
        if let Ok(status) = value.parse::<Status>() {
            fields.dispatch(Edit::Status(status));
        }
    })
}

/// The options of a status select, with `current` selected.
pub fn status_options(current: Status) -> Html {
    html! {
        for status in Status::ALL {
            <option value={status.as_str()} selected={status == current}>
                { status.as_str() }
            </option>
        }
    }
}

/// The id of the error message of `field` in the form `form`.
pub fn error_id(form: &str, field: Field) -> String {
    format!("{form}-{}-error", field.name())
}

/// `aria-invalid` for `field`.
pub fn invalid(error: Option<&FormError>, field: Field) -> Option<&'static str> {
    error.and_then(|e| e.on(field)).map(|_| "true")
}

/// `aria-describedby` for `field`.
pub fn described_by(error: Option<&FormError>, form: &str, field: Field) -> Option<String> {
    error
        .and_then(|e| e.on(field))
        .map(|_| error_id(form, field))
}

/// The message under `field`, if the error is about it.
pub fn field_error(error: Option<&FormError>, form: &str, field: Field) -> Html {
    match error.and_then(|e| e.on(field)) {
        Some(message) => html! {
            <p class="field-error" id={error_id(form, field)} role="alert"
                data-testid="form-error" data-field={field.name()}>
                { icons::warning() }
                <span>{ message }</span>
            </p>
        },
        None => Html::default(),
    }
}

/// The id of the note under the ISBN field of the form `form`.
pub fn isbn_hint_id(form: &str) -> String {
    format!("{form}-isbn-hint")
}

/// `aria-describedby` of the ISBN field: its error, else its note.
pub fn isbn_described_by(error: Option<&FormError>, form: &str, fields: &Fields) -> Option<String> {
    described_by(error, form, Field::Isbn)
        .or_else(|| fields.isbn_saved_as().map(|_| isbn_hint_id(form)))
}

/// Under the ISBN field, while no error is shown there: what a typed ISBN-10 (or one with
/// hyphens) will be saved as.
pub fn isbn_hint(error: Option<&FormError>, form: &str, fields: &Fields) -> Html {
    if error.and_then(|e| e.on(Field::Isbn)).is_some() {
        return Html::default();
    }
    match fields.isbn_saved_as() {
        Some(isbn) => html! {
            <p class="field-hint" id={isbn_hint_id(form)} data-testid="isbn-saved-as">
                { format!("Saved as ISBN-13 {isbn}") }
            </p>
        },
        None => Html::default(),
    }
}

/// The ISBN input of the form `form`.
pub fn isbn_input(
    fields: &FieldsHandle,
    error: Option<&FormError>,
    form: &str,
    node: NodeRef,
) -> Html {
    html! {
        <input id={format!("{form}-isbn")} ref={node} class="input" type="text"
            data-testid={format!("{form}-isbn")} maxlength="24" spellcheck="false"
            autocomplete="off" value={fields.isbn.clone()} placeholder="ISBN-13 or ISBN-10"
            aria-invalid={invalid(error, Field::Isbn)}
            aria-describedby={isbn_described_by(error, form, fields)}
            oninput={on_input(fields, Edit::Isbn)} />
    }
}

/// The message above the buttons, if the error is about no field the form shows.
pub fn general_error(error: Option<&FormError>) -> Html {
    match error.and_then(FormError::general) {
        Some(message) => html! {
            <p class="form-error" role="alert" data-testid="form-error">
                { icons::warning() }
                <span>{ message }</span>
            </p>
        },
        None => Html::default(),
    }
}

/// Focuses the element of `field` among `refs`.
pub fn focus(refs: &[(Field, NodeRef)], field: Field) {
    if let Some(element) = refs
        .iter()
        .find(|(f, _)| *f == field)
        .and_then(|(_, node)| node.cast::<web_sys::HtmlElement>())
    {
        let _ = element.focus();
    }
}
