//! The app's one HTTP client (reqwest 0.11, the version `postgrest` is built on) and the
//! adapter that lends it to `openidconnect` through its async HTTP client trait, so the app
//! compiles a single HTTP stack.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{http, AsyncHttpClient, HttpRequest, HttpResponse};

/// How long connecting to a server may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the app's HTTP client. Redirects are never followed: an OAuth endpoint that redirects
/// could otherwise forward a code, a verifier or a token to another host (the `openidconnect`
/// docs require this of the client it is given).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("bookwish/", env!("CARGO_PKG_VERSION")))
        .build()
        // Building fails only if the TLS backend cannot initialise, which rustls with bundled
        // roots does not (and `Client::new()` would panic the same way). A fallback client
        // would follow redirects: better no client than that.
        .expect("the rustls HTTP client needs no system setup")
}

/// Why an HTTP exchange with the provider failed before any answer arrived.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No answer: connection refused, DNS failure, timeout, TLS failure.
    #[error("the request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The request or response could not be carried between the two `http` crate versions.
    #[error("the request could not be built: {0}")]
    Build(#[from] http::Error),
    /// The method is not an HTTP method reqwest knows.
    #[error("unsupported HTTP method")]
    Method,
}

/// `openidconnect`'s view of the app's client.
#[derive(Clone, Debug)]
pub(crate) struct OidcHttp(pub(crate) reqwest::Client);

type ResponseFuture<'c> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

impl<'c> AsyncHttpClient<'c> for OidcHttp {
    type Error = HttpError;
    type Future = ResponseFuture<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            // openidconnect speaks `http` 1.x, reqwest 0.11 speaks `http` 0.2: carry the parts
            // across by their textual form.
            let (parts, body) = request.into_parts();
            let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes())
                .map_err(|_| HttpError::Method)?;
            let mut outgoing = self.0.request(method, parts.uri.to_string()).body(body);
            for (name, value) in &parts.headers {
                outgoing = outgoing.header(name.as_str(), value.as_bytes());
            }
            let response = outgoing.send().await?;
            let mut incoming = http::Response::builder().status(response.status().as_u16());
            for (name, value) in response.headers() {
                incoming = incoming.header(name.as_str(), value.as_bytes());
            }
            let body = response.bytes().await?.to_vec();
            Ok(incoming.body(body)?)
        })
    }
}
