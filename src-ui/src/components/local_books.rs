//! The question after signing in while books made before it are only on this computer: move
//! them into the account, keep them here, or (Esc, close) decide later.

use bookwish_ipc::LocalBooksOffer;
use yew::prelude::*;

use super::dialog::{Dialog, Placement};
use super::icons;
use crate::actions;
use crate::state::local_books::{more, title};
use crate::state::{Choice, Dispatch, LocalBooksAction, LocalBooksContext};

/// The dialog, while there is a question.
#[component]
pub fn LocalBooksDialog() -> Html {
    let state = use_context::<LocalBooksContext>();
    let dispatch = use_context::<Dispatch>();
    let move_ref = use_node_ref();
    let (Some(state), Some(dispatch)) = (state, dispatch) else {
        return Html::default();
    };
    let Some(offer) = state.offer.clone() else {
        return Html::default();
    };
    let busy = state.busy;
    let later = {
        let dispatch = dispatch.clone();
        Callback::from(move |()| dispatch.local_books.dispatch(LocalBooksAction::Later))
    };
    let onlater = later.reform(|_: MouseEvent| ());
    let choose = |choice: Choice| {
        let dispatch = dispatch.clone();
        let offer = offer.clone();
        Callback::from(move |_: MouseEvent| actions::decide_local_books(&dispatch, &offer, choice))
    };
    let waiting = |choice: Choice| {
        (busy == Some(choice)).then(|| html! { <span class="spinner" aria-hidden="true"></span> })
    };

    html! {
        <Dialog placement={Placement::Centre} class="modal" testid="local-books-offer"
            labelled_by="local-books-title" described_by="local-books-text"
            initial_focus={move_ref.clone()} on_escape={later}>
            <div class="modal-head">
                <span class="modal-icon" aria-hidden="true">{ icons::device() }</span>
                <h2 id="local-books-title" class="modal-title" data-testid="local-books-title">
                    { title(&offer) }
                </h2>
                <button type="button" class="icon-btn" data-testid="local-books-later"
                    aria-label="Decide later" title="Decide later (Esc)" disabled={busy.is_some()}
                    onclick={onlater}>
                    { icons::close() }
                </button>
            </div>
            <p id="local-books-text" class="modal-text">
                { "You added these before signing in, so they aren't in your account yet." }
            </p>
            { sample(&offer) }
            <div class="choices" role="group" aria-label="What to do with them"
                aria-busy={busy.map(|_| "true")}>
                <button ref={move_ref} type="button" class="choice choice-primary"
                    data-testid="move-local-books" disabled={busy.is_some()}
                    aria-labelledby="move-local-books-label"
                    aria-describedby="move-local-books-text" onclick={choose(Choice::Move)}>
                    <span class="choice-icon" aria-hidden="true">{ icons::cloud() }</span>
                    <span class="choice-body">
                        <span id="move-local-books-label" class="choice-title">
                            { "Move them into my account" }
                        </span>
                        <span id="move-local-books-text" class="choice-text">
                            { "They sync to your account and your other devices." }
                        </span>
                    </span>
                    { for waiting(Choice::Move) }
                </button>
                <button type="button" class="choice" data-testid="keep-local-books"
                    disabled={busy.is_some()} aria-labelledby="keep-local-books-label"
                    aria-describedby="keep-local-books-text" onclick={choose(Choice::Keep)}>
                    <span class="choice-icon" aria-hidden="true">{ icons::device() }</span>
                    <span class="choice-body">
                        <span id="keep-local-books-label" class="choice-title">
                            { "Keep them on this computer only" }
                        </span>
                        <span id="keep-local-books-text" class="choice-text">
                            { "They stay in the list you see when you're signed out." }
                        </span>
                    </span>
                    { for waiting(Choice::Keep) }
                </button>
            </div>
            <p class="modal-hint"><kbd>{ "Esc" }</kbd>{ " decide later" }</p>
        </Dialog>
    }
}

/// Some of the books' titles, and how many more there are.
fn sample(offer: &LocalBooksOffer) -> Html {
    if offer.sample_titles.is_empty() {
        return Html::default();
    }
    html! {
        <ul class="modal-titles" data-testid="local-books-titles" aria-label="Some of them">
            for title in offer.sample_titles.iter() {
                <li class="modal-book" title={title.clone()}>{ title }</li>
            }
            if let Some(more) = more(offer) {
                <li class="modal-more">{ more }</li>
            }
        </ul>
    }
}
