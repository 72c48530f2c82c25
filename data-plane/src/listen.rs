//! Client-facing listeners: TCP accept, optional TLS (SNI picks the certificate, ALPN picks the
//! protocol), then HTTP/1.1 and h2 through hyper. Cleartext ports serve both, telling h2 by its
//! prior-knowledge preface, peeked before hyper reads anything.

use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::node::NodeState;
use crate::proxy::{self, ConnInfo};
use crate::snapshot::{ListenerTls, Versions};

/// How long a client may take over its TLS handshake or its request head.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` (the snapshot's listener number `index`) until the node
/// drains. Connections are registered with `graceful` so shutdown can wait for them.
pub async fn run(
    listener: TcpListener,
    index: usize,
    node: Arc<NodeState>,
    graceful: Arc<GracefulShutdown>,
) {
    loop {
        let accepted = tokio::select! {
            () = node.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, peer)) => {
                let node = node.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let info = ConnInfo {
                        peer,
                        scheme: "http",
                        sni_tenant: None,
                    };
                    connection(tcp, info, index, node, watcher).await;
                });
            }
            Err(error) => {
                // Out of descriptors or similar: back off briefly instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(
    tcp: TcpStream,
    mut info: ConnInfo,
    index: usize,
    node: Arc<NodeState>,
    watcher: Watcher,
) {
    let _ = tcp.set_nodelay(true);
    let Some(spec) = node
        .snapshot()
        .and_then(|s| s.listeners.get(index).cloned())
    else {
        return;
    };
    let Some(tls) = spec.tls else {
        let mut versions = spec.versions;
        if versions.http1 && versions.h2 {
            // A client that sends nothing in time is closed, as one whose head is too slow
            // (hyper-util's own detection would wait for it forever).
            let first = tokio::select! {
                () = node.shutdown.cancelled() => return,
                first = tokio::time::timeout(HANDSHAKE_TIMEOUT, sniff(&tcp)) => first,
            };
            let Ok(Ok(first)) = first else { return };
            if let Some(h2) = first {
                versions = Versions { http1: !h2, h2 };
            }
        }
        return serve(TokioIo::new(tcp), versions, info, node, watcher).await;
    };
    // The TLS handshake and a TLS connection are boxed: held inline, their size would be
    // reserved in every connection's task, cleartext ones included.
    let Some(tls_stream) = Box::pin(handshake(tcp, &tls)).await else {
        return;
    };
    let session = tls_stream.get_ref().1;
    let h2 = match session.alpn_protocol() {
        Some(protocol) => protocol == b"h2",
        None => !spec.versions.http1,
    };
    info.scheme = "https";
    info.sni_tenant = session
        .server_name()
        .and_then(|name| tls.certs.owner_for(name))
        .map(str::to_owned);
    let versions = Versions { http1: !h2, h2 };
    Box::pin(serve(
        TokioIo::new(tls_stream),
        versions,
        info,
        node,
        watcher,
    ))
    .await;
}

/// What a cleartext h2 client sends first (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether a cleartext connection speaks h2, from its first bytes, peeked and not read. hyper
/// then reads the request head whole. (hyper-util's own detection reads the first bytes into a
/// buffer of its own and hands them to hyper as a short read, which doubles hyper's read buffer
/// to 16 KiB for the stream's life.) `None` when the bytes so far are a prefix of the preface, or
/// the peer closed before sending any: hyper-util's detection then decides.
async fn sniff(tcp: &TcpStream) -> std::io::Result<Option<bool>> {
    let mut first = [0u8; H2_PREFACE.len()];
    let n = tcp.peek(&mut first).await?;
    Ok(is_h2(&first[..n]))
}

/// Whether `first`, a connection's first bytes, begin the h2 preface; `None` while undecided.
fn is_h2(first: &[u8]) -> Option<bool> {
    if first.is_empty() {
        None
    } else if !H2_PREFACE.starts_with(first) {
        Some(false)
    } else {
        (first.len() == H2_PREFACE.len()).then_some(true)
    }
}

async fn handshake(
    tcp: TcpStream,
    tls: &ListenerTls,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let accept = TlsAcceptor::from(tls.config.clone()).accept(tcp);
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(error)) => {
            tracing::debug!(%error, "tls handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("tls handshake timed out");
            None
        }
    }
}

async fn serve<I>(
    io: TokioIo<I>,
    versions: Versions,
    info: ConnInfo,
    node: Arc<NodeState>,
    watcher: Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let info = Arc::new(info);
    if !versions.http1 || versions.h2 {
        return Box::pin(serve_auto(io, versions, info, node, watcher)).await;
    }
    // Most connections: hyper's HTTP/1.1 connection alone is smaller than the auto one, which
    // has room for h2 and for telling the two apart.
    let service = service_fn(move |request| proxy::serve(request, info.clone(), node.clone()));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT)
        .keep_alive(true);
    if let Err(error) = watcher.watch(builder.serve_connection(io, service)).await {
        tracing::trace!(%error, "connection ended with an error");
    }
}

/// Serves h2, or either version as hyper-util tells them apart.
async fn serve_auto<I>(
    io: TokioIo<I>,
    versions: Versions,
    info: Arc<ConnInfo>,
    node: Arc<NodeState>,
    watcher: Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(1024)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    let builder = if versions.http1 {
        builder
    } else {
        builder.http2_only()
    };
    let service = service_fn(move |request| proxy::serve(request, info.clone(), node.clone()));
    let conn = builder.serve_connection(io, service).into_owned();
    if let Err(error) = watcher.watch(conn).await {
        tracing::trace!(%error, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;

    use super::*;

    #[test]
    fn the_first_bytes_tell_h2_from_http1() {
        assert_eq!(is_h2(H2_PREFACE), Some(true));
        assert_eq!(is_h2(b"GET /t/acme/events HTTP/1.1\r\n"), Some(false));
        assert_eq!(is_h2(b"POST / HTTP/1.1\r\n"), Some(false));
        assert_eq!(is_h2(b"PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"), Some(false));
        assert_eq!(
            is_h2(b"PRI * HTTP/2"),
            None,
            "a prefix of the preface decides nothing"
        );
        assert_eq!(is_h2(b""), None);
    }

    /// The peek leaves the bytes in the socket for hyper to read.
    #[tokio::test]
    async fn sniffing_a_socket_reads_nothing_from_it() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        for (sent, expected) in [
            (H2_PREFACE, Some(true)),
            (b"GET / HTTP/1.1\r\n\r\n".as_slice(), Some(false)),
            (b"PRI * ".as_slice(), None),
        ] {
            let mut client = TcpStream::connect(address).await.expect("connect");
            let (server, _) = listener.accept().await.expect("accept");
            client.write_all(sent).await.expect("write");
            assert_eq!(sniff(&server).await.expect("peek"), expected, "{sent:?}");
            let mut read = vec![0; sent.len()];
            server.readable().await.expect("readable");
            let n = server.try_read(&mut read).expect("read");
            assert_eq!(&read[..n], sent);
        }
    }
}
