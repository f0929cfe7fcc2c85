//! The database, as the `bookwish_hooks` role sees it: two functions and nothing else
//! (migrations/0006_hooks.sql). Each call is one statement, so each event is one transaction.
//!
//! Connections come from a small pool (deadpool-postgres): a slow `user.deleted` does not hold
//! up other deliveries, and a connection the server dropped is replaced rather than reused.
//! TLS (rustls) is used when the URL asks for it (`sslmode=require`) and offered when it says
//! nothing (`prefer`); the certificate and host name are always verified, against Mozilla's roots
//! or the CA file given.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde::Deserialize;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::event::UserProfile;

/// How many connections the pool keeps at most.
const POOL_SIZE: usize = 4;
/// How long a request waits for a connection (or to open one) before answering 503.
const WAIT: Duration = Duration::from_secs(5);

/// Why the database could not do what an event asks.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had in time (the database is down or unreachable).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database answered with an error.
    #[error("the database refused the call: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// The database URL or its TLS settings are unusable.
    #[error("database settings: {0}")]
    Setup(String),
    /// A function answered something this version does not know.
    #[error("unexpected answer from {function}: {answer}")]
    Answer {
        /// The function.
        function: &'static str,
        /// What it answered.
        answer: String,
    },
}

impl StoreError {
    /// Whether trying again later can help (the delivery is answered 503, and Svix retries).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            // Connection trouble, deadlock or serialisation, resources, a restarting server.
            StoreError::Database(e) => match e.as_db_error() {
                None => true,
                Some(db) => ["08", "40", "53", "57", "58"]
                    .iter()
                    .any(|class| db.code().code().starts_with(class)),
            },
            _ => false,
        }
    }
}

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    /// The profile now holds the event's values.
    Applied,
    /// A later event of this user was applied before: nothing changed.
    Stale,
    /// This delivery was applied before: nothing changed.
    Duplicate,
    /// The account was deleted: nothing written.
    AccountDeleted,
}

impl Upserted {
    /// The word the webhook's answer and the log use.
    pub fn as_str(self) -> &'static str {
        match self {
            Upserted::Applied => "applied",
            Upserted::Stale => "stale",
            Upserted::Duplicate => "duplicate",
            Upserted::AccountDeleted => "account_deleted",
        }
    }
}

/// What a delete did: rows removed per table, or nothing for a redelivery.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Deleted {
    /// `applied` or `duplicate`.
    pub result: String,
    /// Rows removed per table (empty for a duplicate).
    #[serde(default)]
    pub deleted: std::collections::BTreeMap<String, i64>,
}

/// The pool of connections as `bookwish_hooks`.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// A pool for `url` (no connection is opened yet: the service starts even while the
    /// database is away, and reports it on `/health`).
    pub fn new(url: &str, ca: Option<&Path>) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Setup(format!("DATABASE_URL does not parse: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(WAIT);
        }
        if config.get_application_name().is_none() {
            config.application_name("bookwish-hooks");
        }
        let tls = MakeRustlsConnect::new(tls_config(ca)?);
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .build()
            .map_err(|e| StoreError::Setup(e.to_string()))?;
        Ok(Self { pool })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::Database(e),
            other => StoreError::Unavailable(other.to_string()),
        })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.simple_query("select 1").await?;
        Ok(())
    }

    /// `user.created` / `user.updated` (delivery = the `svix-id`).
    pub async fn upsert(&self, delivery: &str, p: &UserProfile) -> Result<Upserted, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("select app.hooks_upsert_user($1, $2, $3, $4, $5, $6)")
            .await?;
        let row = client
            .query_one(
                &statement,
                &[
                    &delivery,
                    &p.user_id,
                    &p.email,
                    &p.display_name,
                    &p.image_url,
                    &p.updated_at_ms,
                ],
            )
            .await?;
        let answer: String = row.try_get(0)?;
        match answer.as_str() {
            "applied" => Ok(Upserted::Applied),
            "stale" => Ok(Upserted::Stale),
            "duplicate" => Ok(Upserted::Duplicate),
            "account_deleted" => Ok(Upserted::AccountDeleted),
            _ => Err(StoreError::Answer {
                function: "app.hooks_upsert_user",
                answer,
            }),
        }
    }

    /// `user.deleted`: every row of the user, in one transaction.
    pub async fn delete(&self, delivery: &str, user_id: &str) -> Result<Deleted, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("select app.hooks_delete_user($1, $2)::text")
            .await?;
        let row = client.query_one(&statement, &[&delivery, &user_id]).await?;
        let answer: String = row.try_get(0)?;
        serde_json::from_str(&answer).map_err(|_| StoreError::Answer {
            function: "app.hooks_delete_user",
            answer,
        })
    }
}

fn tls_config(ca: Option<&Path>) -> Result<rustls::ClientConfig, StoreError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    StoreError::Setup(format!(
                        "BOOKWISH_HOOKS_DATABASE_CA {}: {e}",
                        path.display()
                    ))
                })?;
            let (added, _ignored) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::Setup(format!(
                    "BOOKWISH_HOOKS_DATABASE_CA {}: no usable certificate in it",
                    path.display()
                )));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Setup(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
