//! Where the keyboard focus goes when what held it goes away: into a dialog when it opens,
//! back where it was when it closes, and to a sensible button when an item leaves a list.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// What Tab can reach inside a dialog, in document order.
const FOCUSABLE: &str =
    "a[href], button:not([disabled]), input:not([disabled]):not([type='hidden']), \
                         select:not([disabled]), textarea:not([disabled]), \
                         [tabindex]:not([tabindex='-1'])";

/// The element that has the focus, if any.
pub fn active() -> Option<Element> {
    web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.active_element())
}

/// Whether nothing in particular has the focus (it fell back to the page).
pub fn is_lost() -> bool {
    active().is_none_or(|element| element.tag_name().eq_ignore_ascii_case("body"))
}

/// Focuses `element`, if it is one that can take the focus.
pub fn focus(element: &Element) {
    if let Some(element) = element.dyn_ref::<HtmlElement>() {
        let _ = element.focus();
    }
}

/// The first element under `root` that matches `selector`.
pub fn find(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).ok().flatten()
}

/// The elements under `root` that Tab reaches.
pub fn focusable(root: &Element) -> Vec<HtmlElement> {
    let Ok(nodes) = root.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|node| node.dyn_into::<HtmlElement>().ok())
        .collect()
}

/// Keeps Tab and Shift+Tab inside `root`: past the last element Tab wraps to the first, and
/// back; a focus that escaped comes back in. Returns whether it moved the focus itself (the
/// caller then prevents the browser's move).
pub fn wrap_tab(root: &HtmlElement, backwards: bool) -> bool {
    let elements = focusable(root);
    let (Some(first), Some(last)) = (elements.first(), elements.last()) else {
        let _ = root.focus();
        return true;
    };
    let current = active();
    let inside = current
        .as_ref()
        .is_some_and(|element| root.contains(Some(element)));
    let on = |target: &HtmlElement| current.as_ref() == Some(target.unchecked_ref::<Element>());
    let on_root = current.as_ref() == Some(root.unchecked_ref::<Element>());
    let target = if !inside {
        Some(if backwards { last } else { first })
    } else if backwards && (on(first) || on_root) {
        Some(last)
    } else if !backwards && on(last) {
        Some(first)
    } else {
        None
    };
    match target {
        Some(target) => {
            let _ = target.focus();
            true
        }
        None => false,
    }
}
