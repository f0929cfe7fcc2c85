//! The bottom bar: where the books live and, while an account syncs, the sync indicator
//! (offline / syncing with progress / synced n min ago / error, the changes waiting, "Sync
//! now", and the conflicts and refused changes that need a look); then the version and the
//! keyboard shortcuts.

use std::rc::Rc;

use bookwish_ipc::{AppInfo, SyncPhase, SyncStatus};
use gloo_timers::callback::Interval;
use yew::prelude::*;

use super::diagnostics::DiagnosticsDialog;
use super::icons;
use crate::actions;
use crate::state::review::attention_text;
use crate::state::sync::{
    can_sync_now, details, offers_diagnostics, pending_text, phase_name, phase_text, place_text,
    progress,
};
use crate::state::{AuthContext, Dispatch, ReviewAction, SyncContext};

/// How often "Synced n min ago" is brought up to date.
const TICK_MS: u32 = 30_000;

/// Properties of [`StatusBar`].
#[derive(Properties, PartialEq)]
pub struct StatusBarProps {
    /// What `app_info` answered, once it has.
    pub info: Option<Rc<AppInfo>>,
}

/// The bottom bar.
#[component]
pub fn StatusBar(props: &StatusBarProps) -> Html {
    let auth = use_context::<AuthContext>();
    let sync = use_context::<SyncContext>();
    let signed_in = auth.as_ref().is_some_and(|auth| auth.profile().is_some());
    // Only a signed-in account syncs; a status left over from one that signed out is not shown.
    let status = sync
        .as_ref()
        .and_then(|sync| sync.status.clone())
        .filter(|_| signed_in);

    let (place, version) = match props.info.as_deref() {
        Some(info) if status.is_some() => (
            html! {
                <span class="status-place" data-testid="storage-place"
                    title={format!("Your books are kept on this computer, in {}, and synced \
                                    with your account", info.data_dir)}>
                    { icons::cloud() }
                    <span class="status-place-text">{ place_text(status.as_ref()) }</span>
                </span>
            },
            format!("Bookwish {}", info.version),
        ),
        Some(info) => (
            html! {
                <span class="status-place" data-testid="storage-place" title={info.data_dir.clone()}>
                    { icons::device() }
                    <span class="status-place-text">{ "Saved on this computer" }</span>
                </span>
            },
            format!("Bookwish {}", info.version),
        ),
        None => (Html::default(), String::new()),
    };
    let class = classes!("statusbar", status.is_some().then_some("statusbar-sync"));
    html! {
        <footer {class}>
            { place }
            if let Some(status) = status {
                <SyncIndicator {status} />
            }
            <span class="status-version">{ version }</span>
            <span class="status-keys" data-testid="keyboard-hint">
                <kbd>{ "n" }</kbd>{ " new book" }
                <kbd>{ "/" }</kbd>{ " search" }
                <kbd>{ "Esc" }</kbd>{ " cancel" }
            </span>
        </footer>
    }
}

/// Properties of [`SyncIndicator`].
#[derive(Properties, PartialEq)]
struct SyncIndicatorProps {
    status: SyncStatus,
}

/// The sync indicator. It keeps its own clock, so only it re-renders as "n min ago" ages.
#[component]
fn SyncIndicator(props: &SyncIndicatorProps) -> Html {
    let dispatch = use_context::<Dispatch>();
    let tick = use_force_update();
    use_effect_with((), move |_| {
        let interval = Interval::new(TICK_MS, move || tick.force_update());
        move || drop(interval)
    });

    let status = &props.status;
    let now = now_ms();
    let phase = &status.phase;
    let icon = match phase {
        SyncPhase::Offline => icons::cloud_off(),
        SyncPhase::Syncing { .. } => html! { <span class="spinner" aria-hidden="true"></span> },
        SyncPhase::Synced { .. } => icons::check_circle(),
        SyncPhase::Error { .. } => icons::warning(),
    };
    let bar = progress(phase).map(|(done, total)| {
        html! {
            <progress class="sync-progress" data-testid="sync-progress"
                max={total.to_string()} value={done.to_string()} aria-label="Sync progress">
            </progress>
        }
    });
    let pending = pending_text(status.pending).map(|text| {
        html! {
            <span class="sync-pending" data-testid="sync-pending"
                title="Changes made on this computer that the server has not received yet">
                { text }
            </span>
        }
    });
    let attention = attention_text(status.attention).map(|text| {
        let onclick = dispatch.clone().map(|dispatch| {
            Callback::from(move |_: MouseEvent| dispatch.review.dispatch(ReviewAction::Open))
        });
        html! {
            <button type="button" class="btn btn-xs sync-attention" data-testid="sync-attention"
                aria-haspopup="dialog" disabled={onclick.is_none()}
                title="Conflicts and changes the server refused: review them" {onclick}>
                { icons::warning() }
                { text }
            </button>
        }
    });
    let diagnostics_open = use_state(|| false);
    let diagnostics = offers_diagnostics(phase).then(|| {
        let open = diagnostics_open.clone();
        html! {
            <button type="button" class="btn btn-xs btn-ghost sync-diagnostics"
                data-testid="sync-diagnostics" aria-haspopup="dialog"
                title="Copy what went wrong (no passwords, tokens or e-mail) to send to support"
                onclick={Callback::from(move |_: MouseEvent| open.set(true))}>
                { "Copy diagnostics…" }
            </button>
        }
    });
    let dialog = (*diagnostics_open).then(|| {
        let open = diagnostics_open.clone();
        html! { <DiagnosticsDialog on_close={Callback::from(move |()| open.set(false))} /> }
    });
    let onclick =
        dispatch.map(|dispatch| Callback::from(move |_: MouseEvent| actions::sync_now(&dispatch)));
    let idle = can_sync_now(phase);
    html! {
        <div class="sync">
            <span class="sync-state" data-testid="sync-status" data-phase={phase_name(phase)}
                title={details(status, now)}>
                <span class="sync-icon">{ icon }</span>
                <span class="sync-text">{ phase_text(phase, now) }</span>
                { for bar }
            </span>
            { for pending }
            { for attention }
            { for diagnostics }
            { for dialog }
            <button type="button" class="btn btn-xs btn-ghost sync-now" data-testid="sync-now"
                disabled={!idle || onclick.is_none()}
                title={if idle { "Sync with your account now" } else { "Syncing…" }}
                {onclick}>
                { icons::refresh() }
                { "Sync now" }
            </button>
        </div>
    }
}

/// The time now, in milliseconds since the Unix epoch (what the sync status uses).
fn now_ms() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        // Whole milliseconds well inside i64's range: the cast cannot truncate meaningfully.
        js_sys::Date::now() as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            })
    }
}
