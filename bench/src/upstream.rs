//! `sluice-bench upstream`: an SSE server that sends paced, timestamped events, over HTTP/1.1
//! and h2 (prior knowledge) on one port.
//!
//! Every path serves a stream. The query sets it up: `rate` events per second (`0`: one event,
//! then idle), `size` bytes per event (default 512) and `count` events before the stream ends
//! (default: never). Each stream starts at a random phase of its period, so many streams do not
//! wake up together, and catches up in a burst if it falls behind. Each event is one body frame,
//! so one write:
//!
//! ```text
//! id: <seq>
//! data: {"t":<unix ns at send>,"seq":<seq>,"pad":"xxx…"}
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use bytes::{BufMut, Bytes, BytesMut};
use http::{Request, Response, header};
use http_body::{Body, Frame};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rand::Rng;
use tokio::net::TcpListener;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// The size of an event when the query does not set one: the figure the benchmarks quote.
const DEFAULT_SIZE: usize = 512;

/// Flags of `sluice-bench upstream`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on; port 0 picks a free one. The address taken is printed as
    /// `{"listening":"host:port"}`.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

/// Serves until killed.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let local = listener.local_addr()?;
    println!("{}", serde_json::json!({ "listening": local.to_string() }));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .max_concurrent_streams(u32::MAX)
        .initial_connection_window_size(16 << 20)
        .initial_stream_window_size(1 << 20);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors, say: the next accept may work once streams close.
            Err(error) => {
                eprintln!("accept: {error}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        stream.set_nodelay(true)?;
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = service_fn(|request: Request<Incoming>| async move {
                Ok::<_, Infallible>(respond(&request))
            });
            // A client going away mid-stream is the normal end of a benchmark.
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(request: &Request<Incoming>) -> Response<Ticks> {
    let plan = Plan::from_query(request.uri().query().unwrap_or(""));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Ticks::new(plan))
        .unwrap_or_else(|_| Response::new(Ticks::new(Plan::default())))
}

/// What one stream sends, from its query.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    rate: f64,
    size: usize,
    count: Option<u64>,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            rate: 0.0,
            size: DEFAULT_SIZE,
            count: None,
        }
    }
}

impl Plan {
    /// Reads `rate`, `size` and `count`; a value that does not parse keeps the default.
    fn from_query(query: &str) -> Plan {
        let mut plan = Plan::default();
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "rate" => plan.rate = value.parse().unwrap_or(plan.rate),
                "size" => plan.size = value.parse().unwrap_or(plan.size),
                "count" => plan.count = value.parse().ok(),
                _ => {}
            }
        }
        plan
    }
}

/// A response body that yields one event per tick of its interval.
struct Ticks {
    /// `None` for `rate=0`: one event, then nothing.
    interval: Option<Interval>,
    size: usize,
    /// The number of events sent so far; the next event's `seq` is one more.
    sent: u64,
    count: Option<u64>,
}

impl Ticks {
    fn new(plan: Plan) -> Ticks {
        let interval = (plan.rate > 0.0).then(|| {
            let period = Duration::from_secs_f64(1.0 / plan.rate);
            let phase = period.mul_f64(rand::rng().random::<f64>());
            let mut interval = tokio::time::interval_at(Instant::now() + phase, period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
            interval
        });
        Ticks {
            interval,
            size: plan.size,
            sent: 0,
            count: plan.count,
        }
    }
}

impl Body for Ticks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.count.is_some_and(|count| self.sent >= count) {
            return Poll::Ready(None);
        }
        let sent = self.sent;
        match &mut self.interval {
            Some(interval) => {
                ready!(interval.poll_tick(cx));
            }
            // Idle after the first event; the connection still watches the client going away.
            None if sent > 0 => return Poll::Pending,
            None => {}
        }
        self.sent += 1;
        Poll::Ready(Some(Ok(Frame::data(event(self.sent, self.size)))))
    }
}

/// One event of exactly `size` bytes (or the shortest possible, if `size` is smaller).
fn event(seq: u64, size: usize) -> Bytes {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let head = format!("id: {seq}\ndata: {{\"t\":{nanos},\"seq\":{seq},\"pad\":\"");
    let tail = "\"}\n\n";
    let pad = size.saturating_sub(head.len() + tail.len());
    let mut out = BytesMut::with_capacity(head.len() + pad + tail.len());
    out.put_slice(head.as_bytes());
    out.put_bytes(b'x', pad);
    out.put_slice(tail.as_bytes());
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_has_the_size_asked_for_and_carries_its_seq() {
        let bytes = event(42, 512);
        assert_eq!(bytes.len(), 512);
        let text = std::str::from_utf8(&bytes).expect("utf-8");
        assert!(text.starts_with("id: 42\ndata: {\"t\":"), "{text}");
        assert!(text.ends_with("\"}\n\n"), "{text}");
        let data = text
            .lines()
            .nth(1)
            .and_then(|line| line.strip_prefix("data: "));
        let json: serde_json::Value = serde_json::from_str(data.expect("data line")).expect("json");
        assert_eq!(json["seq"], 42);
        assert!(json["t"].as_u64().is_some_and(|t| t > 0));
    }

    #[test]
    fn an_event_too_small_for_its_fields_is_not_padded() {
        assert!(event(1, 10).len() > 10);
        assert!(!event(1, 10).contains(&b'x'));
    }

    #[test]
    fn the_query_sets_rate_size_and_count() {
        assert_eq!(
            Plan::from_query("rate=2.5&size=100&count=3&other=1"),
            Plan {
                rate: 2.5,
                size: 100,
                count: Some(3)
            }
        );
        assert_eq!(Plan::from_query(""), Plan::default());
        assert_eq!(Plan::from_query("rate=fast"), Plan::default());
    }
}
