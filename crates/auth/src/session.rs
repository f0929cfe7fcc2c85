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

/// The signed-in account in memory. The refresh token lives in the keychain, except one the
/// keychain refused to save: that one is kept here for the session (the keychain's copy is
/// spent, and using a spent token would end the session at the provider).
pub(crate) struct Session {
    pub(crate) profile: Profile,
    /// The live refresh token when the keychain refused it; `None` when the keychain has it.
    pub(crate) unsaved_refresh: Option<SecretString>,
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

/// Who was last signed in on this computer (not a secret: no token), so that
/// [`crate::Auth::restore`] knows which keychain entry to read and can show the profile while
/// offline.
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

/// The accounts signed out whose keychain entry could not be deleted yet (a JSON list of user
/// ids in the state dir): every launch and sign-out tries again.
pub const LEFTOVERS_FILE: &str = "signed-out.json";

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

    /// Writes the record atomically (temp file, then rename), readable by the user only.
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Storage {
            path: Self::path(dir),
            source: e.into(),
        })?;
        write_private(dir, RECORD_FILE, &bytes)
    }

    /// Removes the record; a missing one is fine.
    pub(crate) fn remove(dir: &Path) -> Result<()> {
        remove(&Self::path(dir))
    }
}

/// The user ids in [`LEFTOVERS_FILE`] (none when it is missing or unreadable).
pub(crate) fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read(dir.join(LEFTOVERS_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Vec<String>>(&bytes).ok())
        .unwrap_or_default()
}

/// Replaces [`LEFTOVERS_FILE`] with `users` (removes it when there are none).
pub(crate) fn set_leftovers(dir: &Path, users: &[String]) -> Result<()> {
    if users.is_empty() {
        return remove(&dir.join(LEFTOVERS_FILE));
    }
    let bytes = serde_json::to_vec(users).map_err(|e| Error::Storage {
        path: dir.join(LEFTOVERS_FILE),
        source: e.into(),
    })?;
    write_private(dir, LEFTOVERS_FILE, &bytes)
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Storage {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes `name` in `dir` atomically (temp file, then rename), creating `dir` if needed; both
/// readable by the user only on Unix: the record names the user and their e-mail.
fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let path = dir.join(name);
    let storage = |source| Error::Storage {
        path: path.clone(),
        source,
    };
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        folder.mode(0o700);
        file.mode(0o600);
    }
    folder.create(dir).map_err(storage)?;
    let temp = dir.join(format!("{name}.tmp"));
    // A temp file left by a crash may have an older mode: start afresh.
    let _ = std::fs::remove_file(&temp);
    let mut handle = file.open(&temp).map_err(storage)?;
    handle.write_all(bytes).map_err(storage)?;
    handle.sync_all().map_err(storage)?;
    drop(handle);
    std::fs::rename(&temp, &path).map_err(storage)
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

    #[cfg(unix)]
    #[test]
    fn the_record_is_readable_by_the_user_only() -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let state = dir.path().join("state");
        Record {
            user_id: "user_1".into(),
            name: "Alice".into(),
            email: "alice@example.com".into(),
        }
        .save(&state)?;
        let file = std::fs::metadata(Record::path(&state))?
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(
            file, 0o600,
            "the record names the user and their email: user only, is {file:o}"
        );
        let folder = std::fs::metadata(&state)?.permissions().mode() & 0o777;
        assert_eq!(
            folder, 0o700,
            "the folder it creates is the user's only, is {folder:o}"
        );
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
