//! The sync indicator: what the account's sync is doing (offline, syncing with progress,
//! synced some time ago, stopped on an error), how many local changes wait for the server,
//! and the words the status bar shows for it.
//!
//! The status comes from two sources that can race: the `sync_status` command (asked at
//! start and whenever the account changes) and the `sync-status` event (sent on every change).
//! An event is always the newest news, so an answer to a question asked before it is ignored;
//! each question carries a number for that.
//!
//! `None` means no account syncs (local-only, or signed in without sync): the indicator hides.

use std::rc::Rc;

use bookwish_ipc::{SyncPhase, SyncStatus};
use yew::Reducible;

use crate::text::grouped;

/// The sync state the status bar shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncState {
    /// The latest status, or `None` while no account syncs.
    pub status: Option<SyncStatus>,
    /// The highest question number asked so far.
    asked: u64,
    /// Answers to questions numbered up to this are older than what is shown.
    stale_through: u64,
}

/// What happened to the sync status.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncAction {
    /// `sync_status` was called; its answer will come as [`SyncAction::Answered`] with the
    /// same number. Numbers grow with each question.
    Asked(u64),
    /// `sync_status` answered question `request`.
    Answered {
        /// The question's number.
        request: u64,
        /// The answer: `None` while no account syncs.
        status: Option<SyncStatus>,
    },
    /// The `sync-status` event: the engine's status changed.
    Event(SyncStatus),
}

impl Reducible for SyncState {
    type Action = SyncAction;

    fn reduce(self: Rc<Self>, action: SyncAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            SyncAction::Asked(request) => {
                next.asked = next.asked.max(request);
            }
            SyncAction::Answered { request, status } => {
                if request <= self.stale_through {
                    return self;
                }
                next.status = status;
                next.asked = next.asked.max(request);
                next.stale_through = request;
            }
            SyncAction::Event(status) => {
                next.status = Some(status);
                next.stale_through = next.asked;
            }
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

/// The phase as the `data-phase` attribute names it.
pub fn phase_name(phase: &SyncPhase) -> &'static str {
    match phase {
        SyncPhase::Offline => "offline",
        SyncPhase::Syncing { .. } => "syncing",
        SyncPhase::Synced { .. } => "synced",
        SyncPhase::Error { .. } => "error",
    }
}

/// What the bar says about where the books are while an account is signed in (`status` is
/// `None` while no account syncs). "Synced with your account" only while sync is in step or
/// running: failing or offline, the books are (only) on this computer, and the bar never
/// claims "Synced" next to an error.
pub fn place_text(status: Option<&SyncStatus>) -> &'static str {
    match status.map(|status| &status.phase) {
        Some(SyncPhase::Synced { .. }) => "Synced with your account",
        Some(SyncPhase::Syncing { .. }) => "Syncing with your account",
        Some(SyncPhase::Offline | SyncPhase::Error { .. }) | None => "Saved on this computer",
    }
}

/// Whether the bar offers to copy diagnostics: when sync stopped on an error (offline needs
/// none: the network is the reason).
pub fn offers_diagnostics(phase: &SyncPhase) -> bool {
    matches!(phase, SyncPhase::Error { .. })
}

/// Whether "Sync now" can be pressed: not while a sync runs.
pub fn can_sync_now(phase: &SyncPhase) -> bool {
    !matches!(phase, SyncPhase::Syncing { .. })
}

/// The progress of a running sync as `(done, total)` for a progress bar, `done` never past
/// `total`; `None` when no sync runs or its size is not known yet.
pub fn progress(phase: &SyncPhase) -> Option<(u64, u64)> {
    match *phase {
        SyncPhase::Syncing { done, total } if total > 0 => Some((done.min(total), total)),
        _ => None,
    }
}

