//! The review panel: a sheet listing the conflicts (keep the current value or use the other)
//! and the refused changes (fix them in the edit form, or discard them) that sync left for
//! the user. What it shows and when it asks again is decided in `state::review`.

use std::rc::Rc;

use bookwish_ipc::{ConflictChoice, ConflictView, RejectionView, SyncIssues, UnreadableView};
use web_sys::Element;
use yew::prelude::*;

use super::dialog::{Dialog, Placement};
use super::edit_form::{EditForm, EditTarget};
use super::{focus, icons};
use crate::actions;
use crate::form::Fields;
use crate::state::review::{
    conflict_story, fix_unavailable, refused_fields, shown_value, sources, summary, Content,
};
use crate::state::{
    Dispatch, Editor, EditorAction, EditorContext, Issue, Review, ReviewAction, ReviewContext,
};

/// The open panel.
#[component]
pub fn ReviewPanel() -> Html {
    let review = use_context::<ReviewContext>();
    let editor = use_context::<EditorContext>();
    let dispatch = use_context::<Dispatch>();
    let node = use_node_ref();
    let fixing = editor.as_ref().and_then(|editor| editor.fixing());

    // Asked when it opens (it mounts then) and whenever the revision moves on.
    {
        let dispatch = dispatch.clone();
        let revision = review.as_ref().map(|review| review.revision);
        use_effect_with(revision, move |_| {
            if let Some(dispatch) = dispatch {
                actions::load_issues(&dispatch);
            }
        });
    }

    // A fix form whose refused change left the list (settled elsewhere) has nothing to fix.
    {
        let editor = editor.clone();
        let gone = fixing.is_some_and(|id| {
            review
                .as_ref()
                .and_then(|review| review.lists(Issue::Rejection(id)))
                == Some(false)
        });
        use_effect_with(gone, move |&gone| {
            if let (true, Some(editor)) = (gone, editor) {
                editor.dispatch(EditorAction::Close);
            }
        });
    }

    // When the focused button or form went away (an item settled, the fix form closed), the
    // keyboard user lands on the closed form's Fix button, else the first button of the list.
    {
        let node = node.clone();
        let was_fixing = use_mut_ref(|| None::<i64>);
        use_effect(move || {
            let closed = std::mem::replace(&mut *was_fixing.borrow_mut(), fixing)
                .filter(|_| fixing.is_none());
            if focus::is_lost() {
                if let Some(panel) = node.cast::<Element>() {
                    let target = closed
                        .and_then(|id| {
                            focus::find(
                                &panel,
                                &format!("[data-kind='rejection'][data-id='{id}'] .issue-fix"),
                            )
                        })
                        .or_else(|| focus::find(&panel, ".issue button:not([disabled])"))
                        .unwrap_or(panel);
                    focus::focus(&target);
                }
            }
        });
    }

    let (Some(review), Some(editor), Some(dispatch)) = (review, editor, dispatch) else {
        return Html::default();
    };
    let close = {
        let dispatch = dispatch.clone();
        let editor = editor.clone();
        move || {
            if editor.fixing().is_some() {
                dispatch.editor.dispatch(EditorAction::Close);
            }
            dispatch.review.dispatch(ReviewAction::Close);
        }
    };
    // Esc closes the fix form first, then the panel.
    let on_escape = {
        let close = close.clone();
        let dispatch = dispatch.clone();
        Callback::from(move |()| {
            if fixing.is_some() {
                dispatch.editor.dispatch(EditorAction::Close);
            } else {
                close();
            }
        })
    };
    let onclose = Callback::from(move |_: MouseEvent| close());

    let subtitle = match review.content() {
        Content::Issues(issues) => summary(issues),
        Content::Empty => "All caught up".to_owned(),
        Content::Loading | Content::Failed => String::new(),
    };
    html! {
        <Dialog placement={Placement::Sheet} class="sheet" testid="review-panel"
            labelled_by="review-title" node={node} {on_escape}>
            <div class="sheet-head">
                <div class="sheet-heading">
                    <h2 id="review-title" class="sheet-title">{ "Needs your attention" }</h2>
                    <p class="sheet-subtitle" data-testid="review-summary">{ subtitle }</p>
                </div>
                <button type="button" class="icon-btn" data-testid="review-close"
                    aria-label="Close" title="Close (Esc)" onclick={onclose}>
                    { icons::close() }
                </button>
            </div>
            <div class="sheet-body">
                { body(&review, *editor, &dispatch) }
            </div>
        </Dialog>
    }
}

