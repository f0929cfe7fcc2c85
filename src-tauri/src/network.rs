//! The OS's word that the network came back, as a sync trigger. On Linux that is GIO's
//! `NetworkMonitor` (NetworkManager over D-Bus, or the kernel's netlink routes without it). On
//! other systems, and whenever the OS says nothing (a server restarting, a VPN, a captive
//! portal), the engine's offline probe notices within seconds anyway; this only makes the
//! common case — Wi-Fi back — immediate.

use tauri::AppHandle;

/// Whether a network-changed signal should wake sync: when the network just became
/// available, or while sync is offline (any change may have brought the server back).
/// Other changes (routes shuffling while online) are ignored, so a chatty monitor does not
/// cause a sync storm.
#[cfg(any(target_os = "linux", test))]
fn should_sync(was_available: bool, available: bool, sync_offline: bool) -> bool {
    available && (!was_available || sync_offline)
}

/// Starts listening; call once, on the main thread (GIO delivers the signal there).
#[cfg(target_os = "linux")]
pub fn watch(app: &AppHandle) {
    use gio::prelude::NetworkMonitorExt as _;
    use std::cell::Cell;
    use tauri::Manager as _;

    use crate::state::AppState;

    let monitor = gio::NetworkMonitor::default();
    let was_available = Cell::new(monitor.is_network_available());
    let handle = app.clone();
    monitor.connect_network_changed(move |_, available| {
        let Some(state) = handle.try_state::<AppState>() else {
            return;
        };
        let offline = state
            .sync_status()
            .is_some_and(|status| status.phase == bookwish_ipc::SyncPhase::Offline);
        if should_sync(was_available.replace(available), available, offline) {
            tracing::info!("the network is back: syncing");
            state.nudge_sync(bookwish_sync::Trigger::NetworkUp);
        }
    });
}

/// Other systems rely on the engine's offline probe and the window-focus trigger.
#[cfg(not(target_os = "linux"))]
pub fn watch(_app: &AppHandle) {}

#[cfg(test)]
mod tests {
    use super::should_sync;

    #[test]
    fn only_a_network_coming_back_or_a_change_while_offline_wakes_sync() {
        assert!(should_sync(false, true, false), "the network came back");
        assert!(
            should_sync(true, true, true),
            "any change while sync is offline may have brought the server back"
        );
        assert!(
            !should_sync(true, true, false),
            "route changes while online and synced are ignored"
        );
        assert!(
            !should_sync(true, false, true),
            "losing the network never starts a sync"
        );
    }
}
