//! What the shell tells WebKitGTK: its environment before WebKitGTK starts its web process, and
//! the window's WebKit features once the window exists.
//!
//! Linux with no usable GPU render node (no `/dev/dri/renderD*` this user can open: a virtual
//! machine, a remote session, a missing driver): WebKitGTK (2.46 and later) paints the page
//! with Skia on the GPU, and there the GPU is Mesa's software rasteriser, llvmpipe — a GL
//! context, LLVM's code generator and GL texture buffers inside the web process, to paint on
//! the CPU all the same. The shell sets `WEBKIT_SKIA_ENABLE_CPU_RENDERING=1` on such a
//! machine, so Skia paints on the CPU directly and only composites through GL. Measured on
//! one (Xvfb, no GPU, 10,000 books): the same time per scroll frame, about 60 MB less memory
//! in the web process. Compositing itself stays on: without it the launch with 10,000 books
//! took 0.94 s (median of three, 0.65–1.34 s) against a 0.6 s target, and scroll frames a third
//! longer (README, "Status").
//!
//! On such a machine the shell also turns off WebKit's `AsyncOverflowScrolling` feature in the
//! window's settings ([`configure`], through `bookwish-webkit`), so the book list, an overflow
//! area, scrolls on the page's own thread and paints into the page's layer instead of getting
//! a composited layer of its own. Its rows change on every scroll anyway (the list renders only
//! what is in view), so a scrolling thread had nothing to scroll ahead with; the layer cost its
//! tiles twice over (painted, then copied into software GL). Measured on the same machine
//! (10,000 books, start-up bench): about 12 MB less memory after launch, and scroll frames
//! 20–30 % shorter.
//!
//! Skia's CPU backend paints on a pool of threads, by default half the cores: one thread on a
//! two-core machine, painting every tile of a scroll frame while the other core waits. Where
//! the shell sets CPU painting and the machine has two or three cores, it asks for two painting
//! threads. Measured on a two-core machine (Xvfb, 10,000 books, start-up bench): a wheel's
//! scroll frame 57 → 42 ms, a fling's 78 → 52 ms; launch and memory unchanged.
//!
//! On every Linux machine the shell also starts JavaScriptCore, WebKit's script engine, without
//! its JIT compilers (`JSC_useJIT=0`): the page's script (wasm-bindgen's glue) runs in
//! JavaScriptCore's interpreter, and the wasm app in its wasm interpreter. The JIT cost the web
//! process 20–25 MB, and the work it sped up is small: a render of the rows in view, a list's
//! answer decoded. Measured on the machine above (10,000 books, four start-up bench runs beside
//! four of the same build with the JIT, interleaved): PSS after launch 317–320 → 297–299 MB,
//! after scrolling the whole list 343–349 → 319–325 MB; the launch about the same (medians
//! 522–598 ms against 454–609); scroll frames longer, a wheel's 34–35 → 35–37 ms and a fling's
//! 41–43 → 49–52 ms. Re-sorting 10,000 books shows its first screenful in 48–61 ms instead of
//! 17–48 and the whole list in 242–269 ms instead of 60–114. Turning off JavaScriptCore's tiers
//! one by one while keeping the JIT saved less (a scroll probe: the wasm app's tiers alone 5–8
//! MB, all of them 15–22 MB, and a second pass through the list then still ended at 356 MB
//! against 321 without the JIT).
//!
//! Where it paints on the CPU, the shell also fixes glibc's mmap threshold for WebKit's
//! processes at its starting value, 128 KiB (`MALLOC_MMAP_THRESHOLD_=131072`; read by each
//! process's allocator as it starts, so not by the app's own). Painted tiles, Mesa's textures
//! and Skia's buffers are blocks of that size and more; glibc otherwise raises the threshold
//! to the largest block freed so far, and from then on carves such blocks out of its heaps,
//! whose freed middles it keeps. Fixed, each is mapped on its own and handed back when freed.
//! Measured on the machine above (10,000 books, start-up bench): after scrolling the whole
//! list 314–316 MB once settled against 316–319, and 320–321 right after the last frame
//! against 317–324 (three runs of this build, five without); after launch about the same
//! (299–301 MB against 297–300); scroll frames within the runs' spread. Three runs that also
//! gave the app's own process the fixed threshold weighed 311–312 and 316–317 MB: ≈ 1–2 MB of
//! the app's heap, left as it is: the sync's large buffers are then all mapped and unmapped,
//! and the sync bench's 100,000-book initial sync took 1.04–1.10 s against 0.96–1.03 s
//! (interleaved runs, the threshold set by `mallopt` in the bench's process). Compositing stays
//! on even so: without it (`WEBKIT_DISABLE_COMPOSITING_MODE=1`) the same bench weighed 245 MB
//! after launch and 257–268 MB after the scroll, but scroll frames took 102–136 ms and the
//! launch 1.25 s.
//!
//! A value the user set is left as it is, and where a render node can be opened WebKit's
//! painting defaults stand. Programs the app starts for the user, such as their browser, get
//! the environment the app was started with ([`users_environment`]): a browser built on WebKit
//! would otherwise keep these settings for as long as it runs.

/// The variable WebKitGTK reads to paint with Skia's CPU backend.
#[cfg(target_os = "linux")]
const CPU_PAINTING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// The variable WebKitGTK reads for how many threads paint with Skia's CPU backend.
#[cfg(target_os = "linux")]
const CPU_PAINTING_THREADS: &str = "WEBKIT_SKIA_CPU_PAINTING_THREADS";

/// The variable JavaScriptCore reads for whether it compiles scripts and wasm to machine code.
#[cfg(target_os = "linux")]
const JAVASCRIPT_JIT: &str = "JSC_useJIT";

