//! The local-only journey a newcomer takes: add, change status, search, delete and undo, a
//! rejected entry, quit and relaunch.

use anyhow::{Context as _, Result};
use bookwish_e2e::{Driver, Row};
use fantoccini::key::Key;

fn titles(rows: &[Row]) -> Vec<&str> {
    rows.iter().map(|row| row.title.as_str()).collect()
}

#[tokio::test]
async fn a_reading_list_survives_edits_mistakes_and_a_relaunch() -> Result<()> {
    let data = tempfile::tempdir()?;
    let driver = Driver::start(data.path(), &[]).await?;
    let (app, launch) = driver.launch().await?;
    eprintln!("launch to interactive (empty list): {launch:?}");

    let account = app.text("[data-testid=account-status]").await?;
    assert!(
        account.contains("Local only"),
        "with no account configured the header must say the app is local-only, got {account:?}"
    );
    app.wait_for("[data-testid=empty-state]").await?;

    // Add two books: the first through the `n` shortcut, the second through the button.
    app.press('n').await?;
    app.wait_for("[data-testid=add-form]").await?;
    app.fill("[data-testid=add-title]", "The Hobbit").await?;
    app.fill("[data-testid=add-author]", "J. R. R. Tolkien")
        .await?;
    app.click("[data-testid=add-submit]").await?;
    app.wait_for_rows(1).await?;

    app.click("[data-testid=new-book]").await?;
    app.fill("[data-testid=add-title]", "Dune").await?;
    app.fill("[data-testid=add-author]", "Frank Herbert")
        .await?;
    app.click("[data-testid=add-submit]").await?;
    let rows = app.wait_for_rows(2).await?;
    assert!(
        rows.iter().all(|row| row.status == "Wishlist"),
        "new books start on the wishlist: {rows:?}"
    );
    assert_eq!(
        app.text("[data-testid=count-all]").await?,
        "2",
        "All counts both books"
    );

    // One click moves Dune to Reading.
    app.set_status("Dune", "Reading").await?;
    assert_eq!(
        app.text("[data-testid=count-Reading]").await?,
        "1",
        "the Reading count follows a status change"
    );

    // The editor opens on the whole book: the notes, which the list does not carry, are
    // there when it opens again; Esc closes it and leaves the row as it was.
    app.open_editor("Dune").await?;
    app.fill("[data-testid=edit-notes]", "Spice must flow")
        .await?;
    app.click("[data-testid=edit-save]").await?;
    app.wait_editor_closed().await?;
    app.open_editor("Dune").await?;
    let notes = app.wait_for("[data-testid=edit-notes]").await?;
    assert_eq!(
        notes.prop("value").await?.as_deref(),
        Some("Spice must flow"),
        "a reopened editor shows the saved notes (read from the core, not the list)"
    );
    assert_eq!(
        app.wait_for("[data-testid=edit-status]")
            .await?
            .prop("value")
            .await?
            .as_deref(),
        Some("Reading"),
        "the editor shows the book's current status"
    );
    app.press(Key::Escape.into()).await?;
    app.wait_editor_closed().await?;
    let refused = app
        .invoke(
            "get_book",
            serde_json::json!({"id": "01890000-0000-7000-8000-000000000000"}),
        )
        .await?
        .expect_err("an unknown book must be refused");
    assert_eq!(
        refused["code"], "not_found",
        "get_book of an unknown id → not_found: {refused}"
    );

    // Search narrows the list to the matching title; clearing it brings both back.
    app.press('/').await?;
    app.fill("[data-testid=search]", "HOBB").await?;
    app.wait_for_titles(&["The Hobbit"])
        .await
        .context("search must match the title case-insensitively")?;
    app.fill("[data-testid=search]", "herbert").await?;
    app.wait_for_titles(&["Dune"])
        .await
        .context("search must match the author too")?;
    app.fill("[data-testid=search]", "").await?;
    app.wait_for_rows(2).await?;

    // Delete, then undo.
    let hobbit = app.row("The Hobbit").await?;
    hobbit
        .find(fantoccini::Locator::Css("[data-testid=delete]"))
        .await?
        .click()
        .await?;
    app.wait_for_titles(&["Dune"])
        .await
        .context("a deleted book must leave the list")?;
    app.click("[data-testid=toast] [data-testid=undo]").await?;
    let back = app.wait_for_rows(2).await?;
    assert!(
        titles(&back).contains(&"The Hobbit"),
        "undo must bring the deleted book back: {back:?}"
    );

    // A blank title is refused with a message, and nothing is added.
    app.click("[data-testid=new-book]").await?;
    app.fill("[data-testid=add-title]", "   ").await?;
    app.click("[data-testid=add-submit]").await?;
    let error = app.wait_for_text("[data-testid=form-error]").await?;
    assert!(
        error.to_lowercase().contains("title"),
        "the error must tell the user what is wrong with the title, got {error:?}"
    );
    assert_eq!(
        app.rows().await?.len(),
        2,
        "a refused book must not be added"
    );
    app.press(Key::Escape.into()).await?;

    // Malformed IPC calls get {code, message}, and the app keeps serving.
    let refused = app
        .invoke(
            "set_status",
            serde_json::json!({"id": "not-a-uuid", "status": "Reading"}),
        )
        .await?
        .expect_err("a malformed id must be refused");
    assert_eq!(
        refused["code"], "invalid_argument",
        "malformed id → invalid_argument: {refused}"
    );
    let refused = app
        .invoke(
            "set_status",
            serde_json::json!({"id": back[0].id, "status": "Abandoned"}),
        )
        .await?
        .expect_err("an unknown status must be refused");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("Wishlist, Reading or Finished")),
        "the unknown-status message names the valid ones: {refused}"
    );
    let refused = app
        .invoke(
            "update_book",
            serde_json::json!({"id": "01890000-0000-7000-8000-000000000000", "draft": {"title": "x"}}),
        )
        .await?
        .expect_err("an unknown id must be refused");
    assert_eq!(
        refused["code"], "not_found",
        "unknown id → not_found: {refused}"
    );

    let before = app.wait_for_rows(2).await?;
    let shot = app.screenshot("local-first").await?;
    eprintln!("screenshot: {}", shot.display());
    app.quit().await?;

    // Relaunch on the same data: the list is exactly as left.
    let (app, relaunch) = driver.launch().await?;
    eprintln!("relaunch to interactive (2 books): {relaunch:?}");
    let after = app.wait_for_rows(2).await?;
    assert_eq!(
        after, before,
        "after a relaunch the list must be exactly as it was left"
    );
    app.screenshot("local-first-relaunched").await?;
    app.quit().await?;
    Ok(())
}

