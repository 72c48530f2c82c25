//! The fleet: what each node said in its Watch stream (hello, acks, nacks, status), kept so
//! the API, console and metrics can show applied revisions and drift.

use std::collections::BTreeMap;

use super::{Page, PageRequest, Row, Store, StoreError, Tx, now_ms};

/// A node as last reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// The node's stable id.
    pub id: String,
    /// Labels from its hello.
    pub labels: BTreeMap<String, String>,
    /// Its software version.
    pub software_version: String,
    /// Whether a Watch stream from it is open.
    pub connected: bool,
    /// First and last contact, in milliseconds since the Unix epoch.
    pub first_seen_ms: i64,
    /// See `first_seen_ms`.
    pub last_seen_ms: i64,
    /// The revision it serves.
    pub applied_revision: i64,
    /// The last revision it refused, and why.
    pub last_nack: Option<Nack>,
    /// Open client streams per tenant, from its last status.
    pub active_streams: BTreeMap<String, u64>,
}

/// A refused revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    /// The revision refused.
    pub revision: i64,
    /// The node's errors, one per line.
    pub error: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

impl NodeRecord {
    /// How many revisions the node is behind `current` (0 when in step).
    pub fn behind(&self, current: u64) -> u64 {
        current.saturating_sub(u64::try_from(self.applied_revision).unwrap_or(0))
    }

    /// Whether the node refused a revision newer than the one it serves.
    pub fn refusing(&self) -> bool {
        self.last_nack
            .as_ref()
            .is_some_and(|nack| nack.revision > self.applied_revision)
    }
}

/// Records a node's hello; `session` names this stream.
pub(crate) async fn hello(
    store: &Store,
    id: &str,
    labels: &BTreeMap<String, String>,
    software_version: &str,
    revision: i64,
    session: &str,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO nodes (id, labels, software_version, session, connected, \
               first_seen_ms, last_seen_ms, applied_revision, active_streams) \
               VALUES ($1, $2, $3, $4, 1, $5, $5, $6, '{}') \
               ON CONFLICT (id) DO UPDATE SET labels = $2, software_version = $3, session = $4, \
               connected = 1, last_seen_ms = $5, applied_revision = $6";
    let labels = serde_json::to_string(labels).unwrap_or_else(|_| "{}".to_owned());
    let args = [
        id.into(),
        labels.into(),
        software_version.into(),
        session.into(),
        now_ms().into(),
        revision.into(),
    ];
    run(store, sql, &args).await
}

/// Records that the node applied `revision`.
pub(crate) async fn acked(store: &Store, id: &str, revision: i64) -> Result<(), StoreError> {
    let sql = "UPDATE nodes SET applied_revision = $1, last_seen_ms = $2 WHERE id = $3";
    run(store, sql, &[revision.into(), now_ms().into(), id.into()]).await
}

/// Records that the node refused `revision` with `error`.
pub(crate) async fn nacked(
    store: &Store,
    id: &str,
    revision: i64,
    error: &str,
) -> Result<(), StoreError> {
    let sql = "UPDATE nodes SET last_nack_revision = $1, last_nack_error = $2, \
               last_nack_ms = $3, last_seen_ms = $3 WHERE id = $4";
    let args = [revision.into(), error.into(), now_ms().into(), id.into()];
    run(store, sql, &args).await
}

/// Records a status report.
pub(crate) async fn status(
    store: &Store,
    id: &str,
    applied: i64,
    streams: &BTreeMap<String, u64>,
) -> Result<(), StoreError> {
    let sql = "UPDATE nodes SET applied_revision = $1, active_streams = $2, last_seen_ms = $3 \
               WHERE id = $4";
    let streams = serde_json::to_string(streams).unwrap_or_else(|_| "{}".to_owned());
    run(
        store,
        sql,
        &[applied.into(), streams.into(), now_ms().into(), id.into()],
    )
    .await
}

/// Records that the stream `session` ended; a newer stream of the same node is left alone.
pub(crate) async fn gone(store: &Store, id: &str, session: &str) -> Result<(), StoreError> {
    let sql = "UPDATE nodes SET connected = 0, last_seen_ms = $1 WHERE id = $2 AND session = $3";
    run(store, sql, &[now_ms().into(), id.into(), session.into()]).await
}

/// The columns [`record`] reads, in its order.
macro_rules! node_columns {
    () => {
        "seq, id, labels, software_version, connected, first_seen_ms, last_seen_ms, \
         applied_revision, last_nack_revision, last_nack_error, last_nack_ms, active_streams"
    };
}

/// A page of nodes, in the order they first appeared.
pub(crate) async fn list(tx: &mut Tx, page: PageRequest) -> Result<Page<NodeRecord>, StoreError> {
    let sql = concat!(
        "SELECT ",
        node_columns!(),
        " FROM nodes WHERE seq > $1 ORDER BY seq LIMIT $2"
    );
    let args = [page.after_ascending().into(), page.fetch().into()];
    let mut keyed = Vec::new();
    for row in tx.fetch_all(sql, &args).await? {
        keyed.push((row.int(0)?, record(&row)?));
    }
    Ok(page.finish(keyed))
}

/// One node.
pub(crate) async fn get(tx: &mut Tx, id: &str) -> Result<NodeRecord, StoreError> {
    let sql = concat!("SELECT ", node_columns!(), " FROM nodes WHERE id = $1");
    let row = tx.fetch_optional(sql, &[id.into()]).await?;
    record(&row.ok_or_else(|| StoreError::NotFound(format!("node `{id}`")))?)
}

/// Every node (for metrics).
pub(crate) async fn all(tx: &mut Tx) -> Result<Vec<NodeRecord>, StoreError> {
    let page = PageRequest {
        after: None,
        limit: u32::MAX - 1,
    };
    Ok(list(tx, page).await?.items)
}

fn record(row: &Row) -> Result<NodeRecord, StoreError> {
    let json = |text: String| serde_json::from_str(&text).unwrap_or_default();
    let last_nack = match (row.opt_int(8)?, row.opt_text(9)?, row.opt_int(10)?) {
        (Some(revision), Some(error), Some(at_ms)) => Some(Nack {
            revision,
            error,
            at_ms,
        }),
        _ => None,
    };
    Ok(NodeRecord {
        id: row.text(1)?,
        labels: json(row.text(2)?),
        software_version: row.text(3)?,
        connected: row.int(4)? != 0,
        first_seen_ms: row.int(5)?,
        last_seen_ms: row.int(6)?,
        applied_revision: row.int(7)?,
        last_nack,
        active_streams: serde_json::from_str(&row.text(11)?).unwrap_or_default(),
    })
}

async fn run(store: &Store, sql: &'static str, args: &[super::Arg]) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    tx.execute(sql, args).await?;
    tx.commit().await?;
    Ok(())
}
