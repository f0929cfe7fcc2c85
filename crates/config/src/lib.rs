//! Bookwish's configuration and its one HTTP client: which Clerk instance to sign in with, which
//! Supabase project to sync with, and how the app talks to both ([`http_client`]). Auth and sync
//! each take the part they need; neither owns it.
//!
//! The configuration is which Clerk instance to sign in with and which Supabase project to
//! sync with. Nothing here is secret (the client id and the publishable key are public by
//! design), so it lives in a plain TOML file with flat keys, each overridable by environment:
//!
//! | file key            | environment                  | meaning                                   |
//! |---------------------|------------------------------|-------------------------------------------|
//! | `clerk_issuer`      | `BOOKWISH_CLERK_ISSUER`      | Clerk Frontend API URL (the OIDC issuer)  |
//! | `clerk_client_id`   | `BOOKWISH_CLERK_CLIENT_ID`   | OAuth application's client id             |
//! | `supabase_url`      | `BOOKWISH_SUPABASE_URL`      | Supabase project URL                      |
//! | `supabase_anon_key` | `BOOKWISH_SUPABASE_ANON_KEY` | publishable (anon) key                    |
//! | `rest_url`          | `BOOKWISH_REST_URL`          | PostgREST URL, default `<supabase_url>/rest/v1` |
//!
//! The file is `$BOOKWISH_CONFIG` if set, else the path the caller passes (the OS config dir's
//! `bookwish.toml`). No file and no variables means local-only, which is not an error; a file
//! that cannot be parsed, an unknown key, a bad URL, plain `http` to another computer or half a
//! pair (an issuer without a client id) is a [`ConfigError`], so a typo never silently turns
//! sync off. A file named by `BOOKWISH_CONFIG` must exist.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

/// How long connecting to a server may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The app's one HTTP client (reqwest 0.11, the version `postgrest` is built on), lent to
/// sign-in and to sync. Redirects are never followed: an OAuth endpoint that redirects could
/// otherwise forward a code, a verifier or a token to another host (the `openidconnect` docs
/// require this of the client it is given).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("bookwish/", env!("CARGO_PKG_VERSION")))
        .build()
        // Building fails only if the TLS backend cannot initialise, which rustls with bundled
        // roots does not (and `Client::new()` would panic the same way). A fallback client
        // would follow redirects: better no client than that.
        .expect("the rustls HTTP client needs no system setup")
}

/// HTTPS, or plain HTTP to this computer (a development provider): never a token over plain
/// HTTP to another host.
pub fn is_https_or_loopback(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        },
        _ => false,
    }
}

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "BOOKWISH_CONFIG";

/// Everything the app can be configured with; each part is absent when not configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppConfig {
    /// Sign-in; `None` means the app is local-only.
    pub clerk: Option<ClerkConfig>,
    /// Sync; `None` means nothing is sent anywhere even when signed in.
    pub supabase: Option<SupabaseConfig>,
}

/// The OpenID Connect provider (Clerk, or any other) the app signs in with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClerkConfig {
    /// The issuer: Clerk's Frontend API URL. Discovery is
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: Url,
    /// The public OAuth client's id.
    pub client_id: String,
}

/// The Supabase project (PostgREST with row-level security) the app syncs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupabaseConfig {
    /// The project URL.
    pub url: Url,
    /// The publishable (anon) key, sent as `apikey` on every request.
    pub anon_key: String,
    /// PostgREST's base URL, `<url>/rest/v1` unless configured.
    pub rest_url: Url,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists (or was named by `BOOKWISH_CONFIG`) but could not be read.
    #[error("Can't read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has a key this app does not know.
    #[error("The configuration file {path} is malformed: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's account, with line and column.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A URL setting is not an absolute http(s) URL.
    #[error("The configuration setting {key} is not a valid http(s) URL: {value:?}")]
    InvalidUrl {
        /// The file key (`clerk_issuer`, …).
        key: &'static str,
        /// What was given.
        value: String,
        /// The URL parser's reason, when it failed to parse at all.
        #[source]
        source: Option<url::ParseError>,
    },
    /// A URL that tokens are sent to uses plain HTTP to another computer.
    #[error("The configuration setting {key} must use https (plain http is allowed only for this computer): {value:?}")]
    Insecure {
        /// The file key.
        key: &'static str,
        /// What was given.
        value: String,
    },
    /// One setting of a pair is given without the other.
    #[error("The configuration sets {present} but not {missing}: set both, or neither")]
    Incomplete {
        /// The setting that is there.
        present: &'static str,
        /// The setting that is missing.
        missing: &'static str,
    },
}

