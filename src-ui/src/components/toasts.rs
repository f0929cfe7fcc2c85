//! Toasts at the bottom of the window: deletes and imports with undo, news, and errors.

use gloo_timers::callback::Timeout;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::icons;
use crate::actions;
use crate::state::{Dispatch, Notice, NoticeKind, NoticesAction, NoticesContext};

/// How long a delete can be undone from its toast.
const UNDO_MS: u32 = 8_000;
/// How long an error stays (the user can close it sooner).
const ERROR_MS: u32 = 12_000;
/// How long news stays.
const INFO_MS: u32 = 6_000;
/// How long an import can be undone from its toast (longer than a delete: it is more to check).
const IMPORT_UNDO_MS: u32 = 20_000;

/// The stack of toasts.
#[component]
pub fn Toasts() -> Html {
    let Some(notices) = use_context::<NoticesContext>() else {
        return Html::default();
    };
    html! {
        <div class="toasts" aria-live="polite">
            for notice in notices.items.iter().cloned() {
                <Toast key={notice.id} notice={notice.clone()} />
            }
        </div>
    }
}

/// Properties of [`Toast`].
#[derive(Properties, PartialEq)]
struct ToastProps {
    notice: Notice,
}

/// One toast. It goes away by itself, but not while the pointer rests on it.
#[component]
fn Toast(props: &ToastProps) -> Html {
    let dispatch = use_context::<Dispatch>();
    let timer = use_mut_ref(|| None::<Timeout>);
    let busy = use_state_eq(|| false);
    let id = props.notice.id;
    let lifetime = match props.notice.kind {
        NoticeKind::Deleted(_) => UNDO_MS,
        NoticeKind::Failed(_) => ERROR_MS,
        NoticeKind::Info(_) => INFO_MS,
        NoticeKind::Imported { .. } => IMPORT_UNDO_MS,
    };

    let start = {
        let timer = timer.clone();
        let dispatch = dispatch.clone();
        move || {
            let dispatch = dispatch.clone();
            *timer.borrow_mut() = Some(Timeout::new(lifetime, move || {
                if let Some(dispatch) = dispatch {
                    dispatch.notices.dispatch(NoticesAction::Dismiss(id));
                }
            }));
        }
    };
    {
        let start = start.clone();
        let timer = timer.clone();
        use_effect_with((), move |_| {
            start();
            move || drop(timer.borrow_mut().take())
        });
    }

    let Some(dispatch) = dispatch else {
        return Html::default();
    };
    let onenter = {
        let timer = timer.clone();
        Callback::from(move |_: MouseEvent| drop(timer.borrow_mut().take()))
    };
    let onleave = Callback::from(move |_: MouseEvent| start());
    let onclose = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.notices.dispatch(NoticesAction::Dismiss(id)))
    };
    let close = html! {
        <button type="button" class="toast-close" aria-label="Dismiss" title="Dismiss"
            onclick={onclose}>
            { icons::close() }
        </button>
    };

    match &props.notice.kind {
        NoticeKind::Deleted(book) => {
            let onundo = {
                let dispatch = dispatch.clone();
                let busy = busy.clone();
                let book_id = book.id;
                Callback::from(move |_: MouseEvent| {
                    busy.set(true);
                    let (dispatch, busy) = (dispatch.clone(), busy.clone());
                    spawn_local(async move {
                        if !actions::restore(&dispatch, id, book_id).await {
                            busy.set(false);
                        }
                    });
                })
            };
            html! {
                <div class="toast" data-testid="toast" data-kind="deleted" role="status"
                    onmouseenter={onenter} onmouseleave={onleave}>
                    <span class="toast-icon">{ icons::trash() }</span>
                    <span class="toast-text">{ format!("Deleted “{}”", book.title) }</span>
                    <button type="button" class="toast-action" data-testid="undo"
                        disabled={*busy} onclick={onundo}>
                        { "Undo" }
                    </button>
                    { close }
                </div>
            }
        }
        NoticeKind::Imported { import_id, text } => {
            let onundo = {
                let dispatch = dispatch.clone();
                let busy = busy.clone();
                let import_id = *import_id;
                Callback::from(move |_: MouseEvent| {
                    busy.set(true);
                    let (dispatch, busy) = (dispatch.clone(), busy.clone());
                    spawn_local(async move {
                        if !actions::undo_import(&dispatch, id, import_id).await {
                            busy.set(false);
                        }
                    });
                })
            };
            html! {
                <div class="toast toast-info" data-testid="toast" data-kind="imported"
                    role="status" onmouseenter={onenter} onmouseleave={onleave}>
                    <span class="toast-icon">{ icons::check_circle() }</span>
                    <span class="toast-text" data-testid="import-done">{ text }</span>
                    <button type="button" class="toast-action" data-testid="undo-import"
                        disabled={*busy} onclick={onundo}>
                        { "Undo" }
                    </button>
                    { close }
                </div>
            }
        }
        NoticeKind::Info(text) => html! {
            <div class="toast toast-info" data-testid="toast" data-kind="info" role="status"
                onmouseenter={onenter} onmouseleave={onleave}>
                <span class="toast-icon">{ icons::check_circle() }</span>
                <span class="toast-text">{ text }</span>
                { close }
            </div>
        },
        NoticeKind::Failed(err) => html! {
            <div class="toast toast-error" data-testid="toast" data-kind="error" role="alert"
                data-code={format!("{:?}", err.code)}
                onmouseenter={onenter} onmouseleave={onleave}>
                <span class="toast-icon">{ icons::warning() }</span>
                <span class="toast-text">{ &err.message }</span>
                { close }
            </div>
        },
    }
}
