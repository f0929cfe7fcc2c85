//! Sign-in state through keychain and provider trouble (issue 11.9): a keychain that refuses a
//! write or a delete (the real Secret Service behind a store that fails on demand: fault
//! injection around the real flow), and a provider that rotates its signing key.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use bookwish_auth::{Error, Keychain, KeychainError, SecretStore, SecretString};
use bookwish_stack::{Idp, IdpOptions, ALICE, BOB, DAVE};

use crate::support::{browser, Fixture};

/// The real keychain, with writes or deletes that fail while asked to (a locked keychain, a
/// Secret Service that went away).
pub struct Flaky {
    inner: Arc<Keychain>,
    pub fail_writes: AtomicBool,
    pub fail_deletes: AtomicBool,
}

impl Flaky {
    fn new(inner: Arc<Keychain>) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner,
            fail_writes: AtomicBool::new(false),
            fail_deletes: AtomicBool::new(false),
        })
    }
}

fn locked(action: &'static str) -> KeychainError {
    KeychainError {
        action,
        reason: "the keychain is locked".into(),
        source: None,
    }
}

impl SecretStore for Flaky {
    fn get(&self, account: &str) -> Result<Option<SecretString>, KeychainError> {
        self.inner.get(account)
    }

    fn set(&self, account: &str, secret: &SecretString) -> Result<(), KeychainError> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(locked("Saving to the keychain"));
        }
        self.inner.set(account, secret)
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        if self.fail_deletes.load(Ordering::SeqCst) {
            return Err(locked("Deleting the keychain entry"));
        }
        self.inner.delete(account)
    }
}

#[tokio::test]
async fn a_rotated_refresh_token_the_keychain_refuses_is_kept_for_the_session() -> Result<()> {
    let fixture = Fixture::on_stack().await?;
    let flaky = Flaky::new(Arc::clone(&fixture.keychain));
    let auth = fixture.auth_with(flaky.clone())?;
    let link = browser(&auth.begin_sign_in().await?, &BOB).await?;
    auth.complete_sign_in(&link).await?;
    let saved = fixture.stored_refresh(&BOB)?.context("saved at sign-in")?;

    flaky.fail_writes.store(true, Ordering::SeqCst);
    let first = auth
        .refresh()
        .await
        .context("a refresh whose new refresh token the keychain refuses still succeeds")?;
    assert_eq!(
        fixture.stored_refresh(&BOB)?.as_deref(),
        Some(saved.as_str()),
        "the keychain still holds the spent token"
    );
    let second = auth
        .refresh()
        .await
        .context("the next refresh uses the rotated token kept in memory, not the spent one")?;
    assert_ne!(first.expose(), second.expose(), "a new access token");
    assert_eq!(
        auth.profile().map(|p| p.user_id),
        Some(BOB.sub.to_owned()),
        "still signed in"
    );

    // The keychain works again: the live token is saved, and the next launch restores.
    flaky.fail_writes.store(false, Ordering::SeqCst);
    auth.refresh().await?;
    let now_saved = fixture.stored_refresh(&BOB)?.context("saved again")?;
    assert_ne!(
        now_saved, saved,
        "the live refresh token reached the keychain"
    );
    let relaunched = fixture.auth()?;
    assert!(
        relaunched.restore().await?.is_some(),
        "the next launch restores the session from the keychain"
    );
    relaunched
        .access_token()
        .await
        .context("and gets a token with it")?;
    Ok(())
}

#[tokio::test]
async fn a_failed_keychain_delete_at_sign_out_is_reported_and_never_restored() -> Result<()> {
    let fixture = Fixture::on_stack().await?;
    let flaky = Flaky::new(Arc::clone(&fixture.keychain));
    let auth = fixture.auth_with(flaky.clone())?;
    let link = browser(&auth.begin_sign_in().await?, &DAVE).await?;
    auth.complete_sign_in(&link).await?;

    flaky.fail_deletes.store(true, Ordering::SeqCst);
    let result = auth.sign_out().await;
    let error = result.expect_err("a keychain that refuses the delete is reported");
    assert!(
        matches!(error, Error::SignOutIncomplete(_)),
        "the error says the sign-out is done but the keychain kept its entry: {error:?}"
    );
    assert!(
        error.to_string().contains("keychain"),
        "the message names the keychain: {error}"
    );
    assert_eq!(auth.profile(), None, "signed out in this run");

    // The next launch, the keychain still refusing: nobody is signed in.
    let relaunched = fixture.auth_with(flaky.clone())?;
    assert_eq!(
        relaunched.remembered()?,
        None,
        "the record of who was signed in is gone"
    );
    assert_eq!(
        relaunched.restore().await?,
        None,
        "the session is not restored"
    );

    // A launch with a working keychain deletes the entry left behind.
    flaky.fail_deletes.store(false, Ordering::SeqCst);
    assert_eq!(fixture.auth_with(flaky.clone())?.restore().await?, None);
    assert!(
        fixture.stored_refresh(&DAVE)?.is_none(),
        "the leftover refresh token is deleted as soon as the keychain allows"
    );

    // Signing in again as the same user is not undone by the leftover's clean-up.
    let again = fixture.auth_with(flaky.clone())?;
    let link = browser(&again.begin_sign_in().await?, &DAVE).await?;
    again.complete_sign_in(&link).await?;
    assert!(
        fixture.auth()?.restore().await?.is_some(),
        "a new sign-in of the same account is restored"
    );
    Ok(())
}

#[tokio::test]
async fn a_provider_that_rotated_its_signing_key_is_asked_for_its_keys_once() -> Result<()> {
    // A provider of its own: PostgREST is not involved, and the shared one keeps its key.
    let idp = Idp::start(IdpOptions::default()).await?;
    let fixture = Fixture::for_issuer(idp.issuer())?;
    let auth = fixture.auth()?;
    let link = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    auth.complete_sign_in(&link).await?;
    let before = auth.access_token().await?;

    idp.rotate_signing_key().await?;
    let after = auth
        .refresh()
        .await
        .context("an ID token signed with the new key is accepted after one JWKS fetch")?;
    assert_ne!(before.expose(), after.expose(), "refreshed");
    auth.refresh()
        .await
        .context("and the keys fetched again serve the next refresh")?;
    assert!(auth.profile().is_some(), "still signed in");
    Ok(())
}
