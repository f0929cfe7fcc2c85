//! Signing in with the provider standing in for Clerk, the way a user does: click Sign in,
//! the "system browser" (the desktop's opener, `xdg-open`, here the test-browser program) logs
//! alice in and hands
//! the `bookwish://auth/callback` link to the OS, which starts the app binary with it; the
//! running app receives it through single-instance. No token may ever reach the page or the
//! log file.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use bookwish_e2e::{output_dir, App};
use bookwish_stack::{Stack, StackOptions, ALICE};

use crate::support::{self, app_log, stored_refresh_token};

/// Fails if anything shaped like a JWT, or the refresh token itself, shows up in the page,
/// its storage, or the app's log files.
async fn assert_no_tokens(app: &App, data_dir: &Path, refresh_token: Option<&str>) -> Result<()> {
    let page = app
        .client
        .execute(
            "return [document.documentElement.outerHTML, JSON.stringify(localStorage), \
             JSON.stringify(sessionStorage)].join('\\n')",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let logs = app_log(data_dir)?;
    for (place, text) in [("the page or its storage", &page), ("the log file", &logs)] {
        assert!(
            !looks_like_jwt(text),
            "no token may appear in {place}: found a JWT-shaped string"
        );
        if let Some(refresh) = refresh_token {
            assert!(
                !text.contains(refresh),
                "the refresh token must never appear in {place}"
            );
        }
        for secret_param in ["code=", "state=", "code_verifier"] {
            assert!(
                !text.contains(secret_param) || place != "the log file",
                "deep-link query strings must never be logged ({secret_param})"
            );
        }
    }
    Ok(())
}

fn looks_like_jwt(text: &str) -> bool {
    text.match_indices("eyJ").any(|(at, _)| {
        let tail = &text[at..];
        let token: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        token.matches('.').count() >= 2 && token.len() > 40
    })
}

#[tokio::test]
async fn alice_signs_in_through_her_browser_stays_signed_in_and_signs_out() -> Result<()> {
    let stack = Stack::start(StackOptions::default()).await?;
    let data = tempfile::tempdir()?;
    // Through the desktop's opener: the other signed-in tests open the page with `$BROWSER`.
    let driver = support::sign_in_driver_via_xdg_open(&stack, data.path()).await?;

    let (app, _) = driver.launch().await?;
    let status = app.text("[data-testid=account-status]").await?;
    assert!(
        status.contains("Local only"),
        "before sign-in the app is local-only: {status:?}"
    );

    let clicked = Instant::now();
    let email = support::sign_in(&app, data.path()).await?;
    let took = clicked.elapsed();
    assert_eq!(
        email, ALICE.email,
        "the header must show the signed-in user's email"
    );
    eprintln!("click → signed in: {took:?}");
    std::fs::write(
        output_dir()?.join("sign-in-time.md"),
        format!(
            "| click Sign in → header shows the account (built app, local IdP) | {} ms |\n",
            took.as_millis()
        ),
    )?;
    // Sync starts with the account: alice's books from the server (the seed's) appear.
    app.wait_for_listed(&["The Hobbit", "Dune"]).await?;
    app.wait_for("[data-testid=sync-status][data-phase=synced]")
        .await?;
    app.screenshot("signed-in").await?;
    let refresh = stored_refresh_token(ALICE.sub);
    assert!(
        refresh.is_some(),
        "the refresh token must be in the OS keychain after sign-in"
    );
    assert_no_tokens(&app, data.path(), refresh.as_deref()).await?;
    app.quit().await?;

    // Relaunch: the session is restored from the keychain.
    let (app, _) = driver.launch().await?;
    let email = app.wait_for_text("[data-testid=account-email]").await?;
    assert_eq!(
        email, ALICE.email,
        "after a relaunch alice must still be signed in"
    );

    app.sign_out().await?;
    assert!(
        stored_refresh_token(ALICE.sub).is_none(),
        "signing out must delete the keychain entry"
    );
    app.screenshot("signed-out").await?;
    assert_no_tokens(&app, data.path(), refresh.as_deref()).await?;
    app.quit().await?;
    Ok(())
}