/// The sheet's scrolling part: loading, a failure, the empty state, or the lists.
fn body(review: &Review, editor: Editor, dispatch: &Dispatch) -> Html {
    match review.content() {
        Content::Loading => html! {
            <p class="sheet-note" role="status" data-testid="review-loading">
                <span class="spinner" aria-hidden="true"></span>
                { "Loading…" }
            </p>
        },
        Content::Failed => {
            let onretry = {
                let dispatch = dispatch.clone();
                Callback::from(move |_: MouseEvent| dispatch.review.dispatch(ReviewAction::Reload))
            };
            html! {
                <div class="review-empty" data-testid="review-failed">
                    <div class="empty-icon" aria-hidden="true">{ icons::warning() }</div>
                    <p class="empty-title">{ "Couldn't load what needs your attention" }</p>
                    <button type="button" class="btn btn-sm" onclick={onretry}>
                        { "Try again" }
                    </button>
                </div>
            }
        }
        Content::Empty => html! {
            <div class="review-empty" data-testid="review-empty" role="status">
                <div class="empty-icon review-empty-icon" aria-hidden="true">
                    { icons::check_circle() }
                </div>
                <p class="empty-title">{ "Nothing needs your attention." }</p>
                <p class="empty-text">
                    { "Conflicts between your devices and changes the server refuses show up \
                       here." }
                </p>
            </div>
        },
        Content::Issues(issues) => lists(issues, review, editor, dispatch),
    }
}

fn lists(issues: &SyncIssues, review: &Review, editor: Editor, dispatch: &Dispatch) -> Html {
    html! {
        <>
            if !issues.conflicts.is_empty() {
                <section class="review-section" aria-labelledby="review-conflicts">
                    <h3 id="review-conflicts" class="review-section-title">{ "Conflicts" }</h3>
                    <p class="review-section-hint">
                        { "This computer and another device changed the same thing before \
                           syncing. Choose which value stays." }
                    </p>
                    <ul class="issue-list">
                        for conflict in issues.conflicts.iter() {
                            { conflict_item(conflict, review.is_busy(Issue::Conflict(conflict.id)), dispatch) }
                        }
                    </ul>
                </section>
            }
            if !issues.rejections.is_empty() {
                <section class="review-section" aria-labelledby="review-rejections">
                    <h3 id="review-rejections" class="review-section-title">
                        { "Refused changes" }
                    </h3>
                    <p class="review-section-hint">
                        { "The server didn't accept these changes. Fix them and they sync \
                           again, or discard them to keep the server's version." }
                    </p>
                    <ul class="issue-list">
                        for rejection in issues.rejections.iter() {
                            { rejection_item(
                                rejection,
                                review.is_busy(Issue::Rejection(rejection.id)),
                                editor.fixing() == Some(rejection.id),
                                dispatch,
                            ) }
                        }
                    </ul>
                </section>
            }
            if !issues.unreadable.is_empty() {
                <section class="review-section" aria-labelledby="review-unreadable">
                    <h3 id="review-unreadable" class="review-section-title">
                        { "Books this version can't show" }
                    </h3>
                    <p class="review-section-hint">
                        { "Your account holds these books with a value this version of \
                           Bookwish refuses (another app or an older server wrote it). Sync goes \
                           on without them; fix the value where it was written, or update \
                           Bookwish." }
                    </p>
                    <ul class="issue-list">
                        for row in issues.unreadable.iter() {
                            { unreadable_item(row, review.is_busy(Issue::Unreadable(row.id)), dispatch) }
                        }
                    </ul>
                </section>
            }
        </>
    }
}

fn unreadable_item(row: &UnreadableView, busy: bool, dispatch: &Dispatch) -> Html {
    let id = row.id;
    let head = format!("unreadable-{id}-head");
    let ondismiss = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| actions::dismiss_unreadable(&dispatch, id))
    };
    let title = row
        .book_title
        .clone()
        .unwrap_or_else(|| "A book from your account".to_owned());
    html! {
        <li key={format!("unreadable-{id}")} class="issue issue-rejection"
            data-testid="unreadable" data-kind="unreadable" data-id={id.to_string()}
            aria-busy={busy.then_some("true")}>
            <div class="issue-head" id={head.clone()}>
                <span class="issue-book" data-testid="unreadable-book" title={title.clone()}>
                    { title }
                </span>
            </div>
            <p class="issue-message" data-testid="unreadable-reason">
                { icons::warning() }
                <span>{ &row.reason }</span>
            </p>
            <details class="issue-details">
                <summary>{ "What the server sent" }</summary>
                <pre class="issue-raw">{ &row.raw }</pre>
            </details>
            <div class="issue-actions">
                <button type="button" class="btn btn-sm" data-testid="unreadable-dismiss"
                    aria-describedby={head} disabled={busy}
                    title="Hide this until the book changes on the server again"
                    onclick={ondismiss}>
                    { "Dismiss" }
                </button>
                if busy {
                    <span class="spinner" role="status" aria-label="Saving…"></span>
                }
            </div>
        </li>
    }
}

/// A value, or "Empty" for a blank one.
fn value(text: &str) -> Html {
    match shown_value(text) {
        Some(text) => html! { <span class="issue-value-text">{ text.to_owned() }</span> },
        None => html! { <span class="issue-value-empty">{ "Empty" }</span> },
    }
}

