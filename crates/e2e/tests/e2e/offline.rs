//! Offline and back, signed in: with the stack's PostgREST stopped the status says Offline
//! and edits queue up; once it runs again the app notices by itself, says Synced, and every
//! edit is in Postgres exactly once (read with psql, not through the app).

use anyhow::Result;
use bookwish_stack::{Stack, StackOptions};

use crate::support::{self, server_books, SignedIn};

#[tokio::test]
async fn edits_made_while_the_server_is_down_reach_postgres_once_it_is_back() -> Result<()> {
    let stack = Stack::start(StackOptions::default()).await?;
    let SignedIn {
        app,
        driver: _driver,
        data: _data,
    } = support::signed_in_app(&stack).await?;

    stack.stop_postgrest().await?;
    app.add_book("Offline Notes", "Ada Lovelace").await?;
    app.wait_for("[data-testid=sync-status][data-phase=offline]")
        .await?;
    app.set_status("Dune", "Finished").await?;
    app.add_book("Written On A Plane", "Someone Aloft").await?;
    app.wait_until("three changes wait for the server", || async {
        Ok(app
            .text("[data-testid=sync-pending]")
            .await
            .unwrap_or_default()
            .contains('3'))
    })
    .await?;
    app.screenshot("offline-with-pending-edits").await?;
    assert!(
        !server_books(&stack)
            .await
            .unwrap_or_default()
            .iter()
            .any(|line| line.starts_with("Offline Notes")),
        "nothing reaches the server while PostgREST is stopped"
    );

    // Back online: no click, no focus change — the app's offline probe finds the server.
    stack.start_postgrest().await?;
    app.wait_for("[data-testid=sync-status][data-phase=synced]")
        .await?;
    let books = server_books(&stack).await?;
    assert_eq!(
        books,
        vec![
            "Dune|Finished",
            "Offline Notes|Wishlist",
            "The Hobbit|Finished",
            "Written On A Plane|Wishlist",
        ],
        "every offline edit is on the server exactly once"
    );
    assert!(
        app.all("[data-testid=sync-pending]").await?.is_empty(),
        "nothing is left waiting once synced"
    );
    app.screenshot("back-online-synced").await?;
    app.quit().await?;
    Ok(())
}