/// Tauri's IPC goes through its `ipc://` custom protocol; when one of those requests fails (a
/// webview that blocks it, a request lost under load) the page falls back to `postMessage` for
/// good, and answers sent as bytes then arrive as a plain array of numbers. The window must
/// read them just the same.
#[tokio::test]
async fn the_window_keeps_working_after_the_ipc_falls_back_to_post_message() -> Result<()> {
    let data = tempfile::tempdir()?;
    let driver = Driver::start(data.path(), &[]).await?;
    let (app, _) = driver.launch().await?;
    app.wait_for("[data-testid=empty-state]").await?;
    // The next IPC request over the custom protocol fails, as it does when WebKit drops it.
    app.client
        .execute(
            "const fetch = window.fetch;
             window.fetch = (url, options) => String(url).startsWith('ipc:')
               ? Promise.reject(new TypeError('ipc blocked by the test'))
               : fetch(url, options);",
            vec![],
        )
        .await?;

    app.add_book("The Left Hand of Darkness", "Ursula K. Le Guin")
        .await
        .context("after the fallback, a new book still reaches the list")?;
    app.add_book("Kindred", "Octavia E. Butler")
        .await
        .context("and so does the next")?;
    app.set_status("Kindred", "Reading").await?;
    assert_eq!(
        app.text("[data-testid=count-Reading]").await?,
        "1",
        "the counts read through the fallback follow the change"
    );
    let notices = app.all("[data-testid=toast][data-kind=error]").await?.len();
    assert_eq!(notices, 0, "no answer was unreadable");
    app.quit().await?;
    Ok(())
}
