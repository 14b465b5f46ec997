//! The server's connections: accepted with a limit, over TLS when it has a certificate,
//! spoken to in HTTP/1.1 with timeouts, and finished gracefully on shutdown.
//!
//! - At most [`Limits::max_connections`] at once; one more is answered 503 and closed (over
//!   TLS: closed), so a flood of idle sockets cannot take every file handle.
//! - A connection has [`Limits::header_read`] to send a request's headers, after the handshake
//!   and between requests alike: a slow or idle connection is closed then.
//! - Over TLS the handshake has the same time.
//! - Request bodies have their own limits, per route (`api`).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::client::{Cidr, client_of};
use crate::security::OverTls;
use crate::tls::Tls;

/// How long and how many.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Time for a request's headers (and for a TLS handshake); also how long an idle
    /// connection stays open.
    pub header_read: Duration,
    /// Time between two pieces of a request body.
    pub body_idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_read: Duration::from_secs(20),
            body_idle: Duration::from_secs(20),
        }
    }
}

/// How many connections over the limit are answered at once (each for at most 2 s).
const REFUSED_AT_ONCE: usize = 64;

/// The answer to a connection over the limit, written without reading its request.
const FULL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 39\r\nConnection: close\r\n\r\nthe server is full: try again shortly\r\n\r\n";

/// Serves `router` on `listener` (over TLS with `tls`) until `shutdown` completes, then lets
/// requests in flight finish.
pub async fn run(
    listener: TcpListener,
    tls: Option<Arc<Tls>>,
    router: Router,
    limits: Limits,
    trusted: Arc<[Cidr]>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Connections over the limit are told so a few at a time; beyond, they are closed at once.
    let refusals = Arc::new(Semaphore::new(REFUSED_AT_ONCE));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file handles, or a connection reset before it was accepted:
                    // the listener itself is fine.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if let Ok(telling) = refusals.clone().try_acquire_owned() {
                let tls = tls.is_some();
                tokio::spawn(async move {
                    refuse(stream, tls).await;
                    drop(telling);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, http, watcher) = (router.clone(), http.clone(), graceful.watcher());
        let (tls, trusted) = (tls.clone(), trusted.clone());
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => serve_one(&http, stream, router, (peer, false, trusted), watcher).await,
                Some(tls) => {
                    let handshake = tls.acceptor().accept(stream);
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(limits.header_read, handshake).await
                    {
                        serve_one(&http, stream, router, (peer, true, trusted), watcher).await;
                    }
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Serves one connection with `router`: each request carries its client's address, and
/// whether it came over HTTPS.
async fn serve_one(
    http: &hyper::server::conn::http1::Builder,
    io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    router: Router,
    (peer, over_tls, trusted): (SocketAddr, bool, Arc<[Cidr]>),
    watcher: hyper_util::server::graceful::Watcher,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let (client, https) = client_of(peer, request.headers(), &trusted, over_tls);
        let extensions = request.extensions_mut();
        extensions.insert(ConnectInfo(peer));
        extensions.insert(client);
        if https {
            extensions.insert(OverTls);
        }
        router.clone().oneshot(request.map(axum::body::Body::new))
    });
    // A connection that ends badly (reset, timed out) concerns nobody else.
    let _ = watcher
        .watch(http.serve_connection(TokioIo::new(io), service))
        .await;
}

/// Closes a connection over the limit; a plain one is told why, once its request's headers
/// are in (a client reads no answer to a request it has not sent yet).
async fn refuse(mut stream: TcpStream, tls: bool) {
    if !tls {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let mut head = Vec::new();
            let mut buf = [0u8; 2048];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(FULL).await;
        })
        .await;
    }
    let _ = stream.shutdown().await;
}

/// Answers every plain HTTP request on `listener` with a permanent redirect to the same
/// address over HTTPS on `https_port`, until `shutdown`.
pub async fn redirect_to_https(
    listener: TcpListener,
    https_port: u16,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new().fallback(move |headers: HeaderMap, uri: Uri| async move {
        redirect(&headers, &uri, https_port)
    });
    run(
        listener,
        None,
        router,
        Limits::default(),
        Arc::from([]),
        shutdown,
    )
    .await
}

fn redirect(headers: &HeaderMap, uri: &Uri, https_port: u16) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| match h.rsplit_once(':') {
            // A port after the name (not inside an IPv6 address's brackets).
            Some((name, port))
                if !port.contains(']') && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                name
            }
            _ => h,
        })
        .filter(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':')
                })
        });
    let Some(host) = host else {
        return (
            StatusCode::BAD_REQUEST,
            "use https:// and the server's name\n",
        )
            .into_response();
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{host}{port}{path}");
    match HeaderValue::from_str(&location) {
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "use https://\n").into_response(),
    }
}
