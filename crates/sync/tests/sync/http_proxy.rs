//! An HTTP proxy in front of the real PostgREST that can change its answers, one request path
//! at a time: a web page instead of JSON, a 502 page, a cut-off body, a huge body, a
//! `Retry-After` far in the future, or PostgREST's own answer rewritten (a result dropped, an
//! old page sent again). Everything without a fault goes through untouched.
//!
//! Unlike the TCP `Proxy` in `support.rs` (network faults), this one speaks HTTP (axum on
//! hyper, already built for `bookwish-hooks`), so a fault is a whole, well-framed answer: what a
//! broken or hostile server, a captive portal or a middlebox really sends.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http_body::Frame;

/// An answer the proxy sends.
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers besides the framing ones (the proxy frames the body itself).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: AnswerBody,
}

/// An answer's body.
#[derive(Clone, Debug)]
pub enum AnswerBody {
    /// These bytes.
    Bytes(Vec<u8>),
    /// `len` bytes of a JSON string (`"xxxx…"`), streamed in chunks; the bytes the client
    /// actually pulled are counted in [`HttpProxy::streamed`].
    Huge(usize),
}

impl Answer {
    /// `status` with a body of `content_type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: AnswerBody::Bytes(body.into()),
        }
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What the proxy does with requests to one path.
#[derive(Clone)]
pub enum Fault {
    /// Answers this without asking PostgREST.
    Answer(Answer),
    /// Asks PostgREST, then sends what `rewrite` makes of its answer.
    Rewrite(Arc<dyn Fn(Answer) -> Answer + Send + Sync>),
}

impl Fault {
    /// A rewrite of PostgREST's answer.
    pub fn rewrite(rewrite: impl Fn(Answer) -> Answer + Send + Sync + 'static) -> Fault {
        Fault::Rewrite(Arc::new(rewrite))
    }
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    faults: Mutex<HashMap<String, Fault>>,
    hits: Mutex<HashMap<String, usize>>,
    streamed: Arc<AtomicUsize>,
}

/// The proxy; stops when dropped.
pub struct HttpProxy {
    /// Its base URL (PostgREST's root).
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HttpProxy {
    /// A proxy for the PostgREST listening on `upstream_port` of loopback.
    pub async fn start(upstream_port: u16) -> HttpProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            upstream: format!("http://127.0.0.1:{upstream_port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            faults: Mutex::default(),
            hits: Mutex::default(),
            streamed: Arc::default(),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HttpProxy { url, shared, task }
    }

    /// From now on, requests to `path` (e.g. `/rpc/sync_push`) meet `fault`.
    pub fn set(&self, path: &str, fault: Fault) {
        self.shared
            .faults
            .lock()
            .unwrap()
            .insert(path.to_owned(), fault);
    }

    /// Requests to `path` go through untouched again.
    pub fn clear(&self, path: &str) {
        self.shared.faults.lock().unwrap().remove(path);
    }

    /// Requests to `path` so far (with or without a fault).
    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Bytes of [`AnswerBody::Huge`] bodies the clients pulled so far.
    pub fn streamed(&self) -> usize {
        self.shared.streamed.load(Ordering::SeqCst)
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    *shared.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let fault = shared.faults.lock().unwrap().get(&path).cloned();
    let answer = match fault {
        Some(Fault::Answer(answer)) => answer,
        Some(Fault::Rewrite(rewrite)) => rewrite(forward(&shared, request).await),
        None => forward(&shared, request).await,
    };
    respond(answer, &shared.streamed)
}

/// PostgREST's answer to `request`, read whole.
async fn forward(shared: &Shared, request: Request) -> Answer {
    let (parts, body) = request.into_parts();
    let url = format!(
        "{}{}",
        shared.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut outgoing = shared.client.request(method, url).body(body.to_vec());
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    let response = outgoing.send().await.expect("PostgREST answers the proxy");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            )
        })
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = response.bytes().await.expect("PostgREST's body").to_vec();
    Answer {
        status,
        headers,
        body: AnswerBody::Bytes(body),
    }
}

fn respond(answer: Answer, streamed: &Arc<AtomicUsize>) -> Response {
    let mut builder = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        builder = builder.header(name, value);
    }
    let body = match answer.body {
        AnswerBody::Bytes(bytes) => Body::from(bytes),
        AnswerBody::Huge(len) => {
            builder = builder.header("content-type", "application/json");
            Body::new(HugeBody {
                left: len,
                first: true,
                streamed: Arc::clone(streamed),
            })
        }
    };
    builder.body(body).unwrap()
}

/// A JSON string of `left` bytes in 64 KiB chunks, counting what is pulled.
struct HugeBody {
    left: usize,
    first: bool,
    streamed: Arc<AtomicUsize>,
}

impl http_body::Body for HugeBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        const CHUNK: usize = 64 * 1024;
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(CHUNK);
        let mut chunk = vec![b'x'; n];
        if self.first {
            chunk[0] = b'"';
            self.first = false;
        }
        if n == self.left {
            chunk[n - 1] = b'"';
        }
        self.left -= n;
        self.streamed.fetch_add(n, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left as u64)
    }
}
