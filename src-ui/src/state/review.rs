//! The review panel: the conflicts and refused changes sync left for the user, what the panel
//! shows for them, and when it asks the shell for them again.
//!
//! The panel asks `sync_issues` when it opens, after each of its actions, and whenever the
//! sync status reports a different number of issues waiting (`attention`). Answers are
//! numbered like the sync status's: one to a question asked before a newer answer, or before
//! the panel was last opened, is dropped. While the panel is closed nothing is kept, so it
//! never opens on a stale list.

use std::rc::Rc;

use bookwish_ipc::{ConflictView, RejectionView, SyncIssues};
use yew::Reducible;

use crate::text::{and_list, counted};

/// One item of the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Issue {
    /// A field conflict, by id.
    Conflict(i64),
    /// A refused change, by id.
    Rejection(i64),
    /// A book from the account this version cannot show, by id.
    Unreadable(i64),
}

/// The review panel's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Review {
    /// Whether the panel is open.
    pub open: bool,
    /// The latest answer since the panel opened; `None` until it comes.
    pub issues: Option<SyncIssues>,
    /// Bumped to ask `sync_issues` again.
    pub revision: u64,
    /// Items whose action (keep, use other, discard) is under way.
    pub busy: Vec<Issue>,
    /// The last question failed and there is nothing to show instead.
    pub failed: bool,
    /// The highest question number asked so far.
    asked: u64,
    /// Answers to questions numbered up to this are older than what is shown.
    stale_through: u64,
    /// The `attention` of the latest sync status, to notice when it changes.
    attention: Option<u32>,
}

/// What happened to the panel.
#[derive(Clone, Debug, PartialEq)]
pub enum ReviewAction {
    /// The user opened the panel (the status bar's button).
    Open,
    /// The user closed it (close button, Esc), or the account changed.
    Close,
    /// `sync_issues` was called; its answer comes with the same number.
    Asked(u64),
    /// `sync_issues` answered question `request`.
    Loaded {
        /// The question's number.
        request: u64,
        /// The answer.
        issues: SyncIssues,
    },
    /// `sync_issues` failed for question `request` (the error is shown as a toast).
    LoadFailed {
        /// The question's number.
        request: u64,
    },
    /// A sync status arrived with this many issues waiting.
    Attention(u32),
    /// Ask again ("Try again" after a failed load).
    Reload,
    /// An action on an item started.
    Started(Issue),
    /// An action on an item succeeded: the item is settled.
    Done(Issue),
    /// An action on an item failed (the error is shown as a toast); the item stays.
    Failed(Issue),
}

/// What the panel's body shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content<'a> {
    /// The first answer has not come yet.
    Loading,
    /// The first answer failed.
    Failed,
    /// Nothing needs the user.
    Empty,
    /// The conflicts and refused changes to show.
    Issues(&'a SyncIssues),
}

impl Review {
    /// What the body shows now.
    pub fn content(&self) -> Content<'_> {
        match &self.issues {
            Some(issues) if issues.is_empty() => Content::Empty,
            Some(issues) => Content::Issues(issues),
            None if self.failed => Content::Failed,
            None => Content::Loading,
        }
    }

    /// Whether an action on `issue` is under way (its buttons wait).
    pub fn is_busy(&self, issue: Issue) -> bool {
        self.busy.contains(&issue)
    }

    /// Whether the latest answer still lists `issue`; `None` before the first answer.
    pub fn lists(&self, issue: Issue) -> Option<bool> {
        self.issues.as_ref().map(|issues| match issue {
            Issue::Conflict(id) => issues.conflicts.iter().any(|c| c.id == id),
            Issue::Rejection(id) => issues.rejections.iter().any(|r| r.id == id),
            Issue::Unreadable(id) => issues.unreadable.iter().any(|u| u.id == id),
        })
    }
}

impl Reducible for Review {
    type Action = ReviewAction;

