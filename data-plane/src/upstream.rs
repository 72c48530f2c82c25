//! The upstream client: pooled hyper clients over HTTP/1.1 or h2, cleartext or rustls.
//!
//! Clients are shared by every route with the same version, CA and connect timeout, and they
//! outlive config swaps so a reload keeps its warm connections.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::tls::{self, TlsError};

/// The h2 connection-level receive window toward an upstream: 256 MiB, Envoy's default, where
/// hyper's client would use 5 MiB.
///
/// One connection carries every stream of the routes sharing a client, and a reconnect storm
/// brings all their first events at once (100,000 streams of 512 B is 50 MiB). Once the window
/// is spent, a hyper upstream answers the credit trickling back with one-byte DATA frames (it
/// reserves a byte per stream before it has the data), and h2's flood guard, which tolerates
/// unread small frames worth half the window, closes the connection with ENHANCE_YOUR_CALM,
/// breaking every stream on it. The window is credit, not memory: data waits in it only while
/// the node is behind, since streams read their upstream as events arrive.
const H2_CONNECTION_WINDOW: u32 = 256 << 20;

/// Each read from an HTTP/1.1 upstream takes at most this much. hyper's adaptive default starts
/// at 8 KiB and keeps a second buffer while the first event's bytes are still held, about 24 KiB
/// per idle stream; events are far smaller, and a bigger one is read over several reads.
const H1_READ_BUFFER: usize = 4096;

/// The client type every route uses; requests carry no body (streams are GET).
pub type UpstreamClient = Client<HttpsConnector<HttpConnector<Resolver>>, Empty<Bytes>>;

/// Name resolution for upstreams: fixed addresses for some names (like curl's `--resolve`,
/// for tests and for configs written for another network, such as Zilla's examples), the
/// system resolver for the rest.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    overrides: Arc<HashMap<String, IpAddr>>,
}

impl Resolver {
    /// A resolver answering `overrides` (name to address) itself.
    pub fn new(overrides: HashMap<String, IpAddr>) -> Resolver {
        Resolver {
            overrides: Arc::new(overrides),
        }
    }
}

type Resolving =
    Pin<Box<dyn Future<Output = std::io::Result<std::vec::IntoIter<SocketAddr>>> + Send>>;

impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Resolving {
        if let Some(ip) = self.overrides.get(name.as_str()) {
            let addrs = vec![SocketAddr::new(*ip, 0)];
            return Box::pin(std::future::ready(Ok(addrs.into_iter())));
        }
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let lookup = tokio::task::spawn_blocking(move || (host.as_str(), 0).to_socket_addrs());
            let addrs = lookup.await.map_err(std::io::Error::other)??;
            Ok(addrs.collect::<Vec<_>>().into_iter())
        })
    }
}

/// What makes two routes need different clients.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    /// Speak h2 (prior knowledge on cleartext, ALPN `h2` over TLS) instead of HTTP/1.1.
    pub h2: bool,
    /// An extra CA certificate (PEM) trusted for https upstreams, besides the system roots.
    pub ca: Option<PathBuf>,
    /// How long a TCP connect may take.
    pub connect_timeout: Duration,
}

/// The node's clients, keyed by [`ClientKey`].
#[derive(Debug, Default)]
pub struct UpstreamClients {
    clients: Mutex<HashMap<ClientKey, UpstreamClient>>,
    resolver: Resolver,
}

impl UpstreamClients {
    /// Clients resolving names with `resolver`.
    pub fn with_resolver(resolver: Resolver) -> UpstreamClients {
        UpstreamClients {
            clients: Mutex::default(),
            resolver,
        }
    }

    /// The client for `key`, built on first use. Called while compiling a snapshot, never per
    /// request.
    pub fn client(&self, key: &ClientKey) -> Result<UpstreamClient, TlsError> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(client) = clients.get(key) {
            return Ok(client.clone());
        }
        let client = build(key, self.resolver.clone())?;
        clients.insert(key.clone(), client.clone());
        Ok(client)
    }
}

fn build(key: &ClientKey, resolver: Resolver) -> Result<UpstreamClient, TlsError> {
    let mut http = HttpConnector::new_with_resolver(resolver);
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(key.connect_timeout));
    // Finds dead peers on quiet streams; SSE streams have no total-duration timeout (C17).
    http.set_keepalive(Some(Duration::from_secs(30)));

    let tls = tls::client_config(key.ca.as_deref(), &[])?;
    let builder = HttpsConnectorBuilder::new()
        .with_tls_config((*tls).clone())
        .https_or_http();
    let connector = if key.h2 {
        builder.enable_http2().wrap_connector(http)
    } else {
        builder.enable_http1().wrap_connector(http)
    };

    let client = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .timer(TokioTimer::new())
        .http2_only(key.h2)
        .http1_read_buf_exact_size(H1_READ_BUFFER)
        .http2_initial_connection_window_size(H2_CONNECTION_WINDOW)
        .http2_keep_alive_interval(Some(Duration::from_secs(30)))
        .build(connector);
    Ok(client)
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use futures_util::StreamExt as _;
    use http::Request;
    use http_body_util::{BodyExt as _, StreamBody};
    use hyper::body::Frame;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use tokio::net::TcpListener;

    use super::*;

    /// An h2 upstream whose every stream sends one `size`-byte event, then stays open.
    async fn idle_after_one_event(size: usize) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let service = service_fn(move |_| async move {
                    let event = Frame::data(Bytes::from(vec![b'x'; size]));
                    let frames =
                        futures_util::stream::once(async move { Ok::<_, Infallible>(event) })
                            .chain(futures_util::stream::pending());
                    Ok::<_, Infallible>(http::Response::new(StreamBody::new(frames)))
                });
                let mut server = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
                server.max_concurrent_streams(u32::MAX);
                tokio::spawn(server.serve_connection(TokioIo::new(tcp), service));
            }
        });
        address
    }

    /// 16,000 first events of 4 KiB (62.5 MiB) overrun hyper's default 5 MiB window; the streams
    /// left waiting for credit then get one-byte frames, enough to trip h2's flood guard.
    #[tokio::test]
    async fn a_burst_of_first_events_keeps_the_h2_connection() {
        let upstream = idle_after_one_event(4096).await;
        let key = ClientKey {
            h2: true,
            ca: None,
            connect_timeout: Duration::from_secs(5),
        };
        let client = UpstreamClients::default().client(&key).expect("client");
        let uri = format!("http://{upstream}/");
        let calls = (0..16_000).map(|_| {
            let request = Request::get(&uri).body(Empty::new()).expect("request");
            client.request(request)
        });

        // Every stream is open (headers are not flow-controlled) before any is read, as when the
        // node falls behind.
        let responses = futures_util::future::join_all(calls).await;
        let read = async {
            for response in responses {
                let mut body = response.expect("response").into_body();
                let frame = body
                    .frame()
                    .await
                    .expect("a frame")
                    .expect("the connection lives");
                assert!(frame.is_data());
            }
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("every first event within a minute");
    }
}
