//! The service's configuration, read from the environment once at start.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `CLERK_WEBHOOK_SECRET` | the endpoint's signing secret(s) from Clerk, `whsec_…`; several separated by spaces while rotating | required |
//! | `DATABASE_URL` | `postgres://bookwish_hooks:<password>@<host>:5432/postgres?sslmode=require` | required |
//! | `BOOKWISH_HOOKS_LISTEN` | address to listen on | `127.0.0.1:8787` |
//! | `BOOKWISH_HOOKS_MAX_BODY` | largest request body accepted, in bytes | `262144` |
//! | `BOOKWISH_HOOKS_DATABASE_CA` | PEM file of the CA(s) the database's TLS certificate must chain to | Mozilla's roots |
//! | `RUST_LOG` | log filter | `info` |

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use svix::webhooks::Webhook;

/// Why the configuration is unusable (the service refuses to start).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{0} is not set")]
    Missing(&'static str),
    /// A signing secret is not in Clerk's `whsec_<base64>` form.
    #[error("CLERK_WEBHOOK_SECRET: secret #{index} is not a Clerk signing secret (whsec_<base64>): {reason}")]
    Secret {
        /// Its position in the list, from 1.
        index: usize,
        /// What is wrong with it (never the secret itself).
        reason: String,
    },
    /// A variable holds something that does not parse.
    #[error("{name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The default largest body: Clerk's user payloads are a few KiB (metadata at most 8 KiB each).
pub const DEFAULT_MAX_BODY: usize = 256 * 1024;
/// The default listen address: loopback, behind a TLS-terminating proxy.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Everything the service needs.
pub struct Config {
    /// One verifier per configured secret; a message signed by any of them is accepted.
    pub verifiers: Vec<Webhook>,
    /// The database URL (holds a password: never printed).
    pub database_url: String,
    /// CA certificates for the database's TLS, if not the public roots.
    pub database_ca: Option<PathBuf>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The largest request body accepted.
    pub max_body: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("verifiers", &self.verifiers.len())
            .field("database_url", &"[redacted]")
            .field("database_ca", &self.database_ca)
            .field("listen", &self.listen)
            .field("max_body", &self.max_body)
            .finish()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads variables through `var` (the environment, or a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| var(name).filter(|v| !v.trim().is_empty());
        let secrets =
            get("CLERK_WEBHOOK_SECRET").ok_or(ConfigError::Missing("CLERK_WEBHOOK_SECRET"))?;
        let verifiers = secrets
            .split_whitespace()
            .enumerate()
            .map(|(i, secret)| verifier(i + 1, secret))
            .collect::<Result<Vec<_>, _>>()?;
        let database_url = get("DATABASE_URL").ok_or(ConfigError::Missing("DATABASE_URL"))?;
        let listen = get("BOOKWISH_HOOKS_LISTEN")
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned())
            .trim()
            .parse()
            .map_err(|e| ConfigError::Invalid {
                name: "BOOKWISH_HOOKS_LISTEN",
                reason: format!("not an address like 127.0.0.1:8787 ({e})"),
            })?;
        let max_body = match get("BOOKWISH_HOOKS_MAX_BODY") {
            None => DEFAULT_MAX_BODY,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1024..=16 * 1024 * 1024).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "BOOKWISH_HOOKS_MAX_BODY",
                    reason: "must be a byte count from 1024 to 16777216".into(),
                })?,
        };
        Ok(Self {
            verifiers,
            database_url,
            database_ca: get("BOOKWISH_HOOKS_DATABASE_CA").map(PathBuf::from),
            listen,
            max_body,
        })
    }
}

fn verifier(index: usize, secret: &str) -> Result<Webhook, ConfigError> {
    let bad = |reason: &str| ConfigError::Secret {
        index,
        reason: reason.to_owned(),
    };
    if !secret.starts_with("whsec_") {
        return Err(bad("it does not start with whsec_"));
    }
    Webhook::new(secret).map_err(|e| bad(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_vars(|name| map.get(name).cloned())
    }

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn defaults_apply_and_the_url_never_prints() -> Result<(), ConfigError> {
        let c = config(&[
            ("CLERK_WEBHOOK_SECRET", SECRET),
            ("DATABASE_URL", "postgres://u:hunter2@db/postgres"),
        ])?;
        assert_eq!(c.verifiers.len(), 1);
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.max_body, DEFAULT_MAX_BODY);
        assert!(
            !format!("{c:?}").contains("hunter2"),
            "the database password must never be printed"
        );
        Ok(())
    }

    #[test]
    fn several_secrets_are_accepted_while_rotating() -> Result<(), ConfigError> {
        let c = config(&[
            (
                "CLERK_WEBHOOK_SECRET",
                &format!("{SECRET}  whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"),
            ),
            ("DATABASE_URL", "postgres://db"),
        ])?;
        assert_eq!(c.verifiers.len(), 2, "one verifier per secret");
        Ok(())
    }

    #[test]
    fn bad_settings_are_named_and_secrets_not_echoed() {
        let missing = config(&[("DATABASE_URL", "postgres://db")]);
        assert!(matches!(
            missing,
            Err(ConfigError::Missing("CLERK_WEBHOOK_SECRET"))
        ));
        let raw = config(&[
            ("CLERK_WEBHOOK_SECRET", "sk_live_abcdef"),
            ("DATABASE_URL", "postgres://db"),
        ]);
        let message = raw.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("whsec_"),
            "says what form is expected: {message}"
        );
        assert!(
            !message.contains("sk_live_abcdef"),
            "never echoes a secret: {message}"
        );
        let not_base64 = config(&[
            ("CLERK_WEBHOOK_SECRET", "whsec_***"),
            ("DATABASE_URL", "postgres://db"),
        ]);
        assert!(matches!(
            not_base64,
            Err(ConfigError::Secret { index: 1, .. })
        ));
        let listen = config(&[
            ("CLERK_WEBHOOK_SECRET", SECRET),
            ("DATABASE_URL", "postgres://db"),
            ("BOOKWISH_HOOKS_LISTEN", "localhost"),
        ]);
        assert!(matches!(
            listen,
            Err(ConfigError::Invalid {
                name: "BOOKWISH_HOOKS_LISTEN",
                ..
            })
        ));
        let body = config(&[
            ("CLERK_WEBHOOK_SECRET", SECRET),
            ("DATABASE_URL", "postgres://db"),
            ("BOOKWISH_HOOKS_MAX_BODY", "12"),
        ]);
        assert!(matches!(
            body,
            Err(ConfigError::Invalid {
                name: "BOOKWISH_HOOKS_MAX_BODY",
                ..
            })
        ));
    }
}
