//! One event stream: calls the upstream, answers the client, then pumps events until either
//! side ends, the node drains, or a config swap removes the route.
//!
//! The pump owns the upstream response body. Dropping it (client gone, swap, drain) closes the
//! upstream request at once: the h1 connection is closed, the h2 stream reset (C18).

use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use rand::Rng;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::ReusableBoxFuture;

use crate::body::{SendError, StreamBody, StreamSender};
use crate::config::OnInvalid;
use crate::gate::Gate;
use crate::lease::Lease;
use crate::limits::Permit;
use crate::metrics::{InvalidLabels, Metrics, RouteLabels};
use crate::node::NodeState;
use crate::proxy::UpstreamPlan;
use crate::snapshot::{Route, Target};
use crate::sse::{self, Frame, Parser};

/// Retry advice sent on upstream failure when the route sets none.
const DEFAULT_RETRY: Duration = Duration::from_secs(3);

/// How a stream ended, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The upstream body ended cleanly.
    UpstreamEnded,
    /// The client went away.
    ClientGone,
    /// The client fell behind its queue and was cut off.
    ClientTooSlow,
    /// The upstream body failed mid-stream.
    UpstreamBroke,
    /// An upstream line or event exceeded `max_event_size`.
    EventTooLarge,
    /// A config swap removed the route, or the key that signed the stream's token.
    RouteRemoved,
    /// An event failed its schema on an `on_invalid: close` route.
    InvalidEvent,
    /// The stream's token expired.
    TokenExpired,
    /// The node is draining.
    Draining,
}

/// What the request path granted a stream: its slot under the tenant's limits, its token
/// lease (guarded routes) and the tenant's challenge lead time.
#[derive(Debug)]
pub struct Grant {
    /// The limits slot, held until the stream ends.
    pub permit: Permit,
    /// The token lease, when the route is guarded.
    pub lease: Option<Arc<Lease>>,
    /// How long before expiry a `challenge` event goes out.
    pub challenge: Option<Duration>,
}

/// The challenge event, byte for byte as Zilla sends it, so Zilla clients keep working.
pub const CHALLENGE_EVENT: &[u8] = concat!(
    "event: challenge\n",
    r#"data: {"method":"POST","headers":{"content-type":"application/x-challenge-response"}}"#,
    "\n\n"
)
.as_bytes();

/// Calls the upstream and answers the client: a stream, a passed-through status, or a `retry:`
/// stream when the upstream failed.
pub async fn open(
    node: &Arc<NodeState>,
    route: Arc<Route>,
    plan: UpstreamPlan,
    grant: Grant,
) -> Response<StreamBody> {
    let labels = route.labels.clone();
    let mut request = Request::new(Empty::<Bytes>::new());
    *request.uri_mut() = plan.uri;
    *request.headers_mut() = plan.headers;
    let Target::Stream(upstream) = &route.target else {
        return failure(node, &route, "not_a_stream");
    };
    let call = upstream.client.request(request);
    let response = match tokio::time::timeout(upstream.response_timeout, call).await {
        Err(_) => return failure(node, &route, "timeout"),
        Ok(Err(error)) => {
            let (tenant, name) = (&labels.tenant, &labels.route);
            tracing::debug!(%tenant, route = %name, %error, "upstream unreachable");
            return failure(node, &route, "connect");
        }
        Ok(Ok(response)) => response,
    };
    match response.status() {
        StatusCode::OK if is_event_stream(response.headers()) => {
            start(node, route, response.into_body(), grant)
        }
        StatusCode::OK => failure(node, &route, "bad_content_type"),
        status @ (StatusCode::NO_CONTENT
        | StatusCode::UNAUTHORIZED
        | StatusCode::FORBIDDEN
        | StatusCode::NOT_FOUND) => passthrough(status),
        status if status.is_server_error() => failure(node, &route, "status_5xx"),
        status if status.is_client_error() => passthrough(status),
        _ => failure(node, &route, "bad_status"),
    }
}

fn is_event_stream(headers: &http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/event-stream")
}

fn passthrough(status: StatusCode) -> Response<StreamBody> {
    let mut response = Response::new(StreamBody::empty());
    *response.status_mut() = status;
    response
}

