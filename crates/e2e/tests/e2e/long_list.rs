//! A list longer than a screenful: the window shows the first screenful at once and the rest
//! after it, for the launch and for every new filter, search and order, and nothing is left
//! out.

use std::path::Path;

use anyhow::{Context as _, Result};
use bookwish_core::Store;
use bookwish_e2e::{App, Driver};
use bookwish_ipc::{BookDraft, Status};

/// Well over a screenful (the window asks for 80 books first).
const BOOKS: usize = 1_000;

fn title(i: usize) -> String {
    format!("Book {i:04} of the long shelf")
}

fn seed(data_dir: &Path) -> Result<()> {
    let mut store = Store::open(&data_dir.join("local.sqlite3"))?;
    for i in 0..BOOKS {
        store.add(&BookDraft {
            title: title(i),
            author: format!("Author {}", i % 7),
            status: Status::ALL[i % 3],
            ..BookDraft::default()
        })?;
    }
    store.checkpoint()?;
    Ok(())
}

/// Waits until every matching book is in the list (not only its first screenful).
async fn wait_complete(app: &App) -> Result<()> {
    app.wait_until("the whole list is loaded", || async {
        let complete = app
            .client
            .execute(
                "return document.querySelector('[data-testid=book-list]')\
                 ?.getAttribute('data-complete') === 'true'",
                vec![],
            )
            .await?;
        Ok(complete.as_bool().unwrap_or(false))
    })
    .await
}

/// Scrolls the list to its end.
async fn scroll_to_end(app: &App) -> Result<()> {
    app.client
        .execute(
            "const list = document.querySelector('[data-testid=book-list]'); \
             list.scrollTop = list.scrollHeight;",
            vec![],
        )
        .await?;
    Ok(())
}

async fn top_title(app: &App) -> Result<String> {
    let rows = app.rows().await?;
    Ok(rows.first().context("the list shows no row")?.title.clone())
}

#[tokio::test]
async fn a_long_list_shows_its_first_screenful_and_then_every_book() -> Result<()> {
    let data = tempfile::tempdir()?;
    seed(data.path())?;
    let driver = Driver::start(data.path(), &[]).await?;
    let (app, launch) = driver.launch().await?;
    eprintln!("launch to interactive ({BOOKS} books): {launch:?}");

    assert_eq!(
        app.text("[data-testid=view-count]").await?,
        "1,000 books",
        "the count says how many books there are from the first screenful on"
    );
    wait_complete(&app).await?;
    assert_eq!(
        top_title(&app).await?,
        title(BOOKS - 1),
        "the newest book is on top"
    );
    scroll_to_end(&app).await?;
    app.wait_for_listed(&[&title(0)]).await?;

    // A filter is a new query: its first screenful, then the rest, all of one status.
    app.click("[data-testid=filter-Finished]").await?;
    app.wait_until("the view says the Finished count", || async {
        Ok(app.text("[data-testid=view-count]").await? == "333 books")
    })
    .await?;
    wait_complete(&app).await?;
    app.wait_for_listed(&[&title(998)]).await?;
    scroll_to_end(&app).await?;
    app.wait_for_listed(&[&title(2)]).await?;
    let rows = app.rows().await?;
    assert!(
        rows.iter().all(|row| row.status == "Finished"),
        "the filtered list holds only finished books: {rows:?}"
    );

    // Another order: the first screenful comes sorted by title, the end is the last title.
    app.client
        .execute(
            "const sort = document.querySelector('[data-testid=sort]'); \
             sort.value = 'title'; \
             sort.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![],
        )
        .await?;
    app.wait_for_listed(&[&title(2)]).await?;
    wait_complete(&app).await?;
    assert_eq!(
        top_title(&app).await?,
        title(2),
        "sorted by title, the first finished book by title is on top"
    );
    scroll_to_end(&app).await?;
    app.wait_for_listed(&[&title(998)]).await?;

    // A search with fewer matches than a screenful comes whole at once.
    app.press('/').await?;
    app.fill("[data-testid=search]", "Book 05").await?;
    app.wait_until("the search's count is shown", || async {
        Ok(app.text("[data-testid=view-count]").await? == "34 of 333 books")
    })
    .await?;
    wait_complete(&app).await?;
    assert_eq!(
        top_title(&app).await?,
        title(500),
        "the search keeps the order by title"
    );
    scroll_to_end(&app).await?;
    app.wait_for_listed(&[&title(599)]).await?;
    app.quit().await?;
    Ok(())
}
