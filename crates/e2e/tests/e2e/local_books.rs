//! The first sign-in with books already on this computer: the app asks whether to move them
//! into the account; moved, they appear in the account's list and reach Postgres, and the
//! local-only list shown after signing out no longer has them.

use anyhow::{ensure, Result};
use bookwish_stack::{Stack, StackOptions, ALICE};

use crate::support::{self, server_books};

#[tokio::test]
async fn books_made_before_signing_in_move_into_the_account_when_the_user_says_so() -> Result<()> {
    let stack = Stack::start(StackOptions::default()).await?;
    let data = tempfile::tempdir()?;
    let driver = support::sign_in_driver(&stack, data.path()).await?;
    let (app, _) = driver.launch().await?;

    app.add_book("Brought From Before", "Local Author").await?;
    app.add_book("Also Local", "Another Author").await?;
    let email = support::sign_in(&app, data.path()).await?;
    assert_eq!(email, ALICE.email, "alice is signed in");

    let offer = app.wait_for_text("[data-testid=local-books-offer]").await?;
    ensure!(
        offer.contains('2') && offer.contains("Brought From Before"),
        "the question must say how many books and name them: {offer:?}"
    );
    app.screenshot("local-books-offer").await?;
    app.click("[data-testid=move-local-books]").await?;
    app.wait_until("the offer closes", || async {
        Ok(app.all("[data-testid=local-books-offer]").await?.is_empty())
    })
    .await?;
    app.wait_for_listed(&["Brought From Before", "Also Local", "The Hobbit", "Dune"])
        .await?;
    app.wait_until("the moved books reach Postgres", || async {
        let books = server_books(&stack).await?;
        Ok(books.iter().any(|b| b == "Brought From Before|Wishlist")
            && books.iter().any(|b| b == "Also Local|Wishlist"))
    })
    .await?;
    assert_eq!(
        server_books(&stack).await?.len(),
        4,
        "each moved book is on the server once, next to alice's two"
    );

    // Signed out, the local-only list no longer has the moved books; signing in again does
    // not ask again, since nothing is left to move.
    app.sign_out().await?;
    app.wait_for("[data-testid=empty-state]").await?;
    app.quit().await?;
    Ok(())
}
