//! `sluice-bench load`: opens many SSE streams and measures what arrives.
//!
//! Streams go one per connection over HTTP/1.1, or many per connection over h2, with TLS when the
//! URL is `https` and a bearer token when given one. A stream counts as open once its first event
//! has arrived, so the whole path (client, proxy, upstream) is in place. The run then has three
//! phases, each announced by one JSON line on stdout so a driver can act between them:
//!
//! 1. `{"phase":"open",…}` once every stream is open or has failed;
//! 2. `{"phase":"measure"}` after the warm-up, when counting starts;
//! 3. `{"phase":"done",…}` after the window: events, bytes, id gaps, streams lost and latency.
//!
//! Latency is the receive time minus the send time the upstream wrote into the event (`"t"`, in
//! Unix nanoseconds), so both ends must share a clock: the same machine.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use bytes::{Buf, Bytes, BytesMut};
use hdrhistogram::Histogram;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::RootCertStore;
use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

/// Flags of `sluice-bench load`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stream's URL, `http` or `https`.
    #[arg(long)]
    url: Uri,
    /// How many streams to open.
    #[arg(long, default_value_t = 1)]
    streams: usize,
    /// Multiplex the streams over h2 connections instead of one HTTP/1.1 connection each.
    #[arg(long)]
    h2: bool,
    /// With `--h2`: how many connections to spread the streams over (default: one per 1,000).
    #[arg(long)]
    conns: Option<usize>,
    /// A bearer token sent with every request.
    #[arg(long)]
    token: Option<String>,
    /// A PEM file of the CA that signed an `https` server's certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Streams opened per second; 0 opens them all at once.
    #[arg(long, default_value_t = 2000.0)]
    open_rate: f64,
    /// Seconds between the last stream opening and the measured window.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// The measured window, in seconds.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds to wait for every stream's first event before counting the rest as failed.
    #[arg(long, default_value_t = 120.0)]
    open_timeout: f64,
}

/// Opens the streams, measures, prints the three phase lines.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let target = Arc::new(Target::new(&args)?);
    let shared = Arc::new(Shared::default());
    let started = Instant::now();
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel();
    let senders = if args.h2 {
        let conns = args.conns.unwrap_or(args.streams.div_ceil(1000)).max(1);
        let mut senders = Vec::with_capacity(conns);
        for _ in 0..conns {
            senders.push(target.connect_h2().await?);
        }
        senders
    } else {
        Vec::new()
    };
    let opener = {
        let (target, shared) = (target.clone(), shared.clone());
        let pace = (args.open_rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.open_rate));
        let streams = args.streams;
        tokio::spawn(async move {
            for index in 0..streams {
                if let Some(pace) = pace {
                    tokio::time::sleep_until(started + pace.mul_f64(index as f64)).await;
                }
                let connection = senders.get(index % senders.len().max(1)).cloned();
                let stream = Stream {
                    target: target.clone(),
                    shared: shared.clone(),
                    opened: Some(opened_tx.clone()),
                };
                tokio::spawn(stream.run(connection));
            }
        })
    };

    let deadline = started + Duration::from_secs_f64(args.open_timeout);
    let (mut open, mut failed) = (0usize, 0usize);
    while open + failed < args.streams {
        match tokio::time::timeout_at(deadline, opened_rx.recv()).await {
            Ok(Some(true)) => open += 1,
            Ok(Some(false)) => failed += 1,
            Ok(None) | Err(_) => break,
        }
    }
    opener.abort();
    failed = args.streams - open;
    emit(json!({
        "phase": "open",
        "streams": open,
        "failed": failed,
        "elapsed_ms": started.elapsed().as_secs_f64() * 1e3,
    }));

    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    shared.reset_window();
    shared.phase.store(MEASURE, Ordering::SeqCst);
    let window_start = Instant::now();
    emit(json!({ "phase": "measure" }));
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    shared.phase.store(DONE, Ordering::SeqCst);
    let window = window_start.elapsed().as_secs_f64();

    let events = shared.events.load(Ordering::SeqCst);
    let latency = shared
        .latency
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let quantile = |q: f64| {
        if latency.is_empty() {
            0
        } else {
            latency.value_at_quantile(q)
        }
    };
    emit(json!({
        "phase": "done",
        "streams": open,
        "failed": failed,
        "lost": shared.lost.load(Ordering::SeqCst),
        "events": events,
        "window_s": window,
        "events_per_s": events as f64 / window,
        "bytes": shared.bytes.load(Ordering::SeqCst),
        "gaps": shared.gaps.load(Ordering::SeqCst),
        "latency_us": {
            "p50": quantile(0.5),
            "p90": quantile(0.9),
            "p99": quantile(0.99),
            "p999": quantile(0.999),
            "max": latency.max(),
            "count": latency.len(),
        },
        "first_error": shared.first_error.lock().unwrap_or_else(PoisonError::into_inner).clone(),
    }));
    Ok(())
}

