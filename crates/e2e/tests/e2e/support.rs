//! What the signed-in tests share: a driver whose app can sign in against the local stack
//! through the test browser, and the click that signs alice in.

use std::path::Path;

use anyhow::{Context as _, Result};
use bookwish_e2e::{app_binary, App, Driver};
use bookwish_stack::{Stack, ALICE};

/// A driver whose apps keep their data in `data_dir`, use the local stack as Clerk and
/// Supabase, and sign in through the test browser as alice.
pub async fn sign_in_driver(stack: &Stack, data_dir: &Path) -> Result<Driver> {
    let config = data_dir.join("bookwish.toml");
    std::fs::write(&config, stack.app_config_toml())?;
    let app_path = app_binary()?;
    let login = format!("{}:{}", ALICE.username, ALICE.password);
    Driver::start(
        data_dir,
        &[
            ("BOOKWISH_CONFIG", config.to_str().context("utf-8 path")?),
            ("BROWSER", env!("CARGO_BIN_EXE_test-browser")),
            ("BOOKWISH_TEST_LOGIN", &login),
            ("BOOKWISH_E2E_APP", app_path.to_str().context("utf-8 path")?),
        ],
    )
    .await
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
        Ok(email) => Ok(email),
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
