//! How the app starts WebKit's processes: JavaScriptCore without its JIT compilers, and on a
//! machine without a GPU glibc's allocator handing freed large blocks straight back, unless the
//! user chose otherwise (src-tauri/src/webview.rs says why).

use std::path::Path;

use anyhow::{Context as _, Result};
use bookwish_e2e::{app_binary, app_processes, Driver};

/// The variable `name` as the app's WebKit web process got it in its environment (`None`: not
/// set), the app launched with `env` added to the driver's environment.
async fn web_process_env(data: &Path, env: &[(&str, &str)], name: &str) -> Result<Option<String>> {
    let driver = Driver::start(data, env).await?;
    let (app, _) = driver.launch().await?;
    let binary = app_binary()?;
    let web = app_processes(&binary)?
        .into_iter()
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.starts_with("WebKitWebProc"))
        })
        .context("the app has no WebKit web process")?;
    let environ = std::fs::read(format!("/proc/{web}/environ"))?;
    app.quit().await?;
    let prefix = format!("{name}=");
    Ok(environ
        .split(|&byte| byte == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .find_map(|entry| entry.strip_prefix(prefix.as_str()))
        .map(str::to_owned))
}

/// Whether this machine has a render node, as the shell checks (`webview::has_render_node`).
fn has_gpu() -> bool {
    std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            entry.file_name().to_string_lossy().starts_with("renderD")
                && std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(entry.path())
                    .is_ok()
        })
    })
}

#[tokio::test]
async fn the_page_runs_without_javascriptcores_jit_unless_the_user_chose_otherwise() -> Result<()> {
    let data = tempfile::tempdir()?;
    assert_eq!(
        web_process_env(data.path(), &[], "JSC_useJIT")
            .await?
            .as_deref(),
        Some("0"),
        "the web process runs JavaScriptCore without its JIT: 20–25 MB less with 10,000 books"
    );
    assert_eq!(
        web_process_env(data.path(), &[("JSC_useJIT", "1")], "JSC_useJIT")
            .await?
            .as_deref(),
        Some("1"),
        "a JSC_useJIT the user set reaches the web process as they set it"
    );
    Ok(())
}

#[tokio::test]
async fn without_a_gpu_webkit_hands_freed_large_blocks_back_unless_the_user_chose_otherwise(
) -> Result<()> {
    const NAME: &str = "MALLOC_MMAP_THRESHOLD_";
    let data = tempfile::tempdir()?;
    let expected = (!has_gpu()).then_some("131072");
    assert_eq!(
        web_process_env(data.path(), &[], NAME).await?.as_deref(),
        expected,
        "without a GPU the web process maps blocks of 128 KiB and more on their own, so that \
         freeing them hands them back (≈ 5 MB less after scrolling 10,000 books); with one, \
         glibc's default"
    );
    assert_eq!(
        web_process_env(data.path(), &[(NAME, "65536")], NAME)
            .await?
            .as_deref(),
        Some("65536"),
        "a {NAME} the user set reaches the web process as they set it"
    );
    Ok(())
}
