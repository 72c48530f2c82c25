//! `sluice-bench watchers`: config propagation. `--nodes` simulated data-plane nodes watch a
//! control plane over `ConfigDiscovery.Watch`; each of `--writes` REST writes, one after
//! another, is timed from just before its request until the last node has acked the revision
//! it produced. The run prints one JSON line.
//!
//! The simulated nodes ack every snapshot the moment it arrives, without compiling or applying
//! it: this measures the control plane's commit and push, not a node's apply (the hot-path and
//! swap scenarios measure that). Everything else follows a managed node
//! (`data-plane/src/managed.rs`): the node token as `authorization: Bearer`, the hello, acks
//! echoing the nonce, a status report every 10 seconds, one connection per node.
//!
//! The run writes into a tenant of its own (`bench-<random>`, routes `w0`, `w1`, …) with a node
//! token of the same name, and deletes both before printing, so runs can share a data directory.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use sluice_proto::config::v1::config_discovery_client::ConfigDiscoveryClient;
use sluice_proto::config::v1::{
    Ack, Hello, NodeMessage, Snapshot, Status, control_message, node_message,
};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// How often a node reports its status, as a managed node does.
const STATUS_INTERVAL: Duration = Duration::from_secs(10);

/// Flags of `sluice-bench watchers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The control plane's REST API, `http://host:port`.
    #[arg(long)]
    admin: String,
    /// The control plane's gRPC config API, `http://host:port`.
    #[arg(long)]
    grpc: String,
    /// A global admin token.
    #[arg(long, env = "SLUICE_ADMIN_TOKEN")]
    admin_token: String,
    /// How many simulated nodes watch, each over its own connection.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    nodes: u32,
    /// How many REST writes to time, one after another.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    writes: u32,
    /// Seconds to wait for every node to ack one revision before the run fails.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// Sets up, connects the nodes, times the writes, cleans up, prints the result line.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let admin = Admin::new(&args.admin, &args.admin_token)?;
    let name = format!("bench-{:08x}", rand::random::<u32>());
    let timeout = Duration::from_secs(args.timeout);
    let node_token = admin.set_up(&name).await?;

    let measured = async {
        let started = Instant::now();
        let mut fleet = Fleet::watch(&args.grpc, &node_token, args.nodes)?;
        let current = admin.current_revision().await?;
        fleet
            .until_acked(current, started + timeout)
            .await
            .with_context(|| {
                format!(
                    "waiting {}s for every node to ack the snapshot in force",
                    args.timeout
                )
            })?;
        let ready = started.elapsed();
        let samples = time_writes(&admin, &mut fleet, &name, args.writes, timeout).await?;
        anyhow::Ok((ready, samples))
    };
    // The nodes are gone (their tasks dropped with the fleet) before the cleanup writes.
    let measured = measured.await;
    let cleaned = admin.clean_up(&name).await;
    let (ready, samples) = measured?;
    cleaned?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", summary(args.nodes, ready, &samples))?;
    out.flush()?;
    Ok(())
}

/// How long one write took to be answered, and to reach the first and the last node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    answered: Duration,
    first: Duration,
    last: Duration,
}

/// Creates route `w{i}` and waits for every node to ack the revision it made. Writes do not
/// answer with the revision, but revisions only grow: the write's is the first one after the
/// newest any node has acked.
async fn time_writes(
    admin: &Admin,
    fleet: &mut Fleet,
    tenant: &str,
    writes: u32,
    timeout: Duration,
) -> anyhow::Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for i in 0..writes {
        let after = fleet.newest() + 1;
        let started = Instant::now();
        let write = async {
            admin.create_route(tenant, i).await?;
            anyhow::Ok(Instant::now())
        };
        let acked = fleet.until_acked(after, started + timeout);
        let (answered, acks) = tokio::try_join!(write, acked)
            .with_context(|| format!("write {i} (timeout {}s)", timeout.as_secs()))?;
        let acks =
            acks.with_context(|| format!("write {i}: revision {after} was already acked"))?;
        samples.push(Sample {
            answered: answered.duration_since(started),
            first: acks.first.duration_since(started),
            last: acks.last.duration_since(started),
        });
    }
    Ok(samples)
}

