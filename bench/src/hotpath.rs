//! `sluice-bench hotpath`: pushes events through the data plane's per-event path on one thread,
//! with no sockets and no task, so `valgrind --tool=callgrind` can count its instructions.
//! `bench/run` runs it for N and 2N events and divides the difference by N, so everything
//! outside the loop (config compile, setup, exit) cancels out.
//!
//! Per event it does what a stream's pump does with one upstream read, through the same
//! functions: `Parser::feed`, then `Pump::forward` (the route's schema check, `encode_event`,
//! the send into the body's queue, the forwarded counters), then it takes the write off the
//! queue as hyper would, polling `StreamBody` until it is pending. The route is compiled from
//! YAML by the node's own config path, with the benchmark's `tick` schema. Not counted: hyper's
//! reads and writes, the pump's `select!` and its heartbeat reset, task wake-ups.
//!
//! The upstream reads are made before the loop: 64 distinct 512-byte events in the benchmark
//! upstream's format, used in turn. Making them is not Sluice's work; a fixed number costs the
//! same for N and 2N events and cancels out, where making one per event would not.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow, ensure};
use bytes::{BufMut, Bytes, BytesMut};
use http_body::Body;
use sluice_data_plane::body::StreamBody;
use sluice_data_plane::config;
use sluice_data_plane::node::NodeState;
use sluice_data_plane::snapshot::{self, Route};
use sluice_data_plane::sse::Parser;
use sluice_data_plane::stream::{Grant, Pump};

/// The benchmark's event size, as `bench/src/upstream.rs` sends by default.
const EVENT_SIZE: usize = 512;

/// How many distinct upstream reads the loop cycles through.
const DISTINCT_READS: usize = 64;

/// Flags of `sluice-bench hotpath`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many events to push through.
    #[arg(long, default_value_t = 20_000)]
    events: u64,
    /// Use a route without `events`, so no event is checked against a schema.
    #[arg(long)]
    no_validate: bool,
}

/// What a run forwarded, from the route's own counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Report {
    /// `sluice_events_forwarded` of the route.
    forwarded: u64,
    /// `sluice_bytes_forwarded` of the route, checked against the bytes taken off the body.
    bytes: u64,
}

/// Pushes the events and prints `{"events":N,"validated":…,"forwarded":M,"bytes":B}`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let validate = !args.no_validate;
    // On `main`'s runtime thread, tokio's coop budget would ration the body's receives within
    // the one poll this loop runs in; a plain thread has no budget.
    let report = std::thread::scope(|scope| {
        let worker = scope.spawn(|| push(args.events, validate, |_| {}));
        worker
            .join()
            .map_err(|_| anyhow!("hot path thread panicked"))?
    })?;
    // An event dropped as invalid is not counted as forwarded, so this also catches those.
    ensure!(
        report.forwarded == args.events,
        "forwarded {} of {} events: dropped as invalid or a broken setup; no count is valid",
        report.forwarded,
        args.events
    );
    // Written out rather than through `serde_json`, which would sort the keys.
    println!(
        r#"{{"events":{},"validated":{validate},"forwarded":{},"bytes":{}}}"#,
        args.events, report.forwarded, report.bytes
    );
    Ok(())
}

/// Feeds `events` upstream reads through a pump on a compiled route, handing each write the
/// body yields to `sink`.
fn push(events: u64, validate: bool, mut sink: impl FnMut(Bytes)) -> anyhow::Result<Report> {
    let node = Arc::new(NodeState::default());
    let route = compiled_route(&node, validate)?;
    let (mut body, pump) = open(&node, &route)?;
    let reads = upstream_reads();
    let mut parser = Parser::new(route.max_event_size);
    let (mut frames, mut out) = (Vec::new(), BytesMut::new());
    let mut cx = Context::from_waker(Waker::noop());
    let mut drained = 0u64;

    for i in 0..events {
        let read = &reads[i as usize % DISTINCT_READS];
        parser.feed(read, &mut frames)?;
        pump.forward(&mut frames, &mut out)
            .map_err(|end| anyhow!("stream ended at event {i}: {end:?}"))?;
        while let Poll::Ready(Some(frame)) = Pin::new(&mut body).poll_frame(&mut cx) {
            if let Ok(data) = frame?.into_data() {
                drained += data.len() as u64;
                sink(data);
            }
        }
    }

    let metrics = &node.metrics;
    let report = Report {
        forwarded: metrics.events_forwarded.get_or_create(&route.labels).get(),
        bytes: metrics.bytes_forwarded.get_or_create(&route.labels).get(),
    };
    ensure!(
        report.bytes == drained,
        "counted {} bytes, the body gave {drained}",
        report.bytes
    );
    Ok(report)
}

