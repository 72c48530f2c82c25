//! The response body of the data plane: a fixed buffer, or a live event stream fed by the
//! stream's pump task through a bounded queue.
//!
//! The queue is bounded both in entries (the route's `buffer`) and in bytes; the pump never
//! waits on it. When it is full the pump gives up on the client and marks the body aborted, so
//! hyper resets the stream (h2) or closes the connection (HTTP/1.1) instead of ending it
//! cleanly: a client that fell behind must not mistake a cut stream for a finished one.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

/// The error a body yields when its stream was cut on purpose.
#[derive(Debug)]
pub struct StreamAborted;

impl std::fmt::Display for StreamAborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stream aborted by the gateway")
    }
}

impl std::error::Error for StreamAborted {}

/// A data-plane response body.
#[derive(Debug)]
pub struct StreamBody {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Full(Option<Bytes>),
    Live {
        queue: mpsc::Receiver<Bytes>,
        shared: Arc<Shared>,
    },
}

/// State shared by a live body and its sender.
#[derive(Debug, Default)]
struct Shared {
    queued_bytes: AtomicUsize,
    aborted: AtomicBool,
}

impl StreamBody {
    /// A body of one buffer (problem details, small answers).
    pub fn full(bytes: Bytes) -> Self {
        StreamBody {
            inner: Inner::Full(Some(bytes)),
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        StreamBody {
            inner: Inner::Full(None),
        }
    }

    /// A live body and the sender that feeds it, bounded by `entries` and `max_bytes`.
    pub fn live(entries: usize, max_bytes: usize) -> (Self, StreamSender) {
        let (tx, rx) = mpsc::channel(entries.max(1));
        let shared = Arc::new(Shared::default());
        let body = StreamBody {
            inner: Inner::Live {
                queue: rx,
                shared: shared.clone(),
            },
        };
        (
            body,
            StreamSender {
                queue: tx,
                shared,
                max_bytes,
            },
        )
    }
}

impl Body for StreamBody {
    type Data = Bytes;
    type Error = StreamAborted;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamAborted>>> {
        match &mut self.get_mut().inner {
            Inner::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Inner::Live { queue, shared } => {
                if shared.aborted.load(Ordering::Acquire) {
                    return Poll::Ready(Some(Err(StreamAborted)));
                }
                match queue.poll_recv(cx) {
                    Poll::Ready(Some(bytes)) => {
                        shared.queued_bytes.fetch_sub(bytes.len(), Ordering::AcqRel);
                        Poll::Ready(Some(Ok(Frame::data(bytes))))
                    }
                    Poll::Ready(None) if shared.aborted.load(Ordering::Acquire) => {
                        Poll::Ready(Some(Err(StreamAborted)))
                    }
                    other => other.map(|_| None),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.inner, Inner::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Inner::Full(None) => SizeHint::with_exact(0),
            Inner::Live { .. } => SizeHint::default(),
        }
    }
}

/// The pump's end of a live body.
#[derive(Debug)]
pub struct StreamSender {
    queue: mpsc::Sender<Bytes>,
    shared: Arc<Shared>,
    max_bytes: usize,
}

/// Why a send did not queue its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The client is too far behind: the queue is full in entries or bytes.
    ClientTooSlow,
    /// The client went away (the body was dropped).
    ClientGone,
}

impl StreamSender {
    /// Queues `bytes` without waiting.
    pub fn send(&self, bytes: Bytes) -> Result<(), SendError> {
        let len = bytes.len();
        let queued = self.shared.queued_bytes.fetch_add(len, Ordering::AcqRel);
        if queued > 0 && queued + len > self.max_bytes {
            self.shared.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(SendError::ClientTooSlow);
        }
        self.queue.try_send(bytes).map_err(|error| {
            self.shared.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            match error {
                mpsc::error::TrySendError::Full(_) => SendError::ClientTooSlow,
                mpsc::error::TrySendError::Closed(_) => SendError::ClientGone,
            }
        })
    }

    /// Cuts the stream: the client sees a reset or a closed connection, not a clean end.
    pub fn abort(self) {
        self.shared.aborted.store(true, Ordering::Release);
    }

    /// Resolves when the client went away.
    pub async fn closed(&self) {
        self.queue.closed().await
    }
}
