//! The launch's marks in the page, for the start-up benchmark (wall-clock milliseconds since
//! the Unix epoch, as the shell's process start is): when the page's navigation began, when
//! the wasm app started running, when the launch's first list was asked of the shell and its
//! answer was in hand, and when the first frame after that list was in the DOM ended. With the
//! shell's process start and the window's ready mark they split a launch into the shell and
//! WebKit's start, loading the page and its wasm, the app's first render, the first list's
//! round trip (the shell's query, the answer sent and decoded), its render, and its first
//! frame (style, layout and paint). Also the wasm app's memory, for the same benchmark's
//! breakdown of the web process's.

use std::cell::Cell;

use yew::prelude::*;

/// A moment of the launch the app notes once, the first time it comes.
#[derive(Clone, Copy)]
pub enum Mark {
    /// The wasm app started running (first thing in `start`).
    WasmStarted,
    /// The launch's first list was asked of the shell.
    ListAsked,
    /// The answer to that request was in hand, decoded.
    ListAnswered,
    /// The first frame after that list was in the DOM ended: the list on screen.
    ListPainted,
}

impl Mark {
    /// The page attribute that carries the mark, `data-{name}-at`, for marks written into the
    /// page as they come ([`note_in_page`]).
    fn attribute(self) -> &'static str {
        match self {
            Mark::WasmStarted => "data-wasm-at",
            Mark::ListAsked => "data-asked-at",
            Mark::ListAnswered => "data-answered-at",
            Mark::ListPainted => "data-painted-at",
        }
    }
}

thread_local! {
    static MARKS: [Cell<Option<f64>>; 4] =
        const { [Cell::new(None), Cell::new(None), Cell::new(None), Cell::new(None)] };
}

/// Notes that `mark` came now, unless it came before. Only in the page: a native test has no
/// clock of the page's.
pub fn note(mark: Mark) {
    if !cfg!(target_arch = "wasm32") {
        return;
    }
    MARKS.with(|marks| {
        let at = &marks[mark as usize];
        if at.get().is_none() {
            at.set(Some(js_sys::Date::now()));
        }
    });
}

/// Notes `mark` as [`note`] does and writes it into the app's element at once, for a mark no
/// render follows (the page's other marks are written by the app's next render).
pub fn note_in_page(mark: Mark) {
    note(mark);
    let element = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.query_selector("[data-testid=app]").ok().flatten());
    if let (Some(element), Some(at)) = (element, attribute(noted(mark))) {
        let _ = element.set_attribute(mark.attribute(), &at);
    }
}

/// When `mark` came, if it has.
pub fn noted(mark: Mark) -> Option<f64> {
    MARKS.with(|marks| marks[mark as usize].get())
}

/// When `flag` was first seen true: the wall-clock time of the first render that had it, noted
/// once that render is in the DOM (effects run after it). `None` until then.
#[hook]
pub fn use_first_time(flag: bool) -> Option<f64> {
    let at = use_state(|| None::<f64>);
    {
        let at = at.clone();
        use_effect_with(flag, move |flag| {
            if *flag && at.is_none() {
                at.set(Some(js_sys::Date::now()));
            }
        });
    }
    *at
}

/// When the page's navigation began (`performance.timeOrigin`); `None` outside a browser.
pub fn page_started_at() -> Option<f64> {
    web_sys::window()
        .and_then(|window| window.performance())
        .map(|performance| performance.time_origin())
        .filter(|at| *at > 0.0)
}

/// A mark as whole milliseconds, the form the page's attributes carry.
#[allow(clippy::cast_possible_truncation)] // whole milliseconds since the epoch
pub fn attribute(at: Option<f64>) -> Option<String> {
    at.map(|at| (at as i64).to_string())
}

/// The size of the wasm app's linear memory in bytes, for the start-up benchmark's memory
/// breakdown (`window.wasmBindings.wasmMemoryBytes()`; Trunk's loader puts the app's exports
/// there). Linear memory only grows, so this is the app's peak so far.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = wasmMemoryBytes)]
#[must_use]
pub fn wasm_memory_bytes() -> f64 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
        .into()
}
