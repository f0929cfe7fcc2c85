//! The Clerk webhook receiver (`bookwish-hooks`, crates/hooks) as part of the stack: started
//! from its built binary on a loopback port, logging in as the `bookwish_hooks` role, with test
//! signing secrets; ready once its `/health` answers 200 (it pings the database). Tests of the
//! app deliver Clerk's events to it signed as Svix signs them ([`Stack::send_user_deleted`]).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::proc::{self, Service, POLL};
use crate::stack::Stack;

/// The local stack's webhook signing secret, in Clerk's `whsec_` form. Test data, not a secret:
/// anyone can sign events for a local stack with it.
pub const LOCAL_WEBHOOK_SECRET: &str = "whsec_Ym9va3dpc2gtbG9jYWwtc3RhY2std2ViaG9vaw==";

/// How to start the webhook receiver.
#[derive(Clone, Debug)]
pub struct HooksOptions {
    /// The `bookwish-hooks` binary (tests: `env!("CARGO_BIN_EXE_bookwish-hooks")`).
    pub binary: PathBuf,
    /// Signing secrets (`whsec_…`); a delivery signed by any of them is accepted.
    pub secrets: Vec<String>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

impl HooksOptions {
    /// The binary built next to the running one (`target/<profile>/bookwish-hooks`; for a test
    /// binary in `target/<profile>/deps/`, the folder above), unless `$BOOKWISH_HOOKS_BIN`
    /// names another; the local secret; a free port.
    pub fn beside_current_exe() -> Self {
        let binary = std::env::var_os("BOOKWISH_HOOKS_BIN")
            .map(PathBuf::from)
            .or_else(|| {
                let exe = std::env::current_exe().ok()?;
                let dir = exe.parent()?;
                let beside = dir.join("bookwish-hooks");
                match dir.parent() {
                    Some(profile) if !beside.exists() && dir.ends_with("deps") => {
                        Some(profile.join("bookwish-hooks"))
                    }
                    _ => Some(beside),
                }
            })
            .unwrap_or_else(|| PathBuf::from("bookwish-hooks"));
        Self {
            binary,
            secrets: vec![LOCAL_WEBHOOK_SECRET.to_owned()],
            port: 0,
        }
    }
}

/// `http://127.0.0.1:<port>/webhooks/clerk`.
pub(crate) fn webhook_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/webhooks/clerk")
}

impl Stack {
    /// Starts the webhook receiver against this stack's database and waits for its `/health`.
    /// One per stack; a second call while it runs changes nothing.
    pub async fn start_hooks(&self, opts: &HooksOptions) -> Result<()> {
        if !opts.binary.exists() {
            return Err(Error::Setup(format!(
                "{} is missing: build it with `cargo build -p bookwish-hooks`",
                opts.binary.display()
            )));
        }
        let port = match opts.port {
            0 => proc::free_ports::<1>()?[0],
            port => {
                proc::ensure_port_free(port, "the webhook receiver")?;
                port
            }
        };
        {
            let mut slot = self
                .hooks
                .lock()
                .map_err(|_| Error::Setup("hooks state poisoned".into()))?;
            if slot.is_some() {
                return Ok(());
            }
            let mut cmd = Command::new(&opts.binary);
            cmd.env("CLERK_WEBHOOK_SECRET", opts.secrets.join(" "))
                .env("DATABASE_URL", self.hooks_db_url())
                .env("BOOKWISH_HOOKS_LISTEN", format!("127.0.0.1:{port}"))
                .env(
                    "RUST_LOG",
                    std::env::var("BOOKWISH_HOOKS_LOG").unwrap_or_else(|_| "info".into()),
                );
            *slot = Some((Service::spawn("hooks", cmd, self.root())?, port));
        }
        let health = format!("http://127.0.0.1:{port}/health");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Duration::from_secs(30);
        let start = Instant::now();
        loop {
            {
                let mut slot = self
                    .hooks
                    .lock()
                    .map_err(|_| Error::Setup("hooks state poisoned".into()))?;
                if let Some((service, _)) = slot.as_mut() {
                    if let Err(e) = service.check_running() {
                        slot.take();
                        return Err(e);
                    }
                }
            }
            if let Ok(resp) = client.get(&health).send().await {
                if resp.status().is_success() {
                    return Ok(());
                }
            }
            if start.elapsed() > deadline {
                return Err(Error::NotReady {
                    service: "bookwish-hooks",
                    waited: deadline,
                    log: proc::log_tail(&self.root().join("hooks.log")),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Stops the webhook receiver (SIGTERM: deliveries under way finish), if it runs.
    pub async fn stop_hooks(&self) -> Result<()> {
        let service = self
            .hooks
            .lock()
            .map_err(|_| Error::Setup("hooks state poisoned".into()))?
            .take();
        if let Some((service, _)) = service {
            service.stop(Duration::from_secs(5)).await;
        }
        Ok(())
    }

    /// The webhook endpoint (`…/webhooks/clerk`), while the receiver runs.
    pub fn hooks_url(&self) -> Option<String> {
        let slot = self.hooks.lock().ok()?;
        slot.as_ref().map(|(_, port)| webhook_url(*port))
    }

    /// Sends Clerk's `user.deleted` event for `user_id` to the running receiver, signed with
    /// `secret` (one it was started with) by the svix crate, as Svix signs Clerk's deliveries;
    /// returns the receiver's JSON answer (`{"result": "applied", …}`), or an error if it did
    /// not answer 2xx.
    pub async fn send_user_deleted(&self, user_id: &str, secret: &str) -> Result<Value> {
        let url = self
            .hooks_url()
            .ok_or_else(|| Error::Setup("the webhook receiver is not running".into()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| Error::Setup(format!("the clock is before 1970: {e}")))?;
        let body = serde_json::json!({
            "object": "event",
            "type": "user.deleted",
            "data": {"object": "user", "id": user_id, "deleted": true},
            "timestamp": now.as_millis() as u64,
            "instance_id": "ins_2bookwishlocal",
        })
        .to_string();
        let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
        let timestamp = now.as_secs() as i64;
        let signature = svix::webhooks::Webhook::new(secret)
            .and_then(|hook| hook.sign(&id, timestamp, body.as_bytes()))
            .map_err(|e| Error::Setup(format!("signing the event with {secret:?}: {e}")))?;
        let reply = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/json")
            .header("svix-id", id)
            .header("svix-timestamp", timestamp.to_string())
            .header("svix-signature", signature)
            .body(body)
            .send()
            .await?;
        let status = reply.status();
        let text = reply.text().await?;
        if !status.is_success() {
            return Err(Error::Setup(format!(
                "the webhook receiver refused user.deleted ({status}): {text}"
            )));
        }
        serde_json::from_str(&text)
            .map_err(|e| Error::Setup(format!("the receiver's answer is not JSON ({e}): {text}")))
    }

    /// The receiver's connection URL: role `bookwish_hooks`, which may only execute the two
    /// hooks functions.
    pub fn hooks_db_url(&self) -> String {
        format!(
            "postgres://bookwish_hooks:{}@127.0.0.1:{}/postgres",
            self.hooks_password,
            self.ports().postgres
        )
    }
}
