//! Accounts the server deleted whose books are still on this computer: the notice that says
//! plainly that the account no longer exists, and the user's choice — remove its books from
//! this computer (after a confirmation naming how many) or keep them for now.
//!
//! The shell lists such accounts in `app_info` (at launch) and announces a deletion as it
//! happens (the `account-deleted` event, with `auth-changed` to local-only). The two can race
//! at launch — an account deleted while the app was closed is found by the first sync — so
//! both are merged by user id. "Keep for now" hides the notice until the next launch: the books
//! stay, and the app asks again then. Nothing is removed without the confirmation.

use std::rc::Rc;

use bookwish_ipc::DeletedAccount;
use yew::Reducible;

use crate::text::{books, size};

/// The notices and the confirmation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeletedAccounts {
    /// The accounts to tell about, oldest deletion first.
    pub accounts: Vec<DeletedAccount>,
    /// The account whose removal waits for the user's confirmation.
    pub confirming: Option<String>,
    /// The account whose books are being removed (its buttons wait).
    pub removing: Option<String>,
    /// Accounts kept for now: not shown again until the next launch.
    kept: Vec<String>,
}

/// What happened to a deleted account's notice.
#[derive(Clone, Debug, PartialEq)]
pub enum DeletedAction {
    /// `app_info` answered: the deleted accounts whose books are on this computer.
    Known(Vec<DeletedAccount>),
    /// The `account-deleted` event: the signed-in account was just deleted.
    Deleted(DeletedAccount),
    /// "Keep for now": hide the notice until the next launch.
    Keep(String),
    /// "Remove…": ask for confirmation.
    AskRemove(String),
    /// The confirmation was cancelled (or Esc).
    CancelRemove,
    /// Confirmed: `remove_account_books` runs.
    Removing(String),
    /// The books were removed: the notice goes.
    Removed(String),
    /// The removal failed (the toast says why): the notice stays to try again.
    RemoveFailed(String),
}

impl DeletedAccounts {
    /// The account being confirmed, if its notice is still there.
    pub fn confirming(&self) -> Option<&DeletedAccount> {
        let id = self.confirming.as_deref()?;
        self.accounts.iter().find(|account| account.user_id == id)
    }

    /// Whether `user_id`'s books are being removed.
    pub fn is_removing(&self, user_id: &str) -> bool {
        self.removing.as_deref() == Some(user_id)
    }

    /// Adds or refreshes `account` (the newer news wins), unless it was kept for now.
    fn learn(&mut self, account: DeletedAccount) {
        if self.kept.contains(&account.user_id) {
            return;
        }
        match self
            .accounts
            .iter_mut()
            .find(|known| known.user_id == account.user_id)
        {
            Some(known) if known.deleted_at <= account.deleted_at => *known = account,
            Some(_) => {}
            None => self.accounts.push(account),
        }
        self.accounts
            .sort_by(|a, b| (a.deleted_at, &a.user_id).cmp(&(b.deleted_at, &b.user_id)));
    }

    /// Forgets `user_id`'s notice and any confirmation of it.
    fn forget(&mut self, user_id: &str) {
        self.accounts.retain(|account| account.user_id != user_id);
        if self.confirming.as_deref() == Some(user_id) {
            self.confirming = None;
        }
        if self.removing.as_deref() == Some(user_id) {
            self.removing = None;
        }
    }

    fn knows(&self, user_id: &str) -> bool {
        self.accounts
            .iter()
            .any(|account| account.user_id == user_id)
    }
}

impl Reducible for DeletedAccounts {
    type Action = DeletedAction;

