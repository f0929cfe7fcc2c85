//! Drives the built Bookwish app in its real WebKit window over WebDriver.
//!
//! [`Driver`] starts `tauri-driver` (which starts Debian's `WebKitWebDriver`, which starts the
//! app) on free loopback ports with the app's data directory pointed at a test folder, and stops
//! it on drop. [`App`] is one WebDriver session, i.e. one launch of the app; closing it quits the
//! app. The app binary comes from `BOOKWISH_E2E_APP` (`./x test` builds it and sets it).
//! [`app_processes`] finds the app's process and WebKit's, and [`process_group`] a process's
//! group, for what a test or a bench reads of them in `/proc`.
//!
//! Tests must run one at a time in one D-Bus session: the app is single-instance, so a second
//! launch while one is running would hand over and exit.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
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
        Driver::start_with(Some(data_dir), extra_env).await
    }

    /// Starts tauri-driver with the apps it launches keeping their data where an installed app
    /// does: the OS's per-user data directory under `$HOME` (tests point `HOME` at a scratch
    /// folder).
    pub async fn start_with_os_data_dir(extra_env: &[(&str, &str)]) -> Result<Driver> {
        Driver::start_with(None, extra_env).await
    }

    async fn start_with(data_dir: Option<&Path>, extra_env: &[(&str, &str)]) -> Result<Driver> {
        let binary = app_binary()?;
        let port = free_port()?;
        let native_port = free_port()?;
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Its own process group, so dropping the driver also stops the WebKitWebDriver it
            // starts (an orphaned one would keep the test's output pipe open forever).
            .process_group(0)
            .kill_on_drop(true);
        match data_dir {
            Some(dir) => command.env("BOOKWISH_DATA_DIR", dir),
            None => command.env_remove("BOOKWISH_DATA_DIR"),
        };
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
        // tauri-driver listens before it answers: on a loaded machine the first request can
        // find nobody home (no session is made then), so it is sent again a few times. A
        // request that gets no answer at all (seen once on a loaded machine: the relaunched
        // app never started and WebKitWebDriver never answered) is given up after
        // `DEADLINE` and sent once more, instead of waiting for CI's own limit.
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            let connected = tokio::time::timeout(
                DEADLINE,
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities.clone())
                    .connect(&format!("http://127.0.0.1:{}", self.port)),
            )
            .await;
            match connected {
                Err(_) if attempt < 2 => {
                    eprintln!("no WebDriver session after {DEADLINE:?}; asking once more");
                    wait_for_exit(&self.binary).await?;
                }
                Err(_) => bail!("WebDriver started no app session within {DEADLINE:?}, twice"),
                Ok(Err(fantoccini::error::NewSessionError::FailedC(_))) if attempt < 4 => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(other) => break other.context("WebDriver could not start the app")?,
            }
        };
        let app = App { client };
        if let Err(error) = app.wait_for("[data-testid=app][data-ready=true]").await {
            // Leave evidence for the human reading the CI log.
            let shot = app.screenshot("launch-failure").await;
            let source = app.client.source().await.unwrap_or_default();
            let probe = app
                .client
                .execute(
                    "return JSON.stringify({ready: document.readyState, \
                     bindings: typeof window.wasmBindings, tauri: typeof window.__TAURI_INTERNALS__, \
                     global: typeof window.__TAURI__, wasm: typeof WebAssembly})",
                    vec![],
                )
                .await
                .map(|v| v.to_string())
                .unwrap_or_else(|e| e.to_string());
            let import = app
                .client
                .execute_async(
                    "const done = arguments[0]; \
                     const src = document.querySelector('link[rel=modulepreload]')?.href; \
                     fetch(src).then(async (r) => { const b = await r.arrayBuffer(); \
                       const h = await crypto.subtle.digest('SHA-384', b); \
                       const sri = btoa(String.fromCharCode(...new Uint8Array(h))); \
                       return 'fetch ' + r.status + ' ' + b.byteLength + ' sri ' + sri; }) \
                     .then((f) => import(src).then((m) => m.default()).then(() => done(f + ' init ok'), (e) => done(f + ' init failed: ' + e)), (e) => done('fetch failed ' + e));",
                    vec![],
                )
                .await
                .map(|v| v.to_string())
                .unwrap_or_else(|e| e.to_string());
            let probe = format!("{probe} {import}");
            let page = output_dir()?.join("launch-failure.html");
            std::fs::write(&page, format!("<!-- {probe} -->\n{source}"))?;
            return Err(error.context(format!(
                "the list never became interactive; see {} and {shot:?}",
                page.display()
            )));
        }
        Ok((app, started.elapsed()))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            // The whole group: tauri-driver and the WebKitWebDriver it spawned.
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .status();
        }
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
            bail!(
                "{} still runs {DEADLINE:?} after quitting",
                binary.display()
            );
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

