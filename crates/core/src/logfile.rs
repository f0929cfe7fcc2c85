//! The app's log file: one a day (`bookwish.YYYY-MM-DD.log`, UTC dates, the names the app's
//! logs always had), the newest [`KEEP_DAYS`] kept, each readable by the user only.
//!
//! The log names the user's account and what sync did with their books, so like the
//! databases it is the user's alone: files are created 0600 on Unix (and a file an older
//! version left with the default mode is tightened when reopened). `tracing-appender`'s
//! rolling writer creates its files with the process's default mode (0644 under the usual
//! umask) and has no setting for it, so the shell hands this writer to its non-blocking
//! worker instead.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Log files are named `<PREFIX>.<date>.<SUFFIX>`.
pub const PREFIX: &str = "bookwish";
/// See [`PREFIX`].
pub const SUFFIX: &str = "log";
/// Days of logs kept.
pub const KEEP_DAYS: usize = 7;

/// Appends to today's log file in a folder, starting a new file when the (UTC) date changes
/// and removing the oldest beyond [`KEEP_DAYS`].
#[derive(Debug)]
pub struct LogFile {
    dir: PathBuf,
    current: Option<(String, File)>,
}

impl LogFile {
    /// The log in `dir` (created, readable by the user only, if missing), today's file open.
    pub fn open(dir: &Path) -> io::Result<LogFile> {
        crate::db::create_private_dir(dir).map_err(|error| io::Error::other(error.to_string()))?;
        let mut log = LogFile {
            dir: dir.to_path_buf(),
            current: None,
        };
        log.file()?;
        Ok(log)
    }

    /// Today's file, opened (and older ones pruned) when the date changed.
    fn file(&mut self) -> io::Result<&mut File> {
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        if self.current.as_ref().is_none_or(|(date, _)| *date != today) {
            let path = self.dir.join(format!("{PREFIX}.{today}.{SUFFIX}"));
            let file = open_private(&path)?;
            self.current = Some((today, file));
            prune(&self.dir);
        }
        match &mut self.current {
            Some((_, file)) => Ok(file),
            None => Err(io::Error::other("no log file is open")),
        }
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.current {
            Some((_, file)) => file.flush(),
            None => Ok(()),
        }
    }
}

/// Opens `path` for appending, creating it readable by the user only.
fn open_private(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = options.mode(0o600).open(path)?;
        // `mode` applies only when the file is created: tighten one an older version made.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path)
    }
}

/// The log files in `dir`, oldest first (their names sort by date).
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    path.file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| {
                            name.starts_with(&format!("{PREFIX}."))
                                && name.ends_with(&format!(".{SUFFIX}"))
                        })
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Removes all but the newest [`KEEP_DAYS`] files. Best effort: a file that cannot be removed
/// stays.
fn prune(dir: &Path) {
    let found = files(dir);
    let excess = found.len().saturating_sub(KEEP_DAYS);
    for old in &found[..excess] {
        let _ = std::fs::remove_file(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_log_file_is_readable_by_the_user_only() -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let logs = dir.path().join("logs");
        let mut log = LogFile::open(&logs)?;
        writeln!(log, "signed in user_id=user_1")?;
        log.flush()?;
        let made = files(&logs);
        assert_eq!(made.len(), 1, "today's file exists: {made:?}");
        let mode = std::fs::metadata(&made[0])?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the log is the user's only, is {mode:o}");
        let folder = std::fs::metadata(&logs)?.permissions().mode() & 0o777;
        assert_eq!(folder, 0o700, "and so is its folder, is {folder:o}");

        // A file left by an older version with the default mode is tightened on reopening.
        std::fs::set_permissions(&made[0], std::fs::Permissions::from_mode(0o644))?;
        drop(log);
        let _log = LogFile::open(&logs)?;
        let mode = std::fs::metadata(&made[0])?.permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "reopened, the log is private again, is {mode:o}"
        );
        Ok(())
    }

    #[test]
    fn only_the_newest_week_is_kept_and_lines_are_appended() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        for day in 1..=9 {
            std::fs::write(
                dir.path().join(format!("{PREFIX}.2020-01-0{day}.{SUFFIX}")),
                "old\n",
            )?;
        }
        std::fs::write(dir.path().join("other.txt"), "not a log")?;
        let mut log = LogFile::open(dir.path())?;
        writeln!(log, "first")?;
        writeln!(log, "second")?;
        log.flush()?;
        let kept = files(dir.path());
        assert_eq!(kept.len(), KEEP_DAYS, "a week of files is kept: {kept:?}");
        assert!(
            !kept[0].ends_with(format!("{PREFIX}.2020-01-01.{SUFFIX}")),
            "the oldest went first"
        );
        assert!(
            dir.path().join("other.txt").exists(),
            "other files are left alone"
        );
        let today = std::fs::read_to_string(kept.last().expect("today's file"))?;
        assert_eq!(today, "first\nsecond\n", "lines are appended in order");
        Ok(())
    }
}
