//! `/api/v1/nodes`, `/api/v1/revisions` and `/api/v1/snapshot`: the fleet with each node's
//! applied revision, last nack and drift; the revision log; the snapshot in force.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;

use super::extract::{PageBody, PageQuery, page_body};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::body;
use crate::store::nodes::{self, NodeRecord};
use crate::store::revisions;
use crate::time::rfc3339;

/// A node as the API shows it.
#[derive(Debug, Serialize)]
pub struct Node {
    id: String,
    labels: BTreeMap<String, String>,
    version: String,
    connected: bool,
    first_seen: String,
    last_seen: String,
    applied_revision: i64,
    /// Revisions between the one in force and the one the node serves.
    behind: u64,
    /// The node refused a revision newer than the one it serves.
    refusing: bool,
    /// Neither behind nor refusing.
    in_sync: bool,
    last_nack: Option<Nack>,
    active_streams: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
struct Nack {
    revision: i64,
    error: String,
    at: String,
}

impl Node {
    fn new(record: NodeRecord, current: u64) -> Self {
        let behind = record.behind(current);
        let refusing = record.refusing();
        Node {
            behind,
            refusing,
            in_sync: behind == 0 && !refusing,
            last_nack: record.last_nack.map(|nack| Nack {
                revision: nack.revision,
                error: nack.error,
                at: rfc3339(nack.at_ms),
            }),
            id: record.id,
            labels: record.labels,
            version: record.software_version,
            connected: record.connected,
            first_seen: rfc3339(record.first_seen_ms),
            last_seen: rfc3339(record.last_seen_ms),
            applied_revision: record.applied_revision,
            active_streams: record.active_streams,
        }
    }
}

#[derive(Debug, Serialize)]
struct Nodes {
    current_revision: u64,
    #[serde(flatten)]
    page: PageBody<Node>,
}

/// `GET /nodes` (global admins): every node with its drift from the current revision.
pub async fn list_nodes(
    State(state): State<AppState>,
    caller: Caller,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    caller.check_global()?;
    let current = state.store.current().revision;
    let mut tx = state.store.read().await?;
    let page = nodes::list(&mut tx, page).await?;
    let Json(page) = page_body(page, |record| Node::new(record, current));
    Ok(Json(Nodes {
        current_revision: current,
        page,
    })
    .into_response())
}

/// `GET /nodes/{id}` (global admins).
pub async fn read_node(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Node>, ApiError> {
    caller.check_global()?;
    let current = state.store.current().revision;
    let mut tx = state.store.read().await?;
    let record = nodes::get(&mut tx, &id).await?;
    Ok(Json(Node::new(record, current)))
}

#[derive(Debug, Serialize)]
struct Revision {
    number: i64,
    at: String,
    actor: String,
    tenant: Option<String>,
    summary: String,
}

/// `GET /revisions`: newest first; a tenant admin sees its tenant's changes only.
pub async fn list_revisions(
    State(state): State<AppState>,
    caller: Caller,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    let mut tx = state.store.read().await?;
    let page = revisions::list(&mut tx, page, caller.tenant.as_deref()).await?;
    let body = page_body(page, |r| Revision {
        number: r.number,
        at: rfc3339(r.at_ms),
        actor: r.actor,
        tenant: r.tenant,
        summary: r.summary,
    });
    Ok(body.into_response())
}

#[derive(Debug, Serialize)]
struct Snapshot {
    revision: u64,
    config: Box<RawValue>,
}

/// `GET /snapshot` (global admins): the snapshot nodes are sent, and its revision.
pub async fn snapshot(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.check_global()?;
    let current = state.store.current();
    let config = body::raw_text(current.config_json.clone()).map_err(|error| {
        tracing::error!(%error, "the current snapshot is not JSON");
        ApiError::Internal
    })?;
    let body = Snapshot {
        revision: current.revision,
        config,
    };
    Ok(Json(body).into_response())
}
