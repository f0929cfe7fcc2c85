//! Errors of the local stack.

use std::time::Duration;

/// Why the stack could not start, answer or stop.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The operating system's answer.
        #[source]
        source: std::io::Error,
    },
    /// A helper command (initdb, pg_ctl, psql) exited unsuccessfully.
    #[error("{what} failed ({status}): {output}")]
    Command {
        /// The command.
        what: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr (and stdout).
        output: String,
    },
    /// A service did not become ready before its deadline.
    #[error("{service} was not ready after {waited:?}; its log ends with:\n{log}")]
    NotReady {
        /// Which service.
        service: &'static str,
        /// How long we waited.
        waited: Duration,
        /// The last lines of its log.
        log: String,
    },
    /// An HTTP request failed to complete.
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The sign-in flow answered something a Clerk-like provider would not.
    #[error("login failed: {0}")]
    Login(String),
    /// Something the stack needs is missing or in the way (a binary, a port, a running stack).
    #[error("{0}")]
    Setup(String),
}

/// Result with the stack's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches what was being done to an I/O error.
pub(crate) trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            what: what(),
            source,
        })
    }
}
