//! One open demo stream: a task that ticks and relays published events into the response body.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use hyper::body::{Body, Frame};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, trace};

use super::event;
use super::hub::Published;

/// Events written ahead of a slow reader before the stream waits for it.
const STREAM_BUFFER: usize = 16;

/// What a stream needs to know about its request.
#[derive(Debug)]
pub(crate) struct StreamSpec {
    /// The stream's name, from the path.
    pub(crate) name: String,
    /// The `x-sluice-tenant` header, if present and text.
    pub(crate) tenant: Option<String>,
    /// The first id to send.
    pub(crate) first_id: u64,
}

impl StreamSpec {
    /// Reads the tenant and resume point from the request headers.
    pub(crate) fn new(name: String, headers: &HeaderMap) -> StreamSpec {
        let tenant = headers.get("x-sluice-tenant").and_then(|v| v.to_str().ok());
        StreamSpec {
            name,
            tenant: tenant.map(str::to_owned),
            first_id: first_id(headers),
        }
    }
}

/// The id after `Last-Event-ID` when that is a decimal number, else 1.
fn first_id(headers: &HeaderMap) -> u64 {
    let last = headers.get("last-event-id").map(|v| v.as_bytes());
    last.filter(|v| !v.is_empty() && v.iter().all(u8::is_ascii_digit))
        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok())
        .and_then(|id| id.checked_add(1))
        .unwrap_or(1)
}

/// Starts the task feeding one stream and returns its body. The task ends when the body is
/// dropped (the client left) or `closing` turns true.
pub(crate) fn spawn(
    spec: StreamSpec,
    interval: Duration,
    feed: broadcast::Receiver<Published>,
    closing: watch::Receiver<bool>,
) -> EventBody {
    let (events, body) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(pump(spec, interval, feed, closing, events));
    EventBody { events: body }
}

async fn pump(
    spec: StreamSpec,
    interval: Duration,
    mut feed: broadcast::Receiver<Published>,
    mut closing: watch::Receiver<bool>,
    events: mpsc::Sender<Bytes>,
) {
    // The first tick comes one interval after the headers, not at once.
    let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut id = spec.first_id;
    debug!(stream = %spec.name, first_id = id, "demo stream opened");
    loop {
        let bytes = tokio::select! {
            _ = ticks.tick() => event::tick(id, &spec.name, spec.tenant.as_deref()),
            published = feed.recv() => match published {
                Ok(p) => event::message(id, &p.event, &p.data),
                Err(RecvError::Lagged(skipped)) => {
                    debug!(stream = %spec.name, skipped, "slow stream skipped published events");
                    continue;
                }
                Err(RecvError::Closed) => break,
            },
            () = events.closed() => break,
            _ = closing.wait_for(|closing| *closing) => break,
        };
        trace!(stream = %spec.name, id, "demo event");
        if events.send(bytes).await.is_err() {
            break;
        }
        id = id.saturating_add(1);
    }
    debug!(stream = %spec.name, "demo stream ended");
}

/// A response body that yields each event as one frame, as the stream task produces it.
#[derive(Debug)]
pub(crate) struct EventBody {
    events: mpsc::Receiver<Bytes>,
}

impl Body for EventBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = self.events.poll_recv(cx);
        next.map(|event| event.map(|bytes| Ok(Frame::data(bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_last_event_id(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("last-event-id", value.parse().expect("valid header"));
        headers
    }

    #[test]
    fn no_last_event_id_starts_at_one() {
        assert_eq!(first_id(&HeaderMap::new()), 1);
    }

    #[test]
    fn numeric_last_event_id_resumes_after_it() {
        assert_eq!(first_id(&with_last_event_id("41")), 42);
    }

    #[test]
    fn non_numeric_last_event_ids_start_at_one() {
        for value in ["abc", "", "-3", "+41", "4 1", "1.5", "99999999999999999999"] {
            assert_eq!(first_id(&with_last_event_id(value)), 1, "{value:?}");
        }
    }

    #[test]
    fn largest_last_event_id_starts_over() {
        assert_eq!(first_id(&with_last_event_id("18446744073709551615")), 1);
    }

    #[test]
    fn spec_reads_tenant_header() {
        let mut headers = with_last_event_id("9");
        headers.insert("x-sluice-tenant", "acme".parse().expect("valid header"));
        let spec = StreamSpec::new("orders".into(), &headers);
        assert_eq!(spec.tenant.as_deref(), Some("acme"));
        assert_eq!(spec.first_id, 10);
    }
}
