//! Test clients speaking real HTTP/1.1, h2c (prior knowledge) and TLS with ALPN, one
//! connection each, so a test controls exactly what goes on the wire.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::GUARD;

enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

/// One client connection.
pub struct Client {
    sender: Sender,
    authority: String,
    scheme: &'static str,
    /// The ALPN protocol the TLS handshake chose.
    pub alpn: Option<Vec<u8>>,
    /// The leaf certificate the server presented (TLS only).
    pub peer_cert: Option<Vec<u8>>,
}

impl Client {
    /// HTTP/1.1 over cleartext.
    pub async fn h1(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (sender, conn) = http1::handshake(TokioIo::new(tcp))
            .await
            .expect("h1 handshake");
        tokio::spawn(conn);
        Client {
            sender: Sender::H1(sender),
            authority: addr.to_string(),
            scheme: "http",
            alpn: None,
            peer_cert: None,
        }
    }

    /// h2 with prior knowledge over cleartext.
    pub async fn h2c(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .expect("h2 handshake");
        tokio::spawn(conn);
        Client {
            sender: Sender::H2(sender),
            authority: addr.to_string(),
            scheme: "http",
            alpn: None,
            peer_cert: None,
        }
    }

    /// TLS with `sni`, offering `alpn`; speaks whatever ALPN chose (h2 or HTTP/1.1).
    pub async fn tls(addr: SocketAddr, sni: &str, config: Arc<ClientConfig>) -> Client {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let name = ServerName::try_from(sni.to_owned()).expect("server name");
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .expect("tls handshake");
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let peer_cert = tls
            .get_ref()
            .1
            .peer_certificates()
            .map(|chain| chain[0].to_vec());
        let io = TokioIo::new(tls);
        let authority = format!("{sni}:{}", addr.port());
        let sender = if alpn.as_deref() == Some(b"h2") {
            let (sender, conn) = http2::handshake(TokioExecutor::new(), io)
                .await
                .expect("h2");
            tokio::spawn(conn);
            Sender::H2(sender)
        } else {
            let (sender, conn) = http1::handshake(io).await.expect("h1");
            tokio::spawn(conn);
            Sender::H1(sender)
        };
        Client {
            sender,
            authority,
            scheme: "https",
            alpn,
            peer_cert,
        }
    }

    /// Sends `method path` with `headers`; `Host` is the connection's authority unless given.
    pub async fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) -> Stream {
        self.send(method, path, headers, Bytes::new()).await
    }

    /// Sends `method path` with a JSON body and `headers`; returns the status and the JSON
    /// answer (`null` when empty).
    pub async fn json(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut all = headers.to_vec();
        all.push(("content-type", "application/json"));
        let payload = if body.is_null() {
            Bytes::new()
        } else {
            Bytes::from(body.to_string())
        };
        let mut stream = self.send(method, path, &all, payload).await;
        let text = stream.read_to_end().await;
        let value = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        (stream.status.as_u16(), value)
    }

    /// Sends `method path` with `headers` and `body`.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Stream {
        let mut builder = Request::builder().method(method);
        builder = match &self.sender {
            Sender::H1(_) => builder.uri(path),
            Sender::H2(_) => {
                let host = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("host"));
                let authority = host.map_or(self.authority.as_str(), |(_, v)| v);
                builder.uri(format!("{}://{authority}{path}", self.scheme))
            }
        };
        let has_host = headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host"));
        if !has_host && matches!(self.sender, Sender::H1(_)) {
            builder = builder.header("host", &self.authority);
        }
        for (name, value) in headers {
            if !(name.eq_ignore_ascii_case("host") && matches!(self.sender, Sender::H2(_))) {
                builder = builder.header(*name, *value);
            }
        }
        let request = builder.body(Full::new(body)).expect("request");
        let call = async {
            match &mut self.sender {
                Sender::H1(sender) => sender.send_request(request).await,
                Sender::H2(sender) => sender.send_request(request).await,
            }
        };
        let response = tokio::time::timeout(GUARD, call)
            .await
            .expect("response in time");
        Stream::new(response.expect("response"))
    }

    /// `GET path` with `headers`.
    pub async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Stream {
        self.request("GET", path, headers).await
    }
}

/// A response whose body is read incrementally.
pub struct Stream {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    body: Incoming,
    /// Everything read so far.
    pub received: BytesMut,
}

impl Stream {
    fn new(response: Response<Incoming>) -> Stream {
        let (parts, body) = response.into_parts();
        Stream {
            status: parts.status,
            headers: parts.headers,
            body,
            received: BytesMut::new(),
        }
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Reads the next data frame; `None` at the end (or on an error, see `read_to_end_result`).
    pub async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            let frame = tokio::time::timeout(GUARD, self.body.frame())
                .await
                .expect("frame in time");
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.received.extend_from_slice(&data);
                        return Some(data);
                    }
                }
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Reads until `received` contains `needle`; returns everything read.
    pub async fn read_until(&mut self, needle: &str) -> String {
        while !self.text().contains(needle) {
            if self.next_chunk().await.is_none() {
                panic!("stream ended before {needle:?}; got {:?}", self.text());
            }
        }
        self.text()
    }

    /// Reads to the end of the body; `Err` when it ended with an error (reset, cut).
    pub async fn read_to_end_result(&mut self) -> Result<String, String> {
        loop {
            let frame = tokio::time::timeout(GUARD, self.body.frame())
                .await
                .expect("frame in time");
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.received.extend_from_slice(&data);
                    }
                }
                Some(Err(error)) => return Err(error.to_string()),
                None => return Ok(self.text()),
            }
        }
    }

    /// Reads to the end of the body, which must end cleanly.
    pub async fn read_to_end(&mut self) -> String {
        self.read_to_end_result().await.expect("clean end")
    }

    /// Everything read so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.received).into_owned()
    }
}
