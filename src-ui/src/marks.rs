//! The launch's marks in the page, for the start-up benchmark (wall-clock milliseconds since
//! the Unix epoch, as the shell's process start is): when the page's navigation began and when
//! the wasm app started running. With the shell's process start and the window's ready mark
//! they split a launch into the shell and WebKit's start, loading the page and its wasm, and
//! the app's own first list. Also the wasm app's memory, for the same benchmark's breakdown of
//! the web process's.

use std::cell::Cell;

use yew::prelude::*;

thread_local! {
    static WASM_STARTED_AT: Cell<Option<f64>> = const { Cell::new(None) };
}

/// Notes that the wasm app started; call first thing in `start`.
pub fn wasm_started() {
    WASM_STARTED_AT.with(|at| {
        if at.get().is_none() {
            at.set(Some(js_sys::Date::now()));
        }
    });
}

/// When the wasm app started, if it has.
pub fn wasm_started_at() -> Option<f64> {
    WASM_STARTED_AT.with(Cell::get)
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
