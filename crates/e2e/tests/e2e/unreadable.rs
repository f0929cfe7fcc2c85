//! A value the app refuses, written on the server past its constraints (as an older server or
//! another client might have), never stops sync in the built app: the book keeps its last good
//! local copy, a change made elsewhere to another book still arrives, the status bar says
//! "Synced" with one book needing attention (never an error), and the review panel lists the
//! book this version cannot show, with the reason.

use anyhow::{ensure, Context as _, Result};
use bookwish_stack::{Stack, StackOptions, ALICE};

use crate::support::{self, SignedIn};

/// Writes `set` into alice's book titled `title`, past the table's CHECK constraints.
async fn spoil(stack: &Stack, title: &str, set: &str) -> Result<()> {
    stack
        .update_books_past_checks(
            set,
            &format!("user_id = '{}' and title = '{title}'", ALICE.sub),
        )
        .await
        .context("the superuser writes a value past the constraints")?;
    Ok(())
}

#[tokio::test]
async fn a_book_the_app_cannot_read_is_set_aside_and_sync_goes_on() -> Result<()> {
    let stack = Stack::start(StackOptions::default()).await?;
    let SignedIn {
        app,
        driver: _driver,
        data,
    } = support::signed_in_app(&stack).await?;

    spoil(&stack, "Dune", "started_on = 'infinity'").await?;
    // Another device's ordinary change to another book, made after the bad value.
    stack
        .psql(&format!(
            "update public.books set title = 'The Hobbit, or There and Back Again' \
             where user_id = '{}' and title = 'The Hobbit'",
            ALICE.sub
        ))
        .await?;

    app.click("[data-testid=sync-now]").await?;
    if let Err(error) = app
        .wait_for_listed(&["The Hobbit, or There and Back Again"])
        .await
    {
        app.screenshot("unreadable-stalled").await?;
        return Err(error.context(format!(
            "a change made elsewhere must still arrive after an unreadable row; the app's \
             log:\n{}",
            support::app_log(data.path())?
        )));
    }
    app.wait_for("[data-testid=sync-status][data-phase=synced]")
        .await
        .context("an unreadable row is no sync error: the status says Synced")?;
    let attention = app.wait_for_text("[data-testid=sync-attention]").await?;
    ensure!(
        attention.contains("1 needs attention"),
        "the book set aside needs the user's attention, in words: {attention:?}"
    );
    ensure!(
        app.rows().await?.iter().any(|row| row.title == "Dune"),
        "the book keeps its last good copy in the list"
    );

    app.click("[data-testid=sync-attention]").await?;
    app.wait_for("[data-testid=review-panel]").await?;
    let book = app.wait_for_text("[data-testid=unreadable-book]").await?;
    let reason = app.text("[data-testid=unreadable-reason]").await?;
    ensure!(
        book == "Dune",
        "the panel names the book the server holds: {book:?}"
    );
    ensure!(
        reason.to_lowercase().contains("date"),
        "the reason says which value is wrong: {reason:?}"
    );
    app.screenshot("review-panel-unreadable").await?;

    app.click("[data-testid=unreadable-dismiss]").await?;
    app.wait_for("[data-testid=review-empty]")
        .await
        .context("a dismissed row leaves the panel")?;
    app.click("[data-testid=review-close]").await?;
    app.wait_until("nothing needs attention once dismissed", || async {
        Ok(app.all("[data-testid=sync-attention]").await?.is_empty())
    })
    .await?;
    app.quit().await?;
    Ok(())
}
