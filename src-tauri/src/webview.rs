//! The webview's settings that Tauri leaves at WebKit's defaults.
//!
//! Linux: WebKitGTK's accelerated compositing is turned off. A reading list has no 3-D
//! transforms, video or WebGL to gain from it, and it costs: the web process keeps a GL
//! context and its layer buffers (through Mesa's software rasteriser where there is no GPU),
//! about 130 MB of the window's memory measured by the start-up bench, and it is behind the
//! blank or flickering windows WebKitGTK is known for on some GPU drivers (the reason
//! Evolution and Eclipse turn it off too). Pages still paint and scroll through WebKit's
//! software path, as in any non-composited page.
//!
//! One thing does not work in this mode: WebKit's automation never answers WebDriver's
//! screenshot command (WebKitGTK 2.50), so the end-to-end tests capture the X display
//! instead (`bookwish_e2e::App::screenshot`).

use tauri::{AppHandle, Manager as _};

/// Applies the settings to the main window's webview; its first page is still loading, so
/// they hold from the first paint.
pub fn configure(app: &AppHandle) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    #[cfg(target_os = "linux")]
    if let Err(error) = window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt as _, WebViewExt as _};
        if let Some(settings) = webview.inner().settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    }) {
        tracing::warn!(%error, "could not configure the webview");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
