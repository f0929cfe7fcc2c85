//! The signed-in session: who (the [`Profile`]), the access and ID tokens in memory, and the
//! small non-secret record on disk that tells the next launch whose keychain entry to read.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bookwish_ipc::Profile;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::SecretString;

/// An access token is refreshed when less than this is left of it.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Lifetime assumed when the provider does not say (`expires_in` absent): short, so the
/// session refreshes rather than sends a token the server may already reject.
const ASSUMED_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// An access token and when it stops being accepted.
pub(crate) struct AccessToken {
    pub(crate) secret: SecretString,
    pub(crate) expires_at: SystemTime,
}

impl AccessToken {
    pub(crate) fn new(secret: SecretString, expires_in: Option<Duration>, now: SystemTime) -> Self {
        AccessToken {
            secret,
            expires_at: now + expires_in.unwrap_or(ASSUMED_LIFETIME),
        }
    }

    /// Whether the token has more than [`REFRESH_MARGIN`] left at `now`.
    pub(crate) fn fresh_at(&self, now: SystemTime) -> bool {
        self.expires_at
            .duration_since(now)
            .is_ok_and(|left| left > REFRESH_MARGIN)
    }
}

/// The signed-in account in memory. The refresh token is not here: it lives in the keychain.
pub(crate) struct Session {
    pub(crate) profile: Profile,
    /// `None` right after a restore while offline, or once the token was found stale.
    pub(crate) access: Option<AccessToken>,
    /// Kept for a future RP-initiated logout (`id_token_hint`); never sent elsewhere.
    pub(crate) id_token: Option<SecretString>,
}

impl Session {
    /// The access token if it is fresh at `now`.
    pub(crate) fn fresh_access(&self, now: SystemTime) -> Option<SecretString> {
        self.access
            .as_ref()
            .filter(|token| token.fresh_at(now))
            .map(|token| token.secret.clone())
    }
}

/// Who was last signed in on this computer (not a secret: no token), so that [`crate::Auth::restore`]
/// knows which keychain entry to read and can show the profile while offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) user_id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) email: String,
}

/// The record's file name in the state dir.
pub const RECORD_FILE: &str = "signed-in.json";

impl Record {
    pub(crate) fn of(profile: &Profile) -> Record {
        Record {
            user_id: profile.user_id.clone(),
            name: profile.name.clone(),
            email: profile.email.clone(),
        }
    }

    pub(crate) fn path(dir: &Path) -> PathBuf {
        dir.join(RECORD_FILE)
    }

    /// The record in `dir`, or `None` when nobody is signed in (or the file is unreadable
    /// garbage, which is logged and treated as nobody).
    pub(crate) fn load(dir: &Path) -> Result<Option<Record>> {
        let path = Self::path(dir);
        match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<Record>(&bytes) {
                Ok(record) if !record.user_id.is_empty() => Ok(Some(record)),
                Ok(_) | Err(_) => {
                    tracing::warn!(path = %path.display(), "ignoring a malformed sign-in record");
                    Ok(None)
                }
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Storage { path, source }),
        }
    }

    /// Writes the record atomically (temp file, then rename).
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let path = Self::path(dir);
        let storage = |source| Error::Storage {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(storage)?;
        let temp = dir.join(format!("{RECORD_FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| storage(e.into()))?;
        std::fs::write(&temp, bytes).map_err(storage)?;
        std::fs::rename(&temp, &path).map_err(storage)
    }

    /// Removes the record; a missing one is fine.
    pub(crate) fn remove(dir: &Path) -> Result<()> {
        let path = Self::path(dir);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(Error::Storage { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_fresh_until_a_minute_before_expiry() {
        let now = SystemTime::now();
        let token = AccessToken::new(SecretString::new("t"), Some(Duration::from_secs(600)), now);
        assert!(token.fresh_at(now), "a new token is fresh");
        assert!(
            token.fresh_at(now + Duration::from_secs(539)),
            "61 s left is fresh"
        );
        assert!(
            !token.fresh_at(now + Duration::from_secs(540)),
            "60 s left needs a refresh"
        );
        assert!(
            !token.fresh_at(now + Duration::from_secs(700)),
            "an expired token is stale"
        );
    }

    #[test]
    fn a_token_without_lifetime_is_refreshed_soon() {
        let now = SystemTime::now();
        let token = AccessToken::new(SecretString::new("t"), None, now);
        assert!(token.fresh_at(now));
        assert!(
            !token.fresh_at(now + ASSUMED_LIFETIME),
            "an unknown lifetime is assumed short"
        );
    }

    #[test]
    fn the_record_round_trips_and_removes() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        assert_eq!(Record::load(dir.path())?, None, "no record at first");
        let record = Record {
            user_id: "user_1".into(),
            name: "Alice".into(),
            email: "alice@example.com".into(),
        };
        record.save(&dir.path().join("nested"))?;
        assert_eq!(Record::load(&dir.path().join("nested"))?, Some(record));
        Record::remove(&dir.path().join("nested"))?;
        Record::remove(&dir.path().join("nested"))?;
        assert_eq!(Record::load(&dir.path().join("nested"))?, None, "removed");
        Ok(())
    }

    #[test]
    fn a_garbage_record_means_nobody() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(Record::path(dir.path()), "{not json")?;
        assert_eq!(Record::load(dir.path())?, None);
        Ok(())
    }
}
