//! Bringing a Goodreads library in and taking the list out again, in the built app, through the
//! real GTK file dialogs (driven with xdotool under Xvfb: Ctrl+L, the path, Enter): the preview
//! says what will happen before anything is written, the import adds the books, one Undo takes
//! all of it back, the exports hold the list. Signed in, the imported books reach Postgres.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Context as _, Result};
use bookwish_core::import::{preview_bytes, ImportPreview};
use bookwish_e2e::{App, Driver, FileDialog};
use bookwish_stack::{Stack, StackOptions, ALICE};

use crate::support::{self, SignedIn};

/// The committed Goodreads fixture (a realistic export, nobody's real data).
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/src/import/fixtures/goodreads_library_export.csv")
}

/// The fixture, copied to `dir` under a short name, and what it holds.
fn goodreads_file(dir: &Path) -> Result<(PathBuf, ImportPreview)> {
    let bytes = std::fs::read(fixture())?;
    let preview = preview_bytes(&bytes).context("the fixture is a readable export")?;
    let path = dir.join("goodreads_library_export.csv");
    std::fs::write(&path, bytes)?;
    Ok((path, preview))
}

async fn count_all(app: &App) -> Result<usize> {
    Ok(app
        .text("[data-testid=count-all]")
        .await?
        .replace(',', "")
        .parse()?)
}

async fn wait_for_count(app: &App, expected: usize) -> Result<()> {
    app.wait_until(&format!("the list counts {expected} books"), || async {
        Ok(count_all(app).await.ok() == Some(expected))
    })
    .await
}

/// Clicks "Import…" and opens `path` in the GTK dialog; waits for the preview.
async fn pick(app: &App, path: &Path) -> Result<()> {
    app.click("[data-testid=import-books]").await?;
    FileDialog::wait("Import books").await?.open(path).await?;
    app.wait_for("[data-testid=import-panel]").await?;
    Ok(())
}

async fn data_count(app: &App, css: &str) -> Result<usize> {
    let element = app.wait_for(css).await?;
    Ok(element
        .attr("data-count")
        .await?
        .context("a count")?
        .parse()?)
}

