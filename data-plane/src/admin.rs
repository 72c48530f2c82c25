//! The node's admin listener: `/healthz`, `/readyz`, `/metrics` and `/config`.
//!
//! It runs apart from client traffic so probes and scrapes work while streams are saturated,
//! and keeps answering while the node drains (that is when `/readyz` matters).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::node::NodeState;

/// Serves the admin endpoints on `listener` until `stop` is cancelled.
pub async fn run(listener: TcpListener, node: Arc<NodeState>, stop: CancellationToken) {
    loop {
        let (tcp, _) = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "admin accept failed");
                    continue;
                }
            },
        };
        let node = node.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(request, node.clone()));
            let builder = auto::Builder::new(TokioExecutor::new());
            let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    node: Arc<NodeState>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::GET {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        ));
    }
    let response = match request.uri().path() {
        "/healthz" => reply(StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" if node.is_ready() => reply(StatusCode::OK, "text/plain", readiness(&node)),
        "/readyz" => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "not ready\n".into(),
        ),
        "/metrics" => reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            node.metrics.render(),
        ),
        "/config" => reply(StatusCode::OK, "application/json", config_summary(&node)),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    };
    Ok(response)
}

/// `ready`, and which snapshot when it came from the disk cache (the control plane is away).
fn readiness(node: &NodeState) -> String {
    match node.snapshot() {
        Some(snapshot) if snapshot.source.starts_with("cache:") => {
            format!("ready: serving cached revision {}\n", snapshot.revision)
        }
        _ => "ready\n".to_owned(),
    }
}

fn config_summary(node: &NodeState) -> String {
    let summary = match node.snapshot() {
        None => serde_json::json!({ "ready": false, "revision": null }),
        Some(snapshot) => serde_json::json!({
            "ready": node.is_ready(),
            "revision": snapshot.revision,
            "source": snapshot.source,
            "loaded_at_unix": snapshot.loaded_at_unix,
            "tenants": snapshot.tenants.len(),
            "routes": snapshot.tenants.iter().map(|t| t.routes.len()).sum::<usize>(),
        }),
    };
    summary.to_string()
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
