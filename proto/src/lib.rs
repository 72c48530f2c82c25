//! The config API between the control plane and data-plane nodes (`sluice.config.v1`):
//! the generated protobuf messages and the tonic client and server for `ConfigDiscovery`.

#![allow(missing_docs, missing_debug_implementations, clippy::all)]

/// `sluice.config.v1`: `ConfigDiscovery.Watch` and its messages.
pub mod config {
    /// Version 1 of the config API.
    pub mod v1 {
        tonic::include_proto!("sluice.config.v1");
    }
}
