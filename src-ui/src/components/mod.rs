//! The views. [`App`] owns the state and the app-wide effects (loading the list, the shell's
//! events, keyboard shortcuts); the others read the state from context. The review panel, the
//! local books question, the import panel and the confirmation before removing a deleted
//! account's books are modal dialogs (`dialog`), shown while their state says so.

mod add_form;
mod book_list;
mod book_row;
mod deleted;
mod diagnostics;
mod dialog;
mod edit_form;
mod empty;
mod fields;
mod focus;
mod header;
mod icons;
mod import;
mod local_books;
mod review;
mod sidebar;
mod statusbar;
mod toasts;
mod toolbar;

use std::rc::Rc;

use bookwish_ipc::commands::{GetAppInfo, ListBooks};
use bookwish_ipc::{
    events, Account, AppInfo, DeletedAccount, ImportOffer, ImportProgress, IpcError, ListQuery,
    SyncStatus,
};
use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlElement, HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

use crate::actions;
use crate::ipc;
use crate::keys::{self, Shortcut};
use crate::marks::Mark;
use crate::state::FIRST_SCREENFUL;
use crate::state::{
    Auth, AuthAction, AuthContext, DeletedAccounts, DeletedAction, DeletedContext, Dispatch,
    Editor, EditorAction, EditorContext, Library, LibraryAction, LibraryContext, LocalBooks,
    LocalBooksContext, Notices, NoticesContext, Review, ReviewAction, ReviewContext, SyncAction,
    SyncContext, SyncState, Transfer, TransferAction, TransferContext,
};

use self::add_form::AddForm;
use self::book_list::BookList as BookListView;
use self::deleted::{DeletedAccountNotices, RemoveAccountDialog};
use self::header::{AuthAlert, Header};
use self::import::ImportPanel;
use self::local_books::LocalBooksDialog;
use self::review::ReviewPanel;
use self::sidebar::Sidebar;
use self::statusbar::StatusBar;
use self::toasts::Toasts;
use self::toolbar::Toolbar;

/// The root: the app inside the desktop shell, or a notice when opened anywhere else.
#[component]
pub fn App() -> Html {
    if ipc::available() {
        html! { <Shell /> }
    } else {
        html! { <NotInApp /> }
    }
}

/// Shown in a plain browser (or `trunk serve`), where there is no shell to talk to.
#[component]
fn NotInApp() -> Html {
    html! {
        <div id="app" class="standalone" data-testid="app" data-ready="false">
            <div class="standalone-card" role="alert" data-testid="not-in-app">
                { icons::logo() }
                <h1>{ ipc::NOT_IN_APP }</h1>
                <p>
                    { "This page is Bookwish's interface; it reaches your books only through the \
                       app around it. Start Bookwish from your applications menu, or during \
                       development with " }
                    <code>{ "./x run" }</code>{ "." }
                </p>
            </div>
        </div>
    }
}

