//! The diagnostics a user can copy when sync fails: the app's version, the OS, the account kind
//! and sync's state, and the last lines of the log — with every token, code, query string,
//! e-mail address and user id taken out, whatever the log holds.
//!
//! The log is written never to hold secrets (no token, code or callback query is logged), but
//! a diagnostics text leaves the computer: [`redact`] runs over the whole text as a second
//! guard, so a secret that reached a log line anyway (a library's message, an older version's
//! log) is still not shared.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::LazyLock;

use bookwish_ipc::{SyncPhase, SyncStatus};
use regex::{Captures, Regex};

/// Log lines included at most.
pub const LOG_LINES: usize = 200;
/// Bytes read from the end of the log at most (the lines are taken from them).
const LOG_BYTES: u64 = 256 * 1024;

/// What a diagnostics text says.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The app's version.
    pub version: String,
    /// The OS ([`os_description`]).
    pub os: String,
    /// "signed in", "local-only", …: never who.
    pub account: String,
    /// Sync's state, while an account syncs.
    pub sync: Option<SyncStatus>,
    /// The last log lines ([`recent_log`]).
    pub log: String,
}

impl Report {
    /// The text to copy, redacted.
    pub fn render(&self) -> String {
        let sync = match &self.sync {
            None => "not syncing".to_owned(),
            Some(status) => {
                let phase = match &status.phase {
                    SyncPhase::Offline => "offline".to_owned(),
                    SyncPhase::Syncing { done, total } => format!("syncing ({done} of {total})"),
                    SyncPhase::Synced { at } => format!("synced at {}", utc(*at)),
                    SyncPhase::Error { reason } => format!("error: {reason}"),
                };
                let mut lines = vec![
                    format!("Sync: {phase}"),
                    format!("Changes waiting: {}", status.pending),
                    format!("Needing attention: {}", status.attention),
                    format!(
                        "Last synced: {}",
                        status.last_success.map_or_else(|| "never".to_owned(), utc)
                    ),
                ];
                if let Some(error) = &status.last_error {
                    lines.push(format!("Last problem: {error}"));
                }
                lines.join("\n")
            }
        };
        let text = format!(
            "Bookwish diagnostics\n\
             Version: {}\n\
             OS: {}\n\
             Account: {}\n\
             {sync}\n\
             \n\
             Recent log (tokens, codes, addresses and user ids removed):\n\
             {}",
            self.version,
            self.os,
            self.account,
            if self.log.trim().is_empty() {
                "(empty)"
            } else {
                self.log.trim_end()
            }
        );
        redact(&text)
    }
}

fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// The OS name, version and architecture: `/etc/os-release`'s name on Linux, else the
/// family the app was built for.
pub fn os_description() -> String {
    let name = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                line.strip_prefix("PRETTY_NAME=")
                    .map(|value| value.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    format!("{name} ({})", std::env::consts::ARCH)
}

/// The last [`LOG_LINES`] lines of the newest log files in `dir` (read from the end, at most
/// a few hundred kilobytes), oldest first; empty when there is no log.
pub fn recent_log(dir: &Path) -> String {
    let mut lines: Vec<String> = Vec::new();
    for file in crate::logfile::files(dir).iter().rev() {
        let mut older = tail(file);
        older.append(&mut lines);
        lines = older;
        if lines.len() >= LOG_LINES {
            break;
        }
    }
    let skip = lines.len().saturating_sub(LOG_LINES);
    lines[skip..].join("\n")
}

/// The last lines of `file` (whole lines only), from its last [`LOG_BYTES`].
fn tail(file: &Path) -> Vec<String> {
    let Ok(mut handle) = std::fs::File::open(file) else {
        return Vec::new();
    };
    let length = handle.metadata().map_or(0, |m| m.len());
    let start = length.saturating_sub(LOG_BYTES);
    if handle.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if handle.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0); // begins mid-line
    }
    lines
}

/// One pattern and what replaces it.
struct Rule {
    pattern: Regex,
    replace: fn(&Captures<'_>) -> String,
}

/// What must never leave the computer, and what replaces it. Checked in order.
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pattern: &str, replace: fn(&Captures<'_>) -> String| Rule {
        // The patterns are constants checked by the tests below.
        pattern: Regex::new(pattern).unwrap_or_else(|error| panic!("{pattern}: {error}")),
        replace,
    };
    vec![
        // A URL's query (codes, state, tokens): keep where it pointed.
        rule(
            r#"(?i)\b((?:https?|bookwish)://[^\s?#"'<>]*)\?[^\s"'<>]*"#,
            |c| format!("{}?[query removed]", &c[1]),
        ),
        // Authorization headers.
        rule(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*", |c| {
            format!("{} [token removed]", &c[1])
        }),
        // name=value or "name": "value" for anything secret-shaped.
        rule(
            r#"(?i)\b((?:access|refresh|id)_token|token|code|code_verifier|state|nonce|password|passwd|secret|client_secret|apikey|api_key|cookie|set-cookie)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"#,
            |c| format!("{}{}[removed]", &c[1], &c[2]),
        ),
        // JWTs anywhere (access and ID tokens).
        rule(
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
            |_| "[token removed]".to_owned(),
        ),
        // E-mail addresses.
        rule(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", |_| {
            "[e-mail removed]".to_owned()
        }),
        // Clerk-style user ids.
        rule(r"\buser_[A-Za-z0-9]{6,}", |_| "user_[removed]".to_owned()),
        // Long opaque strings of letters and digits (refresh tokens, keys), but not UUIDs
        // (device and book ids help and identify nobody).
        rule(r"[A-Za-z0-9_\-]{32,}", |c| {
            let run = &c[0];
            let letters = run.chars().any(|ch| ch.is_ascii_alphabetic());
            let digits = run.chars().any(|ch| ch.is_ascii_digit());
            if letters && digits && uuid::Uuid::try_parse(run).is_err() {
                "[removed]".to_owned()
            } else {
                run.to_owned()
            }
        }),
    ]
});

