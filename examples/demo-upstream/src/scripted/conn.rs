//! Accepting and serving the scripted upstream's connections, and resetting them on demand.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, trace};

use super::body::ScriptedBody;
use super::gauge::GaugeGuard;
use super::reply::Action;
use super::{RecordedRequest, Shared};
use crate::serve;

/// Tells one connection's task to reset its socket.
#[derive(Debug, Clone)]
pub(crate) struct KillSwitch(watch::Sender<bool>);

impl KillSwitch {
    fn new() -> KillSwitch {
        KillSwitch(watch::Sender::new(false))
    }

    pub(crate) fn fire(&self) {
        self.0.send_replace(true);
    }

    fn is_fired(&self) -> bool {
        *self.0.borrow()
    }

    async fn fired(&self) {
        // This switch holds the sender, so the channel stays open while it waits.
        let _ = self.0.subscribe().wait_for(|fired| *fired).await;
    }
}

/// Accepts connections until the task running it is aborted; aborting it drops the set of
/// connection tasks, which aborts them too.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
) {
    let builder = serve::http_builder();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Some(_) = connections.join_next() => {}
            stream = serve::accept(&listener) => {
                // Counted and subscribed to `abort_connections` from accept, so whatever a test
                // does once it sees the connection applies to it.
                let open = shared.connections.enter();
                let abort_all = shared.abort_all.subscribe();
                let conn = Conn { shared: shared.clone(), tls: tls.clone(), abort_all };
                let task = serve_connection(stream, conn, builder.clone());
                connections.spawn(async move {
                    task.await;
                    drop(open);
                });
            }
        }
    }
}

/// What one connection task needs besides its socket.
struct Conn {
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    abort_all: watch::Receiver<()>,
}

async fn serve_connection(stream: TcpStream, conn: Conn, builder: auto::Builder<TokioExecutor>) {
    let Conn {
        shared,
        tls,
        mut abort_all,
    } = conn;
    let kill = KillSwitch::new();
    let io = ResetOnKill {
        stream,
        kill: kill.clone(),
    };
    let service = {
        let kill = kill.clone();
        service_fn(move |req| answer(shared.clone(), kill.clone(), req))
    };
    let serve = async {
        let result = match tls {
            None => builder.serve_connection(TokioIo::new(io), service).await,
            Some(acceptor) => match acceptor.accept(io).await {
                Ok(tls) => builder.serve_connection(TokioIo::new(tls), service).await,
                Err(error) => Err(error.into()),
            },
        };
        if let Err(error) = result {
            debug!(%error, "scripted connection ended with an error");
        }
    };
    let abort = async {
        // Fired here rather than after the select, so the socket sees it when dropped.
        if abort_all.changed().await.is_ok() {
            kill.fire();
        }
    };
    tokio::select! {
        () = serve => {}
        () = kill.fired() => debug!("scripted connection reset"),
        () = abort => debug!("scripted connection reset by abort_connections"),
    }
}

/// Records the request, picks its reply and plays it.
async fn answer(
    shared: Arc<Shared>,
    kill: KillSwitch,
    req: Request<Incoming>,
) -> Result<Response<ScriptedBody>, Infallible> {
    let open: GaugeGuard = shared.open_responses.enter();
    let recorded = RecordedRequest::of(&req);
    trace!(method = %recorded.method, uri = %recorded.uri, "scripted request");
    let reply = shared.reply_for(&recorded);
    // Recorded after the reply is chosen: a test that saw the request can drive its reply.
    shared.record(recorded);
    let script = match reply.action {
        Action::Respond(script) => script,
        // `open` lives on while this waits, so a hung request counts as open.
        Action::Hang => return std::future::pending().await,
        Action::Abort => {
            kill.fire();
            return std::future::pending().await;
        }
    };
    let mut response = Response::new(ScriptedBody::new(script, kill, open));
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    Ok(response)
}

/// A socket that closes with a reset (RFC 9293 §3.6, `SO_LINGER` zero) rather than a FIN when
/// its connection was killed: the peer sees an abrupt failure, not a clean end.
#[derive(Debug)]
struct ResetOnKill {
    stream: TcpStream,
    kill: KillSwitch,
}

impl Drop for ResetOnKill {
    fn drop(&mut self) {
        if self.kill.is_fired()
            && let Err(error) = self.stream.set_zero_linger()
        {
            debug!(%error, "could not arm the reset");
        }
    }
}

impl AsyncRead for ResetOnKill {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResetOnKill {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
