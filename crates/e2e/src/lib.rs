//! Drives the built Bookwish app in its real WebKit window over WebDriver.
//!
//! [`Driver`] starts `tauri-driver` (which starts Debian's `WebKitWebDriver`, which starts the
//! app) on free loopback ports with the app's data directory pointed at a test folder, and stops
//! it on drop. [`App`] is one WebDriver session, i.e. one launch of the app; closing it quits the
//! app. The app binary comes from `BOOKWISH_E2E_APP` (`./x test` builds it and sets it).
//!
//! Tests must run one at a time in one D-Bus session: the app is single-instance, so a second
//! launch while one is running would hand over and exit.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::process::{Child, Command};

/// How long any one thing may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The built app under test.
pub fn app_binary() -> Result<PathBuf> {
    let path = std::env::var_os("BOOKWISH_E2E_APP").context(
        "BOOKWISH_E2E_APP is not set: build the app and point it at the binary (./x test does both)",
    )?;
    let path = PathBuf::from(path);
    if !path.is_file() {
        bail!("BOOKWISH_E2E_APP={} is not a file", path.display());
    }
    Ok(std::fs::canonicalize(path)?)
}

/// The folder test screenshots and reports go to (`test-output/` at the repository root).
pub fn output_dir() -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-output/e2e");
    std::fs::create_dir_all(&dir)?;
    Ok(std::fs::canonicalize(dir)?)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running `tauri-driver`, stopped on drop.
pub struct Driver {
    child: Child,
    port: u16,
    binary: PathBuf,
}

impl Driver {
    /// Starts tauri-driver; every app it launches keeps its data in `data_dir`.
    pub async fn start(data_dir: &Path, extra_env: &[(&str, &str)]) -> Result<Driver> {
        let binary = app_binary()?;
        let port = free_port()?;
        let native_port = free_port()?;
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .env("BOOKWISH_DATA_DIR", data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .context("cannot start tauri-driver (cargo install tauri-driver; ./x setup does)")?;
        let driver = Driver {
            child,
            port,
            binary,
        };
        wait_for_port(port).await?;
        Ok(driver)
    }

    /// Launches the app and waits until its list is interactive; returns the session and the
    /// time from the launch request to the interactive list.
    pub async fn launch(&self) -> Result<(App, Duration)> {
        wait_for_exit(&self.binary).await?;
        let started = Instant::now();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "wry".into());
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": self.binary }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .context("WebDriver could not start the app")?;
        let app = App { client };
        app.wait_for("[data-testid=app][data-ready=true]").await?;
        Ok((app, started.elapsed()))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn wait_for_port(port: u16) -> Result<()> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("tauri-driver did not listen on port {port} within {DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until no process runs `binary`, so the next launch is not handed to a dying one.
pub async fn wait_for_exit(binary: &Path) -> Result<()> {
    let deadline = Instant::now() + DEADLINE;
    while running(binary)? {
        if Instant::now() > deadline {
            bail!("{} still runs {DEADLINE:?} after quitting", binary.display());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn running(binary: &Path) -> Result<bool> {
    for entry in std::fs::read_dir("/proc")? {
        let exe = entry?.path().join("exe");
        if std::fs::read_link(&exe).is_ok_and(|target| target == binary) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One launch of the app, driven over WebDriver.
pub struct App {
    /// The WebDriver session.
    pub client: Client,
}

impl App {
    /// Waits for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(DEADLINE)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("no element matches {css} within {DEADLINE:?}"))
    }

    /// Waits until `probe` answers true, polling.
    pub async fn wait_until<F, Fut>(&self, what: &str, mut probe: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if probe().await? {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("timed out after {DEADLINE:?} waiting until {what}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// All elements matching `css` now.
    pub async fn all(&self, css: &str) -> Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.wait_for(css).await?.click().await?;
        Ok(())
    }

    /// Replaces the text of the input matching `css`.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let input = self.wait_for(css).await?;
        input.clear().await?;
        if !text.is_empty() {
            input.send_keys(text).await?;
        }
        Ok(())
    }

    /// Text of the element matching `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.wait_for(css).await?.text().await?)
    }

    /// Presses one key (a character or a `fantoccini::key::Key` as char) on the page.
    pub async fn press(&self, key: char) -> Result<()> {
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(actions).await?;
        self.client.release_actions().await?;
        Ok(())
    }

    /// Calls a Tauri command from inside the page, as the UI would, and returns
    /// `Ok(answer)` or `Err(error object)`.
    pub async fn invoke(
        &self,
        command: &str,
        args: serde_json::Value,
    ) -> Result<std::result::Result<serde_json::Value, serde_json::Value>> {
        let script = r#"
            const [command, args, done] = arguments;
            window.__TAURI_INTERNALS__.invoke(command, args)
              .then((ok) => done({ ok }), (err) => done({ err }));
        "#;
        let answer = self
            .client
            .execute_async(script, vec![command.into(), args])
            .await?;
        match (answer.get("ok"), answer.get("err")) {
            (_, Some(err)) => Ok(Err(err.clone())),
            (Some(ok), None) => Ok(Ok(ok.clone())),
            (None, None) => Ok(Ok(serde_json::Value::Null)),
        }
    }

    /// Saves a PNG of the window to `test-output/e2e/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let path = output_dir()?.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Quits the app (ends the WebDriver session, which closes it).
    pub async fn quit(self) -> Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// What one row of the list shows: enough to tell whether the list is "exactly as left".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The book's id.
    pub id: String,
    /// Its title as shown.
    pub title: String,
    /// Its author as shown.
    pub author: String,
    /// Its status.
    pub status: String,
}

impl App {
    /// The rows of the visible list, top to bottom.
    pub async fn rows(&self) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        for row in self.all("[data-testid=book-row]").await? {
            rows.push(Row {
                id: row.attr("data-id").await?.unwrap_or_default(),
                status: row.attr("data-status").await?.unwrap_or_default(),
                title: row
                    .find(Locator::Css("[data-testid=book-title]"))
                    .await?
                    .text()
                    .await?,
                author: row
                    .find(Locator::Css("[data-testid=book-author]"))
                    .await?
                    .text()
                    .await?,
            });
        }
        Ok(rows)
    }

    /// Waits until the list shows exactly `count` rows.
    pub async fn wait_for_rows(&self, count: usize) -> Result<Vec<Row>> {
        self.wait_until(&format!("the list shows {count} rows"), || async {
            Ok(self.all("[data-testid=book-row]").await?.len() == count)
        })
        .await?;
        self.rows().await
    }

    /// The row showing `title`.
    pub async fn row(&self, title: &str) -> Result<Element> {
        for row in self.all("[data-testid=book-row]").await? {
            let shown = row
                .find(Locator::Css("[data-testid=book-title]"))
                .await?
                .text()
                .await?;
            if shown == title {
                return Ok(row);
            }
        }
        bail!("no row shows the title {title:?}")
    }
}
