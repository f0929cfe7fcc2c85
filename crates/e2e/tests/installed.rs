//! The packaged app the way a user gets it: `apt-get install ./Bookwish_….deb`, start the
//! installed `/usr/bin/bookwish`, sign in through the browser with the deep link delivered by
//! the desktop (`xdg-open` → `gio open` → the `.deb`'s `Bookwish.desktop` scheme handler, never
//! by running the binary ourselves), add a book, uninstall, reinstall, and find the book and
//! the session still there — read from the local disk while the server is unreachable.
//!
//! Needs root (or password-less sudo) for apt-get, `BOOKWISH_E2E_DEB` (the .deb) and
//! `BOOKWISH_E2E_APP=/usr/bin/bookwish`; `./x test` runs it after the other end-to-end tests,
//! under Xvfb and `dbus-run-session` with a scratch `HOME`. It removes the package at the end.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context as _, Result};
use bookwish_e2e::{output_dir, Driver};
use bookwish_stack::{Stack, StackOptions, ALICE};

const PACKAGE: &str = "bookwish";
const INSTALLED_BINARY: &str = "/usr/bin/bookwish";
const DESKTOP_ENTRY: &str = "/usr/share/applications/Bookwish.desktop";

/// Runs apt-get as root (directly, or through `sudo -n`), failing with its output.
fn apt_get(args: &[&str]) -> Result<Duration> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|out| out.stdout.trim_ascii() == b"0")
        .unwrap_or(false);
    let mut command = if root {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "apt-get"]);
        sudo
    };
    command
        .args(["-y", "-q"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive");
    let started = Instant::now();
    let output = command
        .output()
        .context("cannot run apt-get (this test needs root or password-less sudo)")?;
    let took = started.elapsed();
    ensure!(
        output.status.success(),
        "apt-get {args:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(took)
}

/// Removes the package when the test ends, passed or not, so the machine is left as found.
struct Uninstall;

impl Drop for Uninstall {
    fn drop(&mut self) {
        if Path::new(INSTALLED_BINARY).exists() {
            if let Err(error) = apt_get(&["remove", PACKAGE]) {
                eprintln!("cleanup: {error:#}");
            }
        }
    }
}

/// Where the installed app keeps its data: the OS per-user data directory.
fn os_data_dir() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".local/share")
        }
    };
    Ok(base.join("app.bookwish.desktop"))
}

fn unix_millis() -> Result<u128> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())
}

