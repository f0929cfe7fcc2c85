//! Tauri's build step: embeds tauri.conf.json, checks the capabilities, and generates one
//! `allow-<command>` permission per app command so the capability file can name exactly the
//! commands the window may call (least privilege). The commands are the ones declared in
//! `bookwish-ipc` (a test checks that capabilities/main.json allows exactly those).

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(bookwish_ipc::commands::NAMES));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}
