//! Books saved by a newer Bookwish: the window says so, and the file is left alone.

use anyhow::{Context as _, Result};
use bookwish_core::Store;
use bookwish_e2e::Driver;
use bookwish_ipc::BookDraft;

/// Where SQLite keeps `PRAGMA user_version` in a database file's header.
const USER_VERSION_OFFSET: usize = 60;

#[tokio::test]
async fn books_saved_by_a_newer_bookwish_are_explained_not_a_crash() -> Result<()> {
    let data = tempfile::tempdir()?;
    let file = data.path().join("local.sqlite3");
    {
        let mut store = Store::open(&file)?;
        store.add(&BookDraft {
            title: "Written by the future".into(),
            ..BookDraft::default()
        })?;
    }
    // What a newer app leaves: a schema version this one has never heard of.
    let mut bytes = std::fs::read(&file)?;
    bytes[USER_VERSION_OFFSET..USER_VERSION_OFFSET + 4].copy_from_slice(&99u32.to_be_bytes());
    std::fs::write(&file, &bytes)?;

    let driver = Driver::start(data.path(), &[]).await?;
    let (app, _) = driver
        .launch()
        .await
        .context("the app must start even when it cannot open the books")?;
    let message = app
        .text("[data-testid=open-problem-message]")
        .await
        .context("the window must explain why the books are not shown")?;
    assert!(
        message.contains("newer version of Bookwish") && message.contains("nothing was changed"),
        "the window says a newer Bookwish saved the books and that nothing was changed: {message}"
    );
    app.screenshot("newer-database").await?;
    app.quit().await?;
    assert_eq!(
        std::fs::read(&file)?,
        bytes,
        "the newer app's file is left exactly as it was"
    );
    Ok(())
}
