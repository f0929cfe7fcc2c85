//! How the app starts WebKit's script engine: JavaScriptCore without its JIT compilers unless
//! the user chose otherwise (src-tauri/src/webview.rs says why).

use anyhow::{Context as _, Result};
use bookwish_e2e::{app_binary, app_processes, Driver};

/// `JSC_useJIT` as the app's web process got it in its environment (`None`: not set).
fn web_process_jit() -> Result<Option<String>> {
    let binary = app_binary()?;
    let web = app_processes(&binary)?
        .into_iter()
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.starts_with("WebKitWebProc"))
        })
        .context("the app has no WebKit web process")?;
    let environ = std::fs::read(format!("/proc/{web}/environ"))?;
    Ok(environ
        .split(|&byte| byte == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .find_map(|entry| entry.strip_prefix("JSC_useJIT="))
        .map(str::to_owned))
}

#[tokio::test]
async fn the_page_runs_without_javascriptcores_jit_unless_the_user_chose_otherwise() -> Result<()> {
    let data = tempfile::tempdir()?;
    let driver = Driver::start(data.path(), &[]).await?;
    let (app, _) = driver.launch().await?;
    assert_eq!(
        web_process_jit()?.as_deref(),
        Some("0"),
        "the web process runs JavaScriptCore without its JIT: 20–25 MB less with 10,000 books"
    );
    app.quit().await?;
    drop(driver);

    let driver = Driver::start(data.path(), &[("JSC_useJIT", "1")]).await?;
    let (app, _) = driver.launch().await?;
    assert_eq!(
        web_process_jit()?.as_deref(),
        Some("1"),
        "a JSC_useJIT the user set reaches the web process as they set it"
    );
    app.quit().await?;
    Ok(())
}
