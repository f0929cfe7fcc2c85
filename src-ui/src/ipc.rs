//! The bridge to the Tauri shell: typed commands and events.
//!
//! Commands go through `window.__TAURI_INTERNALS__.invoke(cmd, args)`, which Tauri injects into
//! every page it serves. Events come through `window.__TAURI__.event.listen`, which exists
//! because the shell sets `app.withGlobalTauri`. Outside the desktop app (a plain browser,
//! `trunk serve`, a native test) neither exists: [`available`] says so and [`call`] answers an
//! error instead of panicking.

use bookwish_ipc::commands::Command;
use bookwish_ipc::{ErrorCode, IpcError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use yew::Callback;

/// The message shown when the page is not inside the desktop app.
pub const NOT_IN_APP: &str = "Bookwish must run inside its desktop app";

/// Whether the page runs inside the Tauri webview (commands can be called).
pub fn available() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        bridge::available()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        false
    }
}

/// Calls the shell command declared by `C` with `command`'s fields as its arguments, and reads
/// its answer as `C::Output`: name, arguments and answer come from one declaration in
/// `bookwish_ipc::commands`, so they cannot drift apart.
pub async fn invoke<C: Command>(command: &C) -> Result<C::Output, IpcError> {
    call(C::NAME, command).await
}

/// Calls shell command `cmd` with `args` (serialised JSON-compatibly, so maps become objects
/// and `None` becomes `null`) and deserialises its answer.
///
/// A rejection that carries `{code, message}` comes back as that [`IpcError`]; any other
/// rejection becomes [`ErrorCode::Internal`] with the rejection's text.
async fn call<A: Serialize, T: DeserializeOwned>(cmd: &str, args: &A) -> Result<T, IpcError> {
    #[cfg(target_arch = "wasm32")]
    {
        bridge::call(cmd, args).await
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (cmd, args);
        Err(internal(NOT_IN_APP))
    }
}

/// Runs `on_event` each time the shell emits `event`, until the [`Subscription`] is dropped.
pub fn listen(event: &'static str, on_event: Callback<()>) -> Result<Subscription, IpcError> {
    #[cfg(target_arch = "wasm32")]
    {
        bridge::listen(event, move |_| on_event.emit(()))
            .map(|inner| Subscription { _inner: inner })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (event, on_event);
        Err(internal(NOT_IN_APP))
    }
}

/// Runs `on_event` with the event's payload, read as a `T`, each time the shell emits
/// `event`, until the [`Subscription`] is dropped. A payload that is not a `T` comes as an
/// [`ErrorCode::Internal`] error.
pub fn listen_to<T: DeserializeOwned + 'static>(
    event: &'static str,
    on_event: Callback<Result<T, IpcError>>,
) -> Result<Subscription, IpcError> {
    #[cfg(target_arch = "wasm32")]
    {
        bridge::listen(event, move |value| {
            on_event.emit(bridge::payload(event, value))
        })
        .map(|inner| Subscription { _inner: inner })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (event, on_event);
        Err(internal(NOT_IN_APP))
    }
}

/// A live event listener; dropping it unlistens.
pub struct Subscription {
    #[cfg(target_arch = "wasm32")]
    _inner: bridge::Listener,
}

/// An [`ErrorCode::Internal`] error with `message`.
pub fn internal(message: impl Into<String>) -> IpcError {
    IpcError::new(ErrorCode::Internal, message)
}

#[cfg(target_arch = "wasm32")]
mod bridge {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::internal;
    use bookwish_ipc::IpcError;
    use js_sys::{Function, Promise, Reflect};
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    #[wasm_bindgen]
    extern "C" {
        /// `window.__TAURI_INTERNALS__.invoke`: resolves with the command's answer, rejects with
        /// its error (for Bookwish commands, a serialised `IpcError`).
        #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI_INTERNALS__"], js_name = invoke)]
        async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
    }

    /// The property at `path` below the global object, if every step exists.
    fn global_path(path: &[&str]) -> Option<JsValue> {
        let mut value: JsValue = js_sys::global().into();
        for key in path {
            if !value.is_object() {
                return None;
            }
            value = Reflect::get(&value, &JsValue::from_str(key)).ok()?;
        }
        (!value.is_undefined() && !value.is_null()).then_some(value)
    }

    pub fn available() -> bool {
        global_path(&["__TAURI_INTERNALS__", "invoke"]).is_some_and(|f| f.is_function())
    }