/// A 200 stream holding only a jittered `retry:`, so an EventSource comes back later instead of
/// giving up as it does on any non-200 answer.
fn failure(node: &NodeState, route: &Route, kind: &str) -> Response<StreamBody> {
    node.metrics.upstream_failed(&route.labels, kind);
    let mut buf = BytesMut::new();
    sse::encode_retry(jittered(route.retry.unwrap_or(DEFAULT_RETRY)), &mut buf);
    event_stream_response(StreamBody::full(buf.freeze()))
}

/// `base` plus up to `base` again, in milliseconds, so clients do not return in one wave.
pub fn jittered(base: Duration) -> u64 {
    let base = base.as_millis().min(u128::from(u32::MAX)) as u64;
    base + rand::rng().random_range(0..=base)
}

fn event_stream_response(body: StreamBody) -> Response<StreamBody> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn start(
    node: &Arc<NodeState>,
    route: Arc<Route>,
    upstream: Incoming,
    grant: Grant,
) -> Response<StreamBody> {
    let max_bytes = route.max_event_size.saturating_mul(4).max(1 << 20);
    let (body, sender) = StreamBody::live(route.buffer, max_bytes);
    if let Some(retry) = route.retry {
        let mut buf = BytesMut::new();
        sse::encode_retry(retry.as_millis() as u64, &mut buf);
        // A fresh queue has room for its first entry.
        let _ = sender.send(buf.freeze());
    }
    let pump = Pump::new(node.clone(), route, sender, grant);
    tokio::spawn(pump.run(upstream));
    event_stream_response(body)
}

/// The per-stream task and the counters it looked up once. Public, with [`Pump::new`] and
/// [`Pump::forward`], so `sluice-bench hotpath` can drive the per-event path outside a task.
#[derive(Debug)]
pub struct Pump {
    node: Arc<NodeState>,
    route: Arc<Route>,
    sender: StreamSender,
    events: Counter,
    bytes: Counter,
    active: Gauge,
    /// Holds the stream's place under the tenant's limits, and its token lease.
    grant: Grant,
}

impl Pump {
    /// A pump feeding `sender` for `route`; counts the stream as opened and active.
    pub fn new(
        node: Arc<NodeState>,
        route: Arc<Route>,
        sender: StreamSender,
        grant: Grant,
    ) -> Self {
        let m = &node.metrics;
        let labels: &RouteLabels = &route.labels;
        m.streams_opened.get_or_create(labels).inc();
        let active = m.streams_active.get_or_create(labels).clone();
        active.inc();
        let events = m.events_forwarded.get_or_create(labels).clone();
        let bytes = m.bytes_forwarded.get_or_create(labels).clone();
        Pump {
            events,
            bytes,
            active,
            grant,
            node,
            route,
            sender,
        }
    }

    async fn run(self, mut upstream: Incoming) {
        let end = self.pump(&mut upstream).await;
        self.finish(end);
    }

