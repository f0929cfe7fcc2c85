//! The status filters with their counts.

use bookwish_ipc::Status;
use yew::prelude::*;

use super::icons;
use crate::state::{LibraryAction, LibraryContext};
use crate::text::grouped;

/// The filters: All, then one per status.
#[component]
pub fn Sidebar() -> Html {
    let Some(library) = use_context::<LibraryContext>() else {
        return Html::default();
    };
    let counts = library.counts;
    let current = library.query.status;
    let ready = library.ready;

    let item = |status: Option<Status>| {
        let (key, label, icon, count) = match status {
            None => ("all", "All", icons::library(), counts.total()),
            Some(s) => (s.as_str(), s.as_str(), icons::status(s), counts.get(s)),
        };
        let selected = current == status;
        let onclick = {
            let library = library.clone();
            Callback::from(move |_: MouseEvent| library.dispatch(LibraryAction::Filter(status)))
        };
        html! {
            <li key={key}>
                <button type="button"
                    class={classes!("nav-item", format!("nav-{}", key.to_lowercase()),
                        selected.then_some("selected"))}
                    data-testid={format!("filter-{key}")}
                    aria-current={selected.then_some("page")}
                    {onclick}>
                    <span class="nav-icon">{ icon }</span>
                    <span class="nav-label">{ label }</span>
                    <span class="nav-count" data-testid={format!("count-{key}")}>
                        { if ready { grouped(count as usize) } else { String::new() } }
                    </span>
                </button>
            </li>
        }
    };

    html! {
        <nav class="sidebar" aria-label="Filter by status">
            <div class="sidebar-title">{ "Library" }</div>
            <ul class="nav-list">
                { item(None) }
                for status in Status::ALL {
                    { item(Some(status)) }
                }
            </ul>
        </nav>
    }
}
