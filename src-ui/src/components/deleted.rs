//! The notice above the list when an account was deleted on the server — it no longer exists,
//! the app signed out, and its books are still on this computer — with the choice to remove
//! them (a confirmation naming how many) or keep them for now.

use bookwish_ipc::DeletedAccount;
use yew::prelude::*;

use super::dialog::{Dialog, Placement};
use super::icons;
use crate::actions;
use crate::state::deleted::{
    confirm_label, confirm_text, confirm_title, explanation, headline, needs_confirmation,
    remove_label,
};
use crate::state::{DeletedAction, DeletedContext, Dispatch};

/// One notice per deleted account whose books are still here.
#[component]
pub fn DeletedAccountNotices() -> Html {
    let (Some(state), Some(dispatch)) =
        (use_context::<DeletedContext>(), use_context::<Dispatch>())
    else {
        return Html::default();
    };
    let busy = state.removing.is_some();
    html! {
        <>
            for account in state.accounts.iter() {
                { notice(account, state.is_removing(&account.user_id), busy, &dispatch) }
            }
        </>
    }
}

fn notice(account: &DeletedAccount, removing: bool, busy: bool, dispatch: &Dispatch) -> Html {
    let onremove = {
        let dispatch = dispatch.clone();
        let account = account.clone();
        Callback::from(move |_: MouseEvent| {
            if needs_confirmation(&account) {
                dispatch
                    .deleted
                    .dispatch(DeletedAction::AskRemove(account.user_id.clone()));
            } else {
                actions::remove_account_books(&dispatch, &account);
            }
        })
    };
    let onkeep = {
        let dispatch = dispatch.clone();
        let user_id = account.user_id.clone();
        Callback::from(move |_: MouseEvent| {
            dispatch
                .deleted
                .dispatch(DeletedAction::Keep(user_id.clone()))
        })
    };
    let title_id = format!("deleted-{}", account.user_id);
    html! {
        <section class="deleted-notice" data-testid="account-deleted" role="alert"
            aria-labelledby={title_id.clone()} data-books={account.books.to_string()}>
            <span class="deleted-notice-icon" aria-hidden="true">{ icons::warning() }</span>
            <div class="deleted-notice-body">
                <h2 id={title_id} class="deleted-notice-title" data-testid="account-deleted-title">
                    { headline(account) }
                </h2>
                <p class="deleted-notice-text" data-testid="account-deleted-text">
                    { explanation(account) }
                </p>
                <div class="deleted-notice-actions">
                    <button type="button"
                        class={classes!("btn", "btn-sm", needs_confirmation(account).then_some("btn-danger-outline"))}
                        data-testid="account-deleted-remove" disabled={busy}
                        aria-haspopup={needs_confirmation(account).then_some("dialog")}
                        onclick={onremove}>
                        if removing {
                            <span class="spinner" aria-hidden="true"></span>
                        } else if needs_confirmation(account) {
                            { icons::trash() }
                        }
                        { remove_label(account) }
                    </button>
                    if needs_confirmation(account) {
                        <button type="button" class="btn btn-sm btn-ghost"
                            data-testid="account-deleted-keep" disabled={busy}
                            title="Keep the books on this computer; Bookwish asks again next time it starts"
                            onclick={onkeep}>
                            { "Keep for now" }
                        </button>
                    }
                </div>
            </div>
        </section>
    }
}

/// The confirmation before a deleted account's books are removed.
#[component]
pub fn RemoveAccountDialog() -> Html {
    let state = use_context::<DeletedContext>();
    let dispatch = use_context::<Dispatch>();
    let cancel_ref = use_node_ref();
    let (Some(state), Some(dispatch)) = (state, dispatch) else {
        return Html::default();
    };
    let Some(account) = state.confirming().cloned() else {
        return Html::default();
    };
    let removing = state.is_removing(&account.user_id);
    let cancel = {
        let dispatch = dispatch.clone();
        Callback::from(move |()| dispatch.deleted.dispatch(DeletedAction::CancelRemove))
    };
    let oncancel = cancel.reform(|_: MouseEvent| ());
    let onconfirm = {
        let dispatch = dispatch.clone();
        let account = account.clone();
        Callback::from(move |_: MouseEvent| actions::remove_account_books(&dispatch, &account))
    };
    // The safe answer has the focus: Enter right after opening keeps the books.
    html! {
        <Dialog placement={Placement::Centre} class="modal" testid="remove-account-confirm"
            labelled_by="remove-account-title" described_by="remove-account-text"
            initial_focus={cancel_ref.clone()} on_escape={cancel}>
            <div class="modal-head">
                <span class="modal-icon modal-icon-danger" aria-hidden="true">{ icons::trash() }</span>
                <h2 id="remove-account-title" class="modal-title" data-testid="remove-account-title">
                    { confirm_title(&account) }
                </h2>
            </div>
            <p id="remove-account-text" class="modal-text">{ confirm_text(&account) }</p>
            <div class="modal-actions" aria-busy={removing.then_some("true")}>
                <button ref={cancel_ref} type="button" class="btn" data-testid="remove-account-cancel"
                    disabled={removing} onclick={oncancel}>
                    { "Cancel" }
                </button>
                <button type="button" class="btn btn-danger" data-testid="remove-account-confirm-button"
                    disabled={removing} onclick={onconfirm}>
                    if removing {
                        <span class="spinner" aria-hidden="true"></span>
                    }
                    { confirm_label(&account) }
                </button>
            </div>
        </Dialog>
    }
}