/// The process group of process `pid` (from `/proc/<pid>/stat`).
pub fn process_group(pid: u32) -> Result<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // After the parenthesised command name: state, parent, process group.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(2))
        .and_then(|group| group.parse().ok())
        .with_context(|| format!("no process group in /proc/{pid}/stat"))
}

/// The app's process and every process it started (its descendants: WebKit's web and network
/// processes), the app's first.
pub fn app_processes(binary: &Path) -> Result<Vec<u32>> {
    let mut parents = std::collections::HashMap::new();
    let mut app = None;
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_link(entry.path().join("exe")).is_ok_and(|exe| exe == binary) {
            app = Some(pid);
        }
        if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) {
            // The parent pid is the second field after the parenthesised command name.
            if let Some(ppid) = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok())
            {
                parents.insert(pid, ppid);
            }
        }
    }
    let app = app.context("the app is not running")?;
    let mut found = vec![app];
    for &pid in parents.keys() {
        let mut cursor = pid;
        while let Some(&parent) = parents.get(&cursor) {
            if parent == app {
                found.push(pid);
                break;
            }
            if parent == 0 || parent == cursor {
                break;
            }
            cursor = parent;
        }
    }
    Ok(found)
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

    /// Clicks the element matching `css`. The UI may re-render the element between finding
    /// and clicking it (a status update, say): that is retried, not a failure.
    pub async fn click(&self, css: &str) -> Result<()> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let outcome = match self.wait_for(css).await {
                Ok(element) => element.click().await.map_err(anyhow::Error::from),
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(error) if Instant::now() > deadline => return Err(error),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Replaces the text of the input matching `css`.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let input = self.wait_for(css).await?;
        // Erase with keystrokes, as a user would: WebDriver's "clear" fires no `input` event
        // in WebKit, so the UI would never hear that the field emptied.
        let old = input.prop("value").await?.unwrap_or_default();
        let mut keys = String::from(char::from(fantoccini::key::Key::End));
        keys.extend(std::iter::repeat_n(
            char::from(fantoccini::key::Key::Backspace),
            old.chars().count(),
        ));
        keys.push_str(text);
        input.send_keys(&keys).await?;
        Ok(())
    }

    /// Text content of the element matching `css`, trimmed.
    pub async fn text(&self, css: &str) -> Result<String> {
        let element = self.wait_for(css).await?;
        Ok(element
            .prop("textContent")
            .await?
            .unwrap_or_default()
            .trim()
            .to_owned())
    }

    /// Waits until the element matching `css` shows some text, and returns it.
    pub async fn wait_for_text(&self, css: &str) -> Result<String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let text = self.text(css).await.unwrap_or_default();
            if !text.is_empty() {
                return Ok(text);
            }
            if Instant::now() > deadline {
                bail!("{css} showed no text within {DEADLINE:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
            // Answers come as JSON bytes (an ArrayBuffer, or an array of numbers after Tauri's
            // postMessage fallback), errors as objects.
            const bytes = (ok) => ok instanceof ArrayBuffer ? new Uint8Array(ok)
              : Array.isArray(ok) && typeof ok[0] === 'number' ? new Uint8Array(ok) : null;
            const read = (ok) => bytes(ok) ? JSON.parse(new TextDecoder().decode(bytes(ok))) : ok;
            window.__TAURI_INTERNALS__.invoke(command, args)
              .then((ok) => done({ ok: read(ok) }), (err) => done({ err }));
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
    ///
    /// The pixels come from the X server (ImageMagick's `import`), as a user sees them, a
    /// native dialog over the window included. Not WebDriver's screenshot: WebKitGTK's
    /// automation (2.50) never answers that command when accelerated compositing is off
    /// (`WEBKIT_DISABLE_COMPOSITING_MODE=1`, which users set where a GPU driver misbehaves),
    /// while the window itself keeps painting.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let path = output_dir()?.join(format!("{name}.png"));
        let window = xdotool(&["search", "--onlyvisible", "--name", "^Bookwish$"]).await?;
        capture(window.lines().next().unwrap_or("root"), &path).await?;
        Ok(path)
    }

    /// Quits the app (ends the WebDriver session, which closes it).
    pub async fn quit(self) -> Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// The real GTK file dialog the app opened, driven as a user drives it: under Xvfb with
/// `xdotool` (X11 input, as a keyboard would type it).
pub struct FileDialog {
    window: String,
}

impl FileDialog {
    /// Waits for the dialog titled exactly `title` to be on screen and gives it the keyboard.
    pub async fn wait(title: &str) -> Result<FileDialog> {
        let deadline = Instant::now() + DEADLINE;
        let pattern = format!("^{title}$");
        let window = loop {
            let found = xdotool(&["search", "--onlyvisible", "--name", &pattern]).await?;
            if let Some(id) = found.lines().next().filter(|id| !id.is_empty()) {
                break id.to_owned();
            }
            if Instant::now() > deadline {
                bail!("no dialog titled {title:?} appeared within {DEADLINE:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // No window manager under Xvfb: focus the dialog directly.
        xdotool(&["windowfocus", "--sync", &window]).await?;
        Ok(FileDialog { window })
    }

    /// Opens the file at `path`: Ctrl+L (the location bar), the path, Enter.
    pub async fn open(self, path: &Path) -> Result<()> {
        let path = path.to_str().context("a UTF-8 path")?;
        xdotool(&["key", "--clearmodifiers", "ctrl+l"]).await?;
        xdotool(&["type", "--delay", "5", path]).await?;
        self.confirm(path).await
    }

    /// Saves as `path`: the name field (focused, the suggested name selected) replaced by the
    /// whole path, Enter.
    pub async fn save_as(self, path: &Path) -> Result<()> {
        let path = path.to_str().context("a UTF-8 path")?;
        xdotool(&["key", "--clearmodifiers", "ctrl+a"]).await?;
        xdotool(&["type", "--delay", "5", path]).await?;
        self.confirm(path).await
    }

    /// Presses Enter until the dialog answers, typing `path` again over the field's text every
    /// other time. GTK's location bar can take an Enter for its own completion of the typed
    /// path, so an Enter the dialog did not act on within a few seconds is pressed again; and
    /// the field can lose what was typed while the dialog is still loading (an `Open` dialog
    /// that started on its Recent list lost the first eight characters of the path, under Xvfb
    /// on a loaded machine: the field showed `pNkIM36/goodreads_library_export.csv`), so the
    /// next try selects the field's whole text (Ctrl+A) and types the path again. The dialog is
    /// given the focus again before each try, and nothing is sent once it has closed.
    async fn confirm(&self, path: &str) -> Result<()> {
        for attempt in 0..6 {
            // No window manager under Xvfb: the keyboard goes where focus was put last. A
            // dialog that closed late, after the last look, has no window left to focus.
            if let Err(error) = xdotool(&["windowfocus", "--sync", &self.window]).await {
                if self.closed_within(Duration::ZERO).await? {
                    return Ok(());
                }
                return Err(error);
            }
            if attempt % 2 == 1 {
                eprintln!("the file dialog is still open after Enter: typing the path again");
                xdotool(&["key", "--clearmodifiers", "ctrl+a"]).await?;
                xdotool(&["type", "--delay", "5", path]).await?;
            }
            xdotool(&["key", "--clearmodifiers", "Return"]).await?;
            if self.closed_within(Duration::from_secs(3)).await? {
                return Ok(());
            }
        }
        self.closed().await
    }

    /// Closes the dialog without choosing (Esc).
    pub async fn cancel(self) -> Result<()> {
        xdotool(&["key", "Escape"]).await?;
        self.closed().await
    }

    /// Whether the dialog is gone within `wait`.
    async fn closed_within(&self, wait: Duration) -> Result<bool> {
        let deadline = Instant::now() + wait;
        loop {
            let visible = xdotool(&["search", "--onlyvisible", "--name", "."]).await?;
            if !visible.lines().any(|id| id == self.window) {
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn closed(&self) -> Result<()> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let visible = xdotool(&["search", "--onlyvisible", "--name", "."]).await?;
            if !visible.lines().any(|id| id == self.window) {
                return Ok(());
            }
            if Instant::now() > deadline {
                // The whole screen, dialog included.
                let shot = output_dir()?.join("file-dialog-still-open.png");
                let _ = capture("root", &shot).await;
                bail!(
                    "the file dialog was still open {DEADLINE:?} after answering it (screen: {})",
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Saves a PNG of X window `window` (an id, or `root` for the whole screen) to `path`.
async fn capture(window: &str, path: &Path) -> Result<()> {
    let status = Command::new("import")
        .args(["-window", window])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .await
        .context("cannot run ImageMagick's import (apt-get install imagemagick; ./x setup does)")?;
    ensure!(status.success(), "import -window {window} failed: {status}");
    Ok(())
}

/// Runs `xdotool` with `args`; its standard output (a search that finds nothing is empty).
async fn xdotool(args: &[&str]) -> Result<String> {
    let output = Command::new("xdotool")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run xdotool (apt-get install xdotool; ./x setup does)")?;
    // `search` exits 1 when nothing matches: that is an answer, not a failure.
    if !output.status.success() && args.first() != Some(&"search") {
        bail!(
            "xdotool {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
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
                title: text_of(&row, "[data-testid=book-title]").await?,
                author: text_of(&row, "[data-testid=book-author]").await?,
            });
        }
        Ok(rows)
    }

    /// Waits until the list shows exactly `count` rows.
    pub async fn wait_for_rows(&self, count: usize) -> Result<Vec<Row>> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            match self.rows().await {
                Ok(rows) if rows.len() == count => return Ok(rows),
                Ok(_) | Err(_) if Instant::now() < deadline => {}
                Ok(rows) => bail!("the list shows {rows:?}, not {count} rows, after {DEADLINE:?}"),
                Err(error) => return Err(error),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the list shows exactly these titles, in this order.
    pub async fn wait_for_titles(&self, titles: &[&str]) -> Result<Vec<Row>> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            // A row can vanish between finding and reading it while the list re-renders:
            // that is "not yet", not a failure.
            let read = self.rows().await;
            let rows = read.as_ref().map(Vec::clone).unwrap_or_default();
            if rows
                .iter()
                .map(|r| r.title.as_str())
                .eq(titles.iter().copied())
            {
                return Ok(rows);
            }
            if Instant::now() > deadline {
                let shot = self.screenshot("titles-not-shown").await;
                let search = match self.client.find(Locator::Css("[data-testid=search]")).await {
                    Ok(input) => input.prop("value").await.ok().flatten(),
                    Err(_) => None,
                };
                bail!(
                    "the list shows {rows:?}, not {titles:?}, after {DEADLINE:?} \
                     (last read: {:?}; search field: {search:?}; screenshot: {shot:?})",
                    read.err()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the list shows each of `titles` (among others, in any order).
    pub async fn wait_for_listed(&self, titles: &[&str]) -> Result<()> {
        self.wait_until(&format!("{titles:?} are listed"), || async {
            let rows = self.rows().await.unwrap_or_default();
            Ok(titles
                .iter()
                .all(|title| rows.iter().any(|row| row.title == *title)))
        })
        .await
    }

    /// Adds a book through the add form, as a user does, and waits for it to be listed.
    pub async fn add_book(&self, title: &str, author: &str) -> Result<()> {
        self.click("[data-testid=new-book]").await?;
        self.fill("[data-testid=add-title]", title).await?;
        self.fill("[data-testid=add-author]", author).await?;
        self.click("[data-testid=add-submit]").await?;
        self.wait_for_listed(&[title]).await
    }

    /// Clicks `status` (Wishlist, Reading, Finished) in the row of `title` and waits for the
    /// row to show it.
    pub async fn set_status(&self, title: &str, status: &str) -> Result<()> {
        self.row(title)
            .await?
            .find(Locator::Css(&format!("[data-testid=status-{status}]")))
            .await?
            .click()
            .await?;
        self.wait_until(&format!("{title:?} shows {status}"), || async {
            Ok(self.row(title).await?.attr("data-status").await?.as_deref() == Some(status))
        })
        .await
    }

    /// Signs out from the header and waits for it to say the app is local-only again.
    pub async fn sign_out(&self) -> Result<()> {
        self.click("[data-testid=sign-out]").await?;
        self.wait_until("the header says local-only again", || async {
            Ok(self
                .text("[data-testid=account-status]")
                .await
                .unwrap_or_default()
                .contains("Local only"))
        })
        .await
    }

    /// Opens the editor of the row showing `title` (its Edit button) and waits for the form.
    pub async fn open_editor(&self, title: &str) -> Result<Element> {
        self.row(title)
            .await?
            .find(Locator::Css("[data-testid=edit]"))
            .await?
            .click()
            .await?;
        self.wait_for("[data-testid=edit-form]").await
    }

    /// Waits until no editor is open (after Save, Cancel or Esc).
    pub async fn wait_editor_closed(&self) -> Result<()> {
        self.wait_until("the editor is closed", || async {
            Ok(self.all("[data-testid=edit-form]").await?.is_empty())
        })
        .await
    }

    /// The row showing `title`.
    pub async fn row(&self, title: &str) -> Result<Element> {
        for row in self.all("[data-testid=book-row]").await? {
            if text_of(&row, "[data-testid=book-title]").await? == title {
                return Ok(row);
            }
        }
        let shown = self.rows().await?;
        let _ = self.screenshot("row-not-found").await;
        let _ = std::fs::write(
            output_dir()?.join("row-not-found.html"),
            self.client.source().await?,
        );
        bail!("no row shows the title {title:?}; the rows are {shown:?}")
    }
}

/// The text content of the child of `parent` matching `css`. (WebKitWebDriver's "element
/// text" answers "" for text inside `user-select: none` rows, so read the DOM instead.)
async fn text_of(parent: &Element, css: &str) -> Result<String> {
    let child = parent.find(Locator::Css(css)).await?;
    Ok(child
        .prop("textContent")
        .await?
        .unwrap_or_default()
        .trim()
        .to_owned())
}
