//! HTTP upstreams for Sluice's quick start and tests.
//!
//! [`demo`] is the SSE source the quick start proxies: ticking streams with event ids and a
//! publish endpoint. [`scripted`] is the upstream tests script request by request: fixed or live
//! bodies, hangs, abrupt closes, and counters of what is still open. Both serve HTTP/1.1 and
//! prior-knowledge h2c on one caller-supplied listener.

pub mod demo;
pub mod scripted;
mod serve;

#[cfg(test)]
mod testing;

pub use demo::DemoConfig;
pub use scripted::{Closed, RecordedRequest, Reply, ReplyHandle, ScriptedUpstream};