/// The result line: `nodes` and `writes`; over the writes, the time to the last node's ack
/// (`p50_ms`, `p99_ms`, `max_ms`, `mean_ms`), to the first node's (`first_ack_p50_ms`) and to
/// the REST answer (`write_p50_ms`); and `ready_ms`, from starting the nodes until all of them
/// acked the snapshot in force. Percentiles are nearest-rank (see [`nearest_rank`]).
fn summary(nodes: u32, ready: Duration, samples: &[Sample]) -> Value {
    let mut last: Vec<Duration> = samples.iter().map(|s| s.last).collect();
    let mut first: Vec<Duration> = samples.iter().map(|s| s.first).collect();
    let mut answered: Vec<Duration> = samples.iter().map(|s| s.answered).collect();
    last.sort_unstable();
    first.sort_unstable();
    answered.sort_unstable();
    json!({
        "nodes": nodes,
        "writes": samples.len(),
        "p50_ms": nearest_rank(&last, 50).map(ms),
        "p99_ms": nearest_rank(&last, 99).map(ms),
        "max_ms": last.last().copied().map(ms),
        "mean_ms": mean(&last).map(ms),
        "first_ack_p50_ms": nearest_rank(&first, 50).map(ms),
        "write_p50_ms": nearest_rank(&answered, 50).map(ms),
        "ready_ms": ms(ready),
    })
}

/// The nearest-rank percentile of `sorted` (ascending): the ⌈percent/100 × n⌉-th smallest
/// sample, the smallest one with at least `percent`% of the samples at or below it. Over 50
/// samples p50 is the 25th and p99 the 50th, the maximum. `None` when there are no samples.
fn nearest_rank(sorted: &[Duration], percent: usize) -> Option<Duration> {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn mean(samples: &[Duration]) -> Option<Duration> {
    let count = u32::try_from(samples.len()).ok().filter(|&n| n > 0)?;
    Some(samples.iter().sum::<Duration>() / count)
}

/// Milliseconds, to the microsecond.
fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// What a node task reports.
#[derive(Debug)]
enum Event {
    Acked {
        node: usize,
        revision: u64,
        at: Instant,
    },
    Failed {
        node: usize,
        error: anyhow::Error,
    },
}

/// When the first and the last node acked a revision.
#[derive(Debug, Clone, Copy)]
struct Acks {
    first: Instant,
    last: Instant,
}

/// The simulated nodes and the newest revision each has acked.
#[derive(Debug)]
struct Fleet {
    acked: Vec<u64>,
    events: mpsc::Receiver<Event>,
    /// Dropping the fleet aborts the node tasks, which closes their streams.
    _tasks: JoinSet<()>,
}

impl Fleet {
    /// Starts `count` nodes, each connecting and watching on its own.
    fn watch(grpc: &str, token: &str, count: u32) -> anyhow::Result<Self> {
        if !grpc.starts_with("http://") {
            bail!("--grpc must be an http:// URL, not `{grpc}`");
        }
        let count = usize::try_from(count)?;
        let target = Arc::new(Target {
            grpc: grpc.to_owned(),
            bearer: format!("Bearer {token}"),
        });
        // Room for a few answers per node, so acks queue while the REST call is in flight.
        let (events, receiver) = mpsc::channel(count * 4);
        let mut tasks = JoinSet::new();
        for node in 0..count {
            tasks.spawn(watch(target.clone(), node, events.clone()));
        }
        Ok(Self {
            acked: vec![0; count],
            events: receiver,
            _tasks: tasks,
        })
    }

    /// The newest revision any node has acked.
    fn newest(&self) -> u64 {
        self.acked.iter().copied().max().unwrap_or(0)
    }

    /// Waits until every node has acked `revision` or a later one; `None` when every node had
    /// already. Fails on a node's failure or at `deadline`, saying how many had acked.
    async fn until_acked(
        &mut self,
        revision: u64,
        deadline: Instant,
    ) -> anyhow::Result<Option<Acks>> {
        let mut done = self.acked.iter().filter(|&&r| r >= revision).count();
        let mut acks: Option<Acks> = None;
        while done < self.acked.len() {
            let event = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => event,
                Ok(None) => bail!("every node's task ended"),
                Err(_) => bail!(
                    "{done} of {} nodes acked revision {revision} or later in time",
                    self.acked.len()
                ),
            };
            let (node, acked, at) = match event {
                Event::Acked { node, revision, at } => (node, revision, at),
                Event::Failed { node, error } => {
                    return Err(error.context(format!("node {}", node_id(node))));
                }
            };
            let Some(held) = self.acked.get_mut(node) else {
                continue;
            };
            if *held < revision && acked >= revision {
                done += 1;
                acks = Some(acks.map_or(
                    Acks {
                        first: at,
                        last: at,
                    },
                    |a| Acks {
                        first: a.first.min(at),
                        last: a.last.max(at),
                    },
                ));
            }
            *held = (*held).max(acked);
        }
        Ok(acks)
    }
}

