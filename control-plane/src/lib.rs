//! The control plane: store, admin REST API, gRPC config push and console serving.
//!
//! Its parts arrive with issue 4; the data plane runs standalone from a file until then.