/// The app: state, providers, effects and layout.
#[component]
fn Shell() -> Html {
    let library = use_reducer(Library::default);
    let editor = use_reducer(Editor::default);
    let notices = use_reducer(Notices::default);
    let auth = use_reducer(Auth::default);
    let sync = use_reducer(SyncState::default);
    let review = use_reducer(Review::default);
    let local_books = use_reducer(LocalBooks::default);
    let transfer = use_reducer(Transfer::default);
    let deleted = use_reducer(DeletedAccounts::default);
    let dispatch = use_memo((), {
        let (library, editor, notices, auth, sync, review, local_books, transfer, deleted) = (
            library.clone(),
            editor.clone(),
            notices.clone(),
            auth.clone(),
            sync.clone(),
            review.clone(),
            local_books.clone(),
            transfer.clone(),
            deleted.clone(),
        );
        move |_| Dispatch {
            library: library.dispatcher(),
            editor: editor.dispatcher(),
            notices: notices.dispatcher(),
            auth: auth.dispatcher(),
            sync: sync.dispatcher(),
            review: review.dispatcher(),
            local_books: local_books.dispatcher(),
            transfer: transfer.dispatcher(),
            deleted: deleted.dispatcher(),
        }
    });
    let info = use_state(|| None::<Rc<AppInfo>>);
    let search_ref = use_node_ref();

    // What the app is (version, account, data folder): asked once. Signed in at launch, the
    // books only on this computer may wait for a decision.
    {
        let dispatch = Rc::clone(&dispatch);
        let info = info.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                match ipc::invoke(&GetAppInfo {}).await {
                    Ok(answer) => {
                        if matches!(answer.account, Account::SignedIn { .. }) {
                            actions::ask_local_books(&dispatch);
                        }
                        dispatch
                            .auth
                            .dispatch(AuthAction::Info(answer.account.clone()));
                        dispatch
                            .deleted
                            .dispatch(DeletedAction::Known(answer.deleted_accounts.clone()));
                        info.set(Some(Rc::new(answer)));
                    }
                    Err(err) => dispatch.failed(err),
                }
            });
        });
    }

    // The list: asked again whenever the query changes or a reload is due. Each request gets
    // a number so a slow answer cannot overwrite a newer one. A new query (the launch's first
    // list, another filter, search or order) asks for a first screenful, then for the rest:
    // the window shows books before thousands of them are read, sent and decoded. A reload
    // of the query on screen asks for all of it (the list shown stays until it comes).
    {
        let dispatch = Rc::clone(&dispatch);
        let requests = use_mut_ref(|| 0_u64);
        let asked = use_mut_ref(|| None::<ListQuery>);
        use_effect_with(
            (library.query.clone(), library.revision),
            move |(query, revision)| {
                let new_query = asked.borrow().as_ref() != Some(query);
                asked.borrow_mut().replace(query.clone());
                // Two numbers: the first screenful's, then the whole list's.
                let request = {
                    let mut requests = requests.borrow_mut();
                    *requests += 2;
                    *requests
                };
                let (query, revision) = (query.clone(), *revision);
                spawn_local(async move {
                    let library = &dispatch.library;
                    if new_query {
                        let first = ListBooks {
                            query: query.clone(),
                            limit: Some(FIRST_SCREENFUL),
                        };
                        crate::marks::note(Mark::ListAsked);
                        match ipc::invoke(&first).await {
                            Ok(list) => {
                                crate::marks::note(Mark::ListAnswered);
                                let whole = list.books.len() >= list.matching as usize;
                                library.dispatch(LibraryAction::Loaded {
                                    request: request - 1,
                                    revision,
                                    list,
                                });
                                // The rest once the first screenful is painted: its answer is
                                // megabytes to decode and thousands of rows to index, which
                                // would otherwise hold the first paint back. At launch the
                                // paint is also the start-up benchmark's mark, whole or not:
                                // this wait began before the list's render, so it ends
                                // before anything that render's effects wait for.
                                let launch = crate::marks::noted(Mark::ListPainted).is_none();
                                if launch || !whole {
                                    after_next_paint().await;
                                }
                                if launch {
                                    crate::marks::note_in_page(Mark::ListPainted);
                                }
                                // Done if that was all, or if a newer request replaced this one.
                                if whole || *requests.borrow() != request {
                                    return;
                                }
                            }
                            Err(err) => return dispatch.failed(err),
                        }
                    }
                    match ipc::invoke(&ListBooks { query, limit: None }).await {
                        Ok(list) => library.dispatch(LibraryAction::Loaded {
                            request,
                            revision,
                            list,
                        }),
                        Err(err) => dispatch.failed(err),
                    }
                });
            },
        );
    }

    // Changes made outside this window's commands (sync, another window): reload.
    {
        let dispatch = Rc::clone(&dispatch);
        use_effect_with((), move |_| {
            let reload = Callback::from(move |()| dispatch.reload());
            let subscription = match ipc::listen(events::BOOKS_CHANGED, reload) {
                Ok(subscription) => Some(subscription),
                Err(err) => {
                    warn(&err);
                    None
                }
            };
            // Unlistens when the app goes away.
            move || {
                let _unlisten = subscription;
            }
        });
    }

    // The account: signed in or out by the browser's deep link, or by the session being
    // restored or ended in the background, at any time. The list is now another account's,
    // and a sign-in may find books only on this computer. An account the server deleted is
    // announced on its own, after the switch to the local-only list.
    {
        let dispatch = Rc::clone(&dispatch);
        use_effect_with((), move |_| {
            let deleted = {
                let dispatch = Rc::clone(&dispatch);
                Callback::from(
                    move |account: Result<DeletedAccount, IpcError>| match account {
                        Ok(account) => dispatch.deleted.dispatch(DeletedAction::Deleted(account)),
                        Err(err) => warn(&err),
                    },
                )
            };
            let changed = {
                let dispatch = Rc::clone(&dispatch);
                Callback::from(move |account: Result<Account, IpcError>| match account {
                    Ok(account) => actions::account_changed(&dispatch, account),
                    Err(err) => warn(&err),
                })
            };
            let failed = Callback::from(move |error: Result<IpcError, IpcError>| {
                // An unreadable payload is still a failed sign-in: say so rather than wait.
                let error = error.unwrap_or_else(|err| err);
                dispatch.auth.dispatch(AuthAction::SignInFailed(error));
            });
            let subscriptions = [
                ipc::listen_to(events::AUTH_CHANGED, changed),
                ipc::listen_to(events::AUTH_FAILED, failed),
                ipc::listen_to(bookwish_ipc::ACCOUNT_DELETED_EVENT, deleted),
            ]
            .into_iter()
            .filter_map(|subscription| subscription.map_err(|err| warn(&err)).ok())
            .collect::<Vec<_>>();
            move || drop(subscriptions)
        });
    }

    // Sync: the status at start (after an account change it is asked again, above), then
    // every change the shell sends while an account syncs. A change in the issues waiting
    // refreshes the review panel.
    {
        let dispatch = Rc::clone(&dispatch);
        use_effect_with((), move |_| {
            let changed = {
                let dispatch = Rc::clone(&dispatch);
                Callback::from(move |status: Result<SyncStatus, IpcError>| match status {
                    Ok(status) => {
                        dispatch
                            .review
                            .dispatch(ReviewAction::Attention(status.attention));
                        dispatch.sync.dispatch(SyncAction::Event(status));
                    }
                    Err(err) => warn(&err),
                })
            };
            let subscription = ipc::listen_to(bookwish_ipc::SYNC_STATUS_EVENT, changed)
                .map_err(|err| warn(&err))
                .ok();
            // Asked after listening; an answer older than an event is ignored (see SyncState).
            actions::fetch_sync_status(&dispatch);
            // Unlistens when the app goes away.
            move || {
                let _unlisten = subscription;
            }
        });
    }

    // Import: a file dropped on the window (the shell reads it and sends what it holds, or why
    // it cannot be imported), and the progress of a running import.
    {
        let dispatch = Rc::clone(&dispatch);
        use_effect_with((), move |_| {
            let offered = {
                let dispatch = Rc::clone(&dispatch);
                Callback::from(move |offer: Result<ImportOffer, IpcError>| match offer {
                    Ok(offer) => dispatch.transfer.dispatch(TransferAction::Offered(offer)),
                    Err(err) => dispatch.transfer.dispatch(TransferAction::Failed(err)),
                })
            };
            let failed = {
                let dispatch = Rc::clone(&dispatch);
                Callback::from(move |error: Result<IpcError, IpcError>| {
                    let error = error.unwrap_or_else(|err| err);
                    dispatch.transfer.dispatch(TransferAction::Failed(error));
                })
            };
            let progress =
                Callback::from(
                    move |progress: Result<ImportProgress, IpcError>| match progress {
                        Ok(progress) => dispatch
                            .transfer
                            .dispatch(TransferAction::Progress(progress)),
                        Err(err) => warn(&err),
                    },
                );
            let subscriptions = [
                ipc::listen_to(events::IMPORT_OFFERED, offered),
                ipc::listen_to(events::IMPORT_FAILED, failed),
                ipc::listen_to(events::IMPORT_PROGRESS, progress),
            ]
            .into_iter()
            .filter_map(|subscription| subscription.map_err(|err| warn(&err)).ok())
            .collect::<Vec<_>>();
            move || drop(subscriptions)
        });
    }

    // Window-wide shortcuts. The handle reads the live state, so the listener is set once.
    {
        let library = library.clone();
        let editor = editor.clone();
        let search_ref = search_ref.clone();
        use_effect_with((), move |_| {
            let document = web_sys::window().and_then(|window| window.document());
            let listener = document.map(|document| {
                // Not passive: `n` and `/` must not also type into the field they focus.
                EventListener::new_with_options(
                    &document,
                    "keydown",
                    EventListenerOptions::enable_prevent_default(),
                    move |event| on_shortcut(event, &library, &editor, &search_ref),
                )
            });
            move || drop(listener)
        });
    }

    // Interactive once the list is loaded — or once the window knows it cannot be (the books
    // could not be opened, and it says why).
    let problem = info.as_ref().and_then(|info| info.problem.clone());
    let ready = if library.ready || problem.is_some() {
        "true"
    } else {
        "false"
    };
    // The launch's ready mark, for the start-up benchmark: the wall-clock time the first list
    // was in the DOM (effects run after the render that put it there), beside the process's
    // start as the shell reports it.
    let ready_at = crate::marks::use_first_time(library.ready);
    // And when the whole list had arrived (the rest, asked for once the first screenful is
    // painted): the benchmark's measure of a long list's remainder.
    let complete_at = crate::marks::use_first_time(library.is_complete());
    let launched_at = info
        .as_ref()
        .map(|info| info.launched_at)
        .filter(|at| *at > 0)
        .map(|at| at.to_string());
    let ready_at = crate::marks::attribute(ready_at);
    let complete_at = crate::marks::attribute(complete_at);
    let page_at = crate::marks::attribute(crate::marks::page_started_at());
    let wasm_at = crate::marks::attribute(crate::marks::noted(Mark::WasmStarted));
    let asked_at = crate::marks::attribute(crate::marks::noted(Mark::ListAsked));
    let answered_at = crate::marks::attribute(crate::marks::noted(Mark::ListAnswered));
    let adding = *editor == Editor::Adding;
    let reviewing = review.open;
    html! {
        <ContextProvider<Dispatch> context={(*dispatch).clone()}>
        <ContextProvider<LibraryContext> context={library.clone()}>
        <ContextProvider<EditorContext> context={editor.clone()}>
        <ContextProvider<NoticesContext> context={notices.clone()}>
        <ContextProvider<AuthContext> context={auth.clone()}>
        <ContextProvider<SyncContext> context={sync.clone()}>
        <ContextProvider<ReviewContext> context={review.clone()}>
        <ContextProvider<LocalBooksContext> context={local_books.clone()}>
        <ContextProvider<TransferContext> context={transfer.clone()}>
        <ContextProvider<DeletedContext> context={deleted.clone()}>
            <div id="app" class="app" data-testid="app" data-ready={ready}
                data-launched-at={launched_at} data-page-at={page_at}
                data-wasm-at={wasm_at} data-asked-at={asked_at}
                data-answered-at={answered_at} data-ready-at={ready_at}
                data-complete-at={complete_at}>
                <Header info={(*info).clone()} />
                <AuthAlert />
                <div class="body">
                    <Sidebar />
                    <main class="content">
                        <DeletedAccountNotices />
                        if let Some(problem) = problem {
                            { open_problem(&problem, &info.as_ref().map(|i| i.data_dir.clone()).unwrap_or_default()) }
                        } else {
                            <Toolbar search_ref={search_ref.clone()} />
                            if adding {
                                <AddForm />
                            }
                            <BookListView />
                        }
                    </main>
                </div>
                <StatusBar info={(*info).clone()} />
                if reviewing {
                    <ReviewPanel />
                }
                <LocalBooksDialog />
                <ImportPanel />
                <RemoveAccountDialog />
                <Toasts />
            </div>
        </ContextProvider<DeletedContext>>
        </ContextProvider<TransferContext>>
        </ContextProvider<LocalBooksContext>>
        </ContextProvider<ReviewContext>>
        </ContextProvider<SyncContext>>
        </ContextProvider<AuthContext>>
        </ContextProvider<NoticesContext>>
        </ContextProvider<EditorContext>>
        </ContextProvider<LibraryContext>>
        </ContextProvider<Dispatch>>
    }
}

