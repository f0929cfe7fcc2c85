//! `bookwish-stack up|down|status`: the local backend for running the app by hand
//! (`./x stack …`). `up` starts PostgreSQL, PostgREST and the OpenID provider detached under
//! `.stack/` on fixed ports and writes the app's configuration to `.stack/bookwish.toml`; with
//! them the Clerk webhook receiver (`bookwish-hooks`, built beside this binary) and its test
//! signing secret.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use bookwish_stack::{
    process_alive, repo_root, signal, wait_gone, HooksOptions, Ports, Signal, Stack, StackOptions,
    StackState, LOCAL_WEBHOOK_SECRET, USERS,
};

fn stack_dir() -> PathBuf {
    std::env::var_os("BOOKWISH_STACK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".stack"))
}

fn read_state(dir: &std::path::Path) -> Option<StackState> {
    let text = std::fs::read_to_string(dir.join("state.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// What of a recorded stack still runs.
struct Health {
    postgres: bool,
    postgrest: bool,
    idp: bool,
    /// None when the stack was started without the receiver.
    hooks: Option<bool>,
}

impl Health {
    fn all(&self) -> bool {
        self.postgres && self.postgrest && self.idp && self.hooks.unwrap_or(true)
    }
    fn any(&self) -> bool {
        self.postgres || self.postgrest || self.idp || self.hooks.unwrap_or(false)
    }
}

fn postmaster_pid(state: &StackState) -> Option<u32> {
    let text = std::fs::read_to_string(state.pg_data.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

fn health(state: &StackState) -> Health {
    Health {
        postgres: postmaster_pid(state).is_some_and(|pid| process_alive(pid, "postgres")),
        postgrest: process_alive(state.postgrest_pid, "postgrest"),
        idp: process_alive(state.idp_pid, "server.mjs"),
        hooks: (state.hooks_pid != 0).then(|| process_alive(state.hooks_pid, "bookwish-hooks")),
    }
}

async fn ready(url: &str) -> bool {
    let Ok(client) = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
    else {
        return false;
    };
    matches!(client.get(url).send().await, Ok(r) if r.status().is_success())
}

fn print_info(state: &StackState, dir: &std::path::Path) {
    let config = dir.join("bookwish.toml");
    let rel = config
        .strip_prefix(repo_root())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| config.display().to_string());
    eprintln!("  PostgREST (supabase_url, rest_url)  {}", state.rest_url);
    eprintln!(
        "  PostgREST admin                     http://127.0.0.1:{}/ready",
        state.ports.rest_admin
    );
    eprintln!("  OpenID provider (clerk_issuer)      {}", state.issuer);
    match &state.hooks_url {
        Some(url) => {
            eprintln!("  Clerk webhook receiver              {url}");
            eprintln!("  webhook signing secret (test only)  {LOCAL_WEBHOOK_SECRET}");
        }
        None => eprintln!("  Clerk webhook receiver              not running"),
    }
    eprintln!(
        "  PostgreSQL (psql)                   psql '{}'",
        state.db_url
    );
    eprintln!("  test users (username / password):");
    for user in USERS {
        eprintln!(
            "    {:<6} / {:<17} sub {}",
            user.username, user.password, user.sub
        );
    }
    eprintln!("  app configuration                   {}", config.display());
    eprintln!("  run the app against it:             BOOKWISH_CONFIG={rel} ./x run");
    eprintln!(
        "  logs                                {}/*.log",
        dir.display()
    );
}

async fn up() -> Result<ExitCode> {
    let dir = stack_dir();
    if let Some(state) = read_state(&dir) {
        let h = health(&state);
        if h.all() {
            eprintln!("bookwish stack already running:");
            print_info(&state, &dir);
            return Ok(ExitCode::SUCCESS);
        }
        if h.any() {
            eprintln!("a previous stack is partly running; stopping it first");
            down_state(&state).await?;
        }
        let _ = std::fs::remove_file(dir.join("state.json"));
    }
    eprintln!("starting the bookwish stack in {} …", dir.display());
    let stack = Stack::start(StackOptions {
        root: Some(dir.clone()),
        ports: Ports::dev_defaults(),
        ..StackOptions::default()
    })
    .await
    .context("start the local stack")?;
    let hooks = HooksOptions {
        port: std::env::var("BOOKWISH_STACK_HOOKS_PORT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(54333),
        ..HooksOptions::beside_current_exe()
    };
    if let Err(e) = stack.start_hooks(&hooks).await {
        eprintln!("the Clerk webhook receiver did not start ({e}); the rest of the stack runs");
    }
    let started = stack.started_in();
    std::fs::write(dir.join("bookwish.toml"), stack.app_config_toml())
        .context("write bookwish.toml")?;
    let state = stack.detach()?;
    let json = serde_json::to_string_pretty(&state)?;
    std::fs::write(dir.join("state.json"), json).context("write state.json")?;
    eprintln!("bookwish stack up in {:.2} s:", started.as_secs_f64());
    print_info(&state, &dir);
    Ok(ExitCode::SUCCESS)
}

async fn down_state(state: &StackState) -> Result<()> {
    let deadline = Duration::from_secs(10);
    for (pid, needle) in [
        (state.postgrest_pid, "postgrest"),
        (state.idp_pid, "server.mjs"),
        (state.hooks_pid, "bookwish-hooks"),
    ] {
        if process_alive(pid, needle) {
            signal(pid, Signal::SIGTERM);
            if !wait_gone(pid, needle, deadline).await {
                signal(pid, Signal::SIGKILL);
                wait_gone(pid, needle, deadline).await;
            }
        }
    }
    if let Some(pid) = postmaster_pid(state) {
        if process_alive(pid, "postgres") {
            // Fast shutdown (SIGINT to the postmaster), as `pg_ctl stop -m fast` does.
            signal(pid, Signal::SIGINT);
            if !wait_gone(pid, "postgres", Duration::from_secs(30)).await {
                signal(pid, Signal::SIGQUIT);
                wait_gone(pid, "postgres", deadline).await;
            }
        }
    }
    let h = health(state);
    if h.any() {
        bail!(
            "some services did not stop (postgres {}, postgrest {}, idp {}, hooks {})",
            h.postgres,
            h.postgrest,
            h.idp,
            h.hooks.unwrap_or(false)
        );
    }
    Ok(())
}

async fn down() -> Result<ExitCode> {
    let dir = stack_dir();
    let Some(state) = read_state(&dir) else {
        eprintln!("no bookwish stack recorded in {}", dir.display());
        return Ok(ExitCode::SUCCESS);
    };
    down_state(&state).await?;
    // The data is throwaway; the provider's keys (.stack/idp) are kept.
    let pg_dir = state.pg_data.parent().map(PathBuf::from);
    if let Some(pg_dir) = pg_dir.filter(|p| p.starts_with(&dir)) {
        let _ = std::fs::remove_dir_all(pg_dir);
    }
    for file in ["state.json", "postgrest.pid", "idp.pid", "hooks.pid"] {
        let _ = std::fs::remove_file(dir.join(file));
    }
    eprintln!("bookwish stack stopped; nothing of it runs");
    Ok(ExitCode::SUCCESS)
}

async fn status() -> Result<ExitCode> {
    let dir = stack_dir();
    let Some(state) = read_state(&dir) else {
        eprintln!(
            "bookwish stack: not running (nothing recorded in {})",
            dir.display()
        );
        return Ok(ExitCode::from(3));
    };
    let h = health(&state);
    let rest_ready = ready(&format!(
        "http://127.0.0.1:{}/ready",
        state.ports.rest_admin
    ))
    .await;
    let idp_ready = ready(&format!(
        "{}/.well-known/openid-configuration",
        state.issuer
    ))
    .await;
    let word = |running: bool, answering: bool| match (running, answering) {
        (true, true) => "running, ready",
        (true, false) => "running, not answering",
        (false, _) => "stopped",
    };
    eprintln!("bookwish stack in {}:", dir.display());
    eprintln!(
        "  postgresql  {:<24} port {}",
        word(h.postgres, h.postgres),
        state.ports.postgres
    );
    eprintln!(
        "  postgrest   {:<24} {}",
        word(h.postgrest, rest_ready),
        state.rest_url
    );
    eprintln!(
        "  idp         {:<24} {}",
        word(h.idp, idp_ready),
        state.issuer
    );
    let mut hooks_ready = true;
    if let (Some(running), Some(url)) = (h.hooks, &state.hooks_url) {
        let health = url.replace("/webhooks/clerk", "/health");
        hooks_ready = ready(&health).await;
        eprintln!("  hooks       {:<24} {url}", word(running, hooks_ready));
    }
    if h.all() && rest_ready && idp_ready && hooks_ready {
        print_info(&state, &dir);
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(3))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cmd = std::env::args().nth(1).unwrap_or_default();
    let result = match cmd.as_str() {
        "up" => up().await,
        "down" => down().await,
        "status" => status().await,
        _ => {
            eprintln!("usage: bookwish-stack up|down|status");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bookwish-stack {cmd}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
