//! The control plane's integration tests: one suite run against SQLite and, when
//! `DATABASE_URL` is set, a fresh Postgres database per test.

#![allow(clippy::unwrap_used)]

mod access;
mod fleet;
mod imports;
mod keys;
mod routes;
mod support;
mod tenants;
mod watch;