/// What the list area shows when the books could not be opened at all (a file written by a
/// newer Bookwish, a damaged one): why, and that nothing was changed.
fn open_problem(problem: &IpcError, data_dir: &str) -> Html {
    html! {
        <div class="empty" data-testid="open-problem" role="alert">
            <div class="empty-icon" aria-hidden="true">{ icons::warning() }</div>
            <h2 class="empty-title">{ "Bookwish can't open your books" }</h2>
            <p class="empty-text" data-testid="open-problem-message">{ &problem.message }</p>
            <p class="empty-hint">{ format!("They are kept in {data_dir}.") }</p>
        </div>
    }
}

/// Notes a problem that has nobody to show it to (live updates being off) in the console.
fn warn(err: &IpcError) {
    web_sys::console::warn_1(&err.message.as_str().into());
}

/// Handles a key press anywhere in the window.
fn on_shortcut(
    event: &Event,
    library: &LibraryContext,
    editor: &EditorContext,
    search_ref: &NodeRef,
) {
    let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
        return;
    };
    // An open dialog has the keys (it handles Esc itself, before this).
    if event.default_prevented() || event.is_composing() || dialog::any_open() {
        return;
    }
    let target = event.target().and_then(|t| t.dyn_into::<Element>().ok());
    let typing = target.as_ref().is_some_and(|element| {
        let editable = element
            .dyn_ref::<HtmlElement>()
            .is_some_and(HtmlElement::is_content_editable);
        keys::takes_text(&element.tag_name(), editable)
    });
    let modified = event.ctrl_key() || event.meta_key() || event.alt_key();
    match keys::shortcut(&event.key(), typing, modified) {
        Some(Shortcut::NewBook) => {
            event.prevent_default();
            editor.dispatch(EditorAction::Add);
        }
        Some(Shortcut::FocusSearch) => {
            event.prevent_default();
            if let Some(input) = search_ref.cast::<HtmlInputElement>() {
                let _ = input.focus();
                input.select();
            }
        }
        Some(Shortcut::Escape) => {
            if **editor != Editor::Closed {
                event.prevent_default();
                editor.dispatch(EditorAction::Close);
            } else if !library.query.search.is_empty() {
                event.prevent_default();
                library.dispatch(LibraryAction::Search(String::new()));
            } else if let Some(element) = target.and_then(|t| t.dyn_into::<HtmlElement>().ok()) {
                let _ = element.blur();
            }
        }
        None => {}
    }
}

/// Resolves once the browser has painted what is in the DOM now: after the next animation
/// frame, in a task of its own (the frame's paint comes between the two) — or after
/// `PAINT_WAIT_MS` if no frame comes (a hidden window draws none).
pub(super) async fn after_next_paint() {
    const PAINT_WAIT_MS: i32 = 100;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let Some(window) = web_sys::window() else {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            return;
        };
        let after_frame = {
            let (window, resolve) = (window.clone(), resolve.clone());
            wasm_bindgen::closure::Closure::once_into_js(move || {
                let _ = window.set_timeout_with_callback(&resolve);
            })
        };
        let _ = window.request_animation_frame(after_frame.unchecked_ref());
        let _ =
            window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, PAINT_WAIT_MS);
    });
    // The promise never rejects; a second call of `resolve` does nothing.
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