/// The file's keys, all optional; unknown keys are an error so typos are caught.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    clerk_issuer: Option<String>,
    clerk_client_id: Option<String>,
    supabase_url: Option<String>,
    supabase_anon_key: Option<String>,
    rest_url: Option<String>,
}

impl AppConfig {
    /// Loads the configuration: `$BOOKWISH_CONFIG` or else `default_path`, then the
    /// `BOOKWISH_*` variables on top.
    pub fn load(default_path: &Path) -> Result<AppConfig, ConfigError> {
        Self::load_with(default_path, |name| std::env::var(name).ok())
    }

    /// [`AppConfig::load`] with the environment given as a function, for tests.
    pub fn load_with(
        default_path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AppConfig, ConfigError> {
        let env = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let (path, named) = match env(CONFIG_ENV) {
            Some(path) => (PathBuf::from(path), true),
            None => (default_path.to_owned(), false),
        };
        let mut raw = match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str::<RawConfig>(&text).map_err(|source| ConfigError::Parse {
                    path: path.clone(),
                    source: Box::new(source),
                })?
            }
            // A missing default file is the local-only app; a file the user named must exist.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && !named => {
                RawConfig::default()
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let overrides = [
            ("BOOKWISH_CLERK_ISSUER", &mut raw.clerk_issuer),
            ("BOOKWISH_CLERK_CLIENT_ID", &mut raw.clerk_client_id),
            ("BOOKWISH_SUPABASE_URL", &mut raw.supabase_url),
            ("BOOKWISH_SUPABASE_ANON_KEY", &mut raw.supabase_anon_key),
            ("BOOKWISH_REST_URL", &mut raw.rest_url),
        ];
        for (name, slot) in overrides {
            if let Some(value) = env(name) {
                *slot = Some(value);
            }
        }
        raw.resolve()
    }

    /// Parses a configuration file's text (no environment), e.g. the one the local stack writes.
    pub fn from_toml(text: &str) -> Result<AppConfig, ConfigError> {
        toml::from_str::<RawConfig>(text)
            .map_err(|source| ConfigError::Parse {
                path: PathBuf::from("<text>"),
                source: Box::new(source),
            })?
            .resolve()
    }
}

impl RawConfig {
    fn resolve(self) -> Result<AppConfig, ConfigError> {
        let blank =
            |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let clerk = match (blank(self.clerk_issuer), blank(self.clerk_client_id)) {
            (Some(issuer), Some(client_id)) => Some(ClerkConfig {
                issuer: http_url("clerk_issuer", &issuer)?,
                client_id,
            }),
            (None, None) => None,
            (Some(_), None) => return Err(incomplete("clerk_issuer", "clerk_client_id")),
            (None, Some(_)) => return Err(incomplete("clerk_client_id", "clerk_issuer")),
        };
        let rest_url = blank(self.rest_url);
        let supabase = match (blank(self.supabase_url), blank(self.supabase_anon_key)) {
            (Some(url), Some(anon_key)) => {
                let url = http_url("supabase_url", &url)?;
                let rest_url = match rest_url {
                    Some(rest) => http_url("rest_url", &rest)?,
                    None => {
                        let default = format!("{}/rest/v1", url.as_str().trim_end_matches('/'));
                        http_url("supabase_url", &default)?
                    }
                };
                Some(SupabaseConfig {
                    url,
                    anon_key,
                    rest_url,
                })
            }
            (None, None) if rest_url.is_some() => {
                return Err(incomplete("rest_url", "supabase_url"))
            }
            (None, None) => None,
            (Some(_), None) => return Err(incomplete("supabase_url", "supabase_anon_key")),
            (None, Some(_)) => return Err(incomplete("supabase_anon_key", "supabase_url")),
        };
        Ok(AppConfig { clerk, supabase })
    }
}

