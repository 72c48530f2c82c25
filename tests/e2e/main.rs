//! End-to-end tests: a real node, real upstreams over sockets, real clients.

#![allow(clippy::unwrap_used)]

mod support;

mod admin;
mod auth;
mod console;
mod curl;
mod delivery;
mod eventsource;
mod failures;
mod files;
mod fleet;
mod paths;
mod policy;
mod reload;
mod shutdown;
mod sse_cases;
mod tls;
