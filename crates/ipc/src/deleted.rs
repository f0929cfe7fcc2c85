//! An account deleted on the server while this computer still holds its books.
//!
//! When Clerk deletes a user, Supabase forgets everything of theirs and refuses their tokens.
//! The app hears it at the next sync: it signs out, shows the local-only list, and says
//! plainly that the account no longer exists (the event [`ACCOUNT_DELETED_EVENT`]). The
//! account's database stays on this computer until the user chooses to remove it
//! ([`crate::commands::RemoveAccountBooks`]); until then every launch lists it in
//! [`crate::AppInfo::deleted_accounts`].

use serde::{Deserialize, Serialize};

/// Event name carrying a [`DeletedAccount`]: the signed-in account was deleted on the server;
/// the app signed out (an `auth-changed` to local-only comes with it).
pub const ACCOUNT_DELETED_EVENT: &str = "account-deleted";

/// An account the server deleted whose books are still on this computer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedAccount {
    /// The provider's user id (`sub`): what [`crate::commands::RemoveAccountBooks`] names.
    pub user_id: String,
    /// Display name when the account was last used, may be empty.
    pub name: String,
    /// Email when the account was last used, may be empty.
    pub email: String,
    /// Live books of the account still on this computer.
    pub books: u32,
    /// When this computer learnt of the deletion (milliseconds since the Unix epoch).
    pub deleted_at: i64,
}

impl DeletedAccount {
    /// How the UI names the account: its email, else its name, else "Your account".
    pub fn label(&self) -> &str {
        [self.email.trim(), self.name.trim()]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("Your account")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_named_by_email_then_name() {
        let mut account = DeletedAccount {
            user_id: "user_2x".into(),
            name: "Alice Liddell".into(),
            email: "alice@example.com".into(),
            books: 3,
            deleted_at: 0,
        };
        assert_eq!(account.label(), "alice@example.com", "the email first");
        account.email = " ".into();
        assert_eq!(account.label(), "Alice Liddell", "then the name");
        account.name.clear();
        assert_eq!(account.label(), "Your account", "never an empty name");
    }
}
