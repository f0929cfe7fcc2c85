//! The account is deleted in Clerk while the app is signed in to it: Clerk's `user.deleted`
//! reaches the webhook receiver (signed as Svix signs it), the server forgets the account, and
//! the app's next sync is refused. The window must say plainly that the account no longer
//! exists, sign out (the keychain entry goes) and show the local-only list, while the account's
//! books stay on disk — across a relaunch — until the user chooses to remove them; then they
//! are gone, file and log with them.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Context as _, Result};
use bookwish_core::accounts::Databases;
use bookwish_e2e::App;
use bookwish_stack::{HooksOptions, Stack, StackOptions, ALICE, LOCAL_WEBHOOK_SECRET};

use crate::support::{self, server_books, stored_refresh_token};

/// alice's database file and its companions that exist now.
fn files_of(database: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut name = database.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
        .filter(|file| file.exists())
        .collect()
}

/// Waits for the notice and checks what it says.
async fn notice_says_alice_is_gone(app: &App) -> Result<()> {
    let title = app
        .wait_for_text("[data-testid=account-deleted-title]")
        .await?;
    ensure!(
        title == format!("The account {} no longer exists", ALICE.email),
        "the window says plainly that the account no longer exists: {title:?}"
    );
    let text = app.text("[data-testid=account-deleted-text]").await?;
    ensure!(
        text.contains("signed out") && text.contains("3 books are still on this computer"),
        "the notice says the app signed out and how many books stayed: {text:?}"
    );
    app.wait_until("the header says local-only", || async {
        Ok(app
            .text("[data-testid=account-status]")
            .await
            .unwrap_or_default()
            .contains("Local only"))
    })
    .await?;
    // The local-only list, not the deleted account's.
    app.wait_for_titles(&["Kept On This Computer"]).await?;
    Ok(())
}

#[tokio::test]
async fn a_deleted_account_signs_out_says_so_and_keeps_its_books_until_the_user_removes_them(
) -> Result<()> {
    let stack = Stack::start(StackOptions::default()).await?;
    stack
        .start_hooks(&HooksOptions::beside_current_exe())
        .await
        .context("the webhook receiver must start (cargo build -p bookwish-hooks)")?;
    let data = tempfile::tempdir()?;
    let driver = support::sign_in_driver(&stack, data.path()).await?;
    let (app, _) = driver.launch().await?;

    // A book of the local-only list, kept there when alice signs in.
    app.add_book("Kept On This Computer", "Local Author")
        .await?;
    support::sign_in(&app, data.path()).await?;
    app.click("[data-testid=keep-local-books]").await?;
    app.wait_for_listed(&["The Hobbit", "Dune"]).await?;
    app.add_book("Piranesi", "Susanna Clarke").await?;
    app.wait_until("Piranesi reaches Postgres", || async {
        Ok(server_books(&stack)
            .await?
            .iter()
            .any(|b| b == "Piranesi|Wishlist"))
    })
    .await?;
    ensure!(
        stored_refresh_token(ALICE.sub).is_some(),
        "signed in, the refresh token is in the keychain"
    );

    // Clerk deletes alice.
    let answer = stack
        .send_user_deleted(ALICE.sub, LOCAL_WEBHOOK_SECRET)
        .await?;
    ensure!(
        answer["result"] == "applied",
        "the receiver deleted alice: {answer}"
    );
    ensure!(
        server_books(&stack).await?.is_empty(),
        "nothing of alice is left on the server"
    );

    // The next sync is refused: the app signs out and says so.
    app.click("[data-testid=sync-now]").await?;
    notice_says_alice_is_gone(&app).await?;
    app.screenshot("account-deleted").await?;
    ensure!(
        stored_refresh_token(ALICE.sub).is_none(),
        "the deleted account's session is forgotten: no keychain entry"
    );
    let databases = Databases::new(data.path());
    let database = databases.account(ALICE.sub);
    ensure!(
        database.is_file(),
        "alice's books are still on disk: {}",
        database.display()
    );
    let listed = databases.deleted_accounts()?;
    ensure!(
        listed.len() == 1 && listed[0].user_id == ALICE.sub && listed[0].books == 3,
        "the core lists alice's database as deleted with its 3 books: {listed:?}"
    );
    app.quit().await?;

    // Relaunched, the app still says so: nothing was removed without asking.
    let (app, _) = driver.launch().await?;
    notice_says_alice_is_gone(&app).await?;
    ensure!(database.is_file(), "still on disk after a relaunch");

    // Remove, confirmed with how many books go.
    app.click("[data-testid=account-deleted-remove]").await?;
    let question = app.text("[data-testid=remove-account-title]").await?;
    ensure!(
        question == "Remove 3 books from this computer?",
        "the confirmation names how many books: {question:?}"
    );
    app.screenshot("account-deleted-confirm").await?;
    app.click("[data-testid=remove-account-cancel]").await?;
    app.wait_until("cancel closes the confirmation", || async {
        Ok(app
            .all("[data-testid=remove-account-confirm]")
            .await?
            .is_empty())
    })
    .await?;
    ensure!(database.is_file(), "cancel keeps the books");
    app.click("[data-testid=account-deleted-remove]").await?;
    app.click("[data-testid=remove-account-confirm-button]")
        .await?;
    app.wait_until("the notice goes once the books are removed", || async {
        Ok(app.all("[data-testid=account-deleted]").await?.is_empty())
    })
    .await?;
    let toast = app.text("[data-testid=toast][data-kind=info]").await?;
    ensure!(
        toast.contains(&format!("Removed 3 books of {}", ALICE.email)),
        "a toast says what was removed: {toast:?}"
    );
    ensure!(
        files_of(&database).is_empty(),
        "alice's database, its -wal and -shm are gone: {:?}",
        files_of(&database)
    );
    ensure!(
        databases.deleted_accounts()?.is_empty(),
        "no deleted account is left on this computer"
    );
    app.wait_for_titles(&["Kept On This Computer"]).await?;
    app.screenshot("account-deleted-removed").await?;
    app.quit().await?;

    // And the next launch has nothing more to say.
    let (app, _) = driver.launch().await?;
    app.wait_for_titles(&["Kept On This Computer"]).await?;
    ensure!(
        app.all("[data-testid=account-deleted]").await?.is_empty(),
        "after removal no notice comes back"
    );
    app.quit().await?;
    Ok(())
}
