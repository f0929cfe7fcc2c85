//! Keyboard shortcuts of the whole window.

/// A shortcut the window answers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    /// `n`: open the add form.
    NewBook,
    /// `/`: focus the search field.
    FocusSearch,
    /// `Esc`: close the open form, or else clear the search.
    Escape,
}

/// The shortcut for a key press, if any. `typing` says the focus is in a field that takes
/// text (where `n` and `/` are just letters); `modified` says Ctrl, Alt or Meta is held (so
/// the system's shortcuts keep working).
pub fn shortcut(key: &str, typing: bool, modified: bool) -> Option<Shortcut> {
    if modified {
        return None;
    }
    match key {
        "Escape" | "Esc" => Some(Shortcut::Escape),
        _ if typing => None,
        "n" | "N" => Some(Shortcut::NewBook),
        "/" => Some(Shortcut::FocusSearch),
        _ => None,
    }
}

/// Whether an element with this tag name (upper or lower case) takes typed keys.
pub fn takes_text(tag_name: &str, content_editable: bool) -> bool {
    content_editable
        || ["input", "textarea", "select"]
            .iter()
            .any(|tag| tag_name.eq_ignore_ascii_case(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_shortcuts_only_outside_text_fields() {
        assert_eq!(
            shortcut("n", false, false),
            Some(Shortcut::NewBook),
            "n opens the form"
        );
        assert_eq!(
            shortcut("/", false, false),
            Some(Shortcut::FocusSearch),
            "/ searches"
        );
        assert_eq!(
            shortcut("n", true, false),
            None,
            "n is a letter while typing"
        );
        assert_eq!(
            shortcut("/", true, false),
            None,
            "/ is a character while typing"
        );
        assert_eq!(shortcut("x", false, false), None, "other keys do nothing");
    }

    #[test]
    fn escape_works_everywhere_but_modified_keys_never() {
        assert_eq!(
            shortcut("Escape", true, false),
            Some(Shortcut::Escape),
            "Esc while typing"
        );
        assert_eq!(
            shortcut("Escape", false, false),
            Some(Shortcut::Escape),
            "Esc elsewhere"
        );
        assert_eq!(
            shortcut("n", false, true),
            None,
            "Ctrl+N belongs to the system"
        );
    }

    #[test]
    fn text_fields_are_recognised() {
        assert!(takes_text("INPUT", false), "inputs take text");
        assert!(takes_text("textarea", false), "textareas take text");
        assert!(takes_text("SELECT", false), "selects take typed letters");
        assert!(
            takes_text("DIV", true),
            "content-editable elements take text"
        );
        assert!(!takes_text("BUTTON", false), "buttons do not");
    }
}
