//! The import panel: what the chosen file holds before anything is written — the books it adds,
//! those already in the list (skip or update them), the lines that repeat, and every line that
//! cannot be read with its reason — then the import's progress, or why the file cannot be
//! imported at all.

use std::rc::Rc;

use bookwish_ipc::{ImportOffer, ImportProblem, OnMatch};
use yew::prelude::*;

use super::dialog::{Dialog, Placement};
use super::icons;
use crate::actions;
use crate::state::transfer::{
    confirm_text, duplicates_text, matching_text, new_text, problems_text, to_write, Step,
};
use crate::state::{Dispatch, TransferAction, TransferContext};
use crate::text::grouped;

/// How many unreadable lines are listed (the count says how many there are in all).
const SHOWN_PROBLEMS: usize = 200;

/// The panel, while there is a file to show (or a choice under way).
#[component]
pub fn ImportPanel() -> Html {
    let state = use_context::<TransferContext>();
    let dispatch = use_context::<Dispatch>();
    let confirm_ref = use_node_ref();
    let (Some(state), Some(dispatch)) = (state, dispatch) else {
        return Html::default();
    };
    let token = match &state.step {
        Step::Offered(offer) | Step::Importing { offer, .. } => Some(offer.token),
        _ => None,
    };
    let close = {
        let dispatch = dispatch.clone();
        Callback::from(move |()| actions::cancel_import(&dispatch, token))
    };
    let (title, body) = match &state.step {
        Step::Closed => return Html::default(),
        Step::Choosing => (
            "Import books".to_owned(),
            html! {
                <p class="modal-text import-waiting" data-testid="import-choosing" role="status">
                    <span class="spinner" aria-hidden="true"></span>
                    { "Choose a Goodreads or StoryGraph export, or a Bookwish backup, in the \
                       window that opened." }
                </p>
            },
        ),
        Step::Offered(offer) => (
            format!("Import “{}”", offer.file_name),
            offered(
                offer,
                state.on_match,
                &dispatch,
                &close,
                confirm_ref.clone(),
            ),
        ),
        Step::Importing { offer, done, total } => (
            format!("Importing “{}”", offer.file_name),
            progress(*done, *total),
        ),
        Step::Refused(error) => (
            "This file can't be imported".to_owned(),
            html! {
                <>
                    <p class="modal-text import-error" data-testid="import-error" role="alert"
                        data-code={format!("{:?}", error.code)}>
                        { icons::warning() }
                        <span>{ &error.message }</span>
                    </p>
                    <p class="modal-hint">{ "Nothing was imported." }</p>
                    <div class="modal-actions">
                        <button ref={confirm_ref.clone()} type="button" class="btn btn-primary"
                            data-testid="import-close" onclick={close.reform(|_: MouseEvent| ())}>
                            { "Close" }
                        </button>
                    </div>
                </>
            },
        ),
    };
    let busy = matches!(state.step, Step::Importing { .. });
    html! {
        <Dialog placement={Placement::Centre} class="modal import-modal" testid="import-panel"
            labelled_by="import-title" initial_focus={confirm_ref} on_escape={close.clone()}>
            <div class="modal-head">
                <span class="modal-icon" aria-hidden="true">{ icons::upload() }</span>
                <h2 id="import-title" class="modal-title" data-testid="import-title">{ title }</h2>
                <button type="button" class="icon-btn" data-testid="import-dismiss"
                    aria-label="Cancel the import" title="Cancel (Esc)" disabled={busy}
                    onclick={close.reform(|_: MouseEvent| ())}>
                    { icons::close() }
                </button>
            </div>
            { body }
        </Dialog>
    }
}

