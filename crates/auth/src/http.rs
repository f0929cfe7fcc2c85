//! The adapter that lends the app's one HTTP client (reqwest 0.11, made by
//! `bookwish_config::http_client`) to `openidconnect` through its async HTTP client trait, so
//! the app compiles a single HTTP stack.

use std::future::Future;
use std::pin::Pin;

use openidconnect::{http, AsyncHttpClient, HttpRequest, HttpResponse};

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
