//! What the signed-in tests share: a driver whose app can sign in against the local stack
//! through the test browser, and the click that signs alice in.

use std::path::Path;

use anyhow::{Context as _, Result};
use bookwish_e2e::{app_binary, app_processes, process_group, App, Driver};
use bookwish_stack::{Stack, ALICE};

/// A driver whose apps keep their data in `data_dir`, use the local stack as Clerk and
/// Supabase, and sign in through the test browser as alice, started as `$BROWSER`.
pub async fn sign_in_driver(stack: &Stack, data_dir: &Path) -> Result<Driver> {
    let browser = env!("CARGO_BIN_EXE_test-browser");
    driver_signing_in(stack, data_dir, &[("BROWSER", browser)]).await
}

/// [`sign_in_driver`], with no `$BROWSER`: the app opens its sign-in page with the desktop's
/// opener, and the `xdg-open` first on its `PATH` is the test browser.
pub async fn sign_in_driver_via_xdg_open(stack: &Stack, data_dir: &Path) -> Result<Driver> {
    let bin = data_dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_test-browser"), bin.join("xdg-open"))?;
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))?;
    let path = path.to_str().context("utf-8 PATH")?;
    driver_signing_in(stack, data_dir, &[("BROWSER", ""), ("PATH", path)]).await
}

async fn driver_signing_in(
    stack: &Stack,
    data_dir: &Path,
    browser: &[(&str, &str)],
) -> Result<Driver> {
    let config = data_dir.join("bookwish.toml");
    std::fs::write(&config, stack.app_config_toml())?;
    let app_path = app_binary()?;
    let login = format!("{}:{}", ALICE.username, ALICE.password);
    let browser_env = browser_env(data_dir);
    let mut env = vec![
        ("BOOKWISH_CONFIG", config.to_str().context("utf-8 path")?),
        (
            "BOOKWISH_TEST_BROWSER_ENV",
            browser_env.to_str().context("utf-8 path")?,
        ),
        ("BOOKWISH_TEST_LOGIN", &login),
        ("BOOKWISH_E2E_APP", app_path.to_str().context("utf-8 path")?),
    ];
    env.extend_from_slice(browser);
    Driver::start(data_dir, &env).await
}

/// Where the test browser writes the names of the variables it was started with.
pub fn browser_env(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("browser-env")
}

/// The app's log files, concatenated.
pub fn app_log(data_dir: &Path) -> Result<String> {
    let mut logs = String::new();
    for entry in std::fs::read_dir(data_dir.join("logs"))? {
        logs.push_str(&std::fs::read_to_string(entry?.path())?);
    }
    Ok(logs)
}

/// Clicks Sign in and waits for the header to name the account; on failure the error carries
/// what the window showed and the app's log.
pub async fn sign_in(app: &App, data_dir: &Path) -> Result<String> {
    app.click("[data-testid=sign-in]").await?;
    match app.wait_for_text("[data-testid=account-email]").await {
        Ok(email) => {
            let names = std::fs::read_to_string(browser_env(data_dir))?;
            // Every variable `webview::prepare` sets for WebKit (the last three only without a
            // GPU, as on the machines these tests run on).
            for set_for_webkit in [
                "JSC_useJIT",
                "WEBKIT_SKIA_ENABLE_CPU_RENDERING",
                "WEBKIT_SKIA_CPU_PAINTING_THREADS",
                "MALLOC_MMAP_THRESHOLD_",
            ] {
                assert!(
                    !names.lines().any(|name| name == set_for_webkit),
                    "the user's browser gets the user's environment, not {set_for_webkit}, \
                     which the app sets for its own WebKit (a WebKit browser would keep it)"
                );
            }
            let group = std::fs::read_to_string(browser_env(data_dir).with_extension("group"))?;
            let app = app_processes(&app_binary()?)?[0];
            assert_ne!(
                group.trim().parse::<u32>()?,
                process_group(app)?,
                "the browser runs in a process group of its own: a Ctrl-C meant for an app \
                 started from a terminal must not close it"
            );
            Ok(email)
        }
        Err(error) => {
            app.screenshot("sign-in-failure").await?;
            let shown = app.text("body").await.unwrap_or_default();
            Err(error.context(format!(
                "the window shows: {shown}\nthe app's log:\n{}",
                app_log(data_dir)?
            )))
        }
    }
}

/// The app launched and signed in as alice, her server books pulled and the status Synced.
/// Fields drop in order: the app quits before its driver stops and its data folder goes.
pub struct SignedIn {
    pub app: App,
    pub driver: Driver,
    pub data: tempfile::TempDir,
}

pub async fn signed_in_app(stack: &Stack) -> Result<SignedIn> {
    let data = tempfile::tempdir()?;
    let driver = sign_in_driver(stack, data.path()).await?;
    let (app, _) = driver.launch().await?;
    let email = sign_in(&app, data.path()).await?;
    anyhow::ensure!(email == ALICE.email, "alice is signed in, not {email:?}");
    app.wait_for_listed(&["The Hobbit", "Dune"]).await?;
    app.wait_for("[data-testid=sync-status][data-phase=synced]")
        .await?;
    Ok(SignedIn { app, driver, data })
}

/// alice's live books on the server as `title|status` lines, read with psql (not the app).
pub async fn server_books(stack: &Stack) -> Result<Vec<String>> {
    let out = stack
        .psql(&format!(
            "select title || '|' || status from public.books where user_id = '{}' \
             and not deleted order by title",
            ALICE.sub
        ))
        .await?;
    Ok(out.lines().map(str::to_owned).collect())
}

/// The refresh token the app saved in the Secret Service for `sub`, read with secret-tool.
pub fn stored_refresh_token(sub: &str) -> Option<String> {
    let output = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "app.bookwish.desktop", "username", sub])
        .output()
        .ok()?;
    let token = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!token.is_empty()).then_some(token)
}