    fn reduce(self: Rc<Self>, action: DeletedAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            DeletedAction::Known(accounts) => accounts.into_iter().for_each(|a| next.learn(a)),
            DeletedAction::Deleted(account) => {
                // Deleted again after "keep for now" (signed in once more): tell again.
                next.kept.retain(|id| *id != account.user_id);
                next.learn(account);
            }
            DeletedAction::Keep(user_id) => {
                if self.removing.is_some() || !self.knows(&user_id) {
                    return self;
                }
                next.forget(&user_id);
                next.kept.push(user_id);
            }
            DeletedAction::AskRemove(user_id) => {
                if self.removing.is_some() || !self.knows(&user_id) {
                    return self;
                }
                next.confirming = Some(user_id);
            }
            DeletedAction::CancelRemove => {
                if self.removing.is_some() {
                    return self;
                }
                next.confirming = None;
            }
            DeletedAction::Removing(user_id) => {
                if self.removing.is_some() || !self.knows(&user_id) {
                    return self;
                }
                next.removing = Some(user_id);
            }
            DeletedAction::Removed(user_id) => next.forget(&user_id),
            DeletedAction::RemoveFailed(user_id) => {
                if self.removing.as_deref() == Some(user_id.as_str()) {
                    next.removing = None;
                }
            }
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

/// The notice's heading: "The account alice@example.com no longer exists".
pub fn headline(account: &DeletedAccount) -> String {
    if account.email.trim().is_empty() && account.name.trim().is_empty() {
        "Your account no longer exists".to_owned()
    } else {
        format!("The account {} no longer exists", account.label())
    }
}

/// What happened and what is left: the books still on this computer, counted.
pub fn explanation(account: &DeletedAccount) -> String {
    let lead = "It was deleted, along with its books on the server, so you've been signed out \
                and Bookwish shows the books kept on this computer without an account.";
    match size(account.books) {
        0 => format!("{lead} None of the account's books are left on this computer."),
        n => format!(
            "{lead} The account's {} still on this computer, apart from this list, until you \
             remove {}.",
            if n == 1 {
                "1 book is".to_owned()
            } else {
                format!("{} are", books(n))
            },
            if n == 1 { "it" } else { "them" }
        ),
    }
}

/// The notice's button that asks to remove: "Remove 3 books from this computer…", or "OK"
/// when no book is left (the empty database then goes without a question).
pub fn remove_label(account: &DeletedAccount) -> String {
    match size(account.books) {
        0 => "OK".to_owned(),
        n => format!("Remove {} from this computer…", books(n)),
    }
}

/// Whether removing needs the confirmation: only when books would go.
pub fn needs_confirmation(account: &DeletedAccount) -> bool {
    account.books > 0
}

/// The confirmation's title: "Remove 3 books from this computer?"
pub fn confirm_title(account: &DeletedAccount) -> String {
    format!("Remove {} from this computer?", books(size(account.books)))
}

/// The confirmation's text: whose books, and that it cannot be undone.
pub fn confirm_text(account: &DeletedAccount) -> String {
    let whose = if account.email.trim().is_empty() && account.name.trim().is_empty() {
        "your deleted account".to_owned()
    } else {
        account.label().to_owned()
    };
    let (they, them) = if account.books == 1 {
        ("It was", "it")
    } else {
        ("They were", "them")
    };
    format!(
        "{they} in {whose}, which no longer exists, so nothing else has a copy. Removing \
         {them} can't be undone."
    )
}

/// The confirming button: "Remove 3 books".
pub fn confirm_label(account: &DeletedAccount) -> String {
    format!("Remove {}", books(size(account.books)))
}

/// The toast after removing: "Removed 3 books of alice@example.com from this computer".
pub fn removed_text(account: &DeletedAccount, removed: u32) -> String {
    match size(removed) {
        0 => format!("Removed {} from this computer", account.label()),
        n => format!(
            "Removed {} of {} from this computer",
            books(n),
            account.label()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice(books: u32, deleted_at: i64) -> DeletedAccount {
        DeletedAccount {
            user_id: "user_alice".into(),
            name: "Alice Liddell".into(),
            email: "alice@example.com".into(),
            books,
            deleted_at,
        }
    }

    fn bob() -> DeletedAccount {
        DeletedAccount {
            user_id: "user_bob".into(),
            name: String::new(),
            email: "bob@example.com".into(),
            books: 1,
            deleted_at: 5,
        }
    }

    fn told(account: DeletedAccount) -> Rc<DeletedAccounts> {
        Rc::<DeletedAccounts>::default().reduce(DeletedAction::Deleted(account))
    }

    #[test]
    fn the_notice_says_plainly_that_the_account_no_longer_exists() {
        let account = alice(3, 10);
        assert_eq!(
            headline(&account),
            "The account alice@example.com no longer exists"
        );
        let text = explanation(&account);
        assert!(
            text.contains("signed out") && text.contains("3 books are still on this computer"),
            "the notice says the user was signed out and how many books stayed: {text}"
        );
        assert!(
            explanation(&alice(1, 10)).contains(
                "1 book is still on this computer, apart from \
                                                 this list, until you remove it."
            ),
            "one book reads as one: {}",
            explanation(&alice(1, 10))
        );
        assert!(
            explanation(&alice(0, 10)).contains("None of the account's books are left"),
            "no book left says so"
        );
        let nameless = DeletedAccount {
            name: String::new(),
            email: String::new(),
            ..alice(2, 1)
        };
        assert_eq!(headline(&nameless), "Your account no longer exists");
    }

    #[test]
    fn an_event_and_app_info_show_one_notice_per_account() {
        let state = told(alice(3, 10)).reduce(DeletedAction::Known(vec![alice(3, 10), bob()]));
        assert_eq!(
            state.accounts,
            vec![bob(), alice(3, 10)],
            "the launch's list and the event merge by account, oldest deletion first"
        );
        let state = Rc::<DeletedAccounts>::default()
            .reduce(DeletedAction::Known(vec![alice(3, 10)]))
            .reduce(DeletedAction::Deleted(alice(4, 20)));
        assert_eq!(
            state.accounts,
            vec![alice(4, 20)],
            "the newer news about an account replaces the older"
        );
        let same = Rc::clone(&state).reduce(DeletedAction::Known(vec![alice(3, 10)]));
        assert!(Rc::ptr_eq(&state, &same), "an older answer changes nothing");
    }

    #[test]
    fn removing_asks_first_naming_how_many_books() {
        let account = alice(3, 10);
        assert_eq!(remove_label(&account), "Remove 3 books from this computer…");
        assert!(
            needs_confirmation(&account),
            "books would go: confirm first"
        );
        let state = told(account.clone()).reduce(DeletedAction::AskRemove("user_alice".into()));
        let asked = state.confirming().expect("the confirmation opens");
        assert_eq!(confirm_title(asked), "Remove 3 books from this computer?");
        assert_eq!(confirm_label(asked), "Remove 3 books");
        assert_eq!(
            confirm_text(asked),
            "They were in alice@example.com, which no longer exists, so nothing else has a \
             copy. Removing them can't be undone."
        );
        let cancelled = Rc::clone(&state).reduce(DeletedAction::CancelRemove);
        assert_eq!(cancelled.confirming, None, "cancel closes the confirmation");
        assert_eq!(
            cancelled.accounts,
            vec![account],
            "and keeps the notice and the books"
        );
    }

    #[test]
    fn a_removal_waits_then_the_notice_goes_or_stays_on_failure() {
        let state = told(alice(3, 10))
            .reduce(DeletedAction::AskRemove("user_alice".into()))
            .reduce(DeletedAction::Removing("user_alice".into()));
        assert!(state.is_removing("user_alice"), "the buttons wait");
        for busy in [
            DeletedAction::CancelRemove,
            DeletedAction::Keep("user_alice".into()),
            DeletedAction::Removing("user_alice".into()),
        ] {
            let same = Rc::clone(&state).reduce(busy.clone());
            assert!(
                Rc::ptr_eq(&state, &same),
                "{busy:?} while the removal runs changes nothing"
            );
        }
        let failed = Rc::clone(&state).reduce(DeletedAction::RemoveFailed("user_alice".into()));
        assert!(
            !failed.is_removing("user_alice"),
            "a failure frees the buttons"
        );
        assert!(
            failed.confirming().is_some(),
            "and leaves the confirmation to try again"
        );
        let done = state.reduce(DeletedAction::Removed("user_alice".into()));
        assert!(done.accounts.is_empty(), "removed: the notice goes");
        assert_eq!(done.confirming, None, "with its confirmation");
        assert!(!done.is_removing("user_alice"), "nothing waits");
    }

    #[test]
    fn keep_for_now_hides_the_notice_until_the_next_launch() {
        let state = told(alice(3, 10)).reduce(DeletedAction::Keep("user_alice".into()));
        assert!(state.accounts.is_empty(), "kept: the notice hides");
        let same = Rc::clone(&state).reduce(DeletedAction::Known(vec![alice(3, 10)]));
        assert!(
            same.accounts.is_empty(),
            "a late app_info answer does not bring it back in this session"
        );
        let again = state.reduce(DeletedAction::Deleted(alice(3, 30)));
        assert_eq!(
            again.accounts,
            vec![alice(3, 30)],
            "deleted once more (signed in again meanwhile): told again"
        );
    }

    #[test]
    fn an_account_without_books_is_cleared_with_ok_and_the_toast_names_it() {
        let empty = alice(0, 1);
        assert_eq!(remove_label(&empty), "OK");
        assert!(
            !needs_confirmation(&empty),
            "nothing of the user's would go: no question"
        );
        assert_eq!(
            removed_text(&alice(3, 1), 3),
            "Removed 3 books of alice@example.com from this computer"
        );
        assert_eq!(
            removed_text(&bob(), 1),
            "Removed 1 book of bob@example.com from this computer"
        );
        assert_eq!(
            removed_text(&empty, 0),
            "Removed alice@example.com from this computer"
        );
        let unknown = told(alice(3, 1)).reduce(DeletedAction::AskRemove("user_nobody".into()));
        assert_eq!(
            unknown.confirming, None,
            "only a known account is confirmed"
        );
    }
}
