//! Import and export through the OS's own dialogs, opened from Rust: the window asks for "a
//! file to import" or "save a backup", and the path the user chose never leaves the shell. A
//! file dropped on the window arrives here too (Tauri's drag-and-drop event carries its path to
//! Rust, not to the page).
//!
//! Reading a file into a preview and measuring it against the list is the core's
//! (`bookwish_core::import`, `Store::preview_import`); the shell keeps the one preview the user
//! is looking at ([`Pending`]) under a token until they confirm or cancel, runs the import on
//! the store with progress events, and writes exports through a temporary file renamed into
//! place, so a failed write never leaves half a file where the user asked for one.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bookwish_core::export::{self, ExportError};
use bookwish_core::{import, ImportPreview};
use bookwish_ipc::{
    events, ErrorCode, Exported, ImportDone, ImportOffer, ImportProgress, IpcError, OnMatch,
};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_dialog::DialogExt;

use crate::state::AppState;

/// The file the user is looking at in the import preview, waiting for "Import" or "Cancel".
pub struct Pending {
    token: u64,
    preview: Arc<ImportPreview>,
}

/// The one pending import (a newer file replaces an older one) and the tokens' counter.
#[derive(Default)]
pub struct Imports {
    pending: Mutex<Option<Pending>>,
    last_token: AtomicU64,
}

impl Imports {
    /// Keeps `preview` as the pending import; its token.
    fn hold(&self, preview: Arc<ImportPreview>) -> u64 {
        let token = self.last_token.fetch_add(1, Ordering::Relaxed) + 1;
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Pending { token, preview });
        token
    }

    /// Takes the pending import if it is `token`'s.
    fn take(&self, token: u64) -> Option<Arc<ImportPreview>> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        match pending.take() {
            Some(held) if held.token == token => Some(held.preview),
            other => {
                *pending = other;
                None
            }
        }
    }
}

/// The two files an export writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// A CSV in Goodreads' import layout.
    Goodreads,
    /// Bookwish's JSON backup.
    Backup,
}

impl ExportKind {
    /// The name the save dialog suggests for a file written on `date` (`YYYY-MM-DD`).
    fn file_name(self, date: &str) -> String {
        match self {
            ExportKind::Goodreads => format!("bookwish-goodreads-{date}.csv"),
            ExportKind::Backup => format!("bookwish-backup-{date}.json"),
        }
    }

    fn filter(self) -> (&'static str, &'static [&'static str]) {
        match self {
            ExportKind::Goodreads => ("CSV for Goodreads", &["csv"]),
            ExportKind::Backup => ("Bookwish backup", &["json"]),
        }
    }

    fn title(self) -> &'static str {
        match self {
            ExportKind::Goodreads => "Export for Goodreads",
            ExportKind::Backup => "Save a backup of your books",
        }
    }
}

fn internal(what: &str) -> IpcError {
    IpcError::new(
        ErrorCode::Internal,
        format!(
            "Bookwish hit an internal error {what}; nothing was changed. The log file has details."
        ),
    )
}

/// Runs blocking `work` (a dialog, a file) off the async runtime.
async fn off_thread<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, IpcError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|error| {
            tracing::error!(%error, what, "blocking work crashed");
            internal(what)
        })
}

/// Asks for a file with the OS's open dialog and offers it; `None` when the dialog was closed.
pub async fn pick(app: &AppHandle) -> Result<Option<ImportOffer>, IpcError> {
    let dialog = app.clone();
    let chosen = off_thread("while asking for a file", move || {
        let mut builder = dialog
            .dialog()
            .file()
            .set_title("Import books")
            .add_filter("Reading lists (CSV, Bookwish backup)", &["csv", "json"]);
        if let Some(window) = dialog.get_webview_window("main") {
            builder = builder.set_parent(&window);
        }
        builder.blocking_pick_file()
    })
    .await?;
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let path = chosen.into_path().map_err(|error| {
        IpcError::validation("file", format!("Bookwish can't open this file: {error}."))
    })?;
    offer(app, path).await.map(Some)
}

