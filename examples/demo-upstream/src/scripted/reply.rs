//! What the scripted upstream answers to one request: status, headers, and how the body goes
//! (fixed chunks, frames sent live by the test, then an end, a hang, a failure or a reset).

use std::collections::VecDeque;
use std::fmt;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, IntoHeaderName};
use http::{HeaderMap, HeaderValue, StatusCode};
use tokio::sync::mpsc;

/// Live frames the test may queue ahead of the body before `send` waits.
const LIVE_BUFFER: usize = 16;

/// One scripted answer. Build it from [`Reply::status`], [`Reply::sse`], [`Reply::hang`] or
/// [`Reply::abort`]; body methods have no effect on the last two, which send no response.
#[derive(Debug)]
pub struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) action: Action,
}

/// How the request is answered.
#[derive(Debug)]
pub(crate) enum Action {
    /// Never answer; the request stays open until the client gives up.
    Hang,
    /// Close the TCP connection (with a reset) instead of answering.
    Abort,
    /// Send the head, then the body as scripted.
    Respond(Script),
}

/// The body of a reply: fixed chunks first, then live frames, then what `then` says.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pub(crate) chunks: VecDeque<Bytes>,
    pub(crate) live: Option<mpsc::Receiver<Command>>,
    pub(crate) then: Then,
}

/// What happens once the scripted frames run out.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) enum Then {
    /// The body ends normally.
    #[default]
    End,
    /// The body stays open, sending nothing, until the client leaves.
    Hang,
    /// The TCP connection is reset mid-body.
    Abort,
    /// The body fails: h2 resets this stream alone, HTTP/1.1 closes the connection.
    Fail,
}

/// What a [`ReplyHandle`] tells the body.
#[derive(Debug)]
pub(crate) enum Command {
    Data(Bytes),
    End(Then),
}

impl Reply {
    /// `status` with no headers and an empty body.
    pub fn status(status: StatusCode) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            action: Action::Respond(Script::default()),
        }
    }

    /// `200` with `content-type: text/event-stream` and `cache-control: no-cache`.
    pub fn sse() -> Reply {
        Reply::status(StatusCode::OK)
            .header(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"))
            .header(CACHE_CONTROL, HeaderValue::from_static("no-cache"))
    }

    /// Never answers: for response-header timeouts. The request counts as an open response
    /// until the client gives up on it.
    pub fn hang() -> Reply {
        Reply {
            action: Action::Hang,
            ..Reply::status(StatusCode::OK)
        }
    }

    /// Resets the TCP connection instead of answering, as a crashing upstream does.
    pub fn abort() -> Reply {
        Reply {
            action: Action::Abort,
            ..Reply::status(StatusCode::OK)
        }
    }

    /// Sets a response header, replacing any of that name.
    pub fn header(mut self, name: impl IntoHeaderName, value: HeaderValue) -> Reply {
        self.headers.insert(name, value);
        self
    }

    /// Appends a body chunk. Each chunk is its own write: an HTTP/1.1 chunk or an h2 DATA
    /// frame, flushed before the next is produced.
    pub fn chunk(mut self, chunk: impl Into<Bytes>) -> Reply {
        if let Action::Respond(script) = &mut self.action {
            script.chunks.push_back(chunk.into());
        }
        self
    }

    /// Keeps the body open after the scripted frames, sending nothing.
    pub fn then_hang(self) -> Reply {
        self.then(Then::Hang)
    }

    /// Resets the TCP connection after the scripted frames, mid-body.
    pub fn then_abort(self) -> Reply {
        self.then(Then::Abort)
    }

    /// Fails the body after the scripted frames: on h2 the stream alone is reset
    /// (`RST_STREAM`, RFC 9113 §6.4) and the connection stays; HTTP/1.1 has no way to fail
    /// one response, so its connection closes without the last chunk.
    pub fn then_fail(self) -> Reply {
        self.then(Then::Fail)
    }

    fn then(mut self, then: Then) -> Reply {
        if let Action::Respond(script) = &mut self.action {
            script.then = then;
        }
        self
    }

    /// After the fixed chunks, the body takes frames from the returned handle until it is
    /// finished or dropped.
    pub fn live(mut self) -> (Reply, ReplyHandle) {
        let (commands, live) = mpsc::channel(LIVE_BUFFER);
        if let Action::Respond(script) = &mut self.action {
            script.live = Some(live);
        }
        (self, ReplyHandle { commands })
    }
}

/// The test's end of a live reply.
#[derive(Debug)]
pub struct ReplyHandle {
    commands: mpsc::Sender<Command>,
}

impl ReplyHandle {
    /// Sends one body frame, written and flushed on its own. Fails once the response is gone.
    pub async fn send(&self, chunk: impl Into<Bytes>) -> Result<(), Closed> {
        let sent = self.commands.send(Command::Data(chunk.into())).await;
        sent.map_err(|_| Closed)
    }

    /// Ends the body normally (or as the reply's `then_*` says) after the frames sent so far.
    pub fn finish(self) {}

    /// Resets the TCP connection after the frames sent so far.
    pub async fn abort(self) {
        self.end(Then::Abort).await;
    }

    /// Fails the body after the frames sent so far, as [`Reply::then_fail`] does.
    pub async fn fail(self) {
        self.end(Then::Fail).await;
    }

    async fn end(self, then: Then) {
        // An error means the response is already gone: nothing left to end.
        let _ = self.commands.send(Command::End(then)).await;
    }

    /// Resolves when the response is gone: the client (the gateway) dropped it, its connection
    /// closed, or the reply was dropped unused.
    pub async fn closed(&self) {
        self.commands.closed().await;
    }

    /// Whether [`ReplyHandle::closed`] would resolve at once.
    pub fn is_closed(&self) -> bool {
        self.commands.is_closed()
    }
}

/// The response a [`ReplyHandle`] fed has gone away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the scripted response is closed")
    }
}

impl std::error::Error for Closed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_reply_has_stream_headers() {
        let reply = Reply::sse();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.headers[CONTENT_TYPE], "text/event-stream");
        assert_eq!(reply.headers[CACHE_CONTROL], "no-cache");
    }

    #[test]
    fn chunks_keep_their_order_and_then() {
        let reply = Reply::sse()
            .chunk("a")
            .chunk(Bytes::from_static(b"b"))
            .then_abort();
        let Action::Respond(script) = reply.action else {
            panic!("a responding reply");
        };
        assert_eq!(script.chunks, [Bytes::from("a"), Bytes::from("b")]);
        assert_eq!(script.then, Then::Abort);
    }

    #[test]
    fn hang_ignores_body_methods() {
        let reply = Reply::hang().chunk("a").then_abort();
        assert!(matches!(reply.action, Action::Hang));
    }

    #[tokio::test]
    async fn handle_sees_the_body_side_close() {
        let (reply, handle) = Reply::sse().live();
        assert!(!handle.is_closed());
        drop(reply);
        handle.closed().await;
        assert_eq!(handle.send("x").await, Err(Closed));
    }
}
