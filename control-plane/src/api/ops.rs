//! `/healthz`, `/readyz` and `/metrics` (Prometheus text format 0.0.4): the revision in force
//! and, per node, the applied revision, drift, refusals, connection and open streams.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::store::nodes::{self, NodeRecord};

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.store.ping().await {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let current = state.store.current().revision;
    let fleet = match state.store.read().await {
        Ok(mut tx) => nodes::all(&mut tx).await,
        Err(error) => Err(error),
    };
    let fleet = match fleet {
        Ok(fleet) => fleet,
        Err(error) => {
            tracing::warn!(%error, "cannot read the fleet for metrics");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let content_type = "text/plain; version=0.0.4; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        render(current, &fleet),
    )
        .into_response()
}

/// A per-node gauge: name, help, and its value for a node given the revision in force.
type NodeGauge = (
    &'static str,
    &'static str,
    fn(&NodeRecord, u64) -> Option<i64>,
);

/// The exposition text for revision `current` and `fleet`.
fn render(current: u64, fleet: &[NodeRecord]) -> String {
    let mut out = String::new();
    gauge(
        &mut out,
        "sluice_control_plane_revision",
        "The config revision in force.",
    );
    let _ = writeln!(out, "sluice_control_plane_revision {current}");
    let per_node: [NodeGauge; 5] = [
        (
            "sluice_node_applied_revision",
            "The revision each node serves.",
            |n, _| Some(n.applied_revision),
        ),
        (
            "sluice_node_drift_revisions",
            "Revisions a node is behind the one in force.",
            |n, c| i64::try_from(n.behind(c)).ok(),
        ),
        (
            "sluice_node_refusing",
            "1 when a node refused a revision newer than it serves.",
            |n, _| Some(i64::from(n.refusing())),
        ),
        (
            "sluice_node_last_nack_revision",
            "The last revision a node refused.",
            |n, _| n.last_nack.as_ref().map(|nack| nack.revision),
        ),
        (
            "sluice_node_connected",
            "1 while a node's config stream is open.",
            |n, _| Some(i64::from(n.connected)),
        ),
    ];
    for (name, help, value) in per_node {
        gauge(&mut out, name, help);
        for node in fleet {
            if let Some(value) = value(node, current) {
                let _ = writeln!(out, "{name}{{node=\"{}\"}} {value}", escape(&node.id));
            }
        }
    }
    let name = "sluice_node_active_streams";
    gauge(
        &mut out,
        name,
        "Open client streams per node and tenant, as last reported.",
    );
    for node in fleet {
        for (tenant, streams) in &node.active_streams {
            let labels = format!(
                "node=\"{}\",tenant=\"{}\"",
                escape(&node.id),
                escape(tenant)
            );
            let _ = writeln!(out, "{name}{{{labels}}} {streams}");
        }
    }
    out
}

fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::nodes::Nack;

    fn node(id: &str, applied: i64) -> NodeRecord {
        NodeRecord {
            id: id.into(),
            labels: Default::default(),
            software_version: "1".into(),
            connected: true,
            first_seen_ms: 0,
            last_seen_ms: 0,
            applied_revision: applied,
            last_nack: None,
            active_streams: [("acme".to_owned(), 3)].into(),
        }
    }

    #[test]
    fn drift_and_refusals_are_exported_per_node() {
        let mut behind = node("n\"2", 3);
        behind.last_nack = Some(Nack {
            revision: 5,
            error: "bad".into(),
            at_ms: 0,
        });
        let text = render(5, &[node("n1", 5), behind]);
        for line in [
            "sluice_control_plane_revision 5",
            "sluice_node_applied_revision{node=\"n1\"} 5",
            "sluice_node_drift_revisions{node=\"n1\"} 0",
            "sluice_node_drift_revisions{node=\"n\\\"2\"} 2",
            "sluice_node_refusing{node=\"n\\\"2\"} 1",
            "sluice_node_last_nack_revision{node=\"n\\\"2\"} 5",
            "sluice_node_active_streams{node=\"n1\",tenant=\"acme\"} 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
        assert!(!text.contains("sluice_node_last_nack_revision{node=\"n1\"}"));
    }
}