/// A file dropped on the window: offered like a picked one, or refused with a reason. The
/// answer arrives as [`events::IMPORT_OFFERED`] or [`events::IMPORT_FAILED`].
pub fn dropped(app: &AppHandle, paths: Vec<PathBuf>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let outcome = match droppable(&paths) {
            Ok(path) => offer(&app, path.to_path_buf()).await,
            Err(refusal) => Err(refusal),
        };
        let sent = match outcome {
            Ok(offer) => app.emit(events::IMPORT_OFFERED, offer),
            Err(error) => app.emit(events::IMPORT_FAILED, error),
        };
        if let Err(error) = sent {
            tracing::warn!(%error, "could not tell the window about a dropped file");
        }
    });
}

/// The one file of a drop that can be imported, or why the drop cannot be.
fn droppable(paths: &[PathBuf]) -> Result<&Path, IpcError> {
    let [path] = paths else {
        return Err(IpcError::validation(
            "file",
            format!(
                "Drop one file at a time ({} were dropped): a Goodreads or StoryGraph export \
                 (.csv) or a Bookwish backup (.json).",
                paths.len()
            ),
        ));
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv" | "json") => Ok(path),
        _ => Err(IpcError::validation(
            "file",
            format!(
                "Bookwish imports .csv files (Goodreads, StoryGraph, Bookwish) and .json \
                 backups; “{}” is neither.",
                file_name(path)
            ),
        )),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads the file at `path`, measures it against the list and keeps it pending.
async fn offer(app: &AppHandle, path: PathBuf) -> Result<ImportOffer, IpcError> {
    let file_name = file_name(&path);
    tracing::info!(file = %file_name, "reading a file to import");
    let preview = off_thread("while reading the file", move || {
        import::preview_file(&path)
    })
    .await?
    .map_err(|refusal| {
        tracing::info!(%refusal, "the file cannot be imported");
        IpcError::from(refusal)
    })?;
    let preview = Arc::new(preview);
    let state = app.state::<AppState>();
    let measured = Arc::clone(&preview);
    let summary = state
        .read(move |store| store.preview_import(&measured))
        .await?;
    let token = state.imports().hold(preview);
    Ok(ImportOffer {
        token,
        file_name,
        summary,
    })
}

/// Imports the pending file `token`, sending progress as it goes.
pub async fn confirm(
    app: &AppHandle,
    token: u64,
    on_match: OnMatch,
) -> Result<ImportDone, IpcError> {
    let state = app.state::<AppState>();
    let preview = state.imports().take(token).ok_or_else(|| {
        IpcError::new(
            ErrorCode::NotFound,
            "This file is no longer waiting to be imported. Choose it again.",
        )
    })?;
    let events = app.clone();
    state
        .edit(move |store| {
            store.apply_import(&preview, on_match, &mut |done, total| {
                let progress = ImportProgress { token, done, total };
                if let Err(error) = events.emit(events::IMPORT_PROGRESS, progress) {
                    tracing::debug!(%error, "could not send import progress");
                }
            })
        })
        .await
}

/// Drops the pending file `token` (nothing happens if it is not pending).
pub fn cancel(app: &AppHandle, token: u64) {
    drop(app.state::<AppState>().imports().take(token));
}

/// Asks where to save with the OS's save dialog and writes the list there; `None` when the
/// dialog was closed.
pub async fn export(app: &AppHandle, kind: ExportKind) -> Result<Option<Exported>, IpcError> {
    let dialog = app.clone();
    let today = chrono_today();
    let chosen = off_thread("while asking where to save", move || {
        let (filter, extensions) = kind.filter();
        let mut builder = dialog
            .dialog()
            .file()
            .set_title(kind.title())
            .set_file_name(kind.file_name(&today))
            .add_filter(filter, extensions);
        if let Some(window) = dialog.get_webview_window("main") {
            builder = builder.set_parent(&window);
        }
        builder.blocking_save_file()
    })
    .await?;
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let path = chosen.into_path().map_err(|error| {
        IpcError::new(
            ErrorCode::Storage,
            format!("Bookwish can't write there: {error}."),
        )
    })?;
    let books = app
        .state::<AppState>()
        .read(|store| store.export_books())
        .await?;
    let count = u32::try_from(books.len()).unwrap_or(u32::MAX);
    let file_name = file_name(&path);
    off_thread("while writing the file", move || {
        write_atomically(&path, |out| match kind {
            ExportKind::Goodreads => export::goodreads_csv(&books, out),
            ExportKind::Backup => export::backup_json(&books, now_ms(), out),
        })
    })
    .await?
    .map_err(IpcError::from)?;
    tracing::info!(books = count, file = %file_name, ?kind, "exported");
    Ok(Some(Exported {
        books: count,
        file_name,
    }))
}

/// Writes `path` through a temporary file beside it, renamed over it once complete.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".part");
    let temporary = PathBuf::from(temporary);
    let written = (|| {
        let mut out = BufWriter::new(std::fs::File::create(&temporary)?);
        write(&mut out)?;
        out.flush()?;
        out.get_ref().sync_all()?;
        Ok(())
    })();
    let renamed = written.and_then(|()| Ok(std::fs::rename(&temporary, path)?));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    renamed
}

/// Today's date on this computer, `YYYY-MM-DD`.
fn chrono_today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_csv_or_json_file_can_be_dropped() {
        let one = |name: &str| vec![PathBuf::from(format!("/home/u/{name}"))];
        for name in ["goodreads_library_export.csv", "backup.JSON", "list.Csv"] {
            assert!(
                droppable(&one(name)).is_ok(),
                "{name} is a file Bookwish imports"
            );
        }
        for name in ["list.xlsx", "notes.txt", "no-extension"] {
            let refusal = droppable(&one(name)).expect_err("refused");
            assert!(
                refusal.message.contains(name) && refusal.field.as_deref() == Some("file"),
                "a {name} drop is refused naming the file: {refusal:?}"
            );
        }
        let two = [one("a.csv"), one("b.csv")].concat();
        assert!(
            droppable(&two)
                .expect_err("refused")
                .message
                .contains("one file at a time"),
            "two files at once are refused"
        );
        assert!(droppable(&[]).is_err(), "a drop of nothing is refused");
    }

    #[test]
    fn a_newer_pending_import_replaces_the_older_one() {
        let imports = Imports::default();
        let preview = || {
            Arc::new(
                import::preview_bytes(b"Title,Author,Exclusive Shelf\nDune,Frank Herbert,read\n")
                    .expect("a readable file"),
            )
        };
        let first = imports.hold(preview());
        let second = imports.hold(preview());
        assert_ne!(first, second, "every offer has its own token");
        assert!(imports.take(first).is_none(), "the older offer is gone");
        assert!(imports.take(second).is_some(), "the newer one is taken");
        assert!(imports.take(second).is_none(), "and used up");
    }

    #[test]
    fn exports_are_written_whole_or_not_at_all() -> Result<(), ExportError> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("backup.json");
        std::fs::write(&path, "the old backup")?;
        let failed = write_atomically(&path, |out| {
            out.write_all(b"half a ")?;
            Err(ExportError::Io(std::io::Error::other("disk full")))
        });
        assert!(failed.is_err(), "the failure is reported");
        assert_eq!(
            std::fs::read_to_string(&path)?,
            "the old backup",
            "a failed export leaves the file that was there"
        );
        assert_eq!(
            std::fs::read_dir(dir.path())?.count(),
            1,
            "and no temporary file behind"
        );
        write_atomically(&path, |out| Ok(out.write_all(b"{}")?))?;
        assert_eq!(
            std::fs::read_to_string(&path)?,
            "{}",
            "a complete export replaces it"
        );
        Ok(())
    }

    #[test]
    fn suggested_names_carry_the_date() {
        assert_eq!(chrono_today().len(), 10, "today is written YYYY-MM-DD");
        assert_eq!(
            ExportKind::Backup.file_name("2024-03-01"),
            "bookwish-backup-2024-03-01.json"
        );
        assert_eq!(
            ExportKind::Goodreads.file_name("2024-03-01"),
            "bookwish-goodreads-2024-03-01.csv"
        );
    }
}
