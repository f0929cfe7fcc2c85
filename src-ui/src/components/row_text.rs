//! A list row's own text — its book's id, title and author, and the two button labels made of
//! the title — sent to the page as one string.
//!
//! wasm-bindgen sends every `&str` to the page as a new copy, decoded from the wasm app's memory
//! through a new `Uint8Array` view over it. Once the row shows another book, the copy and its
//! view are garbage that the web process holds, with the memory behind them, until
//! JavaScriptCore collects; a long scroll makes it faster than the collector runs (README,
//! "Status"). Written in the row's markup, a row that changed books sent six copies: its id, its
//! title as text, tooltip and two labels, and its author. [`fill`] sends one, the three fields
//! end to end; the page cuts it at the fields' lengths and joins the labels from the title and
//! their interned words, so everything else is a JavaScript string made on the page.
//!
//! The elements filled are the row's own, rendered by Yew without this text and these
//! attributes: Yew neither sets nor removes what its markup does not name, so [`fill`] runs
//! after every render of the row (see `book_row`).

use js_sys::JsString;
use wasm_bindgen::intern;
use wasm_bindgen::prelude::*;
use web_sys::Element;

#[wasm_bindgen]
extern "C" {
    /// An element of the row, as [`fill`] writes to it: its text and attributes set to
    /// JavaScript strings already on the page (`web_sys` takes them as `&str`, a copy each).
    type Target;

    /// `element.setAttribute(name, value)`.
    #[wasm_bindgen(method, js_name = setAttribute)]
    fn set_attribute_to(this: &Target, name: &str, value: &JsString);

    /// `element.textContent = value`.
    #[wasm_bindgen(method, setter = textContent)]
    fn set_text_content_to(this: &Target, value: &JsString);
}

/// The elements of a row that show its book's own text.
pub struct RowText {
    /// The row: its `data-id`.
    pub row: Element,
    /// The title: its text and tooltip.
    pub title: Element,
    /// The author: its text.
    pub author: Element,
    /// The Edit button: its label, “Edit “title””.
    pub edit: Element,
    /// The Delete button: its label, “Delete “title””.
    pub delete: Element,
}

/// Shows a book's id, title and author in a row's elements, sending them to the page as one
/// string.
pub fn fill(row: &RowText, id: &str, title: &str, author: &str) {
    let (id_end, title_end) = cuts(id, title);
    let packed = JsString::from([id, title, author].concat().as_str());
    let id = packed.substring(0, id_end);
    let title = packed.substring(id_end, title_end);
    let author = packed.substring(title_end, packed.length());
    let [row_element, title_element, author_element, edit, delete] =
        [&row.row, &row.title, &row.author, &row.edit, &row.delete]
            .map(|element| element.unchecked_ref::<Target>());
    row_element.set_attribute_to(intern("data-id"), &id);
    title_element.set_text_content_to(&title);
    title_element.set_attribute_to(intern("title"), &title);
    author_element.set_text_content_to(&author);
    let quoted = |words: &str| {
        JsString::from(intern(words))
            .concat(&title)
            .concat(&JsString::from(intern("”")))
    };
    edit.set_attribute_to(intern("aria-label"), &quoted("Edit “"));
    delete.set_attribute_to(intern("aria-label"), &quoted("Delete “"));
}

/// Where the title starts and ends in `id`, `title` and the author end to end, in the UTF-16
/// code units JavaScript's strings count in.
fn cuts(id: &str, title: &str) -> (u32, u32) {
    let units = |text: &str| u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX);
    let id_end = units(id);
    (id_end, id_end.saturating_add(units(title)))
}

#[cfg(test)]
mod tests {
    use super::cuts;

    #[test]
    fn the_title_is_cut_in_javascripts_units() {
        let id = "0193a0c4-5e1f-7b2c-9d3e-4f5a6b7c8d9e";
        assert_eq!(
            cuts(id, "Dune"),
            (36, 40),
            "an ASCII title spans its bytes after the 36 of the id"
        );
        assert_eq!(
            cuts(id, "Les Misérables"),
            (36, 50),
            "é is two bytes in Rust's UTF-8 but one unit in JavaScript's UTF-16"
        );
        assert_eq!(
            cuts(id, "𝔊ödel 📚"),
            (36, 45),
            "a character outside the BMP is two UTF-16 units (a surrogate pair)"
        );
    }
}