/// The route `checked` (the benchmark's `tick@1` schema on every event) or `open` (none),
/// compiled as a node compiles its config file.
fn compiled_route(node: &NodeState, validate: bool) -> anyhow::Result<Arc<Route>> {
    let env = |_: &str| None;
    let config = config::parse(CONFIG, std::path::Path::new("/"), &env)
        .map_err(|errors| anyhow!("hot path config: {errors}"))?;
    let snapshot = snapshot::compile(&config, node, 1, "hotpath".to_owned())
        .map_err(|errors| anyhow!("hot path config: {errors}"))?;
    let name = if validate { "checked" } else { "open" };
    let route = snapshot
        .tenants
        .iter()
        .flat_map(|tenant| &tenant.routes)
        .find(|route| route.labels.route == name)
        .with_context(|| format!("no route `{name}` in the hot path config"))?;
    // A route that lost its schema would count a cheaper path under the validated name.
    ensure!(
        route.events.is_empty() != validate,
        "route `{name}` has the wrong rules"
    );
    Ok(route.clone())
}

/// Both routes as `bench/src/setup.rs` writes them, but public: auth is per stream, not per
/// event. The upstream is never called.
const CONFIG: &str = r#"version: 1
listeners:
  - address: 127.0.0.1:0
tenants:
  bench:
    path_prefix: /t/bench
    schemas:
      tick:
        - version: 1
          schema:
            type: object
            required: [t, seq, pad]
            properties:
              t: { type: integer, minimum: 0 }
              seq: { type: integer, minimum: 1 }
              pad: { type: string }
    routes:
      open:
        path: /open
        public: true
        heartbeat: 30s
        upstream: { url: "http://127.0.0.1:9/stream" }
      checked:
        path: /checked
        public: true
        heartbeat: 30s
        upstream: { url: "http://127.0.0.1:9/stream" }
        events: { "*": tick@1 }
"#;

/// A live body and the pump feeding it, set up as `stream::start` does for a new stream.
fn open(node: &Arc<NodeState>, route: &Arc<Route>) -> anyhow::Result<(StreamBody, Pump)> {
    let max_bytes = route.max_event_size.saturating_mul(4).max(1 << 20);
    let (body, sender) = StreamBody::live(route.buffer, max_bytes);
    let tenant = &route.labels.tenant;
    let permit = node
        .limiter
        .admit(tenant, None, &config::Limits::default())
        .map_err(|exceeded| anyhow!("no limits apply, yet {} refused", exceeded.limit))?;
    let grant = Grant {
        permit,
        lease: None,
        challenge: None,
    };
    Ok((body, Pump::new(node.clone(), route.clone(), sender, grant)))
}

/// The distinct upstream reads, one event each, with `seq` 1 to 64.
fn upstream_reads() -> Vec<Bytes> {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (1..=DISTINCT_READS as u64)
        .map(|seq| event(seq, start + u128::from(seq)))
        .collect()
}

/// One event as the benchmark upstream writes it:
/// `id: SEQ`, `data: {"t":NANOS,"seq":SEQ,"pad":"xxx…"}`, padded to [`EVENT_SIZE`] bytes.
fn event(seq: u64, nanos: u128) -> Bytes {
    let head = format!("id: {seq}\ndata: {{\"t\":{nanos},\"seq\":{seq},\"pad\":\"");
    let tail = "\"}\n\n";
    let mut out = BytesMut::with_capacity(EVENT_SIZE);
    out.put_slice(head.as_bytes());
    out.put_bytes(b'x', EVENT_SIZE.saturating_sub(head.len() + tail.len()));
    out.put_slice(tail.as_bytes());
    out.freeze()
}

#[cfg(test)]
mod tests {
    use sluice_data_plane::sse::Frame;

    use super::*;

    /// Runs `events` through and parses what the client would have received.
    fn received(events: u64, validate: bool) -> (Report, Vec<Frame>) {
        let mut written = BytesMut::new();
        let report = push(events, validate, |bytes| written.extend_from_slice(&bytes))
            .expect("the hot path runs");
        let mut frames = Vec::new();
        Parser::default()
            .feed(&written, &mut frames)
            .expect("the output parses");
        assert_eq!(report.bytes, written.len() as u64);
        (report, frames)
    }

    #[test]
    fn every_event_is_forwarded_with_its_id() {
        for validate in [true, false] {
            let (report, frames) = received(100, validate);
            assert_eq!(report.forwarded, 100);
            assert_eq!(frames.len(), 100);
            for (i, frame) in frames.iter().enumerate() {
                let Frame::Event(event) = frame else {
                    panic!("not an event: {frame:?}")
                };
                let seq = (i % DISTINCT_READS + 1).to_string();
                assert_eq!(event.id.as_deref(), Some(seq.as_str()));
                let data: serde_json::Value = serde_json::from_str(&event.data).expect("json");
                assert_eq!(data["seq"].to_string(), seq);
            }
        }
    }

    #[test]
    fn reads_are_the_benchmark_size_and_distinct() {
        let reads = upstream_reads();
        assert!(reads.iter().all(|read| read.len() == EVENT_SIZE));
        let distinct: std::collections::HashSet<_> = reads.iter().collect();
        assert_eq!(distinct.len(), DISTINCT_READS);
    }
}