    /// Forwards events until something ends the stream.
    ///
    /// The futures that wait for rare things (drain, client gone, swap, expiry, refresh,
    /// challenge, heartbeat) are made once and kept across events, behind a [`Gate`]: an event
    /// polls none of them, only the gate's flag, and they are polled when one of them woke.
    /// A branch that resets or replaces one of them reopens the gate, so the new one is polled.
    /// They all come before the upstream's branch, so a pass with the gate open polls each.
    async fn pump(&self, upstream: &mut Incoming) -> End {
        let mut parser = Parser::new(self.route.max_event_size);
        let mut frames = Vec::new();
        let mut out = BytesMut::new();
        let lease = self.grant.lease.as_deref();
        let mut deadline = lease.map(Lease::deadline);
        let mut challenge_at = self.challenge_at();
        let heartbeat = self.route.heartbeat;
        let mut last_activity = Instant::now();

        let gate = Gate::default();
        let drained = self.node.shutdown.cancelled();
        let client_gone = self.sender.closed();
        let mut swaps = Swaps::new(self.node.swaps());
        let expiry = sleep_until(deadline.unwrap_or_else(far_future));
        let challenge = sleep_until(challenge_at.unwrap_or_else(far_future));
        let renewal = extended(lease);
        let quiet = sleep_until(heartbeat.map_or_else(far_future, |every| last_activity + every));
        tokio::pin!(drained, client_gone, expiry, challenge, renewal, quiet);
        loop {
            let open = poll_fn(|cx| Poll::Ready(gate.open(cx))).await;
            let challenging = open && challenge_at.is_some();
            tokio::select! {
                biased;
                () = poll_fn(|cx| gate.poll_woken(cx)), if !open => {}
                () = poll_fn(|_| gate.poll(drained.as_mut())), if open => return End::Draining,
                () = poll_fn(|_| gate.poll(client_gone.as_mut())), if open => {
                    return End::ClientGone;
                }
                changed = poll_fn(|_| gate.poll_with(|cx| swaps.poll_changed(cx))), if open => {
                    if changed.is_err() || !self.node.stream_alive(&self.route, lease) {
                        return End::RouteRemoved;
                    }
                    gate.reopen();
                }
                () = poll_fn(|_| gate.poll(expiry.as_mut())), if open && deadline.is_some() => {
                    return End::TokenExpired;
                }
                () = poll_fn(|_| gate.poll(renewal.as_mut())), if open => {
                    deadline = lease.map(Lease::deadline);
                    expiry.as_mut().reset(deadline.unwrap_or_else(far_future));
                    challenge_at = self.challenge_at();
                    challenge.as_mut().reset(challenge_at.unwrap_or_else(far_future));
                    renewal.set(extended(lease));
                    gate.reopen();
                }
                () = poll_fn(|_| gate.poll(challenge.as_mut())), if challenging => {
                    challenge_at = None;
                    Metrics::tenant(&self.node.metrics.challenges_sent, &self.route.labels.tenant);
                    if let Err(end) = self.send(Bytes::from_static(CHALLENGE_EVENT)) {
                        return end;
                    }
                    gate.reopen();
                }
                () = poll_fn(|_| gate.poll(quiet.as_mut())), if open && heartbeat.is_some() => {
                    // The timer is not moved per event: when it fires early (events came since it
                    // was set), it is set again for a full interval after the last one.
                    let every = heartbeat.unwrap_or_default();
                    let now = Instant::now();
                    if last_activity + every <= now {
                        sse::encode_comment("", &mut out);
                        if let Err(end) = self.send(out.split().freeze()) {
                            return end;
                        }
                        last_activity = now;
                    }
                    quiet.as_mut().reset(last_activity + every);
                    gate.reopen();
                }
                frame = upstream.frame() => {
                    let Some(Ok(frame)) = frame else {
                        if matches!(frame, Some(Err(_))) {
                            return End::UpstreamBroke;
                        }
                        parser.finish(&mut frames);
                        let _ = self.forward(&mut frames, &mut out);
                        return End::UpstreamEnded;
                    };
                    let Some(data) = frame.data_ref() else { continue };
                    if parser.feed(data, &mut frames).is_err() {
                        return End::EventTooLarge;
                    }
                    if let Err(end) = self.forward(&mut frames, &mut out) {
                        return end;
                    }
                    if heartbeat.is_some() {
                        last_activity = Instant::now();
                    }
                }
            }
        }
    }

    /// When the next `challenge` goes out: `challenge` before expiry, for tokens with a
    /// subject (only those can be refreshed).
    fn challenge_at(&self) -> Option<Instant> {
        let lease = self
            .grant
            .lease
            .as_ref()
            .filter(|lease| lease.subject.is_some())?;
        let lead = self.grant.challenge?;
        let deadline = lease.deadline();
        Some(
            deadline
                .checked_sub(lead)
                .unwrap_or(deadline)
                .max(Instant::now()),
        )
    }

