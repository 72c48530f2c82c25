//! The demo SSE source: `GET /stream/{name}` (and `GET /events`) tick with event ids and resume
//! after `Last-Event-ID`; `POST /publish/{name}` sends one event to every open stream of a name.

mod event;
mod hub;
mod stream;

use std::convert::Infallible;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::serve;
use hub::{Hub, Published};
use stream::StreamSpec;

/// How long open connections get to finish after shutdown before they are cut.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Largest `POST /publish` body accepted, in bytes.
const MAX_PUBLISH_BYTES: usize = 64 * 1024;

/// How the demo source behaves.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Time between `tick` events on each stream. Default 1 s.
    pub interval: Duration,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            interval: Duration::from_secs(1),
        }
    }
}

/// State shared by every connection of one demo server.
#[derive(Debug)]
struct Demo {
    interval: Duration,
    hub: Hub,
    /// Turns true at shutdown, ending every stream so connections can close.
    closing: watch::Sender<bool>,
}

type DemoBody = BoxBody<Bytes, Infallible>;

/// Serves the demo source on `listener` until `shutdown` resolves, then ends every stream and
/// waits up to a few seconds for connections to close.
pub async fn run(listener: TcpListener, config: DemoConfig, shutdown: impl Future<Output = ()>) {
    let demo = Arc::new(Demo {
        interval: config.interval,
        hub: Hub::default(),
        closing: watch::Sender::new(false),
    });
    match listener.local_addr() {
        Ok(addr) => info!(%addr, interval = ?config.interval, "demo upstream listening"),
        Err(error) => warn!(%error, "demo upstream listening on an unknown address"),
    }
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();

    accept_until(shutdown, &listener, &demo, &graceful, &mut connections).await;

    drop(listener);
    demo.closing.send_replace(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    if drained.is_err() {
        warn!(
            open = connections.len(),
            "demo connections cut after the grace period"
        );
    }
    connections.shutdown().await;
    info!("demo upstream stopped");
}

async fn accept_until(
    shutdown: impl Future<Output = ()>,
    listener: &TcpListener,
    demo: &Arc<Demo>,
    graceful: &GracefulShutdown,
    connections: &mut JoinSet<()>,
) {
    let builder = serve::http_builder();
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            Some(_) = connections.join_next() => {}
            stream = serve::accept(listener) => {
                connections.spawn(serve_connection(&builder, graceful, demo.clone(), stream));
            }
        }
    }
}

/// Serves one connection; it ends early, once its responses are done, when `graceful` says.
fn serve_connection(
    builder: &auto::Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    demo: Arc<Demo>,
    stream: TcpStream,
) -> impl Future<Output = ()> + Send + 'static {
    let service = service_fn(move |req| route(demo.clone(), req));
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .into_owned();
    let conn = graceful.watch(conn);
    async move {
        if let Err(error) = conn.await {
            debug!(%error, "demo connection ended with an error");
        }
    }
}

/// What a request path names.
#[derive(Debug, PartialEq)]
enum Target {
    Stream(String),
    Publish(String),
}

impl Target {
    /// `/events`, `/stream/{name}` or `/publish/{name}`, with `name` one non-empty segment.
    fn of(path: &str) -> Option<Target> {
        if path == "/events" {
            return Some(Target::Stream("events".to_owned()));
        }
        let (kind, name) = path.strip_prefix('/')?.split_once('/')?;
        if name.is_empty() || name.contains('/') {
            return None;
        }
        match kind {
            "stream" => Some(Target::Stream(name.to_owned())),
            "publish" => Some(Target::Publish(name.to_owned())),
            _ => None,
        }
    }
}