    fn reduce(self: Rc<Self>, action: ReviewAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            ReviewAction::Open => {
                if self.open {
                    return self;
                }
                next.open = true;
                next.issues = None;
                next.failed = false;
                next.busy.clear();
                next.revision += 1;
                // Anything asked while closed belongs to the last time it was open.
                next.stale_through = next.asked;
            }
            ReviewAction::Close => {
                if !self.open {
                    return self;
                }
                next.open = false;
                next.issues = None;
                next.failed = false;
                next.busy.clear();
            }
            ReviewAction::Asked(request) => {
                next.asked = next.asked.max(request);
            }
            ReviewAction::Loaded { request, issues } => {
                if !self.open || request <= self.stale_through {
                    return self;
                }
                next.issues = Some(issues);
                next.failed = false;
                next.asked = next.asked.max(request);
                next.stale_through = request;
            }
            ReviewAction::LoadFailed { request } => {
                if !self.open || request <= self.stale_through {
                    return self;
                }
                next.failed = true;
                next.asked = next.asked.max(request);
                next.stale_through = request;
            }
            ReviewAction::Attention(count) => {
                if self.attention == Some(count) {
                    return self;
                }
                next.attention = Some(count);
                if self.open {
                    next.revision += 1;
                }
            }
            ReviewAction::Reload => {
                if !self.open {
                    return self;
                }
                next.revision += 1;
                next.failed = false;
            }
            ReviewAction::Started(issue) => {
                if !self.busy.contains(&issue) {
                    next.busy.push(issue);
                }
            }
            ReviewAction::Done(issue) => {
                next.busy.retain(|&busy| busy != issue);
                if let Some(issues) = next.issues.as_mut() {
                    match issue {
                        Issue::Conflict(id) => issues.conflicts.retain(|c| c.id != id),
                        Issue::Rejection(id) => issues.rejections.retain(|r| r.id != id),
                        Issue::Unreadable(id) => issues.unreadable.retain(|u| u.id != id),
                    }
                }
                if self.open {
                    next.revision += 1;
                }
            }
            ReviewAction::Failed(issue) => {
                next.busy.retain(|&busy| busy != issue);
            }
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

/// The status bar's button: "1 needs attention", "2 need attention"; `None` when nothing
/// waits.
pub fn attention_text(attention: u32) -> Option<String> {
    match attention {
        0 => None,
        1 => Some("1 needs attention".to_owned()),
        n => Some(format!(
            "{} need attention",
            crate::text::grouped(crate::text::size(n))
        )),
    }
}

/// The line under the panel's title: "2 conflicts · 1 refused change".
pub fn summary(issues: &SyncIssues) -> String {
    let mut parts = Vec::new();
    if !issues.conflicts.is_empty() {
        parts.push(counted(issues.conflicts.len(), "conflict", "conflicts"));
    }
    if !issues.rejections.is_empty() {
        parts.push(counted(
            issues.rejections.len(),
            "refused change",
            "refused changes",
        ));
    }
    parts.join(" · ")
}

/// Where the two values of a conflict came from, as `(current, other)`: "this computer" and
/// "another device", in the order the conflict's winner gives.
pub fn sources(conflict: &ConflictView) -> (&'static str, &'static str) {
    if conflict.this_device_won {
        ("this computer", "another device")
    } else {
        ("another device", "this computer")
    }
}

/// The sentence that says how a conflict came about and whose edit was kept.
pub fn conflict_story(conflict: &ConflictView) -> String {
    let (winner, loser) = sources(conflict);
    if conflict.field.eq_ignore_ascii_case("deleted") {
        return format!(
            "This book was deleted on {winner} while {loser} edited it. The delete was kept."
        );
    }
    let kept = if conflict.this_device_won {
        "this computer's edit"
    } else {
        "the edit from another device"
    };
    format!(
        "“{}” was changed on both devices before they synced; Bookwish kept {kept}.",
        conflict.field
    )
}

/// A value as the panel shows it; `None` for an empty value (shown as "Empty").
pub fn shown_value(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

/// "Refused: Title and Rating" for a rejection's fields; `None` when the shell named none.
pub fn refused_fields(rejection: &RejectionView) -> Option<String> {
    (!rejection.fields.is_empty()).then(|| format!("Refused: {}", and_list(&rejection.fields)))
}

/// Why "Fix…" cannot be used, when it cannot: the book is gone from this computer, so there
/// is nothing to open in the edit form.
pub fn fix_unavailable(rejection: &RejectionView) -> Option<&'static str> {
    rejection.proposed.is_none().then_some(
        "This book is no longer on this computer, so there is nothing to fix. Discard the change.",
    )
}

#[cfg(test)]
mod tests {
    use bookwish_ipc::{BookDraft, BookId};

    use super::*;

    fn conflict(id: i64, this_device_won: bool) -> ConflictView {
        ConflictView {
            id,
            book_id: BookId::from_u128(1),
            book_title: "Dune".into(),
            field: "Status".into(),
            current: "Finished".into(),
            other: "Reading".into(),
            this_device_won,
            detected_at: 0,
        }
    }

    fn rejection(id: i64, proposed: Option<BookDraft>) -> RejectionView {
        RejectionView {
            id,
            book_id: BookId::from_u128(2),
            book_title: "Emma".into(),
            fields: vec!["Title".into()],
            code: "check_violation".into(),
            message: "The title is too long.".into(),
            proposed,
            rejected_at: 0,
        }
    }

    fn issues(conflicts: Vec<ConflictView>, rejections: Vec<RejectionView>) -> SyncIssues {
        SyncIssues {
            conflicts,
            rejections,
            unreadable: Vec::new(),
        }
    }

    fn opened() -> Rc<Review> {
        Rc::<Review>::default().reduce(ReviewAction::Open)
    }

    #[test]
    fn opening_asks_and_shows_loading_until_the_answer() {
        let state = opened();
        assert!(state.open, "open opens");
        assert_eq!(state.revision, 1, "opening asks for the issues");
        assert_eq!(
            state.content(),
            Content::Loading,
            "nothing to show before the answer"
        );
        let state = state
            .reduce(ReviewAction::Asked(1))
            .reduce(ReviewAction::Loaded {
                request: 1,
                issues: issues(vec![conflict(1, true)], vec![]),
            });
        assert!(
            matches!(state.content(), Content::Issues(i) if i.conflicts.len() == 1),
            "the answer is shown"
        );
        let again = Rc::clone(&state).reduce(ReviewAction::Open);
        assert!(
            Rc::ptr_eq(&state, &again),
            "opening an open panel changes nothing"
        );
    }

    #[test]
    fn nothing_waiting_is_the_empty_state() {
        let state = opened().reduce(ReviewAction::Loaded {
            request: 1,
            issues: SyncIssues::default(),
        });
        assert_eq!(
            state.content(),
            Content::Empty,
            "no conflicts and no rejections shows the empty state"
        );
    }

    #[test]
    fn closing_forgets_so_reopening_never_shows_stale_issues() {
        let state = opened()
            .reduce(ReviewAction::Asked(1))
            .reduce(ReviewAction::Loaded {
                request: 1,
                issues: issues(vec![conflict(1, true)], vec![]),
            })
            .reduce(ReviewAction::Asked(2))
            .reduce(ReviewAction::Close);
        assert_eq!(state.issues, None, "a closed panel keeps nothing");
        let state = state.reduce(ReviewAction::Loaded {
            request: 2,
            issues: issues(vec![conflict(1, true)], vec![]),
        });
        assert_eq!(state.issues, None, "an answer after closing is dropped");
        let state = state.reduce(ReviewAction::Open);
        assert_eq!(state.revision, 2, "reopening asks again");
        let state = state.reduce(ReviewAction::Loaded {
            request: 2,
            issues: issues(vec![conflict(1, true)], vec![]),
        });
        assert_eq!(
            state.content(),
            Content::Loading,
            "an answer to a question asked before reopening is stale"
        );
    }

    #[test]
    fn answers_out_of_order_keep_the_newest() {
        let state = opened()
            .reduce(ReviewAction::Asked(1))
            .reduce(ReviewAction::Asked(2))
            .reduce(ReviewAction::Loaded {
                request: 2,
                issues: SyncIssues::default(),
            })
            .reduce(ReviewAction::Loaded {
                request: 1,
                issues: issues(vec![conflict(1, true)], vec![]),
            });
        assert_eq!(
            state.content(),
            Content::Empty,
            "an older answer must not replace a newer one"
        );
    }

    #[test]
    fn a_failed_first_load_is_shown_but_a_failed_reload_keeps_the_list() {
        let state = opened()
            .reduce(ReviewAction::Asked(1))
            .reduce(ReviewAction::LoadFailed { request: 1 });
        assert_eq!(
            state.content(),
            Content::Failed,
            "with nothing loaded the failure is the content"
        );
        let state = state
            .reduce(ReviewAction::Asked(2))
            .reduce(ReviewAction::Loaded {
                request: 2,
                issues: issues(vec![], vec![rejection(1, None)]),
            })
            .reduce(ReviewAction::Asked(3))
            .reduce(ReviewAction::LoadFailed { request: 3 });
        assert!(
            matches!(state.content(), Content::Issues(_)),
            "a failed reload keeps showing what was loaded"
        );
        let retried = Rc::<Review>::default()
            .reduce(ReviewAction::Open)
            .reduce(ReviewAction::LoadFailed { request: 1 })
            .reduce(ReviewAction::Reload);
        assert_eq!(retried.revision, 2, "try again asks again");
        assert_eq!(
            retried.content(),
            Content::Loading,
            "and shows loading while it waits"
        );
        let closed = Rc::<Review>::default();
        let same = Rc::clone(&closed).reduce(ReviewAction::Reload);
        assert!(Rc::ptr_eq(&closed, &same), "a closed panel never asks");
    }

    #[test]
    fn a_change_in_attention_reloads_an_open_panel_only() {
        let closed = Rc::<Review>::default().reduce(ReviewAction::Attention(2));
        assert_eq!(closed.revision, 0, "a closed panel never asks");
        let state = closed.reduce(ReviewAction::Open);
        let before = state.revision;
        let same = Rc::clone(&state).reduce(ReviewAction::Attention(2));
        assert!(
            Rc::ptr_eq(&state, &same),
            "the same attention as before does not reload"
        );
        let state = state.reduce(ReviewAction::Attention(3));
        assert_eq!(
            state.revision,
            before + 1,
            "a different attention reloads the open panel"
        );
        let state = state.reduce(ReviewAction::Attention(0));
        assert_eq!(
            state.revision,
            before + 2,
            "attention dropping (settled elsewhere) reloads too"
        );
    }

    #[test]
    fn an_action_marks_its_item_busy_then_settles_it_and_reloads() {
        let state = opened().reduce(ReviewAction::Loaded {
            request: 1,
            issues: issues(vec![conflict(1, true), conflict(2, false)], vec![]),
        });
        let state = state.reduce(ReviewAction::Started(Issue::Conflict(1)));
        assert!(
            state.is_busy(Issue::Conflict(1)),
            "the item's buttons wait for the answer"
        );
        assert!(
            !state.is_busy(Issue::Conflict(2)),
            "other items stay usable"
        );
        let before = state.revision;
        let state = state.reduce(ReviewAction::Done(Issue::Conflict(1)));
        assert!(!state.is_busy(Issue::Conflict(1)), "done is no longer busy");
        assert_eq!(
            state.lists(Issue::Conflict(1)),
            Some(false),
            "a settled item leaves the list at once"
        );
        assert_eq!(
            state.lists(Issue::Conflict(2)),
            Some(true),
            "other items stay"
        );
        assert_eq!(
            state.revision,
            before + 1,
            "every action is followed by a reload"
        );
    }

    #[test]
    fn a_failed_action_keeps_the_item() {
        let state = opened()
            .reduce(ReviewAction::Loaded {
                request: 1,
                issues: issues(vec![], vec![rejection(7, None)]),
            })
            .reduce(ReviewAction::Started(Issue::Rejection(7)))
            .reduce(ReviewAction::Failed(Issue::Rejection(7)));
        assert!(
            !state.is_busy(Issue::Rejection(7)),
            "a failure frees the buttons"
        );
        assert_eq!(
            state.lists(Issue::Rejection(7)),
            Some(true),
            "a failed action leaves the item to try again"
        );
        assert_eq!(
            state.lists(Issue::Conflict(7)),
            Some(false),
            "conflict and rejection ids are different things"
        );
    }

    #[test]
    fn attention_reads_as_a_count() {
        assert_eq!(attention_text(0), None, "no button when nothing waits");
        assert_eq!(attention_text(1).as_deref(), Some("1 needs attention"));
        assert_eq!(attention_text(2).as_deref(), Some("2 need attention"));
        assert_eq!(
            attention_text(1_200).as_deref(),
            Some("1,200 need attention"),
            "big counts are grouped"
        );
    }

    #[test]
    fn the_summary_counts_each_kind() {
        let both = issues(
            vec![conflict(1, true), conflict(2, true)],
            vec![rejection(3, None)],
        );
        assert_eq!(summary(&both), "2 conflicts · 1 refused change");
        let rejections = issues(vec![], vec![rejection(3, None), rejection(4, None)]);
        assert_eq!(
            summary(&rejections),
            "2 refused changes",
            "a kind with none is left out"
        );
    }

    #[test]
    fn a_conflict_says_whose_edit_won() {
        let mine = conflict(1, true);
        assert_eq!(
            sources(&mine),
            ("this computer", "another device"),
            "this device won: the current value is this computer's"
        );
        assert!(
            conflict_story(&mine).ends_with("Bookwish kept this computer's edit."),
            "the story names the winner: {}",
            conflict_story(&mine)
        );
        let theirs = conflict(2, false);
        assert_eq!(
            sources(&theirs),
            ("another device", "this computer"),
            "another device won: the other value is this computer's"
        );
        assert_eq!(
            conflict_story(&theirs),
            "“Status” was changed on both devices before they synced; Bookwish kept the edit \
             from another device.",
            "the story names the field and the winner"
        );
        let deleted = ConflictView {
            field: "Deleted".into(),
            ..conflict(3, false)
        };
        assert_eq!(
            conflict_story(&deleted),
            "This book was deleted on another device while this computer edited it. \
             The delete was kept.",
            "a delete that beat an edit is told as such"
        );
    }

    #[test]
    fn empty_values_are_named_and_rejections_explained() {
        assert_eq!(shown_value("  "), None, "a blank value shows as Empty");
        assert_eq!(shown_value(" Dune "), Some("Dune"), "values are trimmed");
        let mut refused = rejection(1, Some(BookDraft::default()));
        assert_eq!(refused_fields(&refused).as_deref(), Some("Refused: Title"));
        assert_eq!(fix_unavailable(&refused), None, "a proposal can be fixed");
        refused.fields = vec!["Title".into(), "Rating".into()];
        assert_eq!(
            refused_fields(&refused).as_deref(),
            Some("Refused: Title and Rating")
        );
        refused.fields.clear();
        assert_eq!(refused_fields(&refused), None, "no fields, no line");
        assert!(
            fix_unavailable(&rejection(2, None)).is_some(),
            "without a proposal Fix explains why it is off"
        );
    }
}