    pub async fn call<A: Serialize, T: DeserializeOwned>(
        cmd: &str,
        args: &A,
    ) -> Result<T, IpcError> {
        if !available() {
            return Err(internal(super::NOT_IN_APP));
        }
        let args = args
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| internal(format!("Could not send the request to the app: {e}")))?;
        let answer = tauri_invoke(cmd, args).await.map_err(error_from_js)?;
        let unreadable = |e: &dyn std::fmt::Display| {
            internal(format!(
                "The app sent an answer this window cannot read: {e}"
            ))
        };
        // The shell answers JSON bytes: one copy into wasm and serde_json, instead of a JS
        // object per value read back property by property.
        match answer_bytes(&answer) {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| unreadable(&e)),
            None => serde_wasm_bindgen::from_value(answer).map_err(|e| unreadable(&e)),
        }
    }

    /// The bytes of an answer sent as bytes, in each form Tauri delivers them: an
    /// `ArrayBuffer` over its `ipc://` protocol, or — once a request over that protocol failed
    /// and the page fell back to `postMessage` for good — a plain array of numbers.
    fn answer_bytes(answer: &JsValue) -> Option<Vec<u8>> {
        if let Some(buffer) = answer.dyn_ref::<js_sys::ArrayBuffer>() {
            return Some(js_sys::Uint8Array::new(buffer).to_vec());
        }
        if let Some(view) = answer.dyn_ref::<js_sys::Uint8Array>() {
            return Some(view.to_vec());
        }
        let array = answer.dyn_ref::<js_sys::Array>()?;
        // JSON bytes start with `{`, `[`, `"` or a letter or digit: never an empty array, and
        // its first element is a number (an answer that is itself a JSON array would not be).
        array
            .get(0)
            .as_f64()
            .map(|_| js_sys::Uint8Array::new(array).to_vec())
    }

    /// Turns a rejected promise's value into an [`IpcError`].
    fn error_from_js(value: JsValue) -> IpcError {
        if let Ok(err) = serde_wasm_bindgen::from_value::<IpcError>(value.clone()) {
            return err;
        }
        if let Some(text) = value.as_string() {
            return internal(text);
        }
        if let Some(err) = value.dyn_ref::<js_sys::Error>() {
            return internal(String::from(err.message()));
        }
        if let Some(text) = Reflect::get(&value, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
        {
            return internal(text);
        }
        let text = js_sys::JSON::stringify(&value)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "unknown error".to_owned());
        internal(text)
    }

    /// Shared between the listener handle and the task waiting for Tauri's `unlisten`.
    struct State {
        /// Kept alive as long as Tauri may call it.
        handler: Option<Closure<dyn FnMut(JsValue)>>,
        /// Tauri's unlisten function, once `listen` resolved.
        unlisten: Option<Function>,
        /// The handle was dropped before `listen` resolved.
        dropped: bool,
    }

    pub struct Listener(Rc<RefCell<State>>);

    /// The `payload` of a Tauri event object, read as a `T`.
    pub fn payload<T: DeserializeOwned>(event: &str, value: JsValue) -> Result<T, IpcError> {
        let payload = Reflect::get(&value, &JsValue::from_str("payload")).unwrap_or(value);
        serde_wasm_bindgen::from_value(payload).map_err(|e| {
            internal(format!(
                "The app sent a {event} event this window cannot read: {e}"
            ))
        })
    }

    pub fn listen(
        event: &'static str,
        on_event: impl Fn(JsValue) + 'static,
    ) -> Result<Listener, IpcError> {
        let events = global_path(&["__TAURI__", "event"]).ok_or_else(|| {
            internal("Live updates are off: the app does not expose its events (withGlobalTauri)")
        })?;
        let listen: Function = Reflect::get(&events, &JsValue::from_str("listen"))
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| internal("Live updates are off: event.listen is missing"))?;
        let handler = Closure::<dyn FnMut(JsValue)>::new(on_event);
        let promise: Promise = listen
            .call2(&events, &JsValue::from_str(event), handler.as_ref())
            .map_err(error_from_js)?
            .dyn_into()
            .map_err(|_| internal("Live updates are off: event.listen returned no promise"))?;
        let state = Rc::new(RefCell::new(State {
            handler: Some(handler),
            unlisten: None,
            dropped: false,
        }));
        let pending = Rc::clone(&state);
        wasm_bindgen_futures::spawn_local(async move {
            match JsFuture::from(promise).await {
                Ok(unlisten) => {
                    let unlisten: Option<Function> = unlisten.dyn_into().ok();
                    let mut state = pending.borrow_mut();
                    if state.dropped {
                        if let Some(f) = &unlisten {
                            let _ = f.call0(&JsValue::NULL);
                        }
                        state.handler = None;
                    } else {
                        state.unlisten = unlisten;
                    }
                }
                Err(err) => {
                    let err = error_from_js(err);
                    web_sys::console::warn_1(&JsValue::from_str(&format!(
                        "listening for {event} failed: {err}"
                    )));
                }
            }
        });
        Ok(Listener(state))
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            let mut state = self.0.borrow_mut();
            state.dropped = true;
            if let Some(unlisten) = state.unlisten.take() {
                let _ = unlisten.call0(&JsValue::NULL);
                // Tauri forgets the handler synchronously in unlisten: it can be freed now.
                state.handler = None;
            }
        }
    }
}
