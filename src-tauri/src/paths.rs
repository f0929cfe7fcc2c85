//! Where Bookwish keeps its files.
//!
//! By default the OS's per-user app-data directory (`~/.local/share/app.bookwish.desktop` on
//! Linux, `~/Library/Application Support/…` on macOS, `%APPDATA%\…` on Windows). The
//! environment variable `BOOKWISH_DATA_DIR` overrides it, so tests and second profiles never
//! touch a real user's data; the log directory then moves inside it too.

use std::path::{Path, PathBuf};

/// Environment variable overriding the data directory.
pub const DATA_DIR_ENV: &str = "BOOKWISH_DATA_DIR";

/// The directories the app writes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// Databases live here.
    pub data_dir: PathBuf,
    /// The daily `bookwish.*.log` files live here.
    pub log_dir: PathBuf,
}

impl Paths {
    /// Resolves the directories from the override (if set and not empty) or the OS defaults.
    pub fn resolve(
        override_dir: Option<&Path>,
        os_data_dir: PathBuf,
        os_log_dir: PathBuf,
    ) -> Paths {
        match override_dir.filter(|dir| !dir.as_os_str().is_empty()) {
            Some(dir) => Paths {
                data_dir: dir.to_path_buf(),
                log_dir: dir.join("logs"),
            },
            None => Paths {
                data_dir: os_data_dir,
                log_dir: os_log_dir,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_override_moves_data_and_logs() {
        let paths = Paths::resolve(
            Some(Path::new("/tmp/bw")),
            "/os/data".into(),
            "/os/log".into(),
        );
        assert_eq!(
            paths.data_dir,
            Path::new("/tmp/bw"),
            "the override must hold the data"
        );
        assert_eq!(
            paths.log_dir,
            Path::new("/tmp/bw/logs"),
            "logs follow the override"
        );
    }

    #[test]
    fn without_override_the_os_directories_are_used() {
        for empty in [None, Some(Path::new(""))] {
            let paths = Paths::resolve(empty, "/os/data".into(), "/os/log".into());
            assert_eq!(
                paths.data_dir,
                Path::new("/os/data"),
                "no override: OS data dir"
            );
            assert_eq!(
                paths.log_dir,
                Path::new("/os/log"),
                "no override: OS log dir"
            );
        }
    }
}