async fn route(demo: Arc<Demo>, req: Request<Incoming>) -> Result<Response<DemoBody>, Infallible> {
    let response = match (req.method(), Target::of(req.uri().path())) {
        (&Method::GET, Some(Target::Stream(name))) => open_stream(&demo, name, &req),
        (&Method::POST, Some(Target::Publish(name))) => publish(&demo, name, req).await,
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    Ok(response)
}

/// Subscribes before answering, so a publish sent after the client saw the headers reaches it.
fn open_stream(demo: &Demo, name: String, req: &Request<Incoming>) -> Response<DemoBody> {
    let feed = demo.hub.subscribe(&name);
    let spec = StreamSpec::new(name, req.headers());
    let body = stream::spawn(spec, demo.interval, feed, demo.closing.subscribe());
    let mut response = Response::new(BodyExt::boxed(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Sends the body, as is, to every open stream of `name`; answers `{"streams":N}`. The body is
/// normally JSON but is not checked, so tests can publish events a schema must refuse.
async fn publish(demo: &Demo, name: String, req: Request<Incoming>) -> Response<DemoBody> {
    let Some(event) = event_type(req.uri().query()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "event must match [A-Za-z0-9._:-]{1,64}\n",
        );
    };
    let body = match Limited::new(req.into_body(), MAX_PUBLISH_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "body over 64 KiB\n");
        }
        Err(error) => {
            debug!(%error, "publish body unreadable");
            return text(StatusCode::BAD_REQUEST, "body unreadable\n");
        }
    };
    let Ok(data) = std::str::from_utf8(&body) else {
        return text(StatusCode::BAD_REQUEST, "body is not UTF-8\n");
    };
    // A trailing line break (as `echo` leaves) would add an empty data line.
    let data = data.trim_end_matches(['\r', '\n']).into();
    let streams = demo.hub.publish(&name, Published { event, data });
    let mut response = text(StatusCode::OK, format!("{{\"streams\":{streams}}}\n"));
    let json = HeaderValue::from_static("application/json");
    response.headers_mut().insert(CONTENT_TYPE, json);
    response
}

/// The `event` query parameter, `message` when absent, `None` when not a plain token: it is
/// written into the stream, so it must not carry a line break.
fn event_type(query: Option<&str>) -> Option<Arc<str>> {
    let value = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.strip_prefix("event="))
        .next_back();
    let Some(value) = value else {
        return Some("message".into());
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
    let ok = !value.is_empty() && value.len() <= 64 && value.chars().all(plain);
    ok.then(|| value.into())
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<DemoBody> {
    let mut response = Response::new(BodyExt::boxed(Full::new(body.into())));
    *response.status_mut() = status;
    let plain = HeaderValue::from_static("text/plain; charset=utf-8");
    response.headers_mut().insert(CONTENT_TYPE, plain);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BOTH, Client, Events, Proto, read_to_end, within};
    use std::net::SocketAddr;
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    /// Long enough that no tick interferes with a test about published events.
    const NEVER: Duration = Duration::from_secs(3600);

    struct Server {
        addr: SocketAddr,
        stop: oneshot::Sender<()>,
        task: JoinHandle<()>,
    }

    async fn start(interval: Duration) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move { drop(stopped.await) };
        let task = tokio::spawn(run(listener, DemoConfig { interval }, shutdown));
        Server { addr, stop, task }
    }

    fn tick(id: u64, stream: &str, tenant: &str) -> String {
        format!(
            "id: {id}\nevent: tick\ndata: {{\"n\":{id},\"stream\":\"{stream}\",\"tenant\":{tenant}}}\n\n"
        )
    }

    async fn open(client: &mut Client, path: &str, headers: &[(&str, &str)]) -> Events {
        let response = client.get(path, headers).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache");
        Events::new(response.into_body())
    }

    async fn publish(addr: SocketAddr, path: &str, body: &str) -> (StatusCode, String) {
        let mut client = Client::connect(addr, Proto::Http1).await;
        let req = client
            .request(Method::POST, path)
            .body(Full::from(body.to_owned()));
        let response = client.send(req.expect("request")).await.expect("response");
        (response.status(), read_to_end(response.into_body()).await)
    }

    #[tokio::test]
    async fn ticks_count_up_from_one_on_both_protocols() {
        let server = start(Duration::from_millis(10)).await;
        for proto in BOTH {
            let mut client = Client::connect(server.addr, proto).await;
            let mut events = open(
                &mut client,
                "/stream/orders",
                &[("x-sluice-tenant", "acme")],
            )
            .await;
            for id in 1..=3 {
                assert_eq!(
                    events.next().await,
                    tick(id, "orders", "\"acme\""),
                    "{proto:?}"
                );
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn default_interval_ticks_once_a_second() {
        let server = start(DemoConfig::default().interval).await;
        let mut client = Client::connect(server.addr, Proto::Http1).await;
        let opened = tokio::time::Instant::now();
        let mut events = open(&mut client, "/events", &[]).await;

        assert_eq!(events.next().await, tick(1, "events", "null"));
        assert_eq!(opened.elapsed(), Duration::from_secs(1));
        assert_eq!(events.next().await, tick(2, "events", "null"));
        assert_eq!(opened.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn last_event_id_resumes_at_the_next_id() {
        let server = start(Duration::from_millis(10)).await;
        for proto in BOTH {
            let mut client = Client::connect(server.addr, proto).await;
            let mut resumed = open(&mut client, "/stream/a", &[("last-event-id", "41")]).await;
            assert_eq!(resumed.next().await, tick(42, "a", "null"), "{proto:?}");
            assert_eq!(resumed.next().await, tick(43, "a", "null"), "{proto:?}");

            // A fresh connection: HTTP/1.1 cannot start a request while a stream is open.
            let mut client = Client::connect(server.addr, proto).await;
            let mut restarted = open(&mut client, "/stream/a", &[("last-event-id", "abc")]).await;
            assert_eq!(restarted.next().await, tick(1, "a", "null"), "{proto:?}");
        }
    }

    #[tokio::test]
    async fn publish_reaches_every_open_stream_of_the_name() {
        let server = start(NEVER).await;
        let mut h1 = Client::connect(server.addr, Proto::Http1).await;
        let mut h2 = Client::connect(server.addr, Proto::H2c).await;
        let mut first = open(&mut h1, "/stream/orders", &[]).await;
        let mut second = open(&mut h2, "/stream/orders", &[("last-event-id", "5")]).await;
        let mut other = open(&mut h2, "/stream/prices", &[]).await;

        let answer = publish(server.addr, "/publish/orders", "{\"a\":1}").await;
        assert_eq!(answer, (StatusCode::OK, "{\"streams\":2}\n".to_owned()));
        assert_eq!(
            first.next().await,
            "id: 1\nevent: message\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(
            second.next().await,
            "id: 6\nevent: message\ndata: {\"a\":1}\n\n"
        );

        let answer = publish(server.addr, "/publish/prices", "{\"p\":2}\n").await;
        assert_eq!(answer, (StatusCode::OK, "{\"streams\":1}\n".to_owned()));
        assert_eq!(
            other.next().await,
            "id: 1\nevent: message\ndata: {\"p\":2}\n\n"
        );
    }

    #[tokio::test]
    async fn publish_sets_event_type_and_splits_lines() {
        let server = start(NEVER).await;
        let mut client = Client::connect(server.addr, Proto::H2c).await;
        let mut events = open(&mut client, "/events", &[]).await;

        let answer = publish(
            server.addr,
            "/publish/events?event=order.created",
            "{\n\"id\": 1\n}",
        )
        .await;
        assert_eq!(answer.0, StatusCode::OK);
        let expected = "id: 1\nevent: order.created\ndata: {\ndata: \"id\": 1\ndata: }\n\n";
        assert_eq!(events.next().await, expected);
    }

    #[tokio::test]
    async fn publish_without_streams_reaches_none() {
        let server = start(NEVER).await;
        let answer = publish(server.addr, "/publish/nobody", "{}").await;
        assert_eq!(answer, (StatusCode::OK, "{\"streams\":0}\n".to_owned()));
    }

    #[tokio::test]
    async fn publish_refuses_event_types_that_are_not_tokens() {
        let server = start(NEVER).await;
        for query in ["event=", "event=a%0Ab", "event=a/b"] {
            let path = format!("/publish/a?{query}");
            let (status, _) = publish(server.addr, &path, "{}").await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        }
    }

    #[tokio::test]
    async fn publish_refuses_bodies_over_the_limit() {
        let server = start(NEVER).await;
        let body = "x".repeat(MAX_PUBLISH_BYTES + 1);
        let (status, _) = publish(server.addr, "/publish/a", &body).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn other_requests_get_404() {
        let server = start(NEVER).await;
        let mut client = Client::connect(server.addr, Proto::Http1).await;
        let cases = [
            (Method::GET, "/"),
            (Method::GET, "/stream/"),
            (Method::GET, "/stream/a/b"),
            (Method::GET, "/publish/a"),
            (Method::POST, "/stream/a"),
            (Method::DELETE, "/events"),
        ];
        for (method, path) in cases {
            let req = client.request(method.clone(), path).body(Full::default());
            let response = client.send(req.expect("request")).await.expect("response");
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
            assert_eq!(read_to_end(response.into_body()).await, "not found\n");
        }
    }

    #[tokio::test]
    async fn shutdown_ends_open_streams_and_returns() {
        let server = start(NEVER).await;
        let mut h1 = Client::connect(server.addr, Proto::Http1).await;
        let mut h2 = Client::connect(server.addr, Proto::H2c).await;
        let first = open(&mut h1, "/events", &[]).await;
        let second = open(&mut h2, "/events", &[]).await;

        server.stop.send(()).expect("server running");

        assert!(first.ends().await);
        assert!(second.ends().await);
        within("run to return", server.task)
            .await
            .expect("run finished");
        assert!(TcpStream::connect(server.addr).await.is_err());
    }

    #[test]
    fn targets_are_one_segment_names() {
        assert_eq!(Target::of("/events"), Some(Target::Stream("events".into())));
        assert_eq!(Target::of("/stream/a"), Some(Target::Stream("a".into())));
        assert_eq!(Target::of("/publish/a"), Some(Target::Publish("a".into())));
        for path in [
            "/",
            "/events/",
            "/stream",
            "/stream/",
            "/stream/a/",
            "/other/a",
        ] {
            assert_eq!(Target::of(path), None, "{path}");
        }
    }

    #[test]
    fn event_type_defaults_to_message_and_last_value_wins() {
        assert_eq!(event_type(None).as_deref(), Some("message"));
        assert_eq!(event_type(Some("x=1")).as_deref(), Some("message"));
        assert_eq!(
            event_type(Some("event=a&event=b.c")).as_deref(),
            Some("b.c")
        );
        assert_eq!(event_type(Some("event=a\nb")), None);
    }
}
