//! Sluice's data plane: a node that proxies Server-Sent Events from upstream services to
//! clients, per tenant, over HTTP/1.1 and h2, cleartext or TLS.
//!
//! The path of a request: `listen` (TCP, TLS, HTTP) → `proxy` (path checks, tenant, route) →
//! `stream` (upstream call, `sse` parse and re-encode, heartbeats, backpressure). The config in
//! force is one compiled [`snapshot::Snapshot`] behind an `ArcSwap` in [`node::NodeState`];
//! `reload` and the control plane replace it whole.

pub mod admin;
pub mod asyncapi;
pub mod auth;
pub mod body;
pub mod config;
pub mod cors;
pub mod error;
pub mod files;
mod gate;
pub mod guard;
pub mod lease;
pub mod limits;
pub mod listen;
pub mod managed;
pub mod metrics;
pub mod node;
pub mod proxy;
pub mod reload;
pub mod route;
pub mod run;
pub mod snapshot;
pub mod sse;
pub mod stream;
pub mod tenant;
pub mod tls;
pub mod upstream;
pub mod validate;
pub mod zilla;

pub use run::{RunningNode, StartError, start_from_file, start_from_file_with};