/// What the file holds and the choices, before anything is written.
fn offered(
    offer: &Rc<ImportOffer>,
    on_match: OnMatch,
    dispatch: &Dispatch,
    close: &Callback<()>,
    confirm_ref: NodeRef,
) -> Html {
    let summary = &offer.summary;
    let choose = |choice: OnMatch| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: Event| dispatch.transfer.dispatch(TransferAction::OnMatch(choice)))
    };
    let onconfirm = {
        let dispatch = dispatch.clone();
        let token = offer.token;
        Callback::from(move |_: MouseEvent| actions::confirm_import(&dispatch, token, on_match))
    };
    let nothing = to_write(summary, on_match) == 0;
    html! {
        <>
            <p class="modal-text" data-testid="import-format">
                { format!("This is {}.", summary.format) }
            </p>
            <ul class="import-counts">
                <li data-testid="import-new" data-count={summary.new.to_string()}>
                    { icons::plus() }
                    <span>{ new_text(summary) }</span>
                </li>
                if summary.matching > 0 {
                    <li data-testid="import-matching" data-count={summary.matching.to_string()}>
                        { icons::library() }
                        <span>{ matching_text(summary) }</span>
                    </li>
                }
                if summary.duplicates > 0 {
                    <li data-testid="import-duplicates"
                        data-count={summary.duplicates.to_string()}>
                        { icons::info() }
                        <span>{ duplicates_text(summary) }</span>
                    </li>
                }
            </ul>
            if !summary.new_titles.is_empty() {
                <ul class="modal-titles" data-testid="import-new-titles"
                    aria-label="Some of the books to add">
                    for title in summary.new_titles.iter() {
                        <li class="modal-book" title={title.clone()}>{ title }</li>
                    }
                </ul>
            }
            if summary.matching > 0 {
                <fieldset class="import-choice" data-testid="import-on-match">
                    <legend class="label">{ "Books already in your list" }</legend>
                    <label class="radio">
                        <input type="radio" name="on-match" data-testid="on-match-skip"
                            checked={on_match == OnMatch::Skip} onchange={choose(OnMatch::Skip)} />
                        <span>{ "Skip them: keep them as they are" }</span>
                    </label>
                    <label class="radio">
                        <input type="radio" name="on-match" data-testid="on-match-update"
                            checked={on_match == OnMatch::Update}
                            onchange={choose(OnMatch::Update)} />
                        <span>{ "Update them with the file's details" }</span>
                    </label>
                </fieldset>
            }
            if on_match == OnMatch::Update && !summary.update_problems.is_empty() {
                { problem_list(
                    "import-update-problems",
                    &format!("{} can't be updated and will be left as they are:",
                        grouped(summary.update_problems.len())),
                    &summary.update_problems,
                ) }
            }
            if !summary.problems.is_empty() {
                { problem_list("import-problems", &problems_text(summary), &summary.problems) }
            }
            <div class="modal-actions">
                <button type="button" class="btn btn-ghost" data-testid="import-cancel"
                    onclick={close.reform(|_: MouseEvent| ())}>
                    { "Cancel" }
                </button>
                <button ref={confirm_ref} type="button" class="btn btn-primary"
                    data-testid="import-confirm" disabled={nothing} onclick={onconfirm}>
                    { confirm_text(summary, on_match) }
                </button>
            </div>
        </>
    }
}

/// Lines of the file and why each is left out.
fn problem_list(testid: &str, heading: &str, problems: &[ImportProblem]) -> Html {
    let hidden = problems.len().saturating_sub(SHOWN_PROBLEMS);
    html! {
        <section class="import-problems" data-testid={testid.to_owned()}>
            <p class="import-problems-title">{ icons::warning() }<span>{ heading }</span></p>
            <ul class="import-problem-list">
                for problem in problems.iter().take(SHOWN_PROBLEMS) {
                    <li class="import-problem" data-testid="import-problem"
                        data-line={problem.line.to_string()}>
                        <span class="import-line">{ format!("Line {}", problem.line) }</span>
                        <span class="import-reason">{ &problem.reason }</span>
                    </li>
                }
                if hidden > 0 {
                    <li class="modal-more">{ format!("and {} more", grouped(hidden)) }</li>
                }
            </ul>
        </section>
    }
}

/// The import's progress.
fn progress(done: u32, total: u32) -> Html {
    html! {
        <div class="import-progress" data-testid="import-progress" role="status"
            aria-live="polite">
            <progress max={total.max(1).to_string()} value={done.to_string()}
                aria-label="Import progress"></progress>
            <p class="modal-hint">
                { format!("Importing… {} of {} books", grouped(done as usize), grouped(total as usize)) }
            </p>
        </div>
    }
}