/// The variable glibc's allocator reads for the size from which blocks are mapped on their own
/// (and unmapped when freed), and the value the shell gives it: glibc's own starting value,
/// which setting it keeps from rising.
#[cfg(target_os = "linux")]
const MMAP_THRESHOLD: (&str, &str) = ("MALLOC_MMAP_THRESHOLD_", "131072");

/// WebKit's feature that scrolls overflow areas on its scrolling thread, each on a layer.
#[cfg(target_os = "linux")]
const ASYNC_OVERFLOW_SCROLLING: &str = "AsyncOverflowScrolling";

/// Whether this machine paints without a GPU, as [`prepare`] found.
#[cfg(target_os = "linux")]
static WITHOUT_GPU: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// The variables [`prepare`] set for WebKit's processes (none the user had set).
#[cfg(target_os = "linux")]
static SET_FOR_WEBKIT: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();

/// Sets WebKitGTK's environment for this machine. Call first thing in `run`, before any thread
/// starts and before the webview exists: WebKit reads it when it starts its processes.
pub fn prepare() {
    #[cfg(target_os = "linux")]
    {
        let without_gpu = !has_render_node(std::path::Path::new("/dev/dri"));
        WITHOUT_GPU.get_or_init(|| without_gpu);
        let mut set = Vec::new();
        let mut set_unless_chosen = |name: &'static str, value: String| {
            if std::env::var_os(name).is_none() {
                // No thread runs yet (see above), so nothing reads the environment meanwhile.
                std::env::set_var(name, value);
                set.push(name);
            }
        };
        set_unless_chosen(JAVASCRIPT_JIT, "0".to_owned());
        if without_gpu {
            set_unless_chosen(CPU_PAINTING, "1".to_owned());
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            if let Some(threads) = painting_threads(cores) {
                set_unless_chosen(CPU_PAINTING_THREADS, threads.to_string());
            }
            // Read by each process's allocator as it starts: WebKit's, not this one, whose
            // allocator started before `main`.
            set_unless_chosen(MMAP_THRESHOLD.0, MMAP_THRESHOLD.1.to_owned());
        }
        SET_FOR_WEBKIT.get_or_init(|| set);
    }
}

/// Gives `command` the environment the app was started with: without what [`prepare`] set for
/// WebKit. For programs the app starts for the user — their browser, which may be WebKit too
/// and would then run its whole session without its JIT.
pub fn users_environment(command: &mut std::process::Command) -> &mut std::process::Command {
    #[cfg(target_os = "linux")]
    for name in SET_FOR_WEBKIT.get().into_iter().flatten() {
        command.env_remove(name);
    }
    command
}

/// Sets the window's WebKit features for this machine. Call in `setup`, before the page has
/// laid out its list (the setting applies from the page's next layout in any case).
pub fn configure(window: &tauri::WebviewWindow) {
    #[cfg(target_os = "linux")]
    {
        if !WITHOUT_GPU.get().copied().unwrap_or(false) {
            return;
        }
        let applied = window.with_webview(|webview| {
            use webkit2gtk::WebViewExt as _;
            let Some(settings) = webview.inner().settings() else {
                tracing::warn!("the webview has no settings; overflow areas keep their own layers");
                return;
            };
            if !bookwish_webkit::set_feature(&settings, ASYNC_OVERFLOW_SCROLLING, false) {
                tracing::warn!(
                    feature = ASYNC_OVERFLOW_SCROLLING,
                    "this WebKitGTK has no such feature; overflow areas keep their own layers"
                );
            }
        });
        if let Err(error) = applied {
            tracing::warn!(%error, "could not reach the webview to set its features");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// How many threads should paint with Skia's CPU backend on a machine with `cores` cores, where
/// WebKit's own default, half the cores, leaves a single thread painting while another core
/// could help; `None` keeps WebKit's default.
#[cfg(target_os = "linux")]
fn painting_threads(cores: usize) -> Option<usize> {
    (2..4).contains(&cores).then_some(2)
}

/// Whether `dri` holds a render node (`renderD…`) this process can open for reading and
/// writing, as Mesa needs to draw on the GPU.
#[cfg(target_os = "linux")]
fn has_render_node(dri: &std::path::Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dri) else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry.file_name().to_string_lossy().starts_with("renderD")
            && std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(entry.path())
                .is_ok()
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{has_render_node, painting_threads};

    #[test]
    fn a_small_machine_paints_on_two_threads() {
        assert_eq!(
            painting_threads(2),
            Some(2),
            "WebKit's default, half the cores, would leave one thread painting on two cores"
        );
        assert_eq!(painting_threads(3), Some(2), "and on three");
    }

    #[test]
    fn other_machines_keep_webkits_default() {
        assert_eq!(
            painting_threads(1),
            None,
            "one core: a second painting thread would only take turns with the page"
        );
        for cores in [4, 8, 64] {
            assert_eq!(
                painting_threads(cores),
                None,
                "{cores} cores: half of them already paint"
            );
        }
    }

    #[test]
    fn no_dri_folder_means_no_render_node() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(
            !has_render_node(&dir.path().join("dri")),
            "a machine without /dev/dri has no GPU to paint with"
        );
    }

    #[test]
    fn only_an_openable_render_node_counts() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("card0"), b"").expect("card0");
        assert!(
            !has_render_node(dir.path()),
            "a primary node alone (card0) is not a render node"
        );
        std::fs::create_dir(dir.path().join("renderD128")).expect("renderD128");
        assert!(
            !has_render_node(dir.path()),
            "a render node that cannot be opened read-write does not count"
        );
        std::fs::write(dir.path().join("renderD129"), b"").expect("renderD129");
        assert!(
            has_render_node(dir.path()),
            "an openable renderD node means a GPU driver can draw"
        );
    }
}
