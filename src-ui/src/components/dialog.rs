//! A modal dialog, as a side sheet or centred: the focus moves into it when it opens and back
//! where it was when it closes, Tab stays inside, Esc asks its owner to close it, and the
//! window's shortcuts rest while it is open.
//!
//! The owner decides what closing means (Esc in the review panel first closes its edit form),
//! so the dialog only reports Esc through `on_escape` and is shown for as long as the owner
//! renders it.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};
use yew::prelude::*;

use super::focus;

/// The open dialogs, bottom to top. Only the top one answers keys, so a dialog opened over
/// another takes Esc first.
#[derive(Debug, Default)]
struct Layers {
    open: Vec<u64>,
    last_id: u64,
}

impl Layers {
    /// A dialog opened: its id, now the top.
    fn push(&mut self) -> u64 {
        self.last_id += 1;
        self.open.push(self.last_id);
        self.last_id
    }

    /// A dialog closed, wherever it was.
    fn remove(&mut self, id: u64) {
        self.open.retain(|&open| open != id);
    }

    fn is_top(&self, id: u64) -> bool {
        self.open.last() == Some(&id)
    }
}

thread_local! {
    static LAYERS: RefCell<Layers> = RefCell::default();
}

/// Whether a dialog is open (the window's shortcuts then rest).
pub fn any_open() -> bool {
    LAYERS.with(|layers| !layers.borrow().open.is_empty())
}

/// Where a dialog sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// A sheet along the window's right edge, full height.
    Sheet,
    /// A box in the middle of the window.
    Centre,
}

/// Properties of [`Dialog`].
#[derive(Properties, PartialEq)]
pub struct DialogProps {
    /// Where it sits.
    pub placement: Placement,
    /// Extra classes of the dialog box.
    #[prop_or_default]
    pub class: Classes,
    /// Its `data-testid`.
    pub testid: AttrValue,
    /// The id of the element that names it (its heading).
    pub labelled_by: AttrValue,
    /// The id of the element that describes it, if any.
    #[prop_or_default]
    pub described_by: Option<AttrValue>,
    /// Esc was pressed while it is the top dialog.
    pub on_escape: Callback<()>,
    /// What takes the focus when it opens; the dialog box itself when unset.
    #[prop_or_default]
    pub initial_focus: NodeRef,
    /// The dialog box, for an owner that moves the focus inside it.
    #[prop_or_default]
    pub node: NodeRef,
    /// The content.
    #[prop_or_default]
    pub children: Html,
}

/// A modal dialog.
#[component]
pub fn Dialog(props: &DialogProps) -> Html {
    // The listener is set once; it reads the latest callback from here.
    let on_escape = use_mut_ref(|| props.on_escape.clone());
    *on_escape.borrow_mut() = props.on_escape.clone();

    {
        let node = props.node.clone();
        let initial = props.initial_focus.clone();
        use_effect_with((), move |_| {
            let id = LAYERS.with(|layers| layers.borrow_mut().push());
            let before = focus::active();
            match initial.cast::<web_sys::Element>() {
                Some(element) => focus::focus(&element),
                None => {
                    if let Some(dialog) = node.cast::<web_sys::Element>() {
                        focus::focus(&dialog);
                    }
                }
            }
            let listener = web_sys::window()
                .and_then(|window| window.document())
                .map(|document| {
                    // Capture phase, before the window's shortcuts and the fields inside.
                    let options = EventListenerOptions {
                        phase: EventListenerPhase::Capture,
                        passive: false,
                    };
                    let node = node.clone();
                    EventListener::new_with_options(&document, "keydown", options, move |event| {
                        on_key(event, id, &node, &on_escape);
                    })
                });
            move || {
                drop(listener);
                LAYERS.with(|layers| layers.borrow_mut().remove(id));
                // Back to what opened it, if it is still there.
                if let Some(before) = before.filter(|element| element.is_connected()) {
                    focus::focus(&before);
                }
            }
        });
    }

    let overlay = match props.placement {
        Placement::Sheet => "overlay-sheet",
        Placement::Centre => "overlay-centre",
    };
    html! {
        <div class={classes!("overlay", overlay)}>
            <div ref={props.node.clone()} class={classes!("dialog", props.class.clone())}
                role="dialog" aria-modal="true" tabindex="-1" data-testid={props.testid.clone()}
                aria-labelledby={props.labelled_by.clone()}
                aria-describedby={props.described_by.clone()}>
                { props.children.clone() }
            </div>
        </div>
    }
}

/// A key pressed anywhere while dialog `id` is open.
fn on_key(event: &Event, id: u64, node: &NodeRef, on_escape: &Rc<RefCell<Callback<()>>>) {
    let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
        return;
    };
    if event.is_composing()
        || event.ctrl_key()
        || event.meta_key()
        || event.alt_key()
        || !LAYERS.with(|layers| layers.borrow().is_top(id))
    {
        return;
    }
    match event.key().as_str() {
        "Escape" | "Esc" => {
            event.prevent_default();
            event.stop_propagation();
            on_escape.borrow().emit(());
        }
        "Tab" => {
            if let Some(dialog) = node.cast::<HtmlElement>() {
                if focus::wrap_tab(&dialog, event.shift_key()) {
                    event.prevent_default();
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_top_dialog_answers_keys() {
        let mut layers = Layers::default();
        let sheet = layers.push();
        assert!(layers.is_top(sheet), "a lone dialog is the top one");
        let question = layers.push();
        assert_ne!(sheet, question, "every dialog has its own id");
        assert!(
            layers.is_top(question) && !layers.is_top(sheet),
            "a dialog opened over another takes the keys"
        );
        layers.remove(sheet);
        assert!(
            layers.is_top(question),
            "closing the one below leaves the top one answering"
        );
        layers.remove(question);
        assert!(layers.open.is_empty(), "all closed: the shortcuts are back");
    }
}