    /// Encodes parsed frames and queues them as one write.
    pub fn forward(&self, frames: &mut Vec<Frame>, out: &mut BytesMut) -> Result<(), End> {
        let mut events = 0;
        let mut verdict = Ok(());
        for frame in frames.drain(..) {
            match frame {
                Frame::Event(event) if verdict.is_ok() => match self.admit(&event) {
                    Ok(()) => {
                        sse::encode_event(&event, out);
                        events += 1;
                    }
                    Err(OnInvalid::Drop) => {
                        // The client must still learn the id, or it resumes from an older one.
                        if let Some(id) = &event.id {
                            sse::encode_last_event_id(id, out);
                        }
                    }
                    Err(OnInvalid::Close) => verdict = Err(End::InvalidEvent),
                },
                Frame::Event(_) => {}
                Frame::LastEventId(id) => sse::encode_last_event_id(&id, out),
                Frame::Retry(ms) => sse::encode_retry(ms, out),
            }
        }
        self.events.inc_by(events);
        if !out.is_empty() {
            self.send(out.split().freeze())?;
        }
        verdict
    }

    /// Checks an event against the route's schemas; counts and logs (never its data) a failure.
    fn admit(&self, event: &sse::Event) -> Result<(), OnInvalid> {
        let Err(invalid) = self
            .route
            .events
            .check(event.event_type.as_deref(), &event.data)
        else {
            return Ok(());
        };
        let action = self.route.on_invalid;
        let labels = &self.route.labels;
        tracing::debug!(
            tenant = %labels.tenant,
            route = %labels.route,
            reason = invalid.reason,
            detail = %invalid.detail,
            ?action,
            "invalid event"
        );
        let series = InvalidLabels {
            tenant: labels.tenant.clone(),
            route: labels.route.clone(),
            reason: invalid.reason.to_owned(),
            action: match action {
                OnInvalid::Drop => "drop".to_owned(),
                OnInvalid::Close => "close".to_owned(),
            },
        };
        self.node
            .metrics
            .events_invalid
            .get_or_create(&series)
            .inc();
        Err(action)
    }

    fn send(&self, bytes: Bytes) -> Result<(), End> {
        let len = bytes.len() as u64;
        match self.sender.send(bytes) {
            Ok(()) => {
                self.bytes.inc_by(len);
                Ok(())
            }
            Err(SendError::ClientGone) => Err(End::ClientGone),
            Err(SendError::ClientTooSlow) => Err(End::ClientTooSlow),
        }
    }

    fn finish(self, end: End) {
        let labels = &self.route.labels;
        tracing::debug!(tenant = %labels.tenant, route = %labels.route, ?end, "stream ended");
        self.active.dec();
        match end {
            End::ClientTooSlow => {
                self.node.metrics.slow_clients.get_or_create(labels).inc();
                self.sender.abort();
            }
            End::UpstreamBroke | End::EventTooLarge | End::Draining => {
                if end != End::Draining {
                    let kind = if end == End::EventTooLarge {
                        "event_too_large"
                    } else {
                        "body"
                    };
                    self.node.metrics.upstream_failed(labels, kind);
                }
                let mut buf = BytesMut::new();
                sse::encode_retry(
                    jittered(self.route.retry.unwrap_or(DEFAULT_RETRY)),
                    &mut buf,
                );
                let _ = self.sender.send(buf.freeze());
            }
            End::TokenExpired => Metrics::tenant(&self.node.metrics.expiries, &labels.tenant),
            End::UpstreamEnded | End::ClientGone | End::RouteRemoved | End::InvalidEvent => {}
        }
    }
}

/// The node's config swaps, waited on by one future that outlives each event.
struct Swaps {
    next: ReusableBoxFuture<'static, SwapWait>,
}

/// A finished wait for a swap, and the receiver to wait on next.
type SwapWait = (Result<(), watch::error::RecvError>, watch::Receiver<u64>);

impl Swaps {
    fn new(receiver: watch::Receiver<u64>) -> Swaps {
        Swaps {
            next: ReusableBoxFuture::new(swap_after(receiver)),
        }
    }

    /// Ready once per swap; `Err` when the node is gone.
    fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), watch::error::RecvError>> {
        let (changed, receiver) = ready!(self.next.poll(cx));
        self.next.set(swap_after(receiver));
        Poll::Ready(changed)
    }
}

async fn swap_after(mut receiver: watch::Receiver<u64>) -> SwapWait {
    let changed = receiver.changed().await;
    (changed, receiver)
}

/// Resolves when `lease` is extended; never without one.
async fn extended(lease: Option<&Lease>) {
    match lease {
        Some(lease) => lease.extended.notified().await,
        None => std::future::pending().await,
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
