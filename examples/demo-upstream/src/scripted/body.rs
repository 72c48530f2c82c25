//! The body of a scripted response: fixed chunks, then live frames, each flushed on its own,
//! then an end, a hang or a reset. It counts as an open response until hyper drops it.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::{fmt, mem};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use super::conn::KillSwitch;
use super::gauge::GaugeGuard;
use super::reply::{Command, Script, Then};

/// A response body played from a [`Script`].
#[derive(Debug)]
pub(crate) struct ScriptedBody {
    script: Script,
    /// Set after a frame; the next poll yields once so that frame is flushed alone.
    just_sent: bool,
    /// Resets the connection when the script ends in an abort.
    kill: KillSwitch,
    _open: GaugeGuard,
}

impl ScriptedBody {
    pub(crate) fn new(script: Script, kill: KillSwitch, open: GaugeGuard) -> ScriptedBody {
        ScriptedBody {
            script,
            just_sent: false,
            kill,
            _open: open,
        }
    }

    /// The next scripted frame, or `None` once fixed and live frames are used up.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(chunk) = self.script.chunks.pop_front() {
            return Poll::Ready(Some(chunk));
        }
        let Some(live) = &mut self.script.live else {
            return Poll::Ready(None);
        };
        match ready!(live.poll_recv(cx)) {
            Some(Command::Data(chunk)) => Poll::Ready(Some(chunk)),
            Some(Command::End(then)) => {
                self.script.then = then;
                self.script.live = None;
                Poll::Ready(None)
            }
            None => {
                self.script.live = None;
                Poll::Ready(None)
            }
        }
    }

    fn poll_then(&mut self) -> Poll<Option<Result<Frame<Bytes>, ScriptedFailure>>> {
        match self.script.then {
            Then::End => Poll::Ready(None),
            // Nothing will wake this body: it waits until hyper drops it.
            Then::Hang => Poll::Pending,
            Then::Abort => {
                self.kill.fire();
                Poll::Pending
            }
            Then::Fail => Poll::Ready(Some(Err(ScriptedFailure))),
        }
    }
}

impl Body for ScriptedBody {
    type Data = Bytes;
    type Error = ScriptedFailure;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ScriptedFailure>>> {
        let this = self.get_mut();
        if mem::take(&mut this.just_sent) {
            // hyper writes out and flushes what it holds whenever the body is pending, so one
            // pending poll between frames makes each frame its own write (cases C01, C14).
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match ready!(this.poll_next(cx)) {
            Some(chunk) => {
                this.just_sent = true;
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            None => this.poll_then(),
        }
    }

    fn is_end_stream(&self) -> bool {
        let script = &self.script;
        let drained = script.chunks.is_empty() && script.live.is_none();
        drained && script.then == Then::End && !self.just_sent
    }

    fn size_hint(&self) -> SizeHint {
        // Unknown unless empty, so HTTP/1.1 uses chunked framing and every write is a chunk.
        if self.is_end_stream() {
            SizeHint::with_exact(0)
        } else {
            SizeHint::default()
        }
    }
}

/// The error a body scripted to fail gives hyper.
#[derive(Debug)]
pub(crate) struct ScriptedFailure;

impl fmt::Display for ScriptedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the scripted body failed on purpose")
    }
}

impl std::error::Error for ScriptedFailure {}