fn conflict_item(conflict: &ConflictView, busy: bool, dispatch: &Dispatch) -> Html {
    let id = conflict.id;
    let head = format!("conflict-{id}-head");
    let (current_from, other_from) = sources(conflict);
    let choose = |choice: ConflictChoice| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| actions::resolve_conflict(&dispatch, id, choice))
    };
    html! {
        <li key={format!("conflict-{id}")} class="issue" data-testid="conflict"
            data-kind="conflict" data-id={id.to_string()}
            aria-busy={busy.then_some("true")}>
            <div class="issue-head" id={head.clone()}>
                <span class="issue-book" data-testid="conflict-book"
                    title={conflict.book_title.clone()}>
                    { &conflict.book_title }
                </span>
                <span class="issue-tag" data-testid="conflict-field">{ &conflict.field }</span>
            </div>
            <p class="issue-text">{ conflict_story(conflict) }</p>
            <dl class="issue-values">
                <div class="issue-value issue-value-current"
                    data-winner={if conflict.this_device_won { "this-device" } else { "other-device" }}>
                    <dt>
                        { "Current value" }
                        <span class="issue-source">{ format!("from {current_from}") }</span>
                    </dt>
                    <dd data-testid="conflict-current">{ value(&conflict.current) }</dd>
                </div>
                <div class="issue-value issue-value-other">
                    <dt>
                        { "Other value" }
                        <span class="issue-source">{ format!("from {other_from}") }</span>
                    </dt>
                    <dd data-testid="conflict-other">{ value(&conflict.other) }</dd>
                </div>
            </dl>
            <div class="issue-actions">
                <button type="button" class="btn btn-sm" data-testid="conflict-keep"
                    aria-describedby={head.clone()} disabled={busy}
                    title="Keep the value the book has now and forget the other one"
                    onclick={choose(ConflictChoice::KeepCurrent)}>
                    { "Keep current" }
                </button>
                <button type="button" class="btn btn-sm" data-testid="conflict-use-other"
                    aria-describedby={head} disabled={busy}
                    title="Change the book to the other value; it syncs like any edit"
                    onclick={choose(ConflictChoice::UseOther)}>
                    { "Use other value" }
                </button>
                if busy {
                    <span class="spinner" role="status" aria-label="Saving…"></span>
                }
            </div>
        </li>
    }
}

fn rejection_item(
    rejection: &RejectionView,
    busy: bool,
    fixing: bool,
    dispatch: &Dispatch,
) -> Html {
    let id = rejection.id;
    let head = format!("rejection-{id}-head");
    let unavailable = fix_unavailable(rejection);
    let hint_id = format!("rejection-{id}-hint");
    let actions = match (&rejection.proposed, fixing) {
        (Some(proposed), true) => html! {
            <div class="issue-fix-form">
                <EditForm target={EditTarget::Rejection { id, book_id: rejection.book_id }}
                    title={rejection.book_title.clone()}
                    initial={Rc::new(Fields::of_draft(proposed))} />
            </div>
        },
        _ => {
            let onfix = {
                let dispatch = dispatch.clone();
                Callback::from(move |_: MouseEvent| dispatch.editor.dispatch(EditorAction::Fix(id)))
            };
            let ondiscard = {
                let dispatch = dispatch.clone();
                Callback::from(move |_: MouseEvent| actions::discard_rejection(&dispatch, id))
            };
            let fix_title = unavailable.unwrap_or("Open the change in the edit form to correct it");
            html! {
                <>
                    <div class="issue-actions">
                        // A disabled button shows no tooltip in every engine: its wrapper does.
                        <span class="issue-fix-wrap" title={fix_title}>
                            <button type="button" class="btn btn-sm btn-primary issue-fix"
                                data-testid="rejection-fix" title={fix_title}
                                aria-describedby={unavailable.map(|_| hint_id.clone())}
                                disabled={busy || unavailable.is_some()} onclick={onfix}>
                                { "Fix…" }
                            </button>
                        </span>
                        <button type="button" class="btn btn-sm" data-testid="rejection-discard"
                            aria-describedby={head.clone()} disabled={busy}
                            title="Forget this change; the book keeps the server's values"
                            onclick={ondiscard}>
                            { "Discard" }
                        </button>
                        if busy {
                            <span class="spinner" role="status" aria-label="Saving…"></span>
                        }
                    </div>
                    if let Some(text) = unavailable {
                        <p class="issue-hint" id={hint_id}>{ text }</p>
                    }
                </>
            }
        }
    };
    html! {
        <li key={format!("rejection-{id}")}
            class={classes!("issue", "issue-rejection", fixing.then_some("issue-fixing"))}
            data-testid="rejection" data-kind="rejection" data-id={id.to_string()}
            aria-busy={busy.then_some("true")}>
            <div class="issue-head" id={head}>
                <span class="issue-book" data-testid="rejection-book"
                    title={rejection.book_title.clone()}>
                    { &rejection.book_title }
                </span>
                if let Some(fields) = refused_fields(rejection) {
                    <span class="issue-tag issue-tag-danger" data-testid="rejection-fields">
                        { fields }
                    </span>
                }
            </div>
            <p class="issue-message" data-testid="rejection-message">
                { icons::warning() }
                <span>{ &rejection.message }</span>
            </p>
            { actions }
        </li>
    }
}
