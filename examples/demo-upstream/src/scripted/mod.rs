//! An upstream whose every answer a test scripts: queued or computed [`Reply`]s with fixed or
//! live bodies, hangs, failures and resets; every request recorded; open responses and
//! connections counted so a test can wait for them to return to zero.
//!
//! A typical test starts it on a port-0 listener, queues `Reply::sse().live()` and keeps the
//! [`ReplyHandle`], points the gateway at [`ScriptedUpstream::url`], waits for the request with
//! [`ScriptedUpstream::wait_requests`], sends frames through the handle, and ends by awaiting
//! [`ReplyHandle::closed`] and `wait_open_responses(0)` once its client has left.

mod body;
mod conn;
mod gauge;
mod reply;
mod request;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tracing::debug;

use gauge::Gauge;
pub use reply::{Closed, Reply, ReplyHandle};
pub use request::RecordedRequest;

/// Computes the reply to a request when no queued reply is left.
type Handler = Arc<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

/// A running scripted upstream. Dropping it stops it; [`ScriptedUpstream::stop`] also waits
/// until every connection is closed.
#[derive(Debug)]
pub struct ScriptedUpstream {
    addr: SocketAddr,
    scheme: &'static str,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// What the test and the connections share.
pub(crate) struct Shared {
    replies: Mutex<Replies>,
    requests: watch::Sender<Vec<RecordedRequest>>,
    pub(crate) open_responses: Gauge,
    pub(crate) connections: Gauge,
    /// Notified to reset every open connection.
    pub(crate) abort_all: watch::Sender<()>,
}

#[derive(Default)]
struct Replies {
    queue: VecDeque<Reply>,
    handler: Option<Handler>,
}

impl ScriptedUpstream {
    /// Serves cleartext HTTP/1.1 and h2c on `listener`. Call within a tokio runtime.
    pub fn start(listener: TcpListener) -> io::Result<ScriptedUpstream> {
        ScriptedUpstream::spawn(listener, None)
    }

    /// Serves HTTP/1.1 and h2 over TLS with `config` on `listener`; the protocol follows the
    /// client's first bytes, so `config`'s ALPN list only says what to offer.
    pub fn start_tls(
        listener: TcpListener,
        config: Arc<rustls::ServerConfig>,
    ) -> io::Result<ScriptedUpstream> {
        ScriptedUpstream::spawn(listener, Some(TlsAcceptor::from(config)))
    }

