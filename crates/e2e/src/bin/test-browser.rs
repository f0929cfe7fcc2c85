//! The "system browser" of the end-to-end tests. The app opens its sign-in page with
//! `$BROWSER <url>`; this program plays the user: it loads the authorize URL with a cookie
//! jar, logs in on the provider's form as `BOOKWISH_TEST_LOGIN` (`user:password`), follows
//! redirects until the provider sends the browser to `bookwish://auth/callback?…`, and then
//! hands that link to the OS the way a real browser would:
//!
//! - `BOOKWISH_TEST_DELIVER=app` (default): runs the app binary (`BOOKWISH_E2E_APP`) with the
//!   link as its only argument — what Linux does for a registered scheme; single-instance
//!   forwards it to the running app;
//! - `BOOKWISH_TEST_DELIVER=gio`: `gio open <link>`, through the desktop's scheme handler;
//! - `BOOKWISH_TEST_DELIVER=xdg-open`: `xdg-open <link>`, what most Linux browsers run (with
//!   `XDG_CURRENT_DESKTOP=GNOME` it hands the link to `gio open`).
//!
//! When `BOOKWISH_TEST_DELIVERED_AT` names a file, the moment the link is handed over (Unix
//! time in milliseconds) is written there, so a test can time delivery → signed in.
//!
//! When `BOOKWISH_TEST_BROWSER_ENV` names a file, the names of the variables in its own
//! environment (never their values) are written there, one per line, so a test can see what
//! the app passed on to the user's browser; and its process group, in the same file with
//! `.group` appended.
//!
//! It never prints the link (it carries the authorization code).

use anyhow::{ensure, Context as _, Result};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    if let Some(file) = std::env::var_os("BOOKWISH_TEST_BROWSER_ENV") {
        let names: Vec<String> = std::env::vars_os()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        std::fs::write(&file, names.join("\n"))?;
        let mut group = file;
        group.push(".group");
        std::fs::write(
            group,
            bookwish_e2e::process_group(std::process::id())?.to_string(),
        )?;
    }
    let authorize = std::env::args()
        .nth(1)
        .context("usage: test-browser <authorize url>")?;
    let login =
        std::env::var("BOOKWISH_TEST_LOGIN").context("BOOKWISH_TEST_LOGIN=user:password")?;
    let (user, password) = login
        .split_once(':')
        .context("BOOKWISH_TEST_LOGIN must be user:password")?;
    let link = bookwish_stack::browser_sign_in(&authorize, user, password)
        .await?
        .to_string();
    let deliver = std::env::var("BOOKWISH_TEST_DELIVER").unwrap_or_else(|_| "app".to_owned());
    if let Some(file) = std::env::var_os("BOOKWISH_TEST_DELIVERED_AT") {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        std::fs::write(file, now.as_millis().to_string())?;
    }
    let status = match deliver.as_str() {
        "gio" => std::process::Command::new("gio")
            .arg("open")
            .arg(&link)
            .status()?,
        "xdg-open" => std::process::Command::new("xdg-open").arg(&link).status()?,
        _ => {
            let app = std::env::var_os("BOOKWISH_E2E_APP").context("BOOKWISH_E2E_APP")?;
            std::process::Command::new(app).arg(&link).status()?
        }
    };
    ensure!(
        status.success(),
        "delivering the deep link ({deliver}) failed: {status}"
    );
    eprintln!("test-browser: signed in as {user} and delivered the deep link via {deliver}");
    Ok(())
}
