//! [`Auth`]: the sign-in flow and the session, as the shell calls them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bookwish_ipc::Profile;
use openidconnect::core::{CoreAuthenticationFlow, CoreIdToken, CoreIdTokenClaims};
use openidconnect::{
    AccessTokenHash, ClaimsVerificationError, CsrfToken, Nonce, NonceVerifier, OAuth2TokenResponse,
    PkceCodeChallenge, RefreshToken, Scope, SubjectIdentifier,
};
use url::Url;

use crate::attempt::{self, Callback, Clock, PendingAttempt, SystemClock};
use crate::error::{Error, Result};
use crate::http::OidcHttp;
use crate::keychain::{KeychainError, SecretStore};
use crate::profile::Names;
use crate::provider::{self, Provider};
use crate::secret::SecretString;
use crate::session::{self, AccessToken, Record, Session};
use bookwish_config::ClerkConfig;

/// Scopes asked for besides `openid`: the profile for the header, and `offline_access` for a
/// refresh token so the session survives restarts.
const SCOPES: [&str; 3] = ["email", "profile", "offline_access"];
/// Revocation at sign-out is a courtesy to the provider; it must not hold sign-out up offline.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Sign-in with an OpenID Connect provider through the system browser, and the session that
/// follows. One per app, shared by the shell's commands (all methods take `&self`).
pub struct Auth {
    clerk: ClerkConfig,
    secrets: Arc<dyn SecretStore>,
    state_dir: PathBuf,
    http: OidcHttp,
    clock: Arc<dyn Clock>,
    /// The discovered provider, fetched again at every sign-in (fresh keys) and reused for
    /// refreshes.
    provider: tokio::sync::Mutex<Option<Arc<Provider>>>,
    attempts: Mutex<attempt::Attempts>,
    session: Mutex<Option<Session>>,
    /// Held across every change of tokens (refresh, sign-in's end, sign-out): refresh tokens
    /// rotate and a second use of an old one ends the session, so refreshes are single-flight.
    tokens: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("issuer", &self.clerk.issuer.as_str())
            .field("signed_in", &self.profile().is_some())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// An auth for the provider `clerk`, keeping refresh tokens in `secrets` and the record of
    /// who is signed in under `state_dir`, talking HTTP through `http` (the app's one client,
    /// `bookwish_config::http_client()`: it never follows redirects). Nothing is fetched until
    /// a method needs it.
    pub fn new(
        clerk: ClerkConfig,
        secrets: Arc<dyn SecretStore>,
        state_dir: PathBuf,
        http: reqwest::Client,
    ) -> Auth {
        Auth {
            clerk,
            secrets,
            state_dir,
            http: OidcHttp(http),
            clock: Arc::new(SystemClock),
            provider: tokio::sync::Mutex::new(None),
            attempts: Mutex::new(attempt::Attempts::default()),
            session: Mutex::new(None),
            tokens: tokio::sync::Mutex::new(()),
        }
    }

