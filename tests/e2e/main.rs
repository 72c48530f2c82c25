//! End-to-end tests: a real node, real upstreams over sockets, real clients.

mod support;

mod delivery;
mod failures;
mod paths;
mod sse_cases;
mod tls;
