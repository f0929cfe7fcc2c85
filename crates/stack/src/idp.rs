//! The OpenID Connect provider standing in for Clerk (`stack/idp/server.mjs`), and the headless
//! sign-in that tests use to get real tokens from it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::{redirect, StatusCode, Url};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, IoContext, Result};
use crate::proc::{self, Reaper, Service, POLL};

/// The desktop app's OAuth client: public, PKCE S256, access tokens without a `role` claim
/// (like Clerk OAuth access tokens, which PostgREST runs as `anon` with the claims set).
pub const CLIENT_ID: &str = "bookwish-desktop";
/// A second public client whose access tokens carry `role: authenticated`, like Clerk session
/// tokens (for tests that both token kinds reach their own rows only).
pub const SESSION_CLIENT_ID: &str = "bookwish-session";
/// Where the provider sends the browser back: the app's deep link.
pub const REDIRECT_URI: &str = "bookwish://auth/callback";
/// The scopes the app asks for (Clerk's: `offline_access` yields a refresh token).
pub const SCOPES: &str = "openid email profile offline_access";
/// The access tokens' `aud`, checked by PostgREST (`jwt-aud`).
pub const DEFAULT_AUDIENCE: &str = "bookwish";

/// A user the local provider knows, with a Clerk-shaped id (`sub`).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TestUser {
    /// Login name.
    pub username: &'static str,
    /// Password (local test data, not a secret).
    pub password: &'static str,
    /// The JWT `sub`, shaped like a Clerk user id.
    pub sub: &'static str,
    /// Email claim.
    pub email: &'static str,
    /// Display name claim.
    pub name: &'static str,
}

/// Alice: has the seed's The Hobbit and Dune.
pub const ALICE: TestUser = TestUser {
    username: "alice",
    password: "alice-wonderland",
    sub: "user_alice2bW9kQ4mX7rT1nV8",
    email: "alice@bookwish.test",
    name: "Alice Liddell",
};
/// Bob: has his own The Hobbit and Dune.
pub const BOB: TestUser = TestUser {
    username: "bob",
    password: "bob-builder",
    sub: "user_bob2cX8jP3nW6sR0mU7e",
    email: "bob@bookwish.test",
    name: "Bob Builder",
};
/// Carol: no seed data (sync tests).
pub const CAROL: TestUser = TestUser {
    username: "carol",
    password: "carol-singer",
    sub: "user_carol2dY7hN2pV5tQ9kW6",
    email: "carol@bookwish.test",
    name: "Carol Singer",
};
/// Dave: no seed data (sync tests).
pub const DAVE: TestUser = TestUser {
    username: "dave",
    password: "dave-diver",
    sub: "user_dave2eZ6gM1qU4sP8jX5r",
    email: "dave@bookwish.test",
    name: "Dave Diver",
};
/// Every user the local provider accepts.
pub const USERS: [TestUser; 4] = [ALICE, BOB, CAROL, DAVE];

/// What the token endpoint answered.
#[derive(Clone, Debug, Deserialize)]
pub struct Tokens {
    /// JWT access token for PostgREST (`Authorization: Bearer …`).
    pub access_token: String,
    /// Refresh token (rotates on every use).
    pub refresh_token: Option<String>,
    /// OpenID Connect ID token (`aud` = the client id).
    pub id_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Granted scopes.
    pub scope: Option<String>,
    /// Always `Bearer`.
    pub token_type: String,
}

impl Tokens {
    /// The access token's claims (decoded without verification: for test assertions).
    pub fn access_claims(&self) -> Result<serde_json::Value> {
        jwt_claims(&self.access_token)
    }
}

