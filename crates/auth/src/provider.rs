//! The OpenID Connect provider as discovered from its issuer: endpoints, signing keys (JWKS)
//! and, where it has one, the token revocation endpoint.

use std::fmt::Display;

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, ClientId, DiscoveryError, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, ErrorResponseType, IssuerUrl, ProviderMetadata, RedirectUrl, RequestTokenError,
    StandardErrorResponse,
};
use serde::{Deserialize, Serialize};

use crate::attempt::REDIRECT_URI;
use crate::error::{Cause, Error};
use crate::http::{HttpError, OidcHttp};
use bookwish_config::ClerkConfig;

/// Discovery fields `openidconnect`'s core metadata leaves out.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct ExtraMetadata {
    /// RFC 7009 revocation endpoint (RFC 8414 metadata), when the provider has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revocation_endpoint: Option<String>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The client as built from discovery: authorization endpoint set, token and userinfo
/// endpoints as the provider declared them.
pub(crate) type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A discovered provider.
pub(crate) struct Provider {
    pub(crate) client: OidcClient,
    /// RFC 7009 endpoint. Called by hand rather than through `openidconnect`, which refuses
    /// plain-HTTP revocation URLs even on loopback (the local stack's provider).
    pub(crate) revocation: Option<url::Url>,
    /// The issuer exactly as the provider spells it (compared with a callback's `iss`).
    pub(crate) issuer: String,
}

/// The issuer URL as the provider spells it. `Url` adds a `/` to a bare origin
/// (`https://clerk.example.com` → `…com/`), but the issuer must match the discovery document
/// character for character, and Clerk's has no trailing slash.
pub(crate) fn issuer_string(config: &ClerkConfig) -> String {
    let url = &config.issuer;
    if url.path() == "/" && url.query().is_none() && url.fragment().is_none() {
        url.as_str().trim_end_matches('/').to_owned()
    } else {
        url.as_str().to_owned()
    }
}

impl Provider {
    /// Fetches `<issuer>/.well-known/openid-configuration` and the JWKS it names.
    pub(crate) async fn discover(config: &ClerkConfig, http: &OidcHttp) -> Result<Provider, Error> {
        let issuer = IssuerUrl::new(issuer_string(config))
            .map_err(|error| Error::protocol("discovery", error))?;
        let metadata = Metadata::discover_async(issuer, http)
            .await
            .map_err(discovery_error)?;
        check_endpoints(&metadata)?;
        let revocation = match &metadata.additional_metadata().revocation_endpoint {
            Some(url) => Some(
                url::Url::parse(url).map_err(|error| Error::protocol("discovery", error))?,
            )
            .filter(|url| {
                let safe = bookwish_config::is_https_or_loopback(url);
                if !safe {
                    tracing::warn!(%url, "ignoring a revocation endpoint that is neither HTTPS nor loopback");
                }
                safe
            }),
            None => None,
        };
        let issuer = metadata.issuer().as_str().to_owned();
        let redirect = RedirectUrl::new(REDIRECT_URI.to_owned())
            .map_err(|error| Error::protocol("discovery", error))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            None,
        )
        .set_redirect_uri(redirect);
        Ok(Provider {
            client,
            revocation,
            issuer,
        })
    }
}

/// The endpoints a discovery document names must be HTTPS, or plain HTTP to this computer,
/// like the configured issuer: the browser carries the sign-in over the authorization
/// endpoint, codes and tokens cross the token and userinfo endpoints, and the JWKS decides
/// which ID tokens are believed.
fn check_endpoints(metadata: &Metadata) -> Result<(), Error> {
    let endpoints = [
        (
            "authorization",
            Some(metadata.authorization_endpoint().url()),
        ),
        ("token", metadata.token_endpoint().map(|url| url.url())),
        (
            "userinfo",
            metadata.userinfo_endpoint().map(|url| url.url()),
        ),
        ("JWKS", Some(metadata.jwks_uri().url())),
    ];
    for (name, url) in endpoints {
        if let Some(url) = url.filter(|url| !bookwish_config::is_https_or_loopback(url)) {
            return Err(Error::Protocol {
                what: "discovery",
                cause: Cause::new(format!(
                    "the {name} endpoint {} is neither HTTPS nor on this computer",
                    url.origin().ascii_serialization()
                )),
            });
        }
    }
    Ok(())
}

