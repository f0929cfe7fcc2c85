//! The `bookwish-hooks` binary: reads the environment (see `config`), listens, and stops
//! gracefully on SIGTERM or Ctrl-C (deliveries under way finish first).

use anyhow::Context as _;
use bookwish_hooks::{Config, Hooks, Store, WEBHOOK_PATH};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        // Colours only on a terminal: the journal and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::from_env().context("configuration")?;
    let store = Store::new(&config.database_url, config.database_ca.as_deref())
        .context("database settings")?;
    if let Err(e) = store.ping().await {
        tracing::warn!("the database does not answer yet ({e}); deliveries get 503 until it does");
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listen on {}", config.listen))?;
    let local = listener
        .local_addr()
        .context("read the listening address")?;
    tracing::info!(
        secrets = config.verifiers.len(),
        max_body = config.max_body,
        "listening on http://{local}{WEBHOOK_PATH}"
    );
    let app = Hooks::new(config.verifiers, store, config.max_body).router();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .context("serve")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