    /// Uses `clock` for attempt expiry and token lifetimes (tests move time with it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Auth {
        self.clock = clock;
        self
    }

    /// Starts a sign-in: discovers the provider, makes a PKCE verifier (S256), `state` and
    /// `nonce`, remembers them as the one pending attempt (superseding any other) and returns
    /// the authorization URL for the shell to open in the system browser.
    pub async fn begin_sign_in(&self) -> Result<Url> {
        if self.profile().is_some() {
            return Err(Error::AlreadySignedIn);
        }
        let provider = self.discover().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = provider
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(SCOPES.map(|scope| Scope::new(scope.to_owned())))
            // OIDC Core 11: a request for offline_access must ask for consent.
            .add_extra_param("prompt", "consent")
            .set_pkce_challenge(challenge)
            .url();
        self.attempts().begin(PendingAttempt {
            state,
            nonce,
            verifier,
            started: self.clock.now(),
        });
        tracing::info!(issuer = %provider.issuer, "sign-in started; waiting for the browser to come back");
        Ok(url)
    }

    /// Whether a sign-in is waiting for its link.
    pub fn sign_in_pending(&self) -> bool {
        self.attempts().is_pending()
    }

    /// Forgets the pending sign-in. Its link, if it still arrives, is rejected as cancelled,
    /// and an exchange already under way is discarded.
    pub fn cancel_sign_in(&self) {
        let mut attempts = self.attempts();
        if attempts.is_pending() {
            tracing::info!("sign-in cancelled");
        }
        attempts.cancel();
    }

    /// Finishes a sign-in with the `bookwish://auth/callback?…` link the OS handed to the app:
    /// checks it against the pending attempt, exchanges the code (with the PKCE verifier),
    /// validates the ID token, saves the refresh token in the keychain and returns the profile.
    /// A rejected link changes nothing in the session.
    pub async fn complete_sign_in(&self, link: &str) -> Result<Profile> {
        let result = self.complete(link).await;
        if let Err(error) = &result {
            // The link's query holds the code: log only where it pointed.
            let link = attempt::redacted(link);
            match error.loggable_cause() {
                Some(cause) => tracing::warn!(%link, %error, %cause, "sign-in failed"),
                None => tracing::warn!(%link, %error, "sign-in failed"),
            }
        }
        result
    }

    async fn complete(&self, link: &str) -> Result<Profile> {
        let callback = Callback::parse(link)?;
        let provider = self.provider.lock().await.clone();
        let Some(provider) = provider else {
            // No discovery happened, so no sign-in was begun by this process.
            return Err(Error::NoPendingAttempt);
        };
        let accepted = self
            .attempts()
            .accept(&callback, self.clock.now(), &provider.issuer)?;

        let request = provider
            .client
            .exchange_code(accepted.code)
            .map_err(|error| Error::protocol("the sign-in", error))?
            .set_pkce_verifier(accepted.verifier);
        let tokens = request
            .request_async(&self.http)
            .await
            .map_err(|error| provider::token_error("the sign-in", error))?;
        let received = self.clock.now();

        let id_token = tokens
            .extra_fields()
            .id_token()
            .ok_or_else(|| Error::invalid("the token response has no ID token"))?;
        let (provider, claims) = self
            .verify_id_token(provider, id_token, &accepted.nonce)
            .await?;
        let verifier = provider.client.id_token_verifier();
        if let Some(expected) = claims.access_token_hash() {
            let signing_alg = id_token.signing_alg().map_err(Error::invalid)?;
            let signing_key = id_token.signing_key(&verifier).map_err(Error::invalid)?;
            let actual =
                AccessTokenHash::from_token(tokens.access_token(), signing_alg, signing_key)
                    .map_err(Error::invalid)?;
            if actual != *expected {
                return Err(Error::invalid(
                    "the access token does not match the ID token's at_hash",
                ));
            }
        }
        let user_id = claims.subject().as_str().to_owned();
        let access = SecretString::new(tokens.access_token().secret().clone());
        let mut names = Names::of_id_token(claims);
        if names.is_empty() {
            names = names.or(self.userinfo(&provider, &access, claims.subject()).await);
        }
        let profile = names.profile(&user_id);

        let _tokens = self.tokens.lock().await;
        if self.attempts().generation() != accepted.generation {
            // Cancelled (or restarted) while the code was being exchanged: the tokens are not
            // wanted; tell the provider so.
            if let Some(refresh) = tokens.refresh_token() {
                self.revoke(SecretString::new(refresh.secret().clone()))
                    .await;
            }
            return Err(Error::Cancelled);
        }
        // A sign-out of this account whose keychain delete failed must not delete the token
        // saved now: this account is no longer a leftover.
        self.forget_leftover(&user_id)?;
        // The refresh token goes to the keychain before the session exists: a session whose
        // refresh token was not saved would be lost at the next launch.
        if let Some(refresh) = tokens.refresh_token() {
            let refresh = SecretString::new(refresh.secret().clone());
            self.keychain(move |store, account| store.set(account, &refresh), &user_id)
                .await?;
        } else {
            tracing::warn!(
                "the provider issued no refresh token; the session ends with its access token"
            );
        }
        Record::of(&profile).save(&self.state_dir)?;
        *self.session() = Some(Session {
            profile: profile.clone(),
            unsaved_refresh: None,
            access: Some(AccessToken::new(
                access.clone(),
                tokens.expires_in(),
                received,
            )),
            id_token: Some(SecretString::new(id_token.to_string())),
        });
        tracing::info!(user_id = %user_id, "signed in");
        drop(_tokens);
        Ok(profile)
    }

    /// The account last signed in on this computer, as remembered on disk (no token, no
    /// network): lets the app open that account's database and show its name at once, while
    /// [`Auth::restore`] confirms the session in the background.
    pub fn remembered(&self) -> Result<Option<Profile>> {
        Ok(Record::load(&self.state_dir)?.map(|record| {
            Names {
                name: Some(record.name.clone()).filter(|n| !n.is_empty()),
                email: Some(record.email.clone()).filter(|e| !e.is_empty()),
                ..Names::default()
            }
            .profile(&record.user_id)
        }))
    }

    /// Restores the session of the account last signed in on this computer, from its refresh
    /// token in the keychain: `None` when nobody is signed in (or the provider ended the
    /// session). Offline, the account stays signed in with the profile remembered from last
    /// time, and tokens are fetched when the network is back.
    pub async fn restore(&self) -> Result<Option<Profile>> {
        if let Some(profile) = self.profile() {
            return Ok(Some(profile));
        }
        let record = Record::load(&self.state_dir)?;
        self.delete_leftovers(record.as_ref().map(|r| r.user_id.as_str()))
            .await;
        let Some(record) = record else {
            return Ok(None);
        };
        let guard = self.tokens.lock().await;
        // Two restores at once (the launch's, and sync asking for a token): the second finds
        // the first's session and must not refresh (and so rotate) the token again.
        if let Some(profile) = self.profile() {
            return Ok(Some(profile));
        }
        let stored = self
            .keychain(|store, account| store.get(account), &record.user_id)
            .await?;
        if stored.is_none() {
            tracing::info!("the last account has no keychain entry; starting signed out");
            Record::remove(&self.state_dir)?;
            return Ok(None);
        }
        let names = Names {
            name: Some(record.name.clone()).filter(|n| !n.is_empty()),
            email: Some(record.email.clone()).filter(|e| !e.is_empty()),
            ..Names::default()
        };
        *self.session() = Some(Session {
            profile: names.profile(&record.user_id),
            unsaved_refresh: None,
            access: None,
            id_token: None,
        });
        match self.refresh_locked().await {
            Ok(_) => Ok(self.profile()),
            Err(error) if error.is_offline() => {
                tracing::warn!(%error, "restored the session offline; tokens will be fetched later");
                Ok(self.profile())
            }
            Err(Error::SessionEnded) => Ok(None),
            Err(error) => {
                drop(guard);
                *self.session() = None;
                Err(error)
            }
        }
    }

    /// A fresh access token for Supabase, refreshed first when less than a minute of it is
    /// left. Concurrent callers share one refresh.
    pub async fn access_token(&self) -> Result<SecretString> {
        // Asked before the launch's restore ran (sync starts with the remembered account at
        // once): restore the session here rather than answer "signed out".
        if self.profile().is_none() && self.restore().await?.is_none() {
            return Err(Error::NotSignedIn);
        }
        if let Some(token) = self.fresh_access()? {
            return Ok(token);
        }
        let _tokens = self.tokens.lock().await;
        // Another caller may have refreshed while this one waited for the lock.
        if let Some(token) = self.fresh_access()? {
            return Ok(token);
        }
        self.refresh_locked().await
    }

    /// Forces a refresh now (e.g. after a 401 from Supabase), single-flight like
    /// [`Auth::access_token`]: if another caller refreshed meanwhile, its token is returned.
    pub async fn refresh(&self) -> Result<SecretString> {
        let before = self
            .session()
            .as_ref()
            .and_then(|s| s.access.as_ref().map(|a| a.expires_at));
        let _tokens = self.tokens.lock().await;
        let after = self
            .session()
            .as_ref()
            .and_then(|s| s.access.as_ref().map(|a| a.expires_at));
        if before != after {
            if let Some(token) = self.fresh_access()? {
                return Ok(token);
            }
        }
        self.refresh_locked().await
    }

    /// The signed-in user, if any.
    pub fn profile(&self) -> Option<Profile> {
        self.session()
            .as_ref()
            .map(|session| session.profile.clone())
    }

    /// Signs out: forgets who is signed in (memory and the record on disk, first, so nothing
    /// below can leave a session the next launch restores), revokes the refresh token where
    /// the provider has a revocation endpoint (a failure there, e.g. offline, is logged and
    /// does not stop the sign-out), and deletes the keychain entry. Local data is not touched.
    ///
    /// A keychain that refuses the delete is [`Error::SignOutIncomplete`]: the account is
    /// signed out all the same, and the entry is deleted at the next sign-out or launch the
    /// keychain allows (a second sign-out then succeeds).
    pub async fn sign_out(&self) -> Result<()> {
        self.cancel_sign_in();
        let _tokens = self.tokens.lock().await;
        let session = self.session().take();
        let unsaved = session
            .as_ref()
            .and_then(|session| session.unsaved_refresh.clone());
        let user_id = match session {
            Some(session) => Some(session.profile.user_id.clone()),
            None => Record::load(&self.state_dir)?.map(|record| record.user_id),
        };
        let Some(user_id) = user_id else {
            self.delete_leftovers(None).await;
            return Ok(());
        };
        // Until its keychain entry is gone, the account is a leftover (a crash from here on
        // leaves it to the next launch); and without the record, nobody is restored.
        self.add_leftover(&user_id);
        Record::remove(&self.state_dir)?;
        let refresh = match unsaved {
            Some(refresh) => Some(refresh),
            None => match self
                .keychain(|store, account| store.get(account), &user_id)
                .await
            {
                Ok(refresh) => refresh,
                Err(error) => {
                    tracing::warn!(%error, "could not read the refresh token to revoke it");
                    None
                }
            },
        };
        if let Some(refresh) = refresh {
            self.revoke(refresh).await;
        }
        let deleted = self
            .keychain_raw(|store, account| store.delete(account), &user_id)
            .await;
        match deleted {
            Ok(()) => {
                if let Err(error) = self.forget_leftover(&user_id) {
                    tracing::warn!(%error, "could not update the list of signed-out accounts");
                }
                tracing::info!(user_id = %user_id, "signed out");
                Ok(())
            }
            Err(error) => {
                tracing::warn!(user_id = %user_id, %error, "signed out, but the keychain kept the refresh token; deleting it later");
                Err(Error::SignOutIncomplete(error))
            }
        }
    }

    /// Notes `user_id` as signed out with its keychain entry still to delete. Best effort: the
    /// record is removed anyway, so the account is not restored either way.
    fn add_leftover(&self, user_id: &str) {
        let mut users = session::leftovers(&self.state_dir);
        if !users.iter().any(|user| user == user_id) {
            users.push(user_id.to_owned());
            if let Err(error) = session::set_leftovers(&self.state_dir, &users) {
                tracing::warn!(%error, "could not note the signed-out account");
            }
        }
    }

    /// `user_id` needs no keychain clean-up (it was done, or the account signed in again).
    fn forget_leftover(&self, user_id: &str) -> Result<()> {
        let mut users = session::leftovers(&self.state_dir);
        let before = users.len();
        users.retain(|user| user != user_id);
        if users.len() == before {
            return Ok(());
        }
        session::set_leftovers(&self.state_dir, &users)
    }

    /// Deletes the keychain entries of accounts signed out earlier whose delete failed, except
    /// `keep` (the account signed in now). Best effort: what still fails is tried next time.
    async fn delete_leftovers(&self, keep: Option<&str>) {
        for user_id in session::leftovers(&self.state_dir) {
            if Some(user_id.as_str()) == keep {
                continue;
            }
            match self
                .keychain_raw(|store, account| store.delete(account), &user_id)
                .await
            {
                Ok(()) => {
                    tracing::info!(user_id = %user_id, "deleted the refresh token left by a sign-out");
                    if let Err(error) = self.forget_leftover(&user_id) {
                        tracing::warn!(%error, "could not update the list of signed-out accounts");
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "the keychain still refuses to delete a signed-out account's entry")
                }
            }
        }
    }

    /// Verifies `id_token` with `provider`'s keys; when the signature does not verify, fetches
    /// the provider's keys again, once, and verifies with those (the provider may have rotated
    /// its signing key since discovery). Returns the provider used.
    async fn verify_id_token<'t, N: NonceVerifier + Copy>(
        &self,
        provider: Arc<Provider>,
        id_token: &'t CoreIdToken,
        nonce: N,
    ) -> Result<(Arc<Provider>, &'t CoreIdTokenClaims)> {
        let invalid = |error: ClaimsVerificationError| {
            Error::TokenValidation(crate::error::Cause::chain(&error))
        };
        let verified = {
            let verifier = provider.client.id_token_verifier();
            id_token.claims(&verifier, nonce)
        };
        match verified {
            Ok(claims) => Ok((provider, claims)),
            Err(ClaimsVerificationError::SignatureVerification(error)) => {
                tracing::info!(%error, "the ID token's signature did not verify; fetching the provider's keys again");
                let fresh = self.discover().await?;
                let claims = {
                    let verifier = fresh.client.id_token_verifier();
                    id_token.claims(&verifier, nonce).map_err(invalid)?
                };
                Ok((fresh, claims))
            }
            Err(error) => Err(invalid(error)),
        }
    }

    /// Refreshes with the keychain's refresh token. Call with `self.tokens` held.
    async fn refresh_locked(&self) -> Result<SecretString> {
        let user_id = self
            .session()
            .as_ref()
            .map(|session| session.profile.user_id.clone())
            .ok_or(Error::NotSignedIn)?;
        let provider = self.provider().await?;
        let unsaved = self
            .session()
            .as_ref()
            .and_then(|session| session.unsaved_refresh.clone());
        let refresh = match unsaved {
            Some(refresh) => refresh,
            None => match self
                .keychain(|store, account| store.get(account), &user_id)
                .await?
            {
                Some(refresh) => refresh,
                None => {
                    self.end_session(&user_id).await;
                    return Err(Error::SessionEnded);
                }
            },
        };
        let refresh = RefreshToken::new(refresh.expose().to_owned());
        let request = provider
            .client
            .exchange_refresh_token(&refresh)
            .map_err(|error| Error::protocol("the refresh", error))?;
        let tokens = match request.request_async(&self.http).await {
            Ok(tokens) => tokens,
            Err(error) => {
                let error = provider::token_error("the refresh", error);
                if matches!(&error, Error::Provider { error, .. } if error == "invalid_grant") {
                    tracing::warn!("the provider no longer accepts the refresh token; signing out");
                    self.end_session(&user_id).await;
                    return Err(Error::SessionEnded);
                }
                return Err(error);
            }
        };
        let received = self.clock.now();
        // Rotation: the new refresh token replaces the old one in the keychain before the new
        // access token is used, so a crash now cannot leave only a spent token behind. A
        // keychain that refuses it does not lose it: the session keeps it in memory (the old
        // one is spent; using it again would end the session), and the next refresh tries the
        // keychain again.
        if let Some(rotated) = tokens.refresh_token() {
            let rotated = SecretString::new(rotated.secret().clone());
            let saving = rotated.clone();
            let unsaved = match self
                .keychain(move |store, account| store.set(account, &saving), &user_id)
                .await
            {
                Ok(()) => None,
                Err(error) => {
                    tracing::warn!(%error, "the keychain refused the new refresh token; keeping it in memory for this session");
                    Some(rotated)
                }
            };
            if let Some(session) = self.session().as_mut() {
                session.unsaved_refresh = unsaved;
            }
        }
        let mut names = None;
        let mut id_token_text = None;
        if let Some(id_token) = tokens.extra_fields().id_token() {
            // A refreshed ID token carries no nonce (OIDC Core 12.2); everything else is checked,
            // and it must be about the same user.
            let no_nonce = |_: Option<&Nonce>| Ok(());
            let (_, claims) = self.verify_id_token(provider, id_token, no_nonce).await?;
            if claims.subject().as_str() != user_id {
                return Err(Error::invalid(
                    "the refreshed ID token is about another user",
                ));
            }
            names = Some(Names::of_id_token(claims));
            id_token_text = Some(SecretString::new(id_token.to_string()));
        }
        let access = SecretString::new(tokens.access_token().secret().clone());
        let mut session = self.session();
        let Some(session) = session.as_mut() else {
            return Err(Error::NotSignedIn);
        };
        session.access = Some(AccessToken::new(
            access.clone(),
            tokens.expires_in(),
            received,
        ));
        if id_token_text.is_some() {
            session.id_token = id_token_text;
        }
        if let Some(names) = names.filter(|names| !names.is_empty()) {
            let profile = names.profile(&user_id);
            if profile != session.profile {
                if let Err(error) = Record::of(&profile).save(&self.state_dir) {
                    tracing::warn!(%error, "could not update the sign-in record");
                }
                session.profile = profile;
            }
        }
        tracing::debug!("access token refreshed");
        Ok(access)
    }

    /// Forgets a session the provider ended: memory, keychain entry and record.
    async fn end_session(&self, user_id: &str) {
        *self.session() = None;
        if let Err(error) = self
            .keychain(|store, account| store.delete(account), user_id)
            .await
        {
            tracing::warn!(%error, "could not delete the spent refresh token");
        }
        if let Err(error) = Record::remove(&self.state_dir) {
            tracing::warn!(%error, "could not remove the sign-in record");
        }
    }

    /// RFC 7009 revocation of the refresh token (which, at Clerk and oidc-provider, ends the
    /// grant). Best effort: logged, never fails a sign-out.
    async fn revoke(&self, refresh: SecretString) {
        let provider = match self.provider().await {
            Ok(provider) => provider,
            Err(error) => {
                tracing::warn!(%error, "not revoking the refresh token: the provider is unavailable");
                return;
            }
        };
        let Some(url) = provider.revocation.clone() else {
            tracing::info!(
                "the provider has no revocation endpoint; the refresh token is only deleted"
            );
            return;
        };
        let form = [
            ("token", refresh.expose()),
            ("token_type_hint", "refresh_token"),
            ("client_id", self.clerk.client_id.as_str()),
        ];
        let request = self.http.0.post(url).form(&form).send();
        match tokio::time::timeout(REVOKE_TIMEOUT, request).await {
            Ok(Ok(response)) if response.status().is_success() => {
                tracing::info!("refresh token revoked")
            }
            Ok(Ok(response)) => {
                tracing::warn!(status = %response.status(), "the provider refused to revoke the refresh token")
            }
            Ok(Err(error)) => tracing::warn!(%error, "revoking the refresh token failed"),
            Err(_) => tracing::warn!("revoking the refresh token timed out"),
        }
    }

    /// Userinfo claims, when the ID token carried no name or email. Best effort: the profile
    /// falls back to the user id.
    async fn userinfo(
        &self,
        provider: &Provider,
        access: &SecretString,
        subject: &SubjectIdentifier,
    ) -> Names {
        let request = match provider.client.user_info(
            openidconnect::AccessToken::new(access.expose().to_owned()),
            Some(subject.clone()),
        ) {
            Ok(request) => request,
            Err(_) => return Names::default(),
        };
        let claims: std::result::Result<
            openidconnect::UserInfoClaims<
                openidconnect::EmptyAdditionalClaims,
                openidconnect::core::CoreGenderClaim,
            >,
            _,
        > = request.request_async(&self.http).await;
        match claims {
            Ok(claims) => Names::of_userinfo(claims.standard_claims()),
            Err(error) => {
                tracing::info!(error = %crate::error::Cause::chain(&error), "userinfo unavailable; the profile shows what the ID token has");
                Names::default()
            }
        }
    }

    /// The cached provider, discovering it on first use.
    async fn provider(&self) -> Result<Arc<Provider>> {
        let mut cached = self.provider.lock().await;
        if let Some(provider) = cached.as_ref() {
            return Ok(Arc::clone(provider));
        }
        let provider = Arc::new(Provider::discover(&self.clerk, &self.http).await?);
        *cached = Some(Arc::clone(&provider));
        Ok(provider)
    }

    /// Discovers the provider again (fresh endpoints and signing keys) and caches it.
    async fn discover(&self) -> Result<Arc<Provider>> {
        let mut cached = self.provider.lock().await;
        let provider = Arc::new(Provider::discover(&self.clerk, &self.http).await?);
        *cached = Some(Arc::clone(&provider));
        Ok(provider)
    }

    fn fresh_access(&self) -> Result<Option<SecretString>> {
        let now = self.clock.now();
        match self.session().as_ref() {
            None => Err(Error::NotSignedIn),
            Some(session) => Ok(session.fresh_access(now)),
        }
    }

    /// Runs a keychain call off the async runtime (it is a blocking D-Bus round trip).
    async fn keychain<T, F>(&self, call: F, account: &str) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretStore, &str) -> std::result::Result<T, KeychainError> + Send + 'static,
    {
        self.keychain_raw(call, account).await.map_err(Error::from)
    }

    /// [`Auth::keychain`] with the keychain's own error.
    async fn keychain_raw<T, F>(
        &self,
        call: F,
        account: &str,
    ) -> std::result::Result<T, KeychainError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretStore, &str) -> std::result::Result<T, KeychainError> + Send + 'static,
    {
        let store = Arc::clone(&self.secrets);
        let account = account.to_owned();
        tokio::task::spawn_blocking(move || call(store.as_ref(), &account))
            .await
            .map_err(|error| KeychainError {
                action: "Using the keychain",
                reason: error.to_string(),
                source: None,
            })?
    }

    fn attempts(&self) -> MutexGuard<'_, attempt::Attempts> {
        // The guarded values stay consistent even if a holder panicked (no multi-step updates).
        self.attempts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn session(&self) -> MutexGuard<'_, Option<Session>> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keychain::MemoryKeychain;

    fn auth(dir: &std::path::Path) -> Auth {
        let clerk = ClerkConfig {
            // Nothing listens on port 9 of loopback: discovery fails fast.
            issuer: Url::parse("http://127.0.0.1:9").expect("test URL"),
            client_id: "bookwish-desktop".into(),
        };
        Auth::new(
            clerk,
            Arc::new(MemoryKeychain::new()),
            dir.to_owned(),
            bookwish_config::http_client(),
        )
    }

    fn assert_send<T: Send>(_: &T) {}
    fn assert_shareable<T: Send + Sync + 'static>() {}

    #[test]
    fn auth_can_be_shared_between_commands() {
        assert_shareable::<Auth>();
    }

    #[tokio::test]
    async fn futures_are_send_for_the_shells_async_commands() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let auth = auth(dir.path());
        assert_send(&auth.begin_sign_in());
        assert_send(&auth.complete_sign_in("bookwish://auth/callback"));
        assert_send(&auth.restore());
        assert_send(&auth.access_token());
        assert_send(&auth.sign_out());
        Ok(())
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_the_offline_error() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let auth = auth(dir.path());
        let error = auth
            .begin_sign_in()
            .await
            .expect_err("nothing listens there");
        assert!(
            error.is_offline(),
            "a refused connection is unreachable: {error:?}"
        );
        assert!(!auth.sign_in_pending(), "a failed start leaves no attempt");
        Ok(())
    }

    #[tokio::test]
    async fn without_a_session_there_is_no_token_and_nothing_to_restore() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let auth = auth(dir.path());
        assert!(matches!(auth.access_token().await, Err(Error::NotSignedIn)));
        assert_eq!(auth.restore().await?, None, "no record: nobody to restore");
        auth.sign_out().await?;
        assert_eq!(auth.profile(), None);
        Ok(())
    }

    #[tokio::test]
    async fn a_link_without_a_started_sign_in_is_rejected() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let auth = auth(dir.path());
        let result = auth
            .complete_sign_in("bookwish://auth/callback?code=c&state=s")
            .await;
        assert!(matches!(result, Err(Error::NoPendingAttempt)), "{result:?}");
        let result = auth
            .complete_sign_in("https://evil.example/callback?code=c")
            .await;
        assert!(matches!(result, Err(Error::WrongCallback)), "{result:?}");
        Ok(())
    }

    #[tokio::test]
    async fn a_record_without_a_keychain_entry_restores_nobody() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        Record {
            user_id: "user_1".into(),
            name: "Alice".into(),
            email: String::new(),
        }
        .save(dir.path())?;
        let auth = auth(dir.path());
        assert_eq!(auth.restore().await?, None);
        assert_eq!(
            Record::load(dir.path())?,
            None,
            "the stale record is removed"
        );
        Ok(())
    }

    #[tokio::test]
    async fn offline_restore_keeps_the_remembered_profile() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        Record {
            user_id: "user_1".into(),
            name: "Alice Liddell".into(),
            email: "alice@example.com".into(),
        }
        .save(dir.path())?;
        let store = Arc::new(MemoryKeychain::new());
        store.set("user_1", &SecretString::new("refresh"))?;
        let clerk = ClerkConfig {
            issuer: Url::parse("http://127.0.0.1:9")?,
            client_id: "bookwish-desktop".into(),
        };
        let auth = Auth::new(
            clerk,
            store.clone(),
            dir.path().to_owned(),
            bookwish_config::http_client(),
        );
        let profile = auth.restore().await?.expect("signed in, offline");
        assert_eq!(profile.initials, "AL");
        let error = auth.access_token().await.expect_err("no token offline");
        assert!(error.is_offline(), "{error:?}");
        assert!(
            store.get("user_1")?.is_some(),
            "offline keeps the refresh token"
        );
        Ok(())
    }
}
