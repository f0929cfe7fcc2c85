//! A conflict reviewed in the app: another device (a real sync engine on its own database,
//! signed in as alice) changes Dune's status and syncs; the app, not having pulled it yet,
//! finishes Dune. The app's later edit wins, the status bar says something needs attention,
//! and the review panel shows both values; "Use other value" puts the other device's status
//! back, and Postgres ends with it (read with psql).

use anyhow::{Context as _, Result};
use bookwish_core::Store;
use bookwish_ipc::{BookDraft, Status};
use bookwish_stack::{Stack, StackOptions, ALICE};
use bookwish_sync::{SyncConfig, SyncEngine, TokenError, TokenSource};

use crate::support::{self, server_books, SignedIn};

/// The other device's session: alice's access token from a headless login.
struct Token(String);

impl TokenSource for Token {
    async fn access_token(&self) -> Result<String, TokenError> {
        Ok(self.0.clone())
    }

    async fn refresh(&self) -> Result<String, TokenError> {
        Err(TokenError::SignedOut(
            "the test device never refreshes".into(),
        ))
    }
}

#[tokio::test]
async fn a_conflict_is_shown_in_the_review_panel_and_the_other_value_can_win() -> Result<()> {
    let stack = Stack::start(StackOptions::default()).await?;
    let SignedIn {
        app,
        driver: _driver,
        data,
    } = support::signed_in_app(&stack).await?;
    let dune = app.row("Dune").await?;
    assert_eq!(
        dune.attr("data-status").await?.as_deref(),
        Some("Reading"),
        "alice's Dune starts as Reading (the seed)"
    );

    // The other device pulls, moves Dune back to the wishlist, and pushes.
    let other_dir = tempfile::tempdir()?;
    let other_db = other_dir.path().join("other-device.sqlite3");
    let tokens = stack.login(ALICE.username, ALICE.password).await?;
    let engine = SyncEngine::open(
        &other_db,
        SyncConfig::new(stack.rest_url(), "local-stack-anon-key"),
        reqwest011::Client::new(),
        Token(tokens.access_token),
    )?;
    engine.sync_once().await?;
    let mut other = Store::open(&other_db)?;
    let other_dune = other
        .live_books()?
        .into_iter()
        .find(|book| book.title == "Dune")
        .context("the other device pulled Dune")?;
    other.update(
        other_dune.id,
        &BookDraft {
            status: Status::Wishlist,
            ..BookDraft::from(&other_dune)
        },
    )?;
    engine.sync_once().await?;

    // The app has not pulled that; the user finishes Dune. Its later edit wins on the server,
    // and the other device's value is kept for review.
    app.set_status("Dune", "Finished").await?;
    let attention = match app.wait_for_text("[data-testid=sync-attention]").await {
        Ok(text) => text,
        Err(error) => {
            app.screenshot("review-no-attention").await?;
            let account_db =
                bookwish_core::accounts::Databases::new(data.path()).account(ALICE.sub);
            let store = Store::open(&account_db)?;
            let (issues, outbox) = (store.sync_issues()?, store.outbox()?);
            return Err(error.context(format!(
                "the status bar must say a conflict needs attention; the app's database holds \
                 {issues:?} and the outbox {outbox:?}; the server: {:?}; the app's log:\n{}",
                server_books(&stack).await?,
                support::app_log(data.path())?
            )));
        }
    };
    assert!(
        attention.contains("1 needs attention"),
        "one conflict, in words: {attention:?}"
    );
    assert!(
        server_books(&stack)
            .await?
            .contains(&"Dune|Finished".to_owned()),
        "the later edit (the app's) wins on the server"
    );

    app.click("[data-testid=sync-attention]").await?;
    app.wait_for("[data-testid=review-panel]").await?;
    let field = app.text("[data-testid=conflict-field]").await?;
    let current = app.text("[data-testid=conflict-current]").await?;
    let other_value = app.text("[data-testid=conflict-other]").await?;
    assert_eq!(
        (field.as_str(), current.as_str(), other_value.as_str()),
        ("Status", "Finished", "Wishlist"),
        "the panel names the field, the value kept and the other device's"
    );
    app.screenshot("review-panel-conflict").await?;

    app.click("[data-testid=conflict-use-other]").await?;
    app.wait_for("[data-testid=review-empty]")
        .await
        .context("a settled conflict leaves the panel")?;
    app.click("[data-testid=review-close]").await?;
    app.wait_until("Dune shows Wishlist again", || async {
        Ok(app.row("Dune").await?.attr("data-status").await?.as_deref() == Some("Wishlist"))
    })
    .await?;
    app.wait_until("the other value reaches Postgres", || async {
        Ok(server_books(&stack)
            .await?
            .contains(&"Dune|Wishlist".to_owned()))
    })
    .await?;
    assert!(
        app.all("[data-testid=sync-attention]").await?.is_empty(),
        "nothing needs attention any more"
    );
    app.quit().await?;
    Ok(())
}
