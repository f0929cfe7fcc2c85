//! The list: a scroll container that renders only the rows in view, in row elements it reuses
//! as the list scrolls.

use std::ops::Range;
use std::rc::Rc;

use bookwish_ipc::BookId;
use gloo_timers::callback::Timeout;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{intern, JsCast};
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlElement, ResizeObserver, ResizeObserverEntry};
use yew::prelude::*;

use super::book_row::BookRow;
use super::empty::EmptyState;
use super::{after_next_paint, focus};
use crate::state::{EditorContext, LibraryAction, LibraryContext};
use crate::viewport::{margin, scroll_to_show, Layout, Segment, Slots};

/// Until measured: a guess at the expanded editor's height.
const EDITOR_HEIGHT_GUESS: u32 = 400;
/// How long a newly added book stays highlighted.
const FRESH_MS: u32 = 2_000;

/// Watches the scroll container (for the view height) and the expanded row (for its height).
struct Watch {
    observer: ResizeObserver,
    _on_resize: Closure<dyn FnMut(js_sys::Array)>,
    row: Option<Element>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// Whether the keyboard focus is in the row of book `id`.
fn holds_focus(id: BookId) -> bool {
    focus::active()
        .and_then(|active| active.closest("[data-testid=book-row]").ok().flatten())
        .and_then(|row| row.get_attribute("data-id"))
        .is_some_and(|shown| shown == id.to_string())
}

fn px(value: f64) -> u32 {
    // Heights are small non-negative numbers; the cast saturates anything else.
    value.max(0.0).round() as u32
}

/// The list.
#[component]
pub fn BookList() -> Html {
    let library = use_context::<LibraryContext>();
    let editor = use_context::<EditorContext>();
    let container = use_node_ref();
    // The scroll position changes on every scroll event; the list re-renders only when the
    // rows to render differ from those rendered (`shown`), which is every few rows.
    let scroll_top = use_mut_ref(|| 0_u32);
    let shown = use_mut_ref(|| 0..0_usize);
    let rerender = use_force_update();
    let view_height = use_state_eq(|| 800_u32);
    let editor_height = use_state_eq(|| EDITOR_HEIGHT_GUESS);
    let watch = use_mut_ref(|| None::<Watch>);
    let slots = use_mut_ref(Slots::<BookId>::default);
    // The book edited at the last render, and a scroll position to set once this render is in
    // the page (see below: an editor closed out of view).
    let was_editing = use_mut_ref(|| None::<BookId>);
    let scroll_to = use_mut_ref(|| None::<u32>);
    // Whether the list's first rows are painted: until then only the rows in view render
    // (`viewport::margin`).
    let painted = use_state_eq(|| false);

    // Measure the view, and keep measuring as the window or the add form change it.
    {
        let container = container.clone();
        let watch = watch.clone();
        let view_height = view_height.clone();
        let editor_height = editor_height.clone();
        use_effect_with((), move |_| {
            if let Some(element) = container.cast::<Element>() {
                view_height.set(px(f64::from(element.client_height())));
                let watched = element.clone();
                let on_resize =
                    Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
                        for entry in entries.iter() {
                            let Ok(entry) = entry.dyn_into::<ResizeObserverEntry>() else {
                                continue;
                            };
                            let target = entry.target();
                            if target == watched {
                                view_height.set(px(f64::from(target.client_height())));
                            } else {
                                editor_height.set(px(target.get_bounding_client_rect().height()));
                            }
                        }
                    });
                if let Ok(observer) = ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
                    observer.observe(&element);
                    *watch.borrow_mut() = Some(Watch {
                        observer,
                        _on_resize: on_resize,
                        row: None,
                    });
                }
            }
            move || drop(watch.borrow_mut().take())
        });
    }

    // After every render: scroll where the render was laid out for, if it moved the view
    // (the rows' own effects, which run first, may have scrolled too); and watch the expanded
    // row, if there is one, for its height.
    {
        let container = container.clone();
        let watch = watch.clone();
        let scroll_to = scroll_to.clone();
        use_effect(move || {
            if let (Some(to), Some(element)) =
                (scroll_to.borrow_mut().take(), container.cast::<Element>())
            {
                element.set_scroll_top(i32::try_from(to).unwrap_or(i32::MAX));
            }
            let row = container
                .cast::<Element>()
                .and_then(|list| list.query_selector("[data-editing='true']").ok().flatten());
            if let Some(watch) = watch.borrow_mut().as_mut() {
                if watch.row != row {
                    if let Some(old) = watch.row.take() {
                        watch.observer.unobserve(&old);
                    }
                    if let Some(new) = &row {
                        watch.observer.observe(new);
                    }
                    watch.row = row;
                }
            }
        });
    }

    let query = library
        .as_ref()
        .map(|l| l.query.clone())
        .unwrap_or_default();
    // A new filter, search or order starts at the top.
    {
        let container = container.clone();
        let scroll_top = scroll_top.clone();
        use_effect_with(query, move |_| {
            if let Some(element) = container.cast::<Element>() {
                element.set_scroll_top(0);
            }
            *scroll_top.borrow_mut() = 0;
        });
    }

    // A book just added: scroll it into view and highlight it for a moment.
    let books = library
        .as_ref()
        .map(|l| l.books.clone())
        .unwrap_or_default();
    let fresh = library.as_ref().and_then(|l| l.fresh).map(|f| f.id);
    let editing = editor.as_ref().and_then(|e| e.editing());
    let edit_index = editing.and_then(|id| books.position(id));
    // An editor closed (Esc, Cancel, Save) while the focus was in it: its row takes the focus
    // back (`BookRow`), so the list shows that row. Were it out of view (the wheel scrolls
    // the list, not the focus), it would not be rendered, and the focus would fall to the page.
    let closed_with_focus = std::mem::replace(&mut *was_editing.borrow_mut(), editing)
        .filter(|&was| editing.is_none() && holds_focus(was));
    // Room for every matching book, even while only the first screenful is here: the
    // scrollbar has its final size from the start.
    let matching = library.as_ref().map_or(0, |l| l.matching).max(books.len());
    let layout = Layout::new(matching, edit_index, *editor_height);
    {
        let container = container.clone();
        let library = library.clone();
        let view_height = *view_height;
        use_effect_with((fresh, books.clone()), move |(fresh, books)| {
            let index = fresh.and_then(|id| books.position(id));
            let mut timer = None;
            if let (Some(index), Some(element)) = (index, container.cast::<Element>()) {
                let current = px(f64::from(element.scroll_top()));
                let top = layout.top_of(index);
                if let Some(to) = scroll_to_show(top, layout.height_of(index), current, view_height)
                {
                    element.set_scroll_top(i32::try_from(to).unwrap_or(i32::MAX));
                }
                timer = library.map(|library| {
                    Timeout::new(FRESH_MS, move || library.dispatch(LibraryAction::Seen))
                });
            }
            move || drop(timer)
        });
    }

    {
        let painted = painted.clone();
        use_effect_with(books.is_empty(), move |&empty| {
            if !empty && !*painted {
                spawn_local(async move {
                    after_next_paint().await;
                    painted.set(true);
                });
            }
        });
    }
    let overscan = margin(*painted);

    let (Some(library), Some(_)) = (library, editor) else {
        return Html::default();
    };
    if library.ready && books.is_empty() {
        return html! { <EmptyState /> };
    }

    let onscroll = {
        let scroll_top = scroll_top.clone();
        let shown = shown.clone();
        let view_height = *view_height;
        Callback::from(move |event: Event| {
            let element = event.target_unchecked_into::<Element>();
            let top = px(f64::from(element.scroll_top()));
            *scroll_top.borrow_mut() = top;
            if layout.window(top, view_height, overscan) != *shown.borrow() {
                rerender.force_update();
            }
        })
    };

    if let Some(index) = closed_with_focus.and_then(|id| books.position(id)) {
        let top = *scroll_top.borrow();
        if let Some(to) = scroll_to_show(
            layout.top_of(index),
            layout.height_of(index),
            top,
            *view_height,
        ) {
            *scroll_top.borrow_mut() = to;
            *scroll_to.borrow_mut() = Some(to);
        }
    }
    let window = layout.window(*scroll_top.borrow(), *view_height, overscan);
    shown.borrow_mut().clone_from(&window);
    let rows = books.as_slice();
    let segments = layout.segments(window);
    let last = segments.len().saturating_sub(1);
    // Rows still to come (past the first screenful) stay blank for a moment.
    let in_rows = |range: &Range<usize>| range.clone().zip(&rows[range.start.min(rows.len())..]);
    // Each row is drawn in its slot, an element reused from render to render (see `Slots`): a
    // book keeps its element while it stays rendered — with its focus, and the editor's draft —
    // and a book scrolled in takes over the element of one scrolled out.
    let ids: Vec<BookId> = segments
        .iter()
        .filter_map(|segment| match segment {
            Segment::Rows(range) => Some(in_rows(range).map(|(_, book)| book.id)),
            Segment::Gap(_) => None,
        })
        .flatten()
        .collect();
    let mut slots = slots.borrow_mut().assign(&ids).into_iter();
    let mut items = Vec::with_capacity(64);
    // The whole list's height, held by one element of its own: the scroll range never depends
    // on the gaps, whose heights are set just after a render (a jump to the end creates the
    // top gap; were the range to shrink before its height is set, the view would be clamped
    // back near the top).
    items.push(html! {
        <Spacer key="extent" class="list-extent" height={layout.total_height()} />
    });
    if !library.ready {
        // Placeholders until the first answer; keyed like the rows they give way to.
        for n in 0..6_u32 {
            items.push(html! {
                <div key={format!("skeleton-{n}")} class="row row-skeleton" aria-hidden="true">
                    <span class="skeleton skeleton-title"></span>
                    <span class="skeleton skeleton-author"></span>
                </div>
            });
        }
    }
    for (n, segment) in segments.into_iter().enumerate() {
        match segment {
            Segment::Gap(height) => {
                // Keyed by place, so a gap keeps its element while its height changes.
                let key = match n {
                    0 => "gap-top",
                    n if n == last => "gap-bottom",
                    _ => "gap-middle",
                };
                items.push(html! { <Spacer key={key} class="gap" {height} /> });
            }
            Segment::Rows(range) => {
                for ((index, book), slot) in in_rows(&range).zip(&mut slots) {
                    let book = Rc::clone(book);
                    let id = book.id;
                    items.push(html! {
                        <BookRow key={format!("slot-{slot}")} editing={Some(index) == edit_index}
                            fresh={fresh == Some(id)} {book} />
                    });
                }
            }
        }
    }

    html! {
        <div ref={container} class="list-scroll" data-testid="book-list" role="list"
            aria-label="Books" aria-busy={(!library.is_complete()).then_some("true")}
            data-complete={library.is_complete().to_string()} {onscroll}>
            { items }
        </div>
    }
}

/// Properties of [`Spacer`].
#[derive(Properties, PartialEq)]
struct SpacerProps {
    /// `gap` (empty space standing in for rows not rendered) or `list-extent` (the whole
    /// list's height).
    class: &'static str,
    height: u32,
}

/// An empty element of a given height. The height is set through the CSS object model, which
/// the CSP allows (an inline `style` attribute it would block).
#[component]
fn Spacer(props: &SpacerProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(props.height, move |height| {
            if let Some(element) = node.cast::<HtmlElement>() {
                let _ = element
                    .style()
                    .set_property(intern("height"), &format!("{height}px"));
            }
        });
    }
    html! { <div ref={node} class={props.class} aria-hidden="true"></div> }
}
