//! The Bookwish desktop shell: Tauri setup, plugins, OS glue and one-line command adapters.
//! Nothing here knows the rules of a reading list or which file holds whose books; that is
//! `bookwish_core`. The shell resolves the OS folders, opens the store of the account shown,
//! wires logging, deep links and the network signal, runs the sync engine, and answers the
//! commands declared in `bookwish_ipc::commands` (commands.rs: one `Handle` impl each; the Tauri
//! handlers are generated from the declaration list).
//! Import and export (`transfer`) open the OS file dialogs from Rust: the window never sees a
//! path. `webview` sets WebKitGTK's environment for the machine before the window exists, and
//! the window's WebKit features once it does. Once the launch has settled, and after a large
//! sync, the heap's freed memory goes back to the OS (`bookwish_heap`).

mod account;
mod arg;
mod browser;
mod commands;
mod launch;
mod network;
mod paths;
mod state;
mod sync;
mod transfer;
mod webview;

use std::path::PathBuf;

use anyhow::Context as _;
use bookwish_config::AppConfig;
use tauri::{AppHandle, Manager};
use tauri_plugin_deep_link::DeepLinkExt;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::paths::{Paths, DATA_DIR_ENV};
use crate::state::AppState;

/// Longest the launch sync waits for the window's first list.
const LAUNCH_SYNC_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// How long without a list asked for counts as the launch having settled.
const LAUNCH_QUIET: std::time::Duration = std::time::Duration::from_secs(1);

/// Longest the launch waits to settle before its freed memory is handed back.
const LAUNCH_SETTLE_MAX: std::time::Duration = std::time::Duration::from_secs(10);

/// Keeps the non-blocking log writer flushing until the app exits.
struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);

/// Builds and runs the app until its last window closes.
pub fn run() -> anyhow::Result<()> {
    launch::record();
    webview::prepare();
    tauri::Builder::default()
        // Must be the first plugin: a second launch (e.g. the OS handing over a
        // bookwish:// link) exits early and forwards its arguments to this process.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            account::focus_main_window(app);
        }))
        .plugin(tauri_plugin_deep_link::init())
        // Used from Rust only (import and export): the window is granted none of its commands.
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            setup(app.handle())?;
            Ok(())
        })
        .invoke_handler(commands::handler())
        .on_window_event(|window, event| match event {
            tauri::WindowEvent::Focused(true) => {
                if let Some(state) = window.try_state::<AppState>() {
                    state.nudge_sync(bookwish_sync::Trigger::Focus);
                }
            }
            // A file dropped on the window: its path stays here, the page hears of the offer.
            tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) => {
                transfer::dropped(window.app_handle(), paths.clone());
            }
            _ => {}
        })
        .run(tauri::generate_context!())
        .context("the Bookwish window could not run")
}

fn setup(app: &AppHandle) -> anyhow::Result<()> {
    let override_dir = std::env::var_os(DATA_DIR_ENV).map(PathBuf::from);
    let paths = Paths::resolve(
        override_dir.as_deref(),
        app.path().app_data_dir().context("no app-data directory")?,
        app.path().app_log_dir().context("no log directory")?,
    );
    bookwish_core::accounts::create_private_dir(&paths.data_dir)
        .with_context(|| format!("cannot create {}", paths.data_dir.display()))?;
    app.manage(LogGuard(init_logging(&paths)?));
    // Early, before the page lays out its list; after logging, so a warning is kept.
    if let Some(window) = app.get_webview_window("main") {
        webview::configure(&window);
    }

    let version = app.package_info().version.to_string();
    tracing::info!(%version, data_dir = %paths.data_dir.display(), "Bookwish starting");
    let config_file = app
        .path()
        .app_config_dir()
        .context("no config directory")?
        .join("bookwish.toml");
    let config = AppConfig::load(&config_file).unwrap_or_else(|error| {
        tracing::error!(%error, "ignoring the configuration; running local-only");
        AppConfig::default()
    });
    let state = AppState::open(&paths, &config, version).context("cannot start")?;
    app.manage(state);
    network::watch(app);
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        handle.state::<AppState>().checkpoint_when_idle().await;
    });
    // The launch sync and the session's refresh wait until the window has its first list, so
    // they do not compete with it for the CPU (at most LAUNCH_SYNC_WAIT: a window that never
    // asks, its books unreadable, does not keep sync from starting).
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        handle
            .state::<AppState>()
            .first_list_shown(LAUNCH_SYNC_WAIT)
            .await;
        account::start_sync(&handle);
        // The launch's garbage (GTK's and WebKit's setup, the first lists encoded and sent)
        // goes back to the OS once the window has its whole list.
        let settled = handle.clone();
        tauri::async_runtime::spawn(async move {
            settled
                .state::<AppState>()
                .lists_settled(LAUNCH_QUIET, LAUNCH_SETTLE_MAX)
                .await;
            release_heap("launch");
        });
        account::restore(handle).await;
    });

    // Deep links arrive on a cold start as an argument and later through single-instance.
    // Only the scheme, host and path are logged: the query carries codes and state.
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        urls.into_iter().for_each(|url| open_link(app, url));
    }
    // A development build is not installed, so no desktop entry routes bookwish:// to it:
    // register this binary as the handler (installed bundles declare the scheme themselves).
    #[cfg(all(debug_assertions, any(target_os = "linux", windows)))]
    if let Err(error) = app.deep_link().register_all() {
        tracing::warn!(%error, "could not register the bookwish:// handler for this build");
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        event
            .urls()
            .into_iter()
            .for_each(|url| open_link(&handle, url))
    });
    Ok(())
}

fn open_link(app: &AppHandle, url: tauri::Url) {
    tracing::info!(
        scheme = url.scheme(),
        host = url.host_str().unwrap_or(""),
        path = url.path(),
        "deep link received"
    );
    tauri::async_runtime::spawn(account::complete(app.clone(), url));
}

fn init_logging(paths: &Paths) -> anyhow::Result<tracing_appender::non_blocking::WorkerGuard> {
    // One file a day, a week kept, readable by the user only (the core's writer: the rolling
    // writer of tracing-appender cannot set a file's mode); written off the calling thread.
    let file = bookwish_core::logfile::LogFile::open(&paths.log_dir)
        .with_context(|| format!("cannot open the log in {}", paths.log_dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // try_init: a second run() in one process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .try_init();
    Ok(guard)
}

/// Hands the memory the heap freed during a burst of work (`after`) back to the OS, on a
/// blocking thread: it holds the allocator's locks for milliseconds.
pub(crate) fn release_heap(after: &'static str) {
    tauri::async_runtime::spawn_blocking(move || {
        let released = bookwish_heap::release();
        tracing::debug!(
            after,
            released,
            "handed the heap's freed memory back to the OS"
        );
    });
}
