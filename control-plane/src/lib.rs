//! Sluice's control plane: the store of record (Postgres, or an embedded SQLite file), the
//! admin REST API, and the gRPC config API that pushes versioned snapshots to nodes.
//!
//! [`start`] runs it all on two listeners (HTTP for the API, gRPC for nodes) until a shutdown
//! future completes; [`router`] gives the REST routes alone so the console can be mounted
//! beside them.

pub mod api;
pub mod auth;
pub mod body;
pub mod grpc;
mod import;
mod run;
pub mod snapshot;
pub mod store;
pub mod time;

pub mod console;
pub use api::{AppState, router};
pub use run::{ControlPlaneOptions, Error, RunningControlPlane, start};
