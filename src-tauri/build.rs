//! Tauri's build step: embeds tauri.conf.json, checks the capabilities, and generates one
//! `allow-<command>` permission per app command so the capability file can name exactly the
//! commands the window may call (least privilege).

const COMMANDS: &[&str] = &[
    "app_info",
    "list_books",
    "add_book",
    "update_book",
    "set_status",
    "delete_book",
    "restore_book",
    "sign_in",
    "cancel_sign_in",
    "sign_out",
    "sync_status",
    "sync_now",
    "sync_issues",
    "resolve_conflict",
    "fix_rejection",
    "discard_rejection",
    "local_books_offer",
    "move_local_books",
    "keep_local_books",
];

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}
