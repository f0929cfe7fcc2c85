//! "Copy diagnostics": a dialog that shows what would be shared — the app's version, the OS,
//! sync's state and the recent log, which the shell has already stripped of tokens, codes,
//! addresses and user ids — and copies it to the clipboard.
//!
//! The clipboard is the webview's own (`navigator.clipboard.writeText`): it works offline, on
//! X11 and Wayland alike (GTK's clipboard underneath), and needs no plugin. WebKit allows it
//! only during a click, so the text is fetched first and shown, and the Copy button writes it
//! in its own click. Where the clipboard refuses, the text is selected for Ctrl+C.

use bookwish_ipc::commands::GetDiagnostics;
use bookwish_ipc::IpcError;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::dialog::{Dialog, Placement};
use super::icons;
use crate::ipc;

/// Properties of [`DiagnosticsDialog`].
#[derive(Properties, PartialEq)]
pub struct DiagnosticsDialogProps {
    /// Close was pressed (or Esc).
    pub on_close: Callback<()>,
}

/// Where the copy stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Copied {
    /// Not tried yet.
    No,
    /// On the clipboard.
    Yes,
    /// The clipboard refused: the text is selected for Ctrl+C.
    Refused,
}

/// The dialog; it asks the shell for the text when it opens.
#[component]
pub fn DiagnosticsDialog(props: &DiagnosticsDialogProps) -> Html {
    let text = use_state(|| None::<Result<String, IpcError>>);
    let copied = use_state(|| Copied::No);
    let area = use_node_ref();
    let copy_ref = use_node_ref();
    {
        let text = text.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                text.set(Some(ipc::invoke(&GetDiagnostics {}).await));
            });
        });
    }
    let close = props.on_close.clone();
    let onclose = close.reform(|_: MouseEvent| ());
    let body = match &*text {
        None => html! {
            <p class="modal-text"><span class="spinner" aria-hidden="true"></span>{ " Gathering…" }</p>
        },
        Some(Err(error)) => html! {
            <p class="modal-text" role="alert">{ error.message.clone() }</p>
        },
        Some(Ok(report)) => html! {
            <textarea ref={area.clone()} class="diagnostics-text" data-testid="diagnostics-text"
                readonly=true rows="14" spellcheck="false" aria-label="Diagnostics"
                value={report.clone()} />
        },
    };
    let oncopy = {
        let report = text.as_ref().and_then(|t| t.as_ref().ok()).cloned();
        let copied = copied.clone();
        let area = area.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(report) = report.clone() else {
                return;
            };
            // Called inside the click, as WebKit requires; awaited afterwards.
            let written = clipboard::write(&report);
            let copied = copied.clone();
            let area = area.clone();
            spawn_local(async move {
                if written.await {
                    copied.set(Copied::Yes);
                } else {
                    if let Some(area) = area.cast::<HtmlTextAreaElement>() {
                        area.select();
                        let _ = area.focus();
                    }
                    copied.set(Copied::Refused);
                }
            });
        })
    };
    let status = match *copied {
        Copied::No => Html::default(),
        Copied::Yes => html! {
            <p class="modal-hint" role="status" data-testid="diagnostics-copied">
                { "Copied. Paste it into your message to support." }
            </p>
        },
        Copied::Refused => html! {
            <p class="modal-hint" role="status" data-testid="diagnostics-copied">
                { "The clipboard isn't available here: the text is selected, press Ctrl+C to copy it." }
            </p>
        },
    };
    let ready = matches!(&*text, Some(Ok(_)));
    html! {
        <Dialog placement={Placement::Centre} class="modal diagnostics" testid="diagnostics"
            labelled_by="diagnostics-title" described_by="diagnostics-about"
            initial_focus={copy_ref.clone()} on_escape={close}>
            <div class="modal-head">
                <span class="modal-icon" aria-hidden="true">{ icons::warning() }</span>
                <h2 id="diagnostics-title" class="modal-title">{ "Copy diagnostics" }</h2>
                <button type="button" class="icon-btn" data-testid="diagnostics-close"
                    aria-label="Close" title="Close (Esc)" onclick={onclose.clone()}>
                    { icons::close() }
                </button>
            </div>
            <p id="diagnostics-about" class="modal-text">
                { "What went wrong with sync, for whoever helps you: the version, your system, \
                   sync's state and the recent log. Passwords, tokens, sign-in codes, e-mail \
                   addresses and account ids are left out." }
            </p>
            { body }
            { status }
            <div class="modal-actions">
                <button type="button" class="btn" onclick={onclose}>{ "Close" }</button>
                <button ref={copy_ref} type="button" class="btn btn-primary"
                    data-testid="diagnostics-copy" disabled={!ready} onclick={oncopy}>
                    { "Copy to clipboard" }
                </button>
            </div>
        </Dialog>
    }
}

/// The webview's clipboard.
mod clipboard {
    use std::future::Future;

    /// Starts writing `text` to the clipboard (call it inside a click); resolves to whether
    /// it got there.
    pub fn write(text: &str) -> impl Future<Output = bool> {
        #[cfg(target_arch = "wasm32")]
        {
            let promise = start(text);
            async move {
                match promise {
                    Some(promise) => wasm_bindgen_futures::JsFuture::from(promise).await.is_ok(),
                    None => false,
                }
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = text;
            std::future::ready(false)
        }
    }

    /// `navigator.clipboard.writeText(text)`, looked up at run time (no unstable web-sys API),
    /// or `None` where the page has no clipboard.
    #[cfg(target_arch = "wasm32")]
    fn start(text: &str) -> Option<js_sys::Promise> {
        use wasm_bindgen::{JsCast, JsValue};
        let window = web_sys::window()?;
        let navigator = js_sys::Reflect::get(&window, &JsValue::from_str("navigator")).ok()?;
        let clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard")).ok()?;
        let write = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText"))
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()?;
        write
            .call1(&clipboard, &JsValue::from_str(text))
            .ok()?
            .dyn_into::<js_sys::Promise>()
            .ok()
    }
}
