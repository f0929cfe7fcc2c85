//! WebKitGTK's feature switches (`WebKitFeature`, WebKitGTK 2.42 and later): the preferences
//! WebKit keeps outside `WebKitSettings`' properties, such as whether overflow areas scroll on
//! their own thread. The `webkit2gtk` bindings for GTK 3 predate that C API, so this crate
//! declares the seven functions it uses and wraps them in two safe calls, [`feature`] and
//! [`set_feature`], on the bindings' own [`webkit2gtk::Settings`].
//!
//! It is one of the workspace's two crates with `unsafe` code (the other is `bookwish-heap`):
//! denied, not forbidden, and allowed only around each C call, with the contract it relies on.
//! On other systems than Linux it is empty: WebKitGTK is the webview on Linux only.

#[cfg(target_os = "linux")]
mod linux;

#[cfg(target_os = "linux")]
pub use linux::{feature, set_feature};
