//! Connection plumbing shared by both upstreams: accepting sockets and the HTTP builder.

use std::time::Duration;

use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tracing::{trace, warn};

/// Pause after a failed `accept`, so a full file table does not turn the loop into a spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A builder that answers HTTP/1.1 and, on seeing the h2 preface, prior-knowledge h2c
/// (RFC 9113 §3.3) on the same socket.
pub(crate) fn http_builder() -> auto::Builder<TokioExecutor> {
    auto::Builder::new(TokioExecutor::new())
}

/// Waits for the next connection. Errors concern one connection or a passing shortage of
/// descriptors, so they are logged and the listener keeps going.
pub(crate) async fn accept(listener: &TcpListener) -> TcpStream {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                // Events are small writes that must leave at once (case C14): no Nagle delay.
                if let Err(error) = stream.set_nodelay(true) {
                    trace!(%peer, %error, "could not disable nagle");
                }
                trace!(%peer, "connection accepted");
                return stream;
            }
            Err(error) => {
                warn!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}
