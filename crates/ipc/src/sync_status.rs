//! Sync status as the UI shows it: the phase (offline, syncing with progress, synced, error),
//! how many local changes wait for the server, and when sync last succeeded or failed.
//!
//! The sync engine (`bookwish-sync`) publishes it; the shell forwards each change as the event
//! [`SYNC_STATUS_EVENT`]. Times are milliseconds since the Unix epoch, like [`crate::Book`]'s.

use serde::{Deserialize, Serialize};

/// Event name carrying a [`SyncStatus`] payload whenever it changes.
pub const SYNC_STATUS_EVENT: &str = "sync-status";

/// What sync is doing right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SyncPhase {
    /// The server cannot be reached; edits are kept and pushed when it can.
    Offline,
    /// A sync is running: `done` of `total` changes pushed or rows pulled so far (`total` is
    /// an estimate and may be 0 while unknown).
    Syncing {
        /// Changes pushed plus rows pulled so far in this sync.
        done: u64,
        /// Expected changes plus rows for this sync.
        total: u64,
    },
    /// Everything was in step with the server at `at`.
    Synced {
        /// When the last sync finished.
        at: i64,
    },
    /// Sync stopped on a failure retrying will not fix by itself (signed out, server refused
    /// the request); `reason` says what the user can do.
    Error {
        /// A sentence for the user.
        reason: String,
    },
}

/// The status indicator's whole state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// What sync is doing.
    pub phase: SyncPhase,
    /// Local changes (books) not yet acknowledged by the server.
    pub pending: u32,
    /// When a sync last finished without error.
    pub last_success: Option<i64>,
    /// The last failure's sentence, kept after later successes for the details view.
    pub last_error: Option<String>,
    /// Conflicts and refused changes waiting for the user ([`crate::SyncIssues`]).
    #[serde(default)]
    pub attention: u32,
}

impl Default for SyncStatus {
    /// Before the first sync: starting up, nothing known yet.
    fn default() -> Self {
        SyncStatus {
            phase: SyncPhase::Syncing { done: 0, total: 0 },
            pending: 0,
            last_success: None,
            last_error: None,
            attention: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_serialises_with_a_tagged_phase() -> Result<(), serde_json::Error> {
        let status = SyncStatus {
            phase: SyncPhase::Syncing { done: 3, total: 10 },
            pending: 2,
            last_success: Some(5),
            last_error: None,
            attention: 0,
        };
        let json = serde_json::to_value(&status)?;
        assert_eq!(
            json,
            serde_json::json!({"phase": {"kind": "syncing", "done": 3, "total": 10},
                               "pending": 2, "last_success": 5, "last_error": null,
                               "attention": 0}),
            "the UI reads the phase by its kind tag"
        );
        let back: SyncStatus = serde_json::from_value(json)?;
        assert_eq!(back, status, "status must round-trip through JSON");
        Ok(())
    }
}