/// `text` with tokens, codes, query strings, e-mail addresses, user ids and long opaque
/// strings replaced by a marker.
pub fn redact(text: &str) -> String {
    RULES.iter().fold(text.to_owned(), |text, rule| {
        rule.pattern
            .replace_all(&text, |c: &Captures<'_>| (rule.replace)(c))
            .into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJ1c2VyX2FsaWNlIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    const REFRESH: &str = "Xk3Lq9vT2mR8pW4nZ7yB1cD6fG0hJ5sA";

    #[test]
    fn diagnostics_from_a_log_with_a_bearer_token_keep_no_secret() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let log = format!(
            "2026-11-03T10:00:00Z  INFO bookwish_sync: sync failed error=the server refused\n\
             2026-11-03T10:00:01Z DEBUG reqwest: GET http://127.0.0.1:3000/sync_rows?select=id&version=gt.5 Authorization: Bearer {JWT}\n\
             2026-11-03T10:00:02Z  WARN bookwish_auth: refresh failed refresh_token={REFRESH}\n\
             2026-11-03T10:00:03Z  WARN bookwish_shell: deep link bookwish://auth/callback?code=abc123&state=xyz789\n\
             2026-11-03T10:00:04Z  INFO bookwish_auth::auth: signed in user_id=user_alice2bW9kQ4mX7rT1nV8 email=alice@bookwish.test\n\
             2026-11-03T10:00:05Z  INFO token body {{\"access_token\": \"{JWT}\", \"id_token\":\"{JWT}\"}}\n"
        );
        std::fs::write(
            dir.path().join(format!(
                "{}.2026-11-03.{}",
                crate::logfile::PREFIX,
                crate::logfile::SUFFIX
            )),
            log,
        )?;
        let report = Report {
            version: "0.1.0".into(),
            os: "Debian GNU/Linux 12 (bookworm) (x86_64)".into(),
            account: "signed in".into(),
            sync: Some(SyncStatus {
                phase: SyncPhase::Error {
                    reason: "The sync server sent an answer Bookwish can't use.".into(),
                },
                pending: 3,
                last_success: Some(0),
                last_error: Some("The sync server sent an answer Bookwish can't use.".into()),
                attention: 1,
            }),
            log: recent_log(dir.path()),
        };
        let text = report.render();
        for secret in [
            JWT,
            "eyJ",
            REFRESH,
            "abc123",
            "xyz789",
            "select=id",
            "alice@bookwish.test",
            "user_alice2bW9kQ4mX7rT1nV8",
        ] {
            assert!(
                !text.contains(secret),
                "diagnostics must never hold {secret:?}:\n{text}"
            );
        }
        for kept in [
            "Version: 0.1.0",
            "Debian GNU/Linux 12",
            "Account: signed in",
            "Sync: error: The sync server sent an answer Bookwish can't use.",
            "Changes waiting: 3",
            "Needing attention: 1",
            "sync failed error=the server refused",
            "GET http://127.0.0.1:3000/sync_rows?[query removed]",
            "Bearer [token removed]",
            "bookwish://auth/callback?[query removed]",
            "refresh_token=[removed]",
        ] {
            assert!(
                text.contains(kept),
                "diagnostics keep what helps ({kept:?}):\n{text}"
            );
        }
        Ok(())
    }

    #[test]
    fn plain_words_ids_and_paths_survive_redaction() {
        let line = "device 0192f0c4-7a1b-7cde-8f00-123456789abc pulled 1000 rows in 42 ms \
                    from /home/me/.local/share/app.bookwish.desktop/accounts";
        assert_eq!(
            redact(line),
            line,
            "UUIDs, counts and paths are not secrets"
        );
    }

    #[test]
    fn only_the_last_lines_of_the_newest_files_are_read() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let name = |day: &str| {
            format!(
                "{}.{day}.{}",
                crate::logfile::PREFIX,
                crate::logfile::SUFFIX
            )
        };
        let old: String = (0..LOG_LINES).map(|i| format!("old {i}\n")).collect();
        std::fs::write(dir.path().join(name("2026-11-01")), old)?;
        std::fs::write(dir.path().join(name("2026-11-02")), "new 1\nnew 2\n")?;
        let log = recent_log(dir.path());
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), LOG_LINES, "at most {LOG_LINES} lines");
        assert_eq!(lines.last(), Some(&"new 2"), "ending with the newest line");
        assert_eq!(lines[LOG_LINES - 3], format!("old {}", LOG_LINES - 1));
        assert_eq!(
            recent_log(&dir.path().join("missing")),
            "",
            "no log: nothing"
        );
        Ok(())
    }
}