fn discovery_error(error: DiscoveryError<HttpError>) -> Error {
    match error {
        DiscoveryError::Request(HttpError::Transport(error)) => Error::unreachable(error),
        DiscoveryError::Response(status, _, _) if status.is_server_error() => {
            Error::unreachable(format!("discovery answered HTTP {status}"))
        }
        other => Error::Protocol {
            what: "discovery",
            cause: Cause::chain(&other),
        },
    }
}

/// Maps a failed token-endpoint request (code exchange, refresh, revocation).
pub(crate) fn token_error<T>(
    what: &'static str,
    error: RequestTokenError<HttpError, StandardErrorResponse<T>>,
) -> Error
where
    T: ErrorResponseType + AsRef<str> + Display + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => Error::Provider {
            error: response.error().as_ref().to_owned(),
            description: response.error_description().cloned(),
        },
        RequestTokenError::Request(HttpError::Transport(error)) => Error::unreachable(error),
        // The parse error carries the response body, which may hold tokens: keep only its text.
        RequestTokenError::Parse(error, _body) => Error::protocol(what, error),
        other => Error::Protocol {
            what,
            cause: Cause::chain(&other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clerk(issuer: &str) -> ClerkConfig {
        ClerkConfig {
            issuer: url::Url::parse(issuer).expect("test URL"),
            client_id: "id".into(),
        }
    }

    #[test]
    fn tokens_go_only_over_https_or_to_loopback() {
        let safe =
            |u: &str| bookwish_config::is_https_or_loopback(&url::Url::parse(u).expect("test URL"));
        assert!(safe("https://clerk.example.com/oauth/revoke"));
        assert!(safe("http://127.0.0.1:4000/oauth/revoke"));
        assert!(safe("http://[::1]:4000/oauth/revoke"));
        assert!(safe("http://localhost:4000/oauth/revoke"));
        assert!(!safe("http://clerk.example.com/oauth/revoke"));
        assert!(!safe("http://10.0.0.1/oauth/revoke"));
    }

    fn metadata(token_endpoint: &str, jwks_uri: &str) -> Metadata {
        serde_json::from_value(serde_json::json!({
            "issuer": "https://clerk.example.com",
            "authorization_endpoint": "https://clerk.example.com/oauth/authorize",
            "token_endpoint": token_endpoint,
            "userinfo_endpoint": "https://clerk.example.com/oauth/userinfo",
            "jwks_uri": jwks_uri,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
        .expect("a discovery document")
    }

    #[test]
    fn discovered_endpoints_must_be_https_or_loopback() {
        let jwks = "https://clerk.example.com/.well-known/jwks.json";
        assert!(check_endpoints(&metadata("https://clerk.example.com/oauth/token", jwks)).is_ok());
        assert!(
            check_endpoints(&metadata("http://127.0.0.1:4000/oauth/token", jwks)).is_ok(),
            "a development provider on this computer"
        );
        let error = check_endpoints(&metadata("http://clerk.example.com/oauth/token", jwks))
            .expect_err("codes and tokens never go over plain HTTP to another host");
        assert!(
            error.to_string().contains("couldn't be understood"),
            "the user sees a sentence: {error}"
        );
        assert!(
            check_endpoints(&metadata(
                "https://clerk.example.com/oauth/token",
                "http://keys.example.com/jwks.json"
            ))
            .is_err(),
            "nor are signing keys fetched over plain HTTP from another host"
        );
    }

    #[test]
    fn issuer_keeps_the_providers_spelling() {
        assert_eq!(
            issuer_string(&clerk("https://clerk.example.com")),
            "https://clerk.example.com"
        );
        assert_eq!(
            issuer_string(&clerk("http://127.0.0.1:4000/")),
            "http://127.0.0.1:4000"
        );
        assert_eq!(
            issuer_string(&clerk("https://example.com/tenant/")),
            "https://example.com/tenant/",
            "an issuer with a path is kept as written"
        );
    }
}