/// Where and how the nodes connect.
#[derive(Debug)]
struct Target {
    grpc: String,
    bearer: String,
}

fn node_id(node: usize) -> String {
    format!("bench-node-{node:03}")
}

/// One node for the whole run; its failure is reported as an event.
async fn watch(target: Arc<Target>, node: usize, events: mpsc::Sender<Event>) {
    if let Err(error) = follow(&target, node, &events).await {
        // The fleet is gone only when the run is over: there is no one left to tell.
        let _ = events.send(Event::Failed { node, error }).await;
    }
}

/// Opens the `Watch` stream and acks each snapshot without applying it. Returns when the
/// fleet stops listening.
async fn follow(target: &Target, node: usize, events: &mpsc::Sender<Event>) -> anyhow::Result<()> {
    let channel = Channel::from_shared(target.grpc.clone())?
        .connect_timeout(Duration::from_secs(5))
        .http2_keep_alive_interval(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("connecting to {}", target.grpc))?;
    let (tx, rx) = mpsc::channel(16);
    tx.send(hello(node)).await?;
    let mut request = tonic::Request::new(ReceiverStream::new(rx));
    request
        .metadata_mut()
        .insert("authorization", target.bearer.parse()?);
    let mut inbound = ConfigDiscoveryClient::new(channel)
        .watch(request)
        .await
        .context("opening the Watch stream")?
        .into_inner();

    let mut status = tokio::time::interval(STATUS_INTERVAL);
    let mut applied = 0;
    loop {
        tokio::select! {
            _ = status.tick() => tx.send(report(applied)).await?,
            message = inbound.message() => {
                let message = message.context("the Watch stream failed")?;
                let message = message.context("the control plane ended the Watch stream")?;
                let Some(control_message::Message::Snapshot(push)) = message.message else {
                    continue;
                };
                applied = push.revision;
                tx.send(ack(push)).await?;
                let acked = Event::Acked { node, revision: applied, at: Instant::now() };
                if events.send(acked).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

fn hello(node: usize) -> NodeMessage {
    let hello = Hello {
        node_id: node_id(node),
        labels: [("bench".to_owned(), "watchers".to_owned())].into(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        revision: 0,
    };
    NodeMessage {
        message: Some(node_message::Message::Hello(hello)),
    }
}

fn ack(push: Snapshot) -> NodeMessage {
    let ack = Ack {
        revision: push.revision,
        nonce: push.nonce,
    };
    NodeMessage {
        message: Some(node_message::Message::Ack(ack)),
    }
}

fn report(applied_revision: u64) -> NodeMessage {
    let status = Status {
        applied_revision,
        active_streams: Default::default(),
    };
    NodeMessage {
        message: Some(node_message::Message::Status(status)),
    }
}

/// The control plane's REST API, as a global admin.
#[derive(Debug)]
struct Admin {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    bearer: String,
}

impl Admin {
    fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        if !base.starts_with("http://") {
            bail!("--admin must be an http:// URL, not `{base}`");
        }
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: base.trim_end_matches('/').to_owned(),
            bearer: format!("Bearer {token}"),
        })
    }

    /// Creates the run's tenant and its node token; returns the token.
    async fn set_up(&self, name: &str) -> anyhow::Result<String> {
        let tenant = json!({ "name": name, "path_prefix": format!("/t/{name}") });
        self.call(Method::POST, "/api/v1/tenants", Some(tenant))
            .await?;
        let token = json!({ "kind": "node", "name": name });
        let created = self
            .call(Method::POST, "/api/v1/tokens", Some(token))
            .await?;
        let secret = created["token"].as_str().map(str::to_owned);
        secret.context("POST /api/v1/tokens answered without a `token`")
    }

    async fn current_revision(&self) -> anyhow::Result<u64> {
        let snapshot = self.call(Method::GET, "/api/v1/snapshot", None).await?;
        let revision = snapshot["revision"].as_u64();
        revision.context("GET /api/v1/snapshot answered without a `revision`")
    }

    /// A new public route `w{i}`: always valid, always a change.
    async fn create_route(&self, tenant: &str, i: u32) -> anyhow::Result<()> {
        let route = json!({
            "name": format!("w{i}"),
            "path": format!("/w{i}"),
            "public": true,
            "upstream": { "url": "http://127.0.0.1:9/w" },
        });
        let path = format!("/api/v1/tenants/{tenant}/routes");
        self.call(Method::POST, &path, Some(route)).await.map(drop)
    }

    /// Deletes the run's tenant (with its routes) and its node token.
    async fn clean_up(&self, name: &str) -> anyhow::Result<()> {
        let tenant = format!("/api/v1/tenants/{name}");
        let deleted = self.call(Method::DELETE, &tenant, None).await;
        let token = format!("/api/v1/tokens/{name}");
        self.call(Method::DELETE, &token, None).await?;
        deleted.map(drop)
    }

    /// One request; its JSON answer (`null` when empty), or an error naming the call, the
    /// status and the body.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let uri = format!("{}{path}", self.base);
        let mut request = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header(header::AUTHORIZATION, &self.bearer);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map_or_else(Bytes::new, |json| Bytes::from(json.to_string()));
        let request = request.body(Full::new(body))?;
        let call = || format!("{method} {uri}");
        let response = self.client.request(request).await.with_context(call)?;
        let status = response.status();
        let bytes = response.into_body().collect().await.with_context(call)?;
        let bytes = bytes.to_bytes();
        if !status.is_success() {
            bail!("{}: {status}: {}", call(), String::from_utf8_lossy(&bytes));
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).with_context(|| format!("{}: not JSON", call()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(values: impl IntoIterator<Item = u64>) -> Vec<Duration> {
        values.into_iter().map(Duration::from_millis).collect()
    }

    #[test]
    fn nearest_rank_over_fifty_samples_takes_the_25th_and_the_50th() {
        let samples = millis(1..=50);
        assert_eq!(nearest_rank(&samples, 50), Some(Duration::from_millis(25)));
        assert_eq!(nearest_rank(&samples, 99), Some(Duration::from_millis(50)));
        assert_eq!(nearest_rank(&samples, 100), Some(Duration::from_millis(50)));
        assert_eq!(nearest_rank(&samples, 1), Some(Duration::from_millis(1)));
        assert_eq!(nearest_rank(&samples, 0), Some(Duration::from_millis(1)));
    }

    #[test]
    fn nearest_rank_rounds_the_rank_up() {
        let samples = millis([10, 20, 30]);
        assert_eq!(nearest_rank(&samples, 50), Some(Duration::from_millis(20)));
        assert_eq!(nearest_rank(&samples, 34), Some(Duration::from_millis(20)));
        assert_eq!(nearest_rank(&samples, 33), Some(Duration::from_millis(10)));
        assert_eq!(nearest_rank(&samples, 99), Some(Duration::from_millis(30)));
        assert_eq!(
            nearest_rank(&millis(1..=200), 99),
            Some(Duration::from_millis(198))
        );
    }

    #[test]
    fn no_samples_have_no_percentile_and_no_mean() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(mean(&[]), None);
    }

    #[test]
    fn mean_is_exact() {
        assert_eq!(mean(&millis([1, 2, 6])), Some(Duration::from_millis(3)));
    }

    #[test]
    fn milliseconds_keep_microseconds() {
        assert_eq!(ms(Duration::from_micros(1500)), 1.5);
        assert_eq!(ms(Duration::from_nanos(2_345_678)), 2.346);
        assert_eq!(ms(Duration::ZERO), 0.0);
    }

    #[test]
    fn summary_reads_last_and_first_acks() {
        let sample = |first, last| Sample {
            answered: Duration::from_millis(first + 1),
            first: Duration::from_millis(first),
            last: Duration::from_millis(last),
        };
        let samples = [sample(1, 4), sample(2, 8), sample(3, 6), sample(1, 2)];
        let line = summary(100, Duration::from_millis(250), &samples);
        let expected = json!({
            "nodes": 100,
            "writes": 4,
            "p50_ms": 4.0,
            "p99_ms": 8.0,
            "max_ms": 8.0,
            "mean_ms": 5.0,
            "first_ack_p50_ms": 1.0,
            "write_p50_ms": 2.0,
            "ready_ms": 250.0,
        });
        assert_eq!(line, expected);
    }
}