    fn spawn(listener: TcpListener, tls: Option<TlsAcceptor>) -> io::Result<ScriptedUpstream> {
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared {
            replies: Mutex::default(),
            requests: watch::Sender::new(Vec::new()),
            open_responses: Gauge::new(),
            connections: Gauge::new(),
            abort_all: watch::Sender::new(()),
        });
        let task = tokio::spawn(conn::accept_loop(listener, shared.clone(), tls));
        debug!(%addr, scheme, "scripted upstream listening");
        Ok(ScriptedUpstream {
            addr,
            scheme,
            shared,
            task,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR{path}` (`https` when serving TLS).
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// Queues `reply` for the next request; queued replies go out in order, before the
    /// handler is asked.
    pub fn enqueue(&self, reply: Reply) {
        self.shared.lock().queue.push_back(reply);
    }

    /// Answers requests with `handler` once the queue is empty. Without a handler they get
    /// `404` with an empty body.
    pub fn respond(&self, handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static) {
        self.shared.lock().handler = Some(Arc::new(handler));
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.borrow().clone()
    }

    /// Resolves once at least `count` requests have arrived, with all of them.
    pub async fn wait_requests(&self, count: usize) -> Vec<RecordedRequest> {
        let mut seen = self.shared.requests.subscribe();
        // `self.shared` holds the sender, so the channel cannot close while this waits.
        let _ = seen.wait_for(|requests| requests.len() >= count).await;
        self.requests()
    }

    /// Requests that have arrived and whose response has neither ended nor been dropped:
    /// hung requests and bodies still streaming.
    pub fn open_responses(&self) -> usize {
        self.shared.open_responses.value()
    }

    /// Resolves once [`ScriptedUpstream::open_responses`] equals `count`.
    pub async fn wait_open_responses(&self, count: usize) {
        self.shared.open_responses.wait_for(count).await;
    }

    /// Accepted TCP connections not yet closed.
    pub fn connections(&self) -> usize {
        self.shared.connections.value()
    }

    /// Resolves once [`ScriptedUpstream::connections`] equals `count`.
    pub async fn wait_connections(&self, count: usize) {
        self.shared.connections.wait_for(count).await;
    }

    /// Resets every open connection, idle ones included, as an upstream crash would; the
    /// listener keeps accepting.
    pub fn abort_connections(&self) {
        self.shared.abort_all.send_modify(|()| {});
    }

    /// Stops listening, closes every connection, and returns once all are closed.
    pub async fn stop(mut self) {
        self.task.abort();
        // The task can only end by this abort; its result says nothing more.
        let _ = (&mut self.task).await;
        self.shared.connections.wait_for(0).await;
    }
}

impl Drop for ScriptedUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Replies> {
        // A panicking handler runs outside the lock, so a poisoned lock still holds a
        // consistent queue.
        self.replies.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next queued reply, else the handler's, else `404`.
    fn reply_for(&self, req: &RecordedRequest) -> Reply {
        let handler = {
            let mut replies = self.lock();
            if let Some(reply) = replies.queue.pop_front() {
                return reply;
            }
            replies.handler.clone()
        };
        match handler {
            Some(handler) => handler(req),
            None => Reply::status(StatusCode::NOT_FOUND),
        }
    }

    fn record(&self, req: RecordedRequest) {
        self.requests.send_modify(|requests| requests.push(req));
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("open_responses", &self.open_responses.value())
            .field("connections", &self.connections.value())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BOTH, Client, Proto, next_data, read_to_end, within};
    use bytes::Bytes;
    use http::header::CONTENT_TYPE;
    use http::{Method, Version};
    use http_body_util::Full;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn upstream() -> ScriptedUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        ScriptedUpstream::start(listener).expect("start")
    }

    fn get(client: &Client, path: &str) -> http::Request<Full<Bytes>> {
        client
            .request(Method::GET, path)
            .body(Full::default())
            .expect("request")
    }

    async fn next(body: &mut hyper::body::Incoming) -> Option<Bytes> {
        next_data(body).await.expect("body frame")
    }

    #[tokio::test]
    async fn fixed_chunks_arrive_as_separate_frames() {
        let upstream = upstream().await;
        for proto in BOTH {
            upstream.enqueue(
                Reply::sse()
                    .chunk("data: {\"n\":\r")
                    .chunk("\ndata: 1}\r\n\r\n"),
            );
            let mut client = Client::connect(upstream.addr(), proto).await;
            let response = client.get("/events", &[]).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");

            let mut body = response.into_body();
            assert_eq!(
                next(&mut body).await.as_deref(),
                Some(&b"data: {\"n\":\r"[..]),
                "{proto:?}"
            );
            assert_eq!(
                next(&mut body).await.as_deref(),
                Some(&b"\ndata: 1}\r\n\r\n"[..]),
                "{proto:?}"
            );
            assert_eq!(next(&mut body).await, None, "{proto:?}");
        }
        upstream.wait_open_responses(0).await;
    }

    #[tokio::test]
    async fn requests_are_recorded_with_version_and_headers() {
        let upstream = upstream().await;
        for (proto, version) in [
            (Proto::Http1, Version::HTTP_11),
            (Proto::H2c, Version::HTTP_2),
        ] {
            let mut client = Client::connect(upstream.addr(), proto).await;
            let response = client
                .get("/stream/a?x=1", &[("last-event-id", "41")])
                .await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND);

            let requests = upstream.requests();
            let recorded = requests.last().expect("a request");
            assert_eq!(recorded.method, Method::GET);
            assert_eq!(recorded.uri, "/stream/a?x=1");
            assert_eq!(recorded.version, version);
            assert_eq!(recorded.header("last-event-id"), Some("41"));
            assert_eq!(recorded.host(), Some(upstream.addr().to_string().as_str()));
        }
        assert_eq!(upstream.requests().len(), 2);
    }

    #[tokio::test]
    async fn live_frames_arrive_as_sent_and_finish_ends_the_body() {
        let upstream = upstream().await;
        for proto in BOTH {
            let (reply, handle) = Reply::sse().chunk(":ok\n\n").live();
            upstream.enqueue(reply);
            let mut client = Client::connect(upstream.addr(), proto).await;
            let mut body = client.get("/events", &[]).await.into_body();
            assert_eq!(next(&mut body).await.as_deref(), Some(&b":ok\n\n"[..]));

            for n in 1..=2 {
                let event = format!("data: {n}\n\n");
                handle.send(event.clone()).await.expect("response open");
                assert_eq!(next(&mut body).await, Some(Bytes::from(event)), "{proto:?}");
            }
            handle.finish();
            assert_eq!(next(&mut body).await, None, "{proto:?}");
            within("open responses 0", upstream.wait_open_responses(0)).await;
        }
    }

    #[tokio::test]
    async fn closed_resolves_when_the_client_drops_the_response() {
        let upstream = upstream().await;
        for proto in BOTH {
            let (reply, handle) = Reply::sse().live();
            upstream.enqueue(reply);
            let mut client = Client::connect(upstream.addr(), proto).await;
            let mut body = client.get("/events", &[]).await.into_body();
            handle.send("data: 1\n\n").await.expect("response open");
            assert_eq!(next(&mut body).await.as_deref(), Some(&b"data: 1\n\n"[..]));
            assert_eq!((upstream.open_responses(), upstream.connections()), (1, 1));

            // h2 cancels the stream alone (RST_STREAM); HTTP/1.1 can only close the socket.
            drop(body);
            if proto == Proto::Http1 {
                client.close();
            }
            within("closed", handle.closed()).await;
            assert_eq!(handle.send("data: 2\n\n").await, Err(Closed));
            within("open responses 0", upstream.wait_open_responses(0)).await;
            if proto == Proto::H2c {
                assert_eq!(
                    upstream.connections(),
                    1,
                    "the h2 connection outlives the stream"
                );
                client.close();
            }
            within("connections 0", upstream.wait_connections(0)).await;
        }
    }

    #[tokio::test]
    async fn hang_counts_as_open_until_the_client_gives_up() {
        let upstream = upstream().await;
        for (seen, proto) in BOTH.into_iter().enumerate() {
            upstream.enqueue(Reply::hang());
            let mut client = Client::connect(upstream.addr(), proto).await;
            let req = get(&client, "/slow");
            {
                let response = client.send(req);
                tokio::pin!(response);
                tokio::select! {
                    _ = &mut response => panic!("a hung request was answered"),
                    _ = within("request", upstream.wait_requests(seen + 1)) => {}
                }
                assert_eq!(upstream.open_responses(), 1, "{proto:?}");
            }
            client.close();
            within("open responses 0", upstream.wait_open_responses(0)).await;
            within("connections 0", upstream.wait_connections(0)).await;
        }
    }

    #[tokio::test]
    async fn abort_resets_the_connection_instead_of_answering() {
        let upstream = upstream().await;
        for proto in BOTH {
            upstream.enqueue(Reply::abort());
            let mut client = Client::connect(upstream.addr(), proto).await;
            let req = get(&client, "/");
            assert!(
                within("error", client.send(req)).await.is_err(),
                "{proto:?}"
            );
            within("connections 0", upstream.wait_connections(0)).await;
        }
        assert_eq!(upstream.open_responses(), 0);
    }

    #[tokio::test]
    async fn abort_is_a_tcp_reset() {
        let upstream = upstream().await;
        upstream.enqueue(Reply::abort());
        let mut tcp = TcpStream::connect(upstream.addr()).await.expect("connect");
        tcp.write_all(b"GET / HTTP/1.1\r\nhost: up\r\n\r\n")
            .await
            .expect("write");
        let read = within("reset", tcp.read(&mut [0; 64])).await;
        assert_eq!(
            read.map_err(|e| e.kind()),
            Err(std::io::ErrorKind::ConnectionReset)
        );
    }

    #[tokio::test]
    async fn then_abort_resets_mid_body() {
        let upstream = upstream().await;
        for proto in BOTH {
            upstream.enqueue(Reply::sse().chunk("data: 1\n\n").then_abort());
            let mut client = Client::connect(upstream.addr(), proto).await;
            let mut body = client.get("/events", &[]).await.into_body();
            assert_eq!(next(&mut body).await.as_deref(), Some(&b"data: 1\n\n"[..]));
            assert!(next_data(&mut body).await.is_err(), "{proto:?}");
            within("connections 0", upstream.wait_connections(0)).await;
        }
        assert_eq!(upstream.open_responses(), 0);
    }

    #[tokio::test]
    async fn handle_abort_resets_mid_body() {
        let upstream = upstream().await;
        for proto in BOTH {
            let (reply, handle) = Reply::sse().live();
            upstream.enqueue(reply);
            let mut client = Client::connect(upstream.addr(), proto).await;
            let mut body = client.get("/events", &[]).await.into_body();
            handle.send("data: 1\n\n").await.expect("response open");
            assert_eq!(next(&mut body).await.as_deref(), Some(&b"data: 1\n\n"[..]));
            handle.abort().await;
            assert!(next_data(&mut body).await.is_err(), "{proto:?}");
            within("connections 0", upstream.wait_connections(0)).await;
        }
    }

    #[tokio::test]
    async fn then_fail_resets_only_the_h2_stream() {
        let upstream = upstream().await;
        upstream.enqueue(Reply::sse().chunk("data: 1\n\n").then_fail());
        let mut client = Client::connect(upstream.addr(), Proto::H2c).await;
        let mut body = client.get("/events", &[]).await.into_body();
        assert_eq!(next(&mut body).await.as_deref(), Some(&b"data: 1\n\n"[..]));
        assert!(next_data(&mut body).await.is_err());

        let response = client
            .send(get(&client, "/after"))
            .await
            .expect("same connection");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(upstream.connections(), 1);
    }

    #[tokio::test]
    async fn failing_live_body_closes_an_http1_connection() {
        let upstream = upstream().await;
        let (reply, handle) = Reply::sse().live();
        upstream.enqueue(reply);
        let mut client = Client::connect(upstream.addr(), Proto::Http1).await;
        let mut body = client.get("/events", &[]).await.into_body();
        handle.send("data: 1\n\n").await.expect("response open");
        assert_eq!(next(&mut body).await.as_deref(), Some(&b"data: 1\n\n"[..]));

        handle.fail().await;
        assert!(next_data(&mut body).await.is_err());
        within("connections 0", upstream.wait_connections(0)).await;
    }

    #[tokio::test]
    async fn then_hang_keeps_the_body_open_until_the_client_leaves() {
        let upstream = upstream().await;
        upstream.enqueue(Reply::sse().chunk(":\n\n").then_hang());
        let mut client = Client::connect(upstream.addr(), Proto::H2c).await;
        let mut body = client.get("/events", &[]).await.into_body();
        assert_eq!(next(&mut body).await.as_deref(), Some(&b":\n\n"[..]));
        assert_eq!(upstream.open_responses(), 1);

        drop(body);
        within("open responses 0", upstream.wait_open_responses(0)).await;
    }

    #[tokio::test]
    async fn queued_replies_go_first_then_the_handler() {
        let upstream = upstream().await;
        upstream.enqueue(Reply::status(StatusCode::CREATED).chunk("first"));
        upstream.enqueue(Reply::status(StatusCode::ACCEPTED));
        upstream.respond(|req| match req.path() {
            "/known" => Reply::status(StatusCode::NO_CONTENT),
            _ => Reply::status(StatusCode::GONE),
        });
        let mut client = Client::connect(upstream.addr(), Proto::Http1).await;

        let mut answers = Vec::new();
        for path in ["/a", "/b", "/known", "/other"] {
            let response = client.send(get(&client, path)).await.expect("response");
            let status = response.status();
            answers.push((status, read_to_end(response.into_body()).await));
        }
        let expected = [
            (StatusCode::CREATED, "first"),
            (StatusCode::ACCEPTED, ""),
            (StatusCode::NO_CONTENT, ""),
            (StatusCode::GONE, ""),
        ];
        assert_eq!(
            answers,
            expected.map(|(status, body)| (status, body.to_owned()))
        );
        assert_eq!(
            upstream.connections(),
            1,
            "one keep-alive connection served all four"
        );
    }

    #[tokio::test]
    async fn abort_connections_resets_idle_connections_and_keeps_listening() {
        let upstream = upstream().await;
        let mut idle = Client::connect(upstream.addr(), Proto::Http1).await;
        let response = idle.send(get(&idle, "/")).await.expect("response");
        assert_eq!(read_to_end(response.into_body()).await, "");
        assert_eq!(upstream.connections(), 1);

        upstream.abort_connections();
        within("connections 0", upstream.wait_connections(0)).await;
        assert!(idle.send(get(&idle, "/")).await.is_err());

        let mut fresh = Client::connect(upstream.addr(), Proto::H2c).await;
        let response = fresh.send(get(&fresh, "/")).await.expect("response");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn abort_connections_resets_a_connection_that_sent_nothing() {
        let upstream = upstream().await;
        let mut tcp = TcpStream::connect(upstream.addr()).await.expect("connect");
        within("connections 1", upstream.wait_connections(1)).await;

        upstream.abort_connections();
        let read = within("reset", tcp.read(&mut [0; 64])).await;
        assert_eq!(
            read.map_err(|e| e.kind()),
            Err(std::io::ErrorKind::ConnectionReset)
        );
        within("connections 0", upstream.wait_connections(0)).await;
    }

    #[tokio::test]
    async fn stop_closes_the_listener_and_every_connection() {
        let upstream = upstream().await;
        let addr = upstream.addr();
        let (reply, handle) = Reply::sse().live();
        upstream.enqueue(reply);
        let mut client = Client::connect(addr, Proto::H2c).await;
        let mut body = client.get("/events", &[]).await.into_body();

        within("stop", upstream.stop()).await;

        within("closed", handle.closed()).await;
        assert!(next_data(&mut body).await.is_err());
        assert!(TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn tls_serves_http1_and_h2() {
        let (server, client_config) = tls::configs();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream = ScriptedUpstream::start_tls(listener, server).expect("start");
        assert!(upstream.url("/x").starts_with("https://127.0.0.1:"));
        for (proto, alpn, version) in [
            (Proto::Http1, "http/1.1", Version::HTTP_11),
            (Proto::H2c, "h2", Version::HTTP_2),
        ] {
            upstream.enqueue(Reply::sse().chunk("data: 1\n\n"));
            let mut client = tls::connect(&upstream, client_config.clone(), alpn, proto).await;
            let mut body = client.get("/events", &[]).await.into_body();
            assert_eq!(next(&mut body).await.as_deref(), Some(&b"data: 1\n\n"[..]));
            let requests = upstream.requests();
            assert_eq!(requests.last().map(|r| r.version), Some(version));
        }
    }

    /// A throwaway certificate for `localhost` and configs that trust it.
    mod tls {
        use super::*;
        use crate::testing::Client;
        use rustls::crypto::aws_lc_rs;
        use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
        use tokio_rustls::TlsConnector;

        pub(super) fn configs() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
            let issued =
                rcgen::generate_simple_self_signed(["localhost".to_owned()]).expect("cert");
            let cert = issued.cert.der().clone();
            let key = PrivatePkcs8KeyDer::from(issued.signing_key.serialize_der());
            // Named outright: a test build may hold more than one crypto provider.
            let provider = Arc::new(aws_lc_rs::default_provider());

            let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(vec![cert.clone()], PrivateKeyDer::from(key))
                .expect("server config");
            server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

            let mut roots = rustls::RootCertStore::empty();
            roots.add(cert).expect("root");
            let client = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            (Arc::new(server), Arc::new(client))
        }

        pub(super) async fn connect(
            upstream: &ScriptedUpstream,
            config: Arc<rustls::ClientConfig>,
            alpn: &str,
            proto: Proto,
        ) -> Client {
            let mut config = (*config).clone();
            config.alpn_protocols = vec![alpn.as_bytes().to_vec()];
            let tcp = TcpStream::connect(upstream.addr()).await.expect("connect");
            let name = ServerName::try_from("localhost").expect("name");
            let tls = TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await;
            let tls = tls.expect("handshake");
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn.as_bytes()));
            let authority = format!("localhost:{}", upstream.addr().port());
            Client::over(tls, authority, proto).await
        }
    }
}
