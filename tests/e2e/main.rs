//! End-to-end tests: a real node, real upstreams over sockets, real clients.

mod support;

mod sse_cases;
