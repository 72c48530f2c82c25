//! The config API between the control plane and data-plane nodes (`sluice.config.v1`).
//!
//! The `.proto` files and their generated types arrive with the control plane (issue 4).
