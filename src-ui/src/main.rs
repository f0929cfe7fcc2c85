//! Entry point that Trunk builds to wasm.

#[cfg(target_arch = "wasm32")]
fn main() {
    bookwish_ui::start();
}

/// The UI only runs in a webview; a native build exists so `cargo test` and clippy cover the
/// crate on the host.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("bookwish-ui runs inside the Bookwish desktop app: build it with `trunk build`");
    std::process::exit(2);
}