fn emit(line: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    // A driver that went away cannot be told anything; the run ends with it.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const DONE: u8 = 2;

/// What every stream adds to.
#[derive(Debug)]
struct Shared {
    phase: AtomicU8,
    events: AtomicU64,
    bytes: AtomicU64,
    gaps: AtomicU64,
    lost: AtomicU64,
    /// Microseconds, 1 µs to 100 s, three significant digits.
    latency: Mutex<Histogram<u64>>,
    first_error: Mutex<Option<String>>,
}

impl Default for Shared {
    fn default() -> Self {
        let histogram = Histogram::new_with_bounds(1, 100_000_000, 3)
            .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()));
        Shared {
            phase: AtomicU8::new(WARMUP),
            events: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            gaps: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            latency: Mutex::new(histogram),
            first_error: Mutex::new(None),
        }
    }
}

impl Shared {
    fn reset_window(&self) {
        self.events.store(0, Ordering::SeqCst);
        self.bytes.store(0, Ordering::SeqCst);
        self.latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reset();
    }

    fn error(&self, error: impl std::fmt::Display) {
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            *first = Some(error.to_string());
        }
    }
}

/// Where the streams go and how.
struct Target {
    uri: Uri,
    address: String,
    host: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    token: Option<String>,
    h2: bool,
}

/// A connection's byte stream, plain or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

impl Target {
    fn new(args: &Args) -> anyhow::Result<Target> {
        let uri = args.url.clone();
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            other => bail!("--url: the scheme must be http or https, not {other:?}"),
        };
        let host = uri.host().context("--url: no host")?.to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tls = if https {
            let mut roots = RootCertStore::empty();
            if let Some(ca) = &args.ca {
                for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca)
                    .with_context(|| format!("--ca: reading {}", ca.display()))?
                {
                    roots.add(cert.with_context(|| format!("--ca: {}", ca.display()))?)?;
                }
            }
            let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
            config.alpn_protocols = vec![if args.h2 {
                b"h2".to_vec()
            } else {
                b"http/1.1".to_vec()
            }];
            let name =
                ServerName::try_from(host.clone()).context("--url: the host as a TLS name")?;
            Some((TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        let authority = uri.authority().map_or(host.clone(), ToString::to_string);
        Ok(Target {
            address: format!("{host}:{port}"),
            host: authority,
            uri,
            tls,
            token: args.token.clone(),
            h2: args.h2,
        })
    }

    async fn connect(&self) -> anyhow::Result<Box<dyn Io>> {
        let tcp = TcpStream::connect(&self.address)
            .await
            .with_context(|| format!("connecting to {}", self.address))?;
        tcp.set_nodelay(true)?;
        Ok(match &self.tls {
            None => Box::new(tcp),
            Some((connector, name)) => Box::new(
                connector
                    .connect(name.clone(), tcp)
                    .await
                    .context("TLS handshake")?,
            ),
        })
    }

    async fn connect_h2(&self) -> anyhow::Result<http2::SendRequest<Empty<Bytes>>> {
        let io = self.connect().await?;
        let (send, connection) = http2::Builder::new(TokioExecutor::new())
            .initial_connection_window_size(16 << 20)
            .initial_stream_window_size(1 << 20)
            .max_concurrent_reset_streams(0)
            .handshake(TokioIo::new(io))
            .await
            .context("h2 handshake")?;
        tokio::spawn(connection);
        Ok(send)
    }

    fn request(&self) -> Request<Empty<Bytes>> {
        let mut request = Request::get(if self.h2 {
            self.uri.clone()
        } else {
            self.uri
                .path_and_query()
                .map_or("/".parse().unwrap_or_default(), |p| {
                    p.as_str().parse().unwrap_or_default()
                })
        });
        if !self.h2 {
            request = request.header(header::HOST, &self.host);
        }
        request = request.header(header::ACCEPT, "text/event-stream");
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request.body(Empty::new()).unwrap_or_default()
    }
}

/// One stream, from connecting to its end.
struct Stream {
    target: Arc<Target>,
    shared: Arc<Shared>,
    /// Told whether the stream opened, once; `None` afterwards.
    opened: Option<mpsc::UnboundedSender<bool>>,
}

impl Stream {
    async fn run(mut self, h2: Option<http2::SendRequest<Empty<Bytes>>>) {
        let ended = match self.open(h2).await {
            Ok(body) => self.read(body).await,
            Err(error) => Err(error),
        };
        if let Err(error) = ended {
            self.shared.error(format!("{error:#}"));
        }
        match self.opened.take() {
            Some(opened) => {
                let _ = opened.send(false);
            }
            None if self.shared.phase.load(Ordering::SeqCst) != DONE => {
                self.shared.lost.fetch_add(1, Ordering::SeqCst);
            }
            None => {}
        }
    }