fn incomplete(present: &'static str, missing: &'static str) -> ConfigError {
    ConfigError::Incomplete { present, missing }
}

fn http_url(key: &'static str, value: &str) -> Result<Url, ConfigError> {
    let invalid = |source| ConfigError::InvalidUrl {
        key,
        value: value.to_owned(),
        source,
    };
    let url = Url::parse(value).map_err(|error| invalid(Some(error)))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(None));
    }
    // Tokens and codes travel to these URLs: never in clear over the network.
    if !is_https_or_loopback(&url) {
        return Err(ConfigError::Insecure {
            key,
            value: value.to_owned(),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const STACK_FILE: &str = r#"
clerk_issuer = "http://127.0.0.1:4000"
clerk_client_id = "bookwish-desktop"
supabase_url = "http://127.0.0.1:3000"
supabase_anon_key = "anon-key"
rest_url = "http://127.0.0.1:3000"
"#;

    #[test]
    fn missing_default_file_is_local_only() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let config = AppConfig::load_with(&dir.path().join("bookwish.toml"), env_of(&[]))?;
        assert_eq!(
            config,
            AppConfig::default(),
            "no file and no variables is local-only"
        );
        Ok(())
    }

    #[test]
    fn the_stacks_file_is_read_with_all_keys() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bookwish.toml");
        std::fs::write(&path, STACK_FILE)?;
        let config = AppConfig::load_with(&path, env_of(&[]))?;
        let clerk = config.clerk.expect("clerk must be configured by the file");
        assert_eq!(clerk.issuer.as_str(), "http://127.0.0.1:4000/");
        assert_eq!(clerk.client_id, "bookwish-desktop");
        let supabase = config
            .supabase
            .expect("supabase must be configured by the file");
        assert_eq!(supabase.anon_key, "anon-key");
        assert_eq!(
            supabase.rest_url.as_str(),
            "http://127.0.0.1:3000/",
            "an explicit rest_url is used as given"
        );
        Ok(())
    }

    #[test]
    fn rest_url_defaults_to_rest_v1_under_the_project() -> anyhow::Result<()> {
        let config = AppConfig::from_toml(
            "supabase_url = \"https://abc.supabase.co/\"\nsupabase_anon_key = \"k\"\n",
        )?;
        let supabase = config.supabase.expect("supabase configured");
        assert_eq!(
            supabase.rest_url.as_str(),
            "https://abc.supabase.co/rest/v1"
        );
        Ok(())
    }

    #[test]
    fn config_env_names_the_file_and_variables_override_keys() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let named = dir.path().join("elsewhere.toml");
        std::fs::write(&named, STACK_FILE)?;
        let named_str = named.to_string_lossy().into_owned();
        let env = env_of(&[
            (CONFIG_ENV, named_str.as_str()),
            ("BOOKWISH_CLERK_ISSUER", "https://clerk.example.com"),
            ("BOOKWISH_SUPABASE_ANON_KEY", "from-env"),
        ]);
        let config = AppConfig::load_with(&dir.path().join("absent.toml"), env)?;
        let clerk = config.clerk.expect("clerk configured");
        assert_eq!(
            clerk.issuer.as_str(),
            "https://clerk.example.com/",
            "env overrides the file"
        );
        assert_eq!(
            clerk.client_id, "bookwish-desktop",
            "keys not overridden come from the file"
        );
        assert_eq!(
            config.supabase.expect("supabase configured").anon_key,
            "from-env"
        );
        Ok(())
    }

    #[test]
    fn variables_alone_configure_the_app() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let env = env_of(&[
            ("BOOKWISH_CLERK_ISSUER", "https://clerk.example.com"),
            ("BOOKWISH_CLERK_CLIENT_ID", "id"),
        ]);
        let config = AppConfig::load_with(&dir.path().join("absent.toml"), env)?;
        assert!(
            config.clerk.is_some(),
            "variables without a file configure sign-in"
        );
        assert!(config.supabase.is_none(), "sync stays off without its keys");
        Ok(())
    }

    #[test]
    fn a_named_file_that_is_missing_is_an_error() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let missing = dir.path().join("typo.toml");
        let missing_str = missing.to_string_lossy().into_owned();
        let result = AppConfig::load_with(
            &dir.path().join("absent.toml"),
            env_of(&[(CONFIG_ENV, missing_str.as_str())]),
        );
        assert!(
            matches!(result, Err(ConfigError::Read { .. })),
            "a file named by BOOKWISH_CONFIG must exist: {result:?}"
        );
        Ok(())
    }

    #[test]
    fn malformed_files_are_typed_errors() {
        let cases = [
            ("clerk_issuer = ", "broken TOML"),
            ("clerk_isuer = \"https://x\"", "unknown key"),
            ("clerk_issuer = 4", "wrong type"),
        ];
        for (text, why) in cases {
            let result = AppConfig::from_toml(text);
            assert!(
                matches!(result, Err(ConfigError::Parse { .. })),
                "{why} must be a Parse error: {result:?}"
            );
        }
    }

    #[test]
    fn bad_urls_name_their_key() {
        let cases = [
            ("clerk_issuer = \"not a url\"\nclerk_client_id = \"x\"", "clerk_issuer"),
            ("clerk_issuer = \"ftp://x.example\"\nclerk_client_id = \"x\"", "clerk_issuer"),
            ("supabase_url = \"/relative\"\nsupabase_anon_key = \"k\"", "supabase_url"),
            (
                "supabase_url = \"https://x.example\"\nsupabase_anon_key = \"k\"\nrest_url = \"x:\"",
                "rest_url",
            ),
        ];
        for (text, key) in cases {
            match AppConfig::from_toml(text) {
                Err(ConfigError::InvalidUrl { key: got, .. }) => {
                    assert_eq!(got, key, "the error must name the bad setting")
                }
                other => panic!("{text:?} must be an InvalidUrl error, got {other:?}"),
            }
        }
    }

    #[test]
    fn plain_http_is_only_for_this_computer() {
        let remote = "clerk_issuer = \"http://clerk.example.com\"\nclerk_client_id = \"x\"";
        assert!(
            matches!(
                AppConfig::from_toml(remote),
                Err(ConfigError::Insecure {
                    key: "clerk_issuer",
                    ..
                })
            ),
            "a plain-http issuer on the network is refused"
        );
        let local = "supabase_url = \"http://localhost:54321\"\nsupabase_anon_key = \"k\"";
        assert!(
            AppConfig::from_toml(local).is_ok(),
            "plain http to localhost is fine"
        );
    }

    #[test]
    fn half_a_pair_is_incomplete() {
        let cases = [
            ("clerk_issuer = \"https://x.example\"", "clerk_client_id"),
            ("clerk_client_id = \"x\"", "clerk_issuer"),
            ("supabase_url = \"https://x.example\"", "supabase_anon_key"),
            ("rest_url = \"https://x.example\"", "supabase_url"),
        ];
        for (text, missing) in cases {
            match AppConfig::from_toml(text) {
                Err(ConfigError::Incomplete { missing: got, .. }) => {
                    assert_eq!(got, missing, "the error must name the missing setting")
                }
                other => panic!("{text:?} must be Incomplete, got {other:?}"),
            }
        }
    }

    #[test]
    fn messages_are_readable() {
        let error = incomplete("clerk_issuer", "clerk_client_id");
        assert_eq!(
            error.to_string(),
            "The configuration sets clerk_issuer but not clerk_client_id: set both, or neither"
        );
    }
}
