//! Test clients: a real hyper client over TCP (or any stream) speaking HTTP/1.1 or h2c.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The wire protocol a test client speaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Proto {
    Http1,
    H2c,
}

/// Both protocols, for tests that must hold on each.
pub(crate) const BOTH: [Proto; 2] = [Proto::Http1, Proto::H2c];

/// Fails the test instead of hanging it when something never happens.
pub(crate) async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(10), future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    H2c(http2::SendRequest<Full<Bytes>>),
}

/// One client connection; dropping it (or [`Client::close`]) closes the socket.
pub(crate) struct Client {
    sender: Sender,
    authority: String,
    conn: JoinHandle<()>,
}

impl Client {
    pub(crate) async fn connect(addr: SocketAddr, proto: Proto) -> Client {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        Client::over(tcp, addr.to_string(), proto).await
    }

    pub(crate) async fn over<I>(io: I, authority: String, proto: Proto) -> Client
    where
        I: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let io = TokioIo::new(io);
        let (sender, conn) = match proto {
            Proto::Http1 => {
                let (sender, conn) = http1::handshake(io).await.expect("h1 handshake");
                (
                    Sender::Http1(sender),
                    tokio::spawn(async move { drop(conn.await) }),
                )
            }
            Proto::H2c => {
                let handshake = http2::handshake(TokioExecutor::new(), io);
                let (sender, conn) = handshake.await.expect("h2 handshake");
                (
                    Sender::H2c(sender),
                    tokio::spawn(async move { drop(conn.await) }),
                )
            }
        };
        Client {
            sender,
            authority,
            conn,
        }
    }

    /// A request for `path` in the form the protocol wants: origin form and `Host` on
    /// HTTP/1.1, an absolute URI (`:scheme`, `:authority`) on h2.
    pub(crate) fn request(&self, method: Method, path: &str) -> http::request::Builder {
        match self.sender {
            Sender::Http1(_) => Request::builder()
                .method(method)
                .uri(path)
                .header("host", &self.authority),
            Sender::H2c(_) => Request::builder()
                .method(method)
                .version(Version::HTTP_2)
                .uri(format!("http://{}{path}", self.authority)),
        }
    }

    pub(crate) async fn send(
        &mut self,
        req: Request<Full<Bytes>>,
    ) -> hyper::Result<Response<Incoming>> {
        match &mut self.sender {
            Sender::Http1(sender) => sender.send_request(req).await,
            Sender::H2c(sender) => sender.send_request(req).await,
        }
    }

    /// `GET path` with extra headers; the response head must arrive.
    pub(crate) async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Response<Incoming> {
        let mut builder = self.request(Method::GET, path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let req = builder.body(Full::default()).expect("request");
        within("response head", self.send(req))
            .await
            .expect("response")
    }

    /// Closes the connection at once, as a client that goes away does.
    pub(crate) fn close(&mut self) {
        self.conn.abort();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

/// The next non-empty data frame of `body`; `Ok(None)` at its end. (h2 may end a stream with
/// an empty DATA frame carrying END_STREAM.)
pub(crate) async fn next_data(body: &mut Incoming) -> Result<Option<Bytes>, hyper::Error> {
    loop {
        match within("a body frame", body.frame()).await {
            None => return Ok(None),
            Some(frame) => {
                if let Ok(data) = frame?.into_data()
                    && !data.is_empty()
                {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// Splits a streamed body into SSE events (blocks ending in a blank line), however the frames
/// cut them.
pub(crate) struct Events {
    body: Incoming,
    buffer: String,
}

impl Events {
    pub(crate) fn new(body: Incoming) -> Events {
        Events {
            body,
            buffer: String::new(),
        }
    }

    /// The next whole event, its blank line included.
    pub(crate) async fn next(&mut self) -> String {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                return self.buffer.drain(..end + 2).collect();
            }
            let data = next_data(&mut self.body).await.expect("body frame");
            let data = data.expect("stream still open");
            self.buffer
                .push_str(std::str::from_utf8(&data).expect("UTF-8"));
        }
    }

    /// Whether the body ends with nothing after the events read so far.
    pub(crate) async fn ends(mut self) -> bool {
        self.buffer.is_empty() && matches!(next_data(&mut self.body).await, Ok(None))
    }
}

/// The whole remaining body as text.
pub(crate) async fn read_to_end(body: Incoming) -> String {
    let bytes = within("body end", body.collect())
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}
