//! Where the refresh token lives between launches: the OS keychain (Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows), one entry per account.
//!
//! [`SecretStore`] is the narrow interface the session needs; [`Keychain`] is the real one and
//! [`MemoryKeychain`] an in-memory one for unit tests of pure logic. Keychain calls block (D-Bus
//! round trips), so async code calls them through `spawn_blocking`.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::secret::SecretString;

/// The keychain service name the app's entries are filed under.
pub const DEFAULT_SERVICE: &str = "app.bookwish.desktop";

/// Why the keychain could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{action} failed: {reason}")]
pub struct KeychainError {
    /// What was attempted ("reading the keychain entry", …).
    pub action: &'static str,
    /// The platform store's reason.
    pub reason: String,
    /// The platform error, when there is one.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// A store of one secret per account (the account is the provider's user id, `sub`).
pub trait SecretStore: Send + Sync {
    /// The secret of `account`, or `None` when there is no entry.
    fn get(&self, account: &str) -> Result<Option<SecretString>, KeychainError>;
    /// Creates or replaces the secret of `account`.
    fn set(&self, account: &str, secret: &SecretString) -> Result<(), KeychainError>;
    /// Removes the entry of `account`; removing a missing entry is not an error.
    fn delete(&self, account: &str) -> Result<(), KeychainError>;
}

/// The OS keychain through the `keyring` crate, entries filed under one service name.
#[derive(Clone, Debug)]
pub struct Keychain {
    service: String,
}

impl Keychain {
    /// The app's keychain ([`DEFAULT_SERVICE`]).
    pub fn new() -> Self {
        Self::with_service(DEFAULT_SERVICE)
    }

    /// A keychain whose entries are filed under `service` (tests use a unique one each).
    pub fn with_service(service: impl Into<String>) -> Self {
        Keychain {
            service: service.into(),
        }
    }

    /// The service name entries are filed under.
    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str, action: &'static str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, account).map_err(|error| failed(action, error))
    }
}

impl Default for Keychain {
    fn default() -> Self {
        Self::new()
    }
}

fn failed(action: &'static str, error: keyring::Error) -> KeychainError {
    KeychainError {
        action,
        reason: error.to_string(),
        source: Some(Box::new(error)),
    }
}

impl SecretStore for Keychain {
    fn get(&self, account: &str) -> Result<Option<SecretString>, KeychainError> {
        const ACTION: &str = "Reading the keychain entry";
        match self.entry(account, ACTION)?.get_password() {
            Ok(secret) => Ok(Some(SecretString::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(failed(ACTION, error)),
        }
    }

    fn set(&self, account: &str, secret: &SecretString) -> Result<(), KeychainError> {
        const ACTION: &str = "Saving to the keychain";
        self.entry(account, ACTION)?
            .set_password(secret.expose())
            .map_err(|error| failed(ACTION, error))
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        const ACTION: &str = "Deleting the keychain entry";
        match self.entry(account, ACTION)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(failed(ACTION, error)),
        }
    }
}

/// An in-memory [`SecretStore`] for tests of logic that does not concern the OS keychain.
#[derive(Debug, Default)]
pub struct MemoryKeychain {
    entries: Mutex<HashMap<String, SecretString>>,
}

impl MemoryKeychain {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, SecretString>> {
        // A panic while holding this lock cannot leave the map half-updated.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SecretStore for MemoryKeychain {
    fn get(&self, account: &str) -> Result<Option<SecretString>, KeychainError> {
        Ok(self.entries().get(account).cloned())
    }

    fn set(&self, account: &str, secret: &SecretString) -> Result<(), KeychainError> {
        self.entries().insert(account.to_owned(), secret.clone());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.entries().remove(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_keychain_keeps_one_secret_per_account() -> Result<(), KeychainError> {
        let store = MemoryKeychain::new();
        store.set("user_a", &SecretString::new("one"))?;
        store.set("user_b", &SecretString::new("two"))?;
        store.set("user_a", &SecretString::new("three"))?;
        assert_eq!(
            store
                .get("user_a")?
                .map(|s| s.expose().to_owned())
                .as_deref(),
            Some("three")
        );
        assert_eq!(
            store
                .get("user_b")?
                .map(|s| s.expose().to_owned())
                .as_deref(),
            Some("two")
        );
        store.delete("user_a")?;
        store.delete("user_a")?;
        assert!(store.get("user_a")?.is_none(), "a deleted entry is gone");
        Ok(())
    }
}
