//! A list longer than a screenful: the window shows the first screenful at once and the rest
//! after it, for the launch and for every new filter, search and order, and nothing is left
//! out.

use std::path::Path;

use anyhow::{Context as _, Result};
use bookwish_core::Store;
use bookwish_e2e::{App, Driver, Row};
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
            // Rated and unrated books in turn, so rows change between the two as they scroll.
            rating: u8::try_from(i % 6).ok().filter(|stars| *stars > 0),
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

/// Scrolls the list by `steps` half viewports, letting each step render (two frames), and
/// answers how many elements were made in the list meanwhile (rows, or anything inside one):
/// elements in the list before are marked, and so is every element added after, so an element
/// moved within the list counts once and only an element new to the page counts at all.
async fn elements_made_while_scrolling(app: &App, steps: u32) -> Result<u64> {
    let made = app
        .client
        .execute_async(
            "const [steps, done] = arguments;
             const list = document.querySelector('[data-testid=book-list]');
             list.querySelectorAll('*').forEach((element) => { element.bookwishSeen = true; });
             let made = 0;
             const count = (element) => {
                 if (!element.bookwishSeen) {
                     element.bookwishSeen = true;
                     made += 1;
                 }
             };
             const watch = new MutationObserver((records) => {
                 for (const record of records) {
                     for (const node of record.addedNodes) {
                         if (node.nodeType === Node.ELEMENT_NODE) {
                             count(node);
                             node.querySelectorAll('*').forEach(count);
                         }
                     }
                 }
             });
             watch.observe(list, { childList: true, subtree: true });
             let step = 0;
             const next = () => {
                 if (step === steps) {
                     watch.takeRecords();
                     watch.disconnect();
                     done(made);
                     return;
                 }
                 list.scrollTop += Math.floor(list.clientHeight / 2);
                 step += 1;
                 requestAnimationFrame(() => requestAnimationFrame(next));
             };
             next();",
            vec![steps.into()],
        )
        .await?;
    made.as_u64().context("the count of elements made")
}

/// What a rendered row shows: its place in the list, its title, and its stars, lit and drawn
/// in all (counted from what the page paints, whatever elements draw them).
type Shown = (usize, String, usize, usize);

/// The title and stars each rendered row shows against those its place in the list should
/// show (newest first, so the row at place `n` is book `BOOKS - 1 - n`, rated as [`seed`]
/// rates it: lit stars out of five drawn, or none drawn for an unrated book); only the
/// mismatches.
async fn misplaced_rows(app: &App) -> Result<Vec<Shown>> {
    let rows = app
        .client
        .execute(
            "const list = document.querySelector('[data-testid=book-list]');
             const top = list.getBoundingClientRect().top - list.scrollTop;
             const painted = (element, part) => {
                 const content = part === null
                     ? (getComputedStyle(element).display === 'none' ? '' : element.textContent)
                     : getComputedStyle(element, part).content;
                 return (content.match(/★/g) ?? []).length;
             };
             const stars = (row) => {
                 let lit = 0;
                 let drawn = 0;
                 for (const element of row.querySelectorAll('.row-rating, .row-rating *')) {
                     const on = element.matches('.on') || element.closest('.on') !== null;
                     const own = element.children.length === 0 ? painted(element, null) : 0;
                     const after = painted(element, '::after');
                     const before = painted(element, '::before');
                     lit += after + (on ? own : 0);
                     drawn += before + own;
                 }
                 return [lit, drawn];
             };
             return [...list.querySelectorAll('div[data-testid=book-row]')].map((row) => [
                 Math.round((row.getBoundingClientRect().top - top) / 64),
                 row.querySelector('[data-testid=book-title]')?.textContent ?? '',
                 ...stars(row),
             ]);",
            vec![],
        )
        .await?;
    let rows: Vec<Shown> = serde_json::from_value(rows)?;
    Ok(rows
        .into_iter()
        .filter(|shown| {
            let expected = BOOKS.checked_sub(shown.0 + 1).map(|book| {
                let rating = book % 6;
                (shown.0, title(book), rating, if rating > 0 { 5 } else { 0 })
            });
            expected.as_ref() != Some(shown)
        })
        .collect())
}

/// Where the keyboard focus is: the book row holding it (its id), and the focused element's
/// test id.
async fn focus(app: &App) -> Result<(Option<String>, Option<String>)> {
    let testid = app
        .client
        .execute(
            "return document.activeElement?.dataset.testid ?? null",
            vec![],
        )
        .await?;
    Ok((focused_row(app).await?, testid.as_str().map(str::to_owned)))
}

/// The id of the row holding the keyboard focus, if a row holds it.
async fn focused_row(app: &App) -> Result<Option<String>> {
    let id = app
        .client
        .execute(
            "return document.activeElement?.closest('[data-testid=book-row]')?.dataset.id ?? null",
            vec![],
        )
        .await?;
    Ok(id.as_str().map(str::to_owned))
}