#[tokio::test]
async fn a_goodreads_export_is_previewed_imported_undone_imported_again_and_exported() -> Result<()>
{
    let files = tempfile::tempdir()?;
    let (export, preview) = goodreads_file(files.path())?;
    let rows = preview.rows.len();
    let data = tempfile::tempdir()?;
    let driver = Driver::start(data.path(), &[]).await?;
    let (app, _) = driver.launch().await?;

    // Two books already in the list: one typed with its ISBN-10 (matched by ISBN), one typed
    // without accents (matched by folded title and author).
    app.click("[data-testid=new-book]").await?;
    app.fill("[data-testid=add-title]", "Salt Cartographer (my copy)")
        .await?;
    app.fill("[data-testid=add-author]", "I. Vael").await?;
    app.fill("[data-testid=add-isbn]", "0-9991-0037-8").await?;
    let hint = app.wait_for_text("[data-testid=isbn-saved-as]").await?;
    ensure!(
        hint.contains("9780999100370"),
        "the add form shows the ISBN-10 as the ISBN-13 it saves: {hint:?}"
    );
    app.click("[data-testid=add-submit]").await?;
    app.wait_for_listed(&["Salt Cartographer (my copy)"])
        .await?;
    app.add_book("Godel's Lighthouse", "Zoe Angstrom-Kowalczyk")
        .await?;

    // A mistyped ISBN is refused next to the field, and nothing is saved.
    app.click("[data-testid=new-book]").await?;
    app.fill("[data-testid=add-title]", "Mistyped").await?;
    app.fill("[data-testid=add-isbn]", "978-0-441-01359-4")
        .await?;
    app.click("[data-testid=add-submit]").await?;
    let error = app
        .wait_for_text("[data-testid=form-error][data-field=isbn]")
        .await?;
    ensure!(
        error.contains("check digit"),
        "the checksum error is shown next to the ISBN field: {error:?}"
    );
    app.press(fantoccini::key::Key::Escape.into()).await?;
    wait_for_count(&app, 2).await?;

    // The preview, before anything is written.
    pick(&app, &export).await?;
    let title = app.text("[data-testid=import-title]").await?;
    ensure!(
        title.contains("goodreads_library_export.csv"),
        "the panel names the file: {title:?}"
    );
    let format = app.text("[data-testid=import-format]").await?;
    ensure!(format.contains("Goodreads"), "and its format: {format:?}");
    assert_eq!(
        data_count(&app, "[data-testid=import-new]").await?,
        rows - 2,
        "every book of the file but the two already in the list will be added"
    );
    assert_eq!(
        data_count(&app, "[data-testid=import-matching]").await?,
        2,
        "one matches by ISBN, one by title and author ignoring accents"
    );
    let shot = app.screenshot("import-preview").await?;
    eprintln!("screenshot of the preview: {}", shot.display());
    assert_eq!(count_all(&app).await?, 2, "a preview writes nothing");

    // Import, skipping the matches.
    app.click("[data-testid=on-match-skip]").await?;
    app.click("[data-testid=import-confirm]").await?;
    let done = app.wait_for_text("[data-testid=import-done]").await?;
    ensure!(
        done.contains(&format!("Imported {} books", rows - 2)),
        "the toast says what was imported: {done:?}"
    );
    wait_for_count(&app, rows).await?;
    app.wait_for_listed(&["Salt Cartographer (my copy)", "Godel's Lighthouse"])
        .await
        .context("skipped matches keep their own values")?;

    // Typing an ISBN, with or without hyphens, finds its book.
    app.fill("[data-testid=search]", "978-0-999101-11-7")
        .await?;
    app.wait_for_titles(&["The Orchard Ledger"])
        .await
        .context("an imported book is found by its ISBN")?;
    app.fill("[data-testid=search]", "").await?;

    // One Undo takes the whole import back.
    app.click("[data-testid=undo-import]").await?;
    wait_for_count(&app, 2).await?;
    app.wait_for_titles(&["Godel's Lighthouse", "Salt Cartographer (my copy)"])
        .await?;

    // Again, this time updating the matches with the file's details.
    pick(&app, &export).await?;
    app.click("[data-testid=on-match-update]").await?;
    app.click("[data-testid=import-confirm]").await?;
    app.wait_for_text("[data-testid=import-done]").await?;
    wait_for_count(&app, rows).await?;
    app.wait_for_listed(&["The Salt Cartographer", "Gödel's Lighthouse"])
        .await
        .context("updated matches take the file's titles")?;

    // A file that is no reading list: a clear message, nothing written.
    let wrong = files.path().join("shopping.csv");
    std::fs::write(&wrong, "Item,Price\nBread,2.10\n")?;
    pick(&app, &wrong).await?;
    let message = app.wait_for_text("[data-testid=import-error]").await?;
    ensure!(
        message.contains("first line") && message.contains("Item, Price"),
        "the message says what is wrong with the file: {message:?}"
    );
    app.screenshot("import-refused").await?;
    app.click("[data-testid=import-close]").await?;
    assert_eq!(
        count_all(&app).await?,
        rows,
        "a refused file writes nothing"
    );

    // Export: a backup and a Goodreads CSV, through the GTK save dialog.
    let backup = files.path().join("my-backup.json");
    app.click("[data-testid=export-backup]").await?;
    FileDialog::wait("Save a backup of your books")
        .await?
        .save_as(&backup)
        .await?;
    app.wait_until("the backup is written", || async { Ok(backup.is_file()) })
        .await?;
    let saved = preview_bytes(&std::fs::read(&backup)?).context("the backup reads back")?;
    assert_eq!(saved.rows.len(), rows, "the backup holds every book");
    let goodreads = files.path().join("for-goodreads.csv");
    app.click("[data-testid=export-goodreads]").await?;
    FileDialog::wait("Export for Goodreads")
        .await?
        .save_as(&goodreads)
        .await?;
    app.wait_until("the Goodreads CSV is written", || async {
        Ok(goodreads.is_file())
    })
    .await?;
    let back = preview_bytes(&std::fs::read(&goodreads)?).context("the CSV reads back")?;
    for row in &preview.rows {
        let twin = back
            .rows
            .iter()
            .find(|b| b.title == row.title)
            .with_context(|| format!("{:?} is in the Goodreads CSV", row.title))?;
        assert_eq!(
            (
                &twin.author,
                twin.status,
                twin.rating,
                twin.isbn,
                &twin.finished_on
            ),
            (
                &row.author,
                row.status,
                row.rating,
                row.isbn,
                &row.finished_on
            ),
            "{:?} went out as it came in",
            row.title
        );
    }
    app.quit().await?;
    Ok(())
}

#[tokio::test]
async fn imported_books_reach_postgres_and_their_undo_too() -> Result<()> {
    let stack = Stack::start(StackOptions::default()).await?;
    let files = tempfile::tempdir()?;
    let (export, preview) = goodreads_file(files.path())?;
    let SignedIn {
        app,
        driver: _driver,
        data: _data,
    } = support::signed_in_app(&stack).await?;

    pick(&app, &export).await?;
    app.click("[data-testid=import-confirm]").await?;
    app.wait_for_text("[data-testid=import-done]").await?;
    let on_server = || async {
        let out = stack
            .psql(&format!(
                "select count(*) from public.books where user_id = '{}' and not deleted \
                 and isbn is not null",
                ALICE.sub
            ))
            .await?;
        Ok::<usize, anyhow::Error>(out.trim().parse()?)
    };
    let with_isbn = preview.rows.iter().filter(|row| row.isbn.is_some()).count();
    app.wait_until(
        "the imported books reach Postgres with their ISBNs",
        || async { Ok(on_server().await? == with_isbn) },
    )
    .await?;
    let books = support::server_books(&stack).await?;
    assert_eq!(
        books.len(),
        preview.rows.len() + 2,
        "every imported book is on the server once, next to alice's two"
    );

    app.click("[data-testid=undo-import]").await?;
    app.wait_until("the undo reaches Postgres", || async {
        Ok(support::server_books(&stack).await?.len() == 2)
    })
    .await?;
    app.wait_for("[data-testid=sync-status][data-phase=synced]")
        .await?;
    app.screenshot("import-undone-synced").await?;
    app.quit().await?;
    Ok(())
}