    async fn open(&self, h2: Option<http2::SendRequest<Empty<Bytes>>>) -> anyhow::Result<Incoming> {
        let response = match h2 {
            Some(mut send) => {
                send.ready().await.context("h2 connection")?;
                send.send_request(self.target.request()).await?
            }
            None => {
                let io = self.target.connect().await?;
                let (mut send, connection) = http1::handshake(TokioIo::new(io))
                    .await
                    .context("HTTP/1.1 handshake")?;
                tokio::spawn(connection);
                send.send_request(self.target.request()).await?
            }
        };
        if response.status() != StatusCode::OK {
            let status = response.status();
            let body = response.into_body().collect().await.map(|b| b.to_bytes());
            let body = body
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            bail!("status {status}: {body}");
        }
        Ok(response.into_body())
    }

    async fn read(&mut self, mut body: Incoming) -> anyhow::Result<()> {
        let mut buffer = BytesMut::new();
        let mut last_seq = 0u64;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else {
                continue;
            };
            let measuring = self.shared.phase.load(Ordering::Relaxed) == MEASURE;
            if measuring {
                self.shared
                    .bytes
                    .fetch_add(data.len() as u64, Ordering::Relaxed);
            }
            buffer.extend_from_slice(&data);
            while let Some(end) = find_blank_line(&buffer) {
                let block = buffer.split_to(end + 2).freeze();
                let Some((sent, seq)) = stamp(&block) else {
                    continue;
                };
                self.arrived(sent, seq, &mut last_seq, measuring);
            }
        }
        bail!("the stream ended")
    }

    fn arrived(&mut self, sent: u64, seq: u64, last_seq: &mut u64, measuring: bool) {
        if let Some(opened) = self.opened.take() {
            let _ = opened.send(true);
        }
        if *last_seq != 0 && seq > *last_seq + 1 {
            self.shared
                .gaps
                .fetch_add(seq - *last_seq - 1, Ordering::Relaxed);
        }
        *last_seq = seq;
        if measuring {
            self.shared.events.fetch_add(1, Ordering::Relaxed);
            let now = unix_nanos();
            let micros = now.saturating_sub(sent) / 1_000;
            let mut latency = self
                .shared
                .latency
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            latency.saturating_record(micros.max(1));
        }
    }
}

fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The offset of the first `\n\n` in `buffer`, which ends an event.
fn find_blank_line(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|pair| pair == b"\n\n")
}

/// The send time and sequence number in an event's data, or `None` for a block without them (a
/// comment, a heartbeat).
fn stamp(block: &Bytes) -> Option<(u64, u64)> {
    let mut rest = block.chunk();
    let mut fields = (None, None);
    while let Some(at) = rest.iter().position(|&b| b == b'"') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix(b"t\":") {
            fields.0 = number(after);
        } else if let Some(after) = rest.strip_prefix(b"seq\":") {
            fields.1 = number(after);
        }
        if let (Some(t), Some(seq)) = fields {
            return Some((t, seq));
        }
    }
    None
}

fn number(digits: &[u8]) -> Option<u64> {
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_gives_its_send_time_and_seq() {
        let block = Bytes::from_static(
            b"id: 7\ndata: {\"t\":1700000000123456789,\"seq\":7,\"pad\":\"xx\"}\n\n",
        );
        assert_eq!(stamp(&block), Some((1_700_000_000_123_456_789, 7)));
    }

    #[test]
    fn a_heartbeat_gives_nothing() {
        assert_eq!(stamp(&Bytes::from_static(b":\n\n")), None);
        assert_eq!(stamp(&Bytes::from_static(b"data: {\"other\":1}\n\n")), None);
    }

    #[test]
    fn an_event_ends_at_the_first_blank_line() {
        assert_eq!(find_blank_line(b"id: 1\ndata: x\n\nid: 2"), Some(13));
        assert_eq!(find_blank_line(b"id: 1\ndata: x\n"), None);
    }
}
