//! The bottom bar: where the books live, and the keyboard shortcuts.

use std::rc::Rc;

use bookwish_ipc::AppInfo;
use yew::prelude::*;

use super::icons;

/// Properties of [`StatusBar`].
#[derive(Properties, PartialEq)]
pub struct StatusBarProps {
    /// What `app_info` answered, once it has.
    pub info: Option<Rc<AppInfo>>,
}

/// The bottom bar.
#[component]
pub fn StatusBar(props: &StatusBarProps) -> Html {
    let (place, version) = match props.info.as_deref() {
        Some(info) => (
            html! {
                <span class="status-place" title={info.data_dir.clone()}>
                    { icons::device() }
                    { "Saved on this computer" }
                </span>
            },
            format!("Bookwish {}", info.version),
        ),
        None => (Html::default(), String::new()),
    };
    html! {
        <footer class="statusbar">
            { place }
            <span class="status-version">{ version }</span>
            <span class="status-keys" data-testid="keyboard-hint">
                <kbd>{ "n" }</kbd>{ " new book" }
                <kbd>{ "/" }</kbd>{ " search" }
                <kbd>{ "Esc" }</kbd>{ " cancel" }
            </span>
        </footer>
    }
}