/// Opens the editor of the book in the middle of the rows shown, types `draft` as its title
/// without saving, and scrolls the list six screens on (the focus stays); returns that book.
async fn edit_the_middle_row_and_scroll_away(app: &App, draft: &str) -> Result<Row> {
    let rows = app.rows().await?;
    let edited = rows
        .get(rows.len() / 2)
        .context("the list shows rows")?
        .clone();
    app.open_editor(&edited.title).await?;
    app.fill("[data-testid=edit-title]", draft).await?;
    elements_made_while_scrolling(app, 12).await?;
    Ok(edited)
}

#[tokio::test]
async fn scrolling_reuses_row_elements_and_keeps_the_editor_and_the_focus_with_their_book(
) -> Result<()> {
    let data = tempfile::tempdir()?;
    seed(data.path())?;
    let driver = Driver::start(data.path(), &[]).await?;
    let (app, _) = driver.launch().await?;
    wait_complete(&app).await?;

    // Away from the top first: there the window has no rows above the view, so it is shorter.
    app.client
        .execute(
            "document.querySelector('[data-testid=book-list]').scrollTop = 64 * 100;",
            vec![],
        )
        .await?;
    app.wait_for_listed(&[&title(BOOKS - 1 - 100)]).await?;
    let made = elements_made_while_scrolling(&app, 40).await?;
    assert_eq!(
        made, 0,
        "scrolling twenty screens draws the books scrolled in in the elements of the rows \
         scrolled out, a rated book's stars and an unrated book's empty rating alike: no \
         element is made (each one made is garbage for WebKit to hold until it collects)"
    );
    let misplaced = misplaced_rows(&app).await?;
    assert!(
        misplaced.is_empty(),
        "every rendered row shows the book of its place in the list: {misplaced:?}"
    );

    // The keyboard focus on a row's button never ends up on another book as the row scrolls
    // out of view.
    let rows = app.rows().await?;
    let focused = rows
        .get(rows.len() / 2)
        .context("the list shows rows")?
        .clone();
    app.client
        .execute(
            "document.querySelector(`[data-testid=book-row][data-id=\"${arguments[0]}\"] \
             [data-testid=status-Reading]`).focus();",
            vec![focused.id.clone().into()],
        )
        .await?;
    assert_eq!(
        focused_row(&app).await?.as_deref(),
        Some(focused.id.as_str()),
        "the focus is on the row's status button"
    );
    elements_made_while_scrolling(&app, 8).await?;
    let now = focused_row(&app).await?;
    assert!(
        now.is_none() || now.as_deref() == Some(focused.id.as_str()),
        "the focus left with its book, not onto {now:?}, another book's row"
    );

    // An open editor keeps what the user typed while its row is scrolled away and back.
    let edited = edit_the_middle_row_and_scroll_away(&app, "A draft not yet saved").await?;
    app.client
        .execute(
            "const list = document.querySelector('[data-testid=book-list]'); \
             list.scrollTop -= 6 * list.clientHeight;",
            vec![],
        )
        .await?;
    let draft = app.wait_for("[data-testid=edit-title]").await?;
    assert_eq!(
        draft.prop("value").await?.as_deref(),
        Some("A draft not yet saved"),
        "the editor's draft survives its row being scrolled out of view and back"
    );
    let editing = app
        .wait_for("[data-testid=book-row][data-editing=true]")
        .await?
        .attr("data-id")
        .await?;
    assert_eq!(
        editing.as_deref(),
        Some(edited.id.as_str()),
        "the editor is still the edited book's"
    );
    app.press(fantoccini::key::Key::Escape.into()).await?;
    app.wait_editor_closed().await?;
    assert_eq!(
        focus(&app).await?,
        (Some(edited.id.clone()), Some("edit".to_owned())),
        "closing the editor puts the focus back on its row's Edit button"
    );
    let misplaced = misplaced_rows(&app).await?;
    assert!(
        misplaced.is_empty(),
        "every row shows the book of its place once the editor is closed: {misplaced:?}"
    );

    // Esc in an editor scrolled out of view (the wheel moves the list, not the focus): the
    // focus still lands on that book's Edit button, and the list shows it.
    let edited = edit_the_middle_row_and_scroll_away(&app, "Dropped with Esc").await?;
    app.press(fantoccini::key::Key::Escape.into()).await?;
    app.wait_editor_closed().await?;
    assert_eq!(
        focus(&app).await?,
        (Some(edited.id.clone()), Some("edit".to_owned())),
        "closing an editor scrolled out of view puts the focus on its row's Edit button, \
         not on the page"
    );
    let in_view = app
        .client
        .execute(
            "const list = document.querySelector('[data-testid=book-list]').getBoundingClientRect();
             const row = document.activeElement.closest('[data-testid=book-row]')
                 .getBoundingClientRect();
             return row.top >= list.top - 1 && row.bottom <= list.bottom + 1;",
            vec![],
        )
        .await?;
    assert_eq!(
        in_view.as_bool(),
        Some(true),
        "the list scrolls to the row that took the focus"
    );
    let misplaced = misplaced_rows(&app).await?;
    assert!(
        misplaced.is_empty(),
        "every row shows the book of its place once the list scrolled back to the focus: \
         {misplaced:?}"
    );
    app.quit().await?;
    Ok(())
}