/// The payload of a JWT, decoded but not verified.
pub fn jwt_claims(jwt: &str) -> Result<serde_json::Value> {
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| Error::Login("not a JWT".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| Error::Login(format!("JWT payload is not base64url: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Login(format!("JWT payload: {e}")))
}

/// How to start a provider on its own (the stack starts one for you).
#[derive(Clone, Debug)]
pub struct IdpOptions {
    /// Directory for its log and pid file; `None`: a temporary one, removed on drop.
    pub root: Option<PathBuf>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Signing keys directory: reuse another provider's keys (tokens PostgREST trusts), or
    /// `None` for `<root>/idp` (made on first start and kept).
    pub key_dir: Option<PathBuf>,
    /// Access token audience.
    pub audience: String,
    /// Access token lifetime (seconds); `None` for the default hour.
    pub access_token_ttl: Option<u64>,
}

impl Default for IdpOptions {
    fn default() -> Self {
        Self {
            root: None,
            port: 0,
            key_dir: None,
            audience: DEFAULT_AUDIENCE.into(),
            access_token_ttl: None,
        }
    }
}

/// A running provider. Stops on drop unless owned by a detached stack.
#[derive(Debug)]
pub struct Idp {
    issuer: String,
    key_dir: PathBuf,
    jwks_path: PathBuf,
    service: Option<Service>,
    reaper: Option<Reaper>,
}

impl Idp {
    /// Starts a provider on its own (for tests that need a second one: another signing key, a
    /// short access-token lifetime) and waits for its discovery document.
    pub async fn start(opts: IdpOptions) -> Result<Self> {
        let (root, temporary) = match &opts.root {
            Some(root) => (root.clone(), false),
            None => (proc::temp_root("idp")?, true),
        };
        let reaper = Reaper::spawn(&root, temporary)?;
        let port = if opts.port == 0 {
            proc::free_ports::<1>()?[0]
        } else {
            opts.port
        };
        let mut idp = Self::spawn(&root, port, &opts).await?;
        idp.reaper = Some(reaper);
        Ok(idp)
    }

    /// Spawns the provider into `root` (writing `<root>/jwks.json`) and waits until it answers.
    pub(crate) async fn spawn(root: &Path, port: u16, opts: &IdpOptions) -> Result<Self> {
        let key_dir = opts.key_dir.clone().unwrap_or_else(|| root.join("idp"));
        std::fs::create_dir_all(&key_dir).context(|| format!("create {}", key_dir.display()))?;
        let jwks_path = root.join("jwks.json");
        let script = proc::repo_root().join("stack/idp/server.mjs");
        let users = serde_json::to_string(&USERS).unwrap_or_default();
        let mut cmd = Command::new(proc::node_bin());
        cmd.arg(&script)
            .current_dir(proc::repo_root())
            .env("BOOKWISH_IDP_PORT", port.to_string())
            .env("BOOKWISH_IDP_DIR", &key_dir)
            .env("BOOKWISH_IDP_JWKS_OUT", &jwks_path)
            .env("BOOKWISH_IDP_AUDIENCE", &opts.audience)
            .env("BOOKWISH_IDP_USERS", users)
            .env("NODE_NO_WARNINGS", "1");
        if let Some(ttl) = opts.access_token_ttl {
            cmd.env("BOOKWISH_IDP_ACCESS_TTL", ttl.to_string());
        }
        let service = Service::spawn("idp", cmd, root)?;
        let mut idp = Self {
            issuer: format!("http://127.0.0.1:{port}"),
            key_dir,
            jwks_path,
            service: Some(service),
            reaper: None,
        };
        idp.wait_ready(Duration::from_secs(30)).await?;
        Ok(idp)
    }

    async fn wait_ready(&mut self, deadline: Duration) -> Result<()> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let start = Instant::now();
        loop {
            if let Some(service) = self.service.as_mut() {
                service.check_running()?;
            }
            if let Ok(resp) = client.get(&url).send().await {
                if resp.status().is_success() {
                    return Ok(());
                }
            }
            if start.elapsed() > deadline {
                return Err(Error::NotReady {
                    service: "the OpenID provider",
                    waited: deadline,
                    log: self
                        .service
                        .as_ref()
                        .map(|s| proc::log_tail(&s.log))
                        .unwrap_or_default(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The issuer (Clerk's "Frontend API URL"): `http://127.0.0.1:<port>`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Where its signing keys live (hand to another provider to issue trusted tokens).
    pub fn key_dir(&self) -> &Path {
        &self.key_dir
    }

    /// The public JWKS file it wrote (PostgREST's `jwt-secret`).
    pub fn jwks_path(&self) -> &Path {
        &self.jwks_path
    }

    pub(crate) fn detach(mut self) -> Option<u32> {
        if let Some(reaper) = self.reaper.take() {
            reaper.disarm();
        }
        self.service.take().map(Service::detach)
    }

    /// Signs in as the app does, with [`CLIENT_ID`]: the real authorization-code + PKCE flow
    /// over HTTP.
    pub async fn login(&self, username: &str, password: &str) -> Result<Tokens> {
        login(&self.issuer, CLIENT_ID, username, password).await
    }

    /// Signs in with another client (e.g. [`SESSION_CLIENT_ID`]).
    pub async fn login_client(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> Result<Tokens> {
        login(&self.issuer, client_id, username, password).await
    }

    /// Exchanges a refresh token (which rotates: the old one is spent).
    pub async fn refresh(&self, client_id: &str, refresh_token: &str) -> Result<Tokens> {
        refresh(&self.issuer, client_id, refresh_token).await
    }

    /// Rotates the signing key as a real provider does: a new key signs every token from now
    /// on, the old one stays published in the JWKS, sessions and refresh tokens survive.
    /// Returns the new key's id. (PostgREST read the JWKS at its start: use a provider of its
    /// own, not the stack's, for tests that rotate.)
    pub async fn rotate_signing_key(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct Rotated {
            kid: String,
        }
        let response = reqwest::Client::new()
            .post(format!("{}/test/rotate-signing-key", self.issuer))
            .send()
            .await?
            .error_for_status()?;
        Ok(response.json::<Rotated>().await?.kid)
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        if let Some(mut service) = self.service.take() {
            service.kill_now();
        }
        if let Some(reaper) = self.reaper.take() {
            reaper.finish();
        }
    }
}

fn random_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

fn location(resp: &reqwest::Response, base: &Url, step: &str) -> Result<Url> {
    if resp.status() != StatusCode::SEE_OTHER && resp.status() != StatusCode::FOUND {
        return Err(Error::Login(format!(
            "{step}: expected a redirect, got {}",
            resp.status()
        )));
    }
    let raw = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::Login(format!("{step}: redirect without Location")))?;
    base.join(raw)
        .map_err(|e| Error::Login(format!("{step}: bad Location {raw:?}: {e}")))
}

/// The user's part of a sign-in, as their browser does it, headless: opens `authorize` (an
/// authorization URL the app made) with a cookie jar, logs in on the provider's form and follows
/// redirects until the provider sends the browser to the app's `bookwish://` link, which it
/// returns — what a browser hands to the OS. The tests' "system browser".
pub async fn browser_sign_in(authorize: &str, username: &str, password: &str) -> Result<Url> {
    let authorize =
        Url::parse(authorize).map_err(|e| Error::Login(format!("authorize URL: {e}")))?;
    log_in_at(&browser()?, &authorize, username, password).await
}

fn browser() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// Loads `authorize`, logs in on the interaction form, and follows redirects (each hop
/// checked) to the deep link.
async fn log_in_at(
    http: &reqwest::Client,
    authorize: &Url,
    username: &str,
    password: &str,
) -> Result<Url> {
    let resp = http.get(authorize.clone()).send().await?;
    let interaction = location(&resp, authorize, "authorize")?;
    if !interaction.path().starts_with("/interaction/") {
        return Err(Error::Login(format!(
            "authorize redirected to {interaction} instead of the login interaction"
        )));
    }
    let login_url = Url::parse(&format!(
        "{}/login",
        interaction.as_str().trim_end_matches('/')
    ))
    .map_err(|e| Error::Login(e.to_string()))?;
    let mut resp = http
        .post(login_url.clone())
        .form(&[("username", username), ("password", password)])
        .send()
        .await?;
    if resp.status() == StatusCode::UNAUTHORIZED {
        return Err(Error::Login(format!(
            "the provider refused {username:?}: unknown user or wrong password"
        )));
    }
    let mut at = login_url;
    for _ in 0..10 {
        let next = location(&resp, &at, "login")?;
        if next.scheme() == "bookwish" {
            return Ok(next);
        }
        resp = http.get(next.clone()).send().await?;
        at = next;
    }
    Err(Error::Login(
        "the provider never redirected to the app's deep link".into(),
    ))
}

/// The authorization-code + PKCE (S256) flow, headless: one cookie jar, no automatic
/// redirects, every hop checked.
pub async fn login(
    issuer: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<Tokens> {
    let base = Url::parse(issuer).map_err(|e| Error::Login(format!("issuer {issuer}: {e}")))?;
    let http = browser()?;
    let verifier = random_token();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random_token();
    let nonce = random_token();
    let mut authorize = base
        .join("/oauth/authorize")
        .map_err(|e| Error::Login(e.to_string()))?;
    authorize
        .query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", SCOPES)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        // oidc-provider grants offline_access (a refresh token) only with prompt=consent.
        .append_pair("prompt", "consent");

    let callback = log_in_at(&http, &authorize, username, password).await?;
    if !callback.as_str().starts_with(REDIRECT_URI) {
        return Err(Error::Login(format!(
            "expected a redirect to {REDIRECT_URI}, got {callback}"
        )));
    }
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        return Err(Error::Login(format!(
            "the provider answered {error}: {}",
            param("error_description").unwrap_or_default()
        )));
    }
    if param("state").as_deref() != Some(state.as_str()) {
        return Err(Error::Login("the callback's state does not match".into()));
    }
    if let Some(iss) = param("iss") {
        if iss != issuer {
            return Err(Error::Login(format!(
                "the callback names issuer {iss}, not {issuer}"
            )));
        }
    }
    let code = param("code").ok_or_else(|| Error::Login("callback without code".into()))?;

    token_request(
        &http,
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", client_id),
            ("code_verifier", &verifier),
        ],
    )
    .await
}

/// Exchanges a refresh token at the token endpoint.
pub async fn refresh(issuer: &str, client_id: &str, refresh_token: &str) -> Result<Tokens> {
    let base = Url::parse(issuer).map_err(|e| Error::Login(format!("issuer {issuer}: {e}")))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    token_request(
        &http,
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ],
    )
    .await
}

async fn token_request(
    http: &reqwest::Client,
    base: &Url,
    form: &[(&str, &str)],
) -> Result<Tokens> {
    let url = base
        .join("/oauth/token")
        .map_err(|e| Error::Login(e.to_string()))?;
    let resp = http.post(url).form(form).send().await?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        return Err(Error::Login(format!(
            "token endpoint answered {status}: {body}"
        )));
    }
    Ok(resp.json().await?)
}
