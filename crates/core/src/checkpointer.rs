//! The replica's background checkpoints: a big pull writes tens of megabytes to the
//! write-ahead log, and copying them into the database file inside the pull's own commits
//! (SQLite's automatic checkpoint) would stall the pull. A thread with a connection of its own
//! copies the log after each pull transaction instead, on another CPU, while the next
//! transaction is written (a passive checkpoint never waits for a writer, nor a writer for it).

use std::path::Path;
use std::sync::mpsc;

use crate::db;

/// Wakes the checkpoint thread; the thread ends when this is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wake: mpsc::SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread for the database at `path` (already opened and migrated by
    /// [`db::Db::open`]); `None`, logged, when it cannot, and then SQLite's own automatic
    /// checkpoint stays in charge.
    pub(crate) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = match db::open_for_checkpoints(path) {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "no background checkpoints: could not open the database");
                return None;
            }
        };
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let spawned = std::thread::Builder::new()
            .name("bookwish-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    if let Err(error) = db::checkpoint(&conn, true) {
                        tracing::debug!(%error, "a background checkpoint failed; the next one retries");
                    }
                }
            });
        match spawned {
            Ok(_) => Some(Checkpointer { wake }),
            Err(error) => {
                tracing::warn!(%error, "no background checkpoints: could not start the thread");
                None
            }
        }
    }

    /// Asks for a checkpoint (one already asked for and not started covers this one too).
    pub(crate) fn wake(&self) {
        let _ = self.wake.try_send(());
    }
}