/// What the indicator says, with `now` in milliseconds since the Unix epoch:
/// "Offline — changes are kept on this computer", "Syncing…", "Syncing… 120 of 1,000",
/// "Synced 3 min ago", "Sync error: <reason>".
pub fn phase_text(phase: &SyncPhase, now: i64) -> String {
    match phase {
        SyncPhase::Offline => "Offline — changes are kept on this computer".to_owned(),
        SyncPhase::Syncing { .. } => match progress(phase) {
            Some((done, total)) => {
                format!("Syncing… {} of {}", grouped_u64(done), grouped_u64(total))
            }
            None => "Syncing…".to_owned(),
        },
        SyncPhase::Synced { at } => format!("Synced {}", ago(now, *at)),
        SyncPhase::Error { reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                "Sync error".to_owned()
            } else {
                format!("Sync error: {reason}")
            }
        }
    }
}

/// A tooltip with more detail than the bar has room for: the last success and, after an
/// error, its full sentence.
pub fn details(status: &SyncStatus, now: i64) -> String {
    let mut lines = vec![phase_text(&status.phase, now)];
    if !matches!(status.phase, SyncPhase::Synced { .. }) {
        lines.push(match status.last_success {
            Some(at) => format!("Last synced {}", ago(now, at)),
            None => "Not synced yet on this computer".to_owned(),
        });
    }
    if let Some(waiting) = pending_text(status.pending) {
        lines.push(waiting);
    }
    if let Some(error) = status.last_error.as_deref().map(str::trim) {
        if !error.is_empty() && !matches!(status.phase, SyncPhase::Error { .. }) {
            lines.push(format!("Last problem: {error}"));
        }
    }
    lines.join("\n")
}

/// "1 change waiting", "2,345 changes waiting"; `None` when nothing waits.
pub fn pending_text(pending: u32) -> Option<String> {
    match pending {
        0 => None,
        1 => Some("1 change waiting".to_owned()),
        n => Some(format!("{} changes waiting", grouped_u64(u64::from(n)))),
    }
}

/// How long ago `at` was, from `now` (both milliseconds since the Unix epoch): "just now"
/// under a minute (and for a time in the future, as a clock set differently gives),
/// "3 min ago", "2 hours ago", "yesterday", "5 days ago".
pub fn ago(now: i64, at: i64) -> String {
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let elapsed = now.saturating_sub(at);
    if elapsed < MINUTE {
        "just now".to_owned()
    } else if elapsed < HOUR {
        format!("{} min ago", elapsed / MINUTE)
    } else if elapsed < DAY {
        let hours = elapsed / HOUR;
        if hours == 1 {
            "1 hour ago".to_owned()
        } else {
            format!("{hours} hours ago")
        }
    } else {
        let days = elapsed / DAY;
        if days == 1 {
            "yesterday".to_owned()
        } else {
            format!("{} days ago", grouped_u64(days.unsigned_abs()))
        }
    }
}

