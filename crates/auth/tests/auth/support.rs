//! What the tests share: one local stack for the binary, a fixture per test (state dir,
//! keychain service of its own, clock) and the "browser" that signs a user in headlessly.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use bookwish_auth::{Auth, Keychain, ManualClock, SecretStore};
use bookwish_config::AppConfig;
use bookwish_stack::{Stack, StackOptions, TestUser};
use tokio::sync::OnceCell;
use url::Url;

static STACK: OnceCell<Stack> = OnceCell::const_new();

/// The stack shared by the tests of this binary (PostgreSQL, PostgREST, the provider), started
/// on first use on free ports. It is never dropped: the stack's reaper stops its processes when
/// the test process exits.
pub async fn stack() -> Result<&'static Stack> {
    STACK
        .get_or_try_init(|| async {
            Stack::start(StackOptions::default())
                .await
                .context("starting the local stack")
        })
        .await
}

/// The real Secret Service keychain, under a service name of its own so parallel tests never
/// see each other's entries. Fails with instructions when there is no session bus.
pub fn keychain() -> Keychain {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests use the real Secret Service: run them through scripts/test.sh, or inside \
         dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock \
         --components=secrets >/dev/null; cargo test -p bookwish-auth' with HOME set to a \
         temporary directory"
    );
    Keychain::with_service(format!(
        "app.bookwish.test.{}",
        uuid::Uuid::new_v4().simple()
    ))
}

/// One test's world: the app's configuration for an issuer, a state dir, a keychain service,
/// a clock. Deletes its keychain entries when dropped.
pub struct Fixture {
    pub config: AppConfig,
    pub keychain: Arc<Keychain>,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
    users: Vec<&'static str>,
}

impl Fixture {
    /// A fixture for the shared stack: the configuration is the one the stack writes for the app.
    pub async fn on_stack() -> Result<Fixture> {
        let stack = stack().await?;
        let config = AppConfig::from_toml(&stack.app_config_toml())
            .context("the stack's bookwish.toml must parse")?;
        Self::with_config(config)
    }

    /// A fixture for the provider at `issuer`, without Supabase.
    pub fn for_issuer(issuer: &str) -> Result<Fixture> {
        let config = AppConfig::from_toml(&format!(
            "clerk_issuer = \"{issuer}\"\nclerk_client_id = \"{}\"\n",
            bookwish_stack::CLIENT_ID
        ))?;
        Self::with_config(config)
    }

    fn with_config(config: AppConfig) -> Result<Fixture> {
        logs();
        Ok(Fixture {
            config,
            keychain: Arc::new(keychain()),
            clock: Arc::new(ManualClock::new()),
            dir: tempfile::tempdir()?,
            users: bookwish_stack::USERS.iter().map(|u| u.sub).collect(),
        })
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// A new `Auth` on this fixture's keychain, state dir and clock: what a new launch of the
    /// app would build.
    pub fn auth(&self) -> Result<Auth> {
        self.auth_with(self.keychain.clone())
    }

    /// Like [`Fixture::auth`], keeping refresh tokens in `secrets` (a keychain that fails on
    /// demand, around this fixture's).
    pub fn auth_with(&self, secrets: Arc<dyn SecretStore>) -> Result<Auth> {
        let clerk = self
            .config
            .clerk
            .clone()
            .ok_or_else(|| anyhow!("the fixture's config has no provider"))?;
        Ok(Auth::new(
            clerk,
            secrets,
            self.state_dir(),
            bookwish_config::http_client(),
        )
        .with_clock(self.clock.clone()))
    }

    /// The refresh token stored for `user`, read straight from the keychain.
    pub fn stored_refresh(&self, user: &TestUser) -> Result<Option<String>> {
        Ok(self
            .keychain
            .get(user.sub)?
            .map(|secret| secret.expose().to_owned()))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for user in &self.users {
            let _ = self.keychain.delete(user);
        }
    }
}

/// The system browser, headless: opens the authorization URL with a cookie jar and without
/// following redirects by itself, logs `user` in on the provider's form, and follows redirects
/// until one points at the app's `bookwish://` deep link, which it returns as the OS would hand
/// it over.
pub async fn browser(authorize: &Url, user: &TestUser) -> Result<String> {
    Ok(
        bookwish_stack::browser_sign_in(authorize.as_str(), user.username, user.password)
            .await?
            .to_string(),
    )
}

/// The value of query parameter `name` in `url`.
pub fn param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// `link` with its query parameter `name` set to `value` (added if missing; removed if `None`).
pub fn with_param(link: &str, name: &str, value: Option<&str>) -> Result<String> {
    let mut url = Url::parse(link)?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (key, val) in &kept {
            query.append_pair(key, val);
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    Ok(url.to_string())
}

/// The workspace's `test-output/` folder, where reports for humans go.
pub fn test_output() -> Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The name of an error's variant (`StateMismatch`, `Provider`, …), for reports.
pub fn variant(error: &bookwish_auth::Error) -> String {
    format!("{error:?}")
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect()
}

static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();

/// Everything logged by this test binary, all tests together: one global subscriber, since a
/// per-thread one misses events whose callsites other test threads registered first.
pub fn logs() -> &'static Logs {
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            eprintln!("another global subscriber is set; log checks see nothing");
        }
        logs
    })
}

/// Captured log text.
#[derive(Clone, Default)]
pub struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
