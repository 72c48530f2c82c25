//! One node's `Watch` stream: its hello, the snapshots pushed to it, and its acks, nacks and
//! status reports, all recorded in the fleet table.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use sluice_proto::config::v1::node_message::Message;
use sluice_proto::config::v1::{
    Ack, ControlMessage, Hello, Nack, NodeMessage, Snapshot, control_message,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tonic::{Status, Streaming};

use crate::store::{Current, Store, StoreError, nodes};

/// Pushes remembered for matching answers; older ones are answered rarely, if ever.
const REMEMBERED: usize = 8;

type Out = mpsc::Sender<Result<ControlMessage, Status>>;

struct Session {
    store: Store,
    node: String,
    out: Out,
    /// `(nonce, revision)` of recent pushes, newest last.
    pushed: VecDeque<(String, u64)>,
    /// The newest revision the node has or was sent.
    held: u64,
}

/// Runs the stream until the node leaves, the stream fails or `shutdown`.
pub(super) async fn run(
    store: Store,
    token: String,
    mut inbound: Streaming<NodeMessage>,
    out: Out,
    shutdown: CancellationToken,
) {
    let hello = match first(&mut inbound).await {
        Ok(hello) => hello,
        Err(status) => {
            let _ = out.send(Err(status)).await;
            return;
        }
    };
    let session_id = nonce();
    let labels: BTreeMap<String, String> = hello.labels.clone().into_iter().collect();
    let revision = i64::try_from(hello.revision).unwrap_or(i64::MAX);
    let recorded = nodes::hello(
        &store,
        &hello.node_id,
        &labels,
        &hello.version,
        revision,
        &session_id,
    );
    report(recorded.await);
    tracing::info!(node = %hello.node_id, %token, revision = hello.revision, "node connected");

    let mut session = Session {
        store: store.clone(),
        node: hello.node_id.clone(),
        out,
        pushed: VecDeque::new(),
        held: hello.revision,
    };
    session.serve(&mut inbound, &shutdown).await;
    report(nodes::gone(&store, &session.node, &session_id).await);
    tracing::info!(node = %session.node, "node disconnected");
}

/// The hello every stream starts with.
async fn first(inbound: &mut Streaming<NodeMessage>) -> Result<Hello, Status> {
    match inbound.message().await? {
        Some(NodeMessage {
            message: Some(Message::Hello(hello)),
        }) if !hello.node_id.trim().is_empty() => Ok(hello),
        Some(NodeMessage {
            message: Some(Message::Hello(_)),
        }) => Err(Status::invalid_argument("hello needs a node_id")),
        _ => Err(Status::invalid_argument(
            "the first message must be a hello",
        )),
    }
}

impl Session {
    async fn serve(&mut self, inbound: &mut Streaming<NodeMessage>, shutdown: &CancellationToken) {
        let mut updates = self.store.subscribe();
        let current = updates.borrow_and_update().clone();
        // A node that holds the revision in force waits for the next one.
        if current.revision != self.held && !self.push(&current).await {
            return;
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = updates.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let current = updates.borrow_and_update().clone();
                    if current.revision > self.held && !self.push(&current).await {
                        return;
                    }
                }
                message = inbound.message() => match message {
                    Ok(Some(message)) => self.answer(message).await,
                    Ok(None) => return,
                    Err(status) => {
                        tracing::debug!(node = %self.node, %status, "watch stream failed");
                        return;
                    }
                },
            }
        }
    }

    /// Sends `current`; false when the node is gone.
    async fn push(&mut self, current: &Arc<Current>) -> bool {
        let nonce = nonce();
        let snapshot = Snapshot {
            revision: current.revision,
            nonce: nonce.clone(),
            config_json: current.config_json.clone(),
        };
        let message = ControlMessage {
            message: Some(control_message::Message::Snapshot(snapshot)),
        };
        if self.out.send(Ok(message)).await.is_err() {
            return false;
        }
        tracing::debug!(node = %self.node, revision = current.revision, "snapshot sent");
        self.held = current.revision;
        self.pushed.push_back((nonce, current.revision));
        if self.pushed.len() > REMEMBERED {
            self.pushed.pop_front();
        }
        true
    }

    async fn answer(&mut self, message: NodeMessage) {
        let store = &self.store;
        let node = self.node.as_str();
        let recorded = match message.message {
            Some(Message::Ack(Ack { revision, nonce })) if self.matches(&nonce, revision) => {
                nodes::acked(store, node, as_i64(revision)).await
            }
            Some(Message::Nack(Nack {
                revision,
                nonce,
                error,
            })) if self.matches(&nonce, revision) => {
                tracing::warn!(node, revision, %error, "node refused a snapshot");
                nodes::nacked(store, node, as_i64(revision), &error).await
            }
            Some(Message::Status(status)) => {
                let streams = status.active_streams.into_iter().collect();
                nodes::status(store, node, as_i64(status.applied_revision), &streams).await
            }
            other => {
                tracing::debug!(node, message = ?other, "unexpected message ignored");
                Ok(())
            }
        };
        report(recorded);
    }

    /// Whether an answer names a push of this stream.
    fn matches(&self, nonce: &str, revision: u64) -> bool {
        self.pushed
            .iter()
            .any(|(sent, sent_revision)| sent == nonce && *sent_revision == revision)
    }
}

fn as_i64(revision: u64) -> i64 {
    i64::try_from(revision).unwrap_or(i64::MAX)
}

/// A random 128-bit value in hex, for nonces and session ids.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn report(result: Result<(), StoreError>) {
    if let Err(error) = result {
        tracing::warn!(%error, "cannot record node state");
    }
}