async fn wait_for_server_title(stack: &Stack, title: &str) -> Result<()> {
    let deadline = Instant::now() + bookwish_e2e::DEADLINE;
    let sql = format!(
        "select count(*) from public.books where title = '{}' and not deleted",
        title.replace('\'', "''")
    );
    loop {
        let count = stack.psql(&sql).await?;
        if count == "1" {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{title:?} never reached Postgres (count {count})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_installed_deb_receives_the_sign_in_link_and_keeps_books_across_reinstall() -> Result<()>
{
    let deb = std::env::var_os("BOOKWISH_E2E_DEB")
        .context("BOOKWISH_E2E_DEB must name the .deb to install (./x test sets it)")?;
    let deb = std::fs::canonicalize(deb).context("BOOKWISH_E2E_DEB")?;
    let app_env = std::env::var("BOOKWISH_E2E_APP").unwrap_or_default();
    ensure!(
        app_env == INSTALLED_BINARY,
        "BOOKWISH_E2E_APP must be the installed {INSTALLED_BINARY}, not {app_env:?}"
    );
    ensure!(
        !Path::new(INSTALLED_BINARY).exists(),
        "{INSTALLED_BINARY} already exists: this test installs and removes the package itself"
    );
    // WebKit keeps its caches in this folder even for apps told to keep their books elsewhere
    // (the other e2e tests), so the folder may exist; Bookwish's own files must not.
    let data_dir = os_data_dir()?;
    let books = data_dir.join("accounts");
    ensure!(
        !books.exists() && !data_dir.join("local.sqlite3").exists(),
        "{} already holds Bookwish databases: run this test with a scratch HOME (./x test does)",
        data_dir.display()
    );

    let deb_arg = deb.to_str().context("utf-8 path")?;
    let _uninstall = Uninstall;
    let install_time = apt_get(&["install", deb_arg])?;
    ensure!(
        Path::new(INSTALLED_BINARY).is_file(),
        "installing the .deb must put the app at {INSTALLED_BINARY}"
    );
    let handler = Command::new("gio")
        .args(["mime", "x-scheme-handler/bookwish"])
        .output()?;
    let handler = String::from_utf8_lossy(&handler.stdout).into_owned();
    ensure!(
        handler.contains("Default application for “x-scheme-handler/bookwish”: Bookwish.desktop"),
        "after installing, the OS must name the package's {DESKTOP_ENTRY} as the bookwish:// \
         handler; gio says:\n{handler}"
    );

    let stack = Stack::start(StackOptions::default()).await?;
    let scratch = tempfile::tempdir()?;
    let config = scratch.path().join("bookwish.toml");
    std::fs::write(&config, stack.app_config_toml())?;
    let delivered_at = scratch.path().join("delivered-at");
    let login = format!("{}:{}", ALICE.username, ALICE.password);
    let driver = Driver::start_with_os_data_dir(&[
        ("BOOKWISH_CONFIG", config.to_str().context("utf-8 path")?),
        ("BROWSER", env!("CARGO_BIN_EXE_test-browser")),
        ("BOOKWISH_TEST_LOGIN", &login),
        ("BOOKWISH_TEST_DELIVER", "xdg-open"),
        ("XDG_CURRENT_DESKTOP", "GNOME"),
        (
            "BOOKWISH_TEST_DELIVERED_AT",
            delivered_at.to_str().context("utf-8 path")?,
        ),
    ])
    .await?;

    let (app, launch) = driver.launch().await?;
    eprintln!("installed app: launch → interactive {launch:?}");
    app.click("[data-testid=sign-in]").await?;
    let email = app
        .wait_for_text("[data-testid=account-email]")
        .await
        .context("the link opened by xdg-open/gio must reach the installed app and sign in")?;
    let signed_in_at = unix_millis()?;
    assert_eq!(
        email, ALICE.email,
        "the header must show the account signed in through the OS-delivered link"
    );
    let delivered: u128 = std::fs::read_to_string(&delivered_at)
        .context("the test browser records when it handed the link to xdg-open")?
        .trim()
        .parse()?;
    let link_to_signed_in = signed_in_at.saturating_sub(delivered);
    eprintln!("xdg-open (gio) bookwish://… → signed in: {link_to_signed_in} ms");

    app.wait_for("[data-testid=sync-status][data-phase=synced]")
        .await?;
    app.add_book("Installed Reading", "Deb Packager").await?;
    wait_for_server_title(&stack, "Installed Reading").await?;
    app.quit().await?;
    bookwish_e2e::wait_for_exit(Path::new(INSTALLED_BINARY)).await?;

    let remove_time = apt_get(&["remove", PACKAGE])?;
    ensure!(
        !Path::new(INSTALLED_BINARY).exists() && !Path::new(DESKTOP_ENTRY).exists(),
        "removing the package must remove its binary and desktop entry"
    );
    // The core owns the naming of database files; ask it rather than spell the rule here.
    let databases = bookwish_core::accounts::Databases::new(&data_dir);
    let account_db = databases.account(ALICE.sub);
    ensure!(
        account_db.is_file() && databases.local().is_file(),
        "uninstalling must leave the user's databases at {}",
        data_dir.display()
    );
    let reinstall_time = apt_get(&["install", deb_arg])?;

    // With PostgREST down the books can only come from the local database that survived.
    stack.stop_postgrest().await?;
    let (app, _) = driver.launch().await?;
    let email = app.wait_for_text("[data-testid=account-email]").await?;
    assert_eq!(
        email, ALICE.email,
        "after uninstall and reinstall the session must be restored from the keychain"
    );
    app.wait_until(
        "the book added before the reinstall is listed while offline",
        || async {
            Ok(app
                .rows()
                .await
                .unwrap_or_default()
                .iter()
                .any(|row| row.title == "Installed Reading"))
        },
    )
    .await?;
    app.wait_for("[data-testid=sync-status][data-phase=offline]")
        .await
        .context("with PostgREST stopped the status must say Offline")?;
    app.screenshot("installed-reinstalled-offline").await?;
    app.quit().await?;
    stack.start_postgrest().await?;

    let deb_size = std::fs::metadata(&deb)?.len();
    let report = format!(
        "| figure | measured |\n|---|---|\n\
         | .deb size | {:.1} MB |\n\
         | apt-get install ./….deb | {} ms |\n\
         | apt-get remove | {} ms |\n\
         | reinstall | {} ms |\n\
         | installed app launch → interactive | {} ms |\n\
         | xdg-open/gio bookwish://… → signed in | {} ms |\n",
        deb_size as f64 / 1e6,
        install_time.as_millis(),
        remove_time.as_millis(),
        reinstall_time.as_millis(),
        launch.as_millis(),
        link_to_signed_in,
    );
    eprintln!("{report}");
    std::fs::write(output_dir()?.join("installed.md"), report)?;
    Ok(())
}