fn grouped_u64(n: u64) -> String {
    grouped(usize::try_from(n).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn status(phase: SyncPhase) -> SyncStatus {
        SyncStatus {
            phase,
            pending: 0,
            last_success: None,
            last_error: None,
            attention: 0,
        }
    }

    fn synced(at: i64) -> SyncStatus {
        status(SyncPhase::Synced { at })
    }

    #[test]
    fn hidden_until_an_account_syncs() {
        assert_eq!(
            SyncState::default().status,
            None,
            "nothing before the answer"
        );
        let state = Rc::<SyncState>::default()
            .reduce(SyncAction::Asked(1))
            .reduce(SyncAction::Answered {
                request: 1,
                status: None,
            });
        assert_eq!(state.status, None, "local-only: no indicator");
        let state = state
            .reduce(SyncAction::Asked(2))
            .reduce(SyncAction::Answered {
                request: 2,
                status: Some(synced(5)),
            });
        assert_eq!(state.status, Some(synced(5)), "signed in: the answer shows");
        let state = state
            .reduce(SyncAction::Asked(3))
            .reduce(SyncAction::Answered {
                request: 3,
                status: None,
            });
        assert_eq!(state.status, None, "signed out: hidden again");
    }

    #[test]
    fn events_follow_every_change() {
        let state = Rc::<SyncState>::default()
            .reduce(SyncAction::Event(status(SyncPhase::Syncing {
                done: 1,
                total: 4,
            })))
            .reduce(SyncAction::Event(synced(9)));
        assert_eq!(state.status, Some(synced(9)), "the latest event wins");
        let same = Rc::clone(&state).reduce(SyncAction::Event(synced(9)));
        assert!(Rc::ptr_eq(&state, &same), "the same status changes nothing");
    }

    #[test]
    fn an_answer_older_than_an_event_is_ignored() {
        let state = Rc::<SyncState>::default()
            .reduce(SyncAction::Asked(1))
            .reduce(SyncAction::Event(synced(9)))
            .reduce(SyncAction::Answered {
                request: 1,
                status: Some(status(SyncPhase::Offline)),
            });
        assert_eq!(
            state.status,
            Some(synced(9)),
            "the answer was read before the event was sent"
        );
        let state = state
            .reduce(SyncAction::Asked(2))
            .reduce(SyncAction::Answered {
                request: 2,
                status: Some(status(SyncPhase::Offline)),
            });
        assert_eq!(
            state.status,
            Some(status(SyncPhase::Offline)),
            "a question asked after the event is newer"
        );
    }

    #[test]
    fn answers_arriving_out_of_order_keep_the_newest() {
        let state = Rc::<SyncState>::default()
            .reduce(SyncAction::Asked(1))
            .reduce(SyncAction::Asked(2))
            .reduce(SyncAction::Answered {
                request: 2,
                status: Some(synced(9)),
            })
            .reduce(SyncAction::Answered {
                request: 1,
                status: None,
            });
        assert_eq!(state.status, Some(synced(9)), "the older answer is ignored");
    }

    #[test]
    fn nothing_reads_synced_while_sync_is_failing() {
        let now = 100 * MIN;
        let failing = SyncStatus {
            phase: SyncPhase::Error {
                reason: "The sync server sent an answer Bookwish can't use.".into(),
            },
            pending: 2,
            last_success: Some(now - 5 * MIN),
            last_error: Some("The sync server sent an answer Bookwish can't use.".into()),
            attention: 0,
        };
        let state = Rc::<SyncState>::default()
            .reduce(SyncAction::Event(synced(now - 5 * MIN)))
            .reduce(SyncAction::Event(failing.clone()));
        let status = state.status.as_ref().expect("the error is shown");
        assert_eq!(status, &failing, "the error replaces the earlier success");
        let bar = format!(
            "{} {}",
            place_text(Some(status)),
            phase_text(&status.phase, now)
        );
        assert!(
            !bar.contains("Synced"),
            "the bar never claims Synced next to an error: {bar:?}"
        );
        assert!(
            offers_diagnostics(&status.phase),
            "an error offers diagnostics"
        );
        let offline = Rc::clone(&state).reduce(SyncAction::Event(status_with(
            SyncPhase::Offline,
            Some(now - 5 * MIN),
        )));
        let status = offline.status.as_ref().expect("offline is shown");
        assert!(
            !place_text(Some(status)).contains("Synced"),
            "nor while offline"
        );
        assert!(
            !offers_diagnostics(&status.phase),
            "offline needs no diagnostics"
        );
        let back = offline.reduce(SyncAction::Event(synced(now)));
        assert_eq!(
            place_text(back.status.as_ref()),
            "Synced with your account",
            "once in step again, the bar says so"
        );
        assert_eq!(place_text(None), "Saved on this computer");
    }

    fn status_with(phase: SyncPhase, last_success: Option<i64>) -> SyncStatus {
        SyncStatus {
            last_success,
            ..status(phase)
        }
    }

    #[test]
    fn phases_read_as_the_indicator_says_them() {
        let now = 1_000 * MIN;
        assert_eq!(
            phase_text(&SyncPhase::Offline, now),
            "Offline — changes are kept on this computer"
        );
        assert_eq!(
            phase_text(
                &SyncPhase::Syncing {
                    done: 120,
                    total: 1_000
                },
                now
            ),
            "Syncing… 120 of 1,000"
        );
        assert_eq!(
            phase_text(&SyncPhase::Syncing { done: 3, total: 0 }, now),
            "Syncing…",
            "no count while the size is unknown"
        );
        assert_eq!(
            phase_text(&SyncPhase::Synced { at: now - 3 * MIN }, now),
            "Synced 3 min ago"
        );
        assert_eq!(
            phase_text(
                &SyncPhase::Error {
                    reason: "The server refused the change.".into()
                },
                now
            ),
            "Sync error: The server refused the change."
        );
        assert_eq!(
            phase_text(&SyncPhase::Error { reason: " ".into() }, now),
            "Sync error",
            "no dangling colon"
        );
        let names: Vec<_> = [
            SyncPhase::Offline,
            SyncPhase::Syncing { done: 0, total: 0 },
            SyncPhase::Synced { at: 0 },
            SyncPhase::Error {
                reason: String::new(),
            },
        ]
        .iter()
        .map(phase_name)
        .collect();
        assert_eq!(names, ["offline", "syncing", "synced", "error"]);
    }

    #[test]
    fn progress_is_shown_only_with_a_known_size() {
        assert_eq!(
            progress(&SyncPhase::Syncing {
                done: 120,
                total: 1_000
            }),
            Some((120, 1_000))
        );
        assert_eq!(progress(&SyncPhase::Syncing { done: 5, total: 0 }), None);
        assert_eq!(
            progress(&SyncPhase::Syncing {
                done: 12,
                total: 10
            }),
            Some((10, 10)),
            "an estimate that ran short does not overflow the bar"
        );
        assert_eq!(
            phase_text(
                &SyncPhase::Syncing {
                    done: 12,
                    total: 10
                },
                0
            ),
            "Syncing… 10 of 10"
        );
        assert_eq!(progress(&SyncPhase::Offline), None);
    }

    #[test]
    fn sync_now_waits_for_a_running_sync() {
        assert!(!can_sync_now(&SyncPhase::Syncing { done: 0, total: 0 }));
        assert!(can_sync_now(&SyncPhase::Offline));
        assert!(can_sync_now(&SyncPhase::Synced { at: 0 }));
        assert!(can_sync_now(&SyncPhase::Error { reason: "x".into() }));
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = 100_000 * MIN;
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now, now - 59_999), "just now", "under a minute");
        assert_eq!(ago(now, now + 5 * MIN), "just now", "a clock ahead of ours");
        assert_eq!(ago(now, now - MIN), "1 min ago");
        assert_eq!(ago(now, now - 59 * MIN), "59 min ago");
        assert_eq!(ago(now, now - 60 * MIN), "1 hour ago");
        assert_eq!(ago(now, now - 5 * 60 * MIN), "5 hours ago");
        assert_eq!(ago(now, now - 24 * 60 * MIN), "yesterday");
        assert_eq!(ago(now, now - 3 * 24 * 60 * MIN), "3 days ago");
        assert_eq!(
            ago(i64::MAX, i64::MIN),
            "106,751,991,167 days ago",
            "no overflow"
        );
    }

    #[test]
    fn pending_changes_are_counted() {
        assert_eq!(pending_text(0), None, "nothing waits: nothing shown");
        assert_eq!(pending_text(1).as_deref(), Some("1 change waiting"));
        assert_eq!(pending_text(2).as_deref(), Some("2 changes waiting"));
        assert_eq!(
            pending_text(12_345).as_deref(),
            Some("12,345 changes waiting")
        );
    }

    #[test]
    fn details_add_what_the_bar_leaves_out() {
        let now = 100 * MIN;
        let offline = SyncStatus {
            phase: SyncPhase::Offline,
            pending: 2,
            last_success: Some(now - 10 * MIN),
            last_error: Some("Can't reach the server.".into()),
            attention: 0,
        };
        assert_eq!(
            details(&offline, now),
            "Offline — changes are kept on this computer\nLast synced 10 min ago\n\
             2 changes waiting\nLast problem: Can't reach the server."
        );
        assert_eq!(
            details(&synced(now), now),
            "Synced just now",
            "nothing more to say"
        );
        let first = status(SyncPhase::Syncing { done: 0, total: 0 });
        assert_eq!(
            details(&first, now),
            "Syncing…\nNot synced yet on this computer"
        );
    }
}
