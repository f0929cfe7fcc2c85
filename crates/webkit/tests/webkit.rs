//! The feature switches against this machine's WebKitGTK, in a running GTK (WebKit's settings
//! read GTK's): `xvfb-run -a cargo test -p bookwish-webkit --test webkit` (`./x test` runs it).
//! Its own `main` on the process's main thread, the one GTK was started on.

#[cfg(target_os = "linux")]
fn main() {
    use bookwish_webkit::{feature, set_feature};
    use webkit2gtk::Settings;

    /// Overflow areas scrolled on WebKit's scrolling thread, each on a layer of its own.
    const ASYNC_OVERFLOW_SCROLLING: &str = "AsyncOverflowScrolling";

    if let Err(error) = gtk::init() {
        panic!("GTK did not start ({error}): this test needs a display, e.g. under xvfb-run");
    }

    let settings = Settings::new();
    assert_eq!(
        feature(&settings, ASYNC_OVERFLOW_SCROLLING),
        Some(true),
        "this WebKitGTK knows the feature, and it is on by default"
    );
    assert!(
        set_feature(&settings, ASYNC_OVERFLOW_SCROLLING, false),
        "a known feature can be turned off"
    );
    assert_eq!(
        feature(&settings, ASYNC_OVERFLOW_SCROLLING),
        Some(false),
        "the settings keep the feature off once turned off"
    );
    assert_eq!(
        feature(&Settings::new(), ASYNC_OVERFLOW_SCROLLING),
        Some(true),
        "turning a feature off in one webview's settings leaves the others' alone"
    );

    assert_eq!(
        feature(&settings, "NoSuchFeature"),
        None,
        "a name WebKit does not know has no value"
    );
    assert!(
        !set_feature(&settings, "NoSuchFeature", false),
        "setting a name WebKit does not know says so"
    );
    assert!(
        !set_feature(&settings, "AsyncOverflow", false),
        "only the whole identifier matches, not a prefix"
    );
    eprintln!("bookwish-webkit: feature switches ok");
}

#[cfg(not(target_os = "linux"))]
fn main() {}
