//! The store of record: Postgres, or an embedded SQLite file when no database URL is given.
//!
//! Config entities (tenants, hosts, keys, schemas, routes) change only through a [`Change`]:
//! one transaction that locks the revision row, applies its writes, rebuilds the snapshot,
//! checks it with the node's own validation and commits with the revision bumped once.
//! Tokens and the fleet table are written outside the revision log.

mod change;
mod db;
mod follow;
pub mod hosts;
pub mod keys;
mod migrations;
pub mod nodes;
mod owned;
mod page;
pub mod revisions;
pub mod routes;
pub mod schemas;
pub mod tenants;
pub mod tokens;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sluice_data_plane::node::NodeState;
use tokio::sync::watch;

pub use change::{Actor, Change, Target};
pub(crate) use db::{Arg, Row, Tx};
pub use follow::follow;
pub use page::{Page, PageRequest};

/// The snapshot in force: the last committed revision and its config as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// The revision number; 0 before the first change.
    pub revision: u64,
    /// The declarative config (version 1) as JSON, with `tenants` only.
    pub config_json: String,
}

/// Why a store operation failed, in terms the API maps to answers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named entity does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The entity exists already, or the change clashes with another.
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` named a version other than the current one.
    #[error("{0} has changed since it was read")]
    Stale(String),
    /// The change would make the snapshot invalid; nothing was written.
    #[error("the change would make the config invalid")]
    Invalid(Vec<FieldError>),
    /// A stored value could not be read back; the store was changed outside Sluice.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The data directory could not be created.
    #[error("cannot create {path}: {error}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
}

/// One reason a change is invalid, placed in the request body where possible.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// A JSON Pointer (RFC 6901) into the request body, or `""` for the body as a whole or
    /// for a problem outside it (then `config_path` says where).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Where the problem is in the whole config (`tenants.acme.routes.orders.upstream.url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_path: Option<String>,
    /// The line (from 1) in an imported document, where the reader knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl FieldError {
    /// An error at `path` in the request body.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            config_path: None,
            line: None,
        }
    }
}

/// `If-Match`: which versions of an entity a change may replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// One of these versions.
    Versions(Vec<i64>),
}

impl IfMatch {
    /// Checks `version` against the precondition, if there is one.
    pub fn check(expected: Option<&IfMatch>, version: i64, what: &str) -> Result<(), StoreError> {
        match expected {
            Some(IfMatch::Versions(versions)) if !versions.contains(&version) => {
                Err(StoreError::Stale(what.to_owned()))
            }
            _ => Ok(()),
        }
    }
}

/// The store: a pool, the current snapshot and a channel that announces each new one.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: db::Pool,
    current: watch::Sender<Arc<Current>>,
    /// What the node's compile step needs (upstream clients, caches), reused by every
    /// validation so clients and their root stores are built once.
    node: NodeState,
    /// Relative file paths in the config (tenant certificates, CAs) resolve against this.
    base_dir: PathBuf,
}

impl Store {
    /// Opens Postgres at `database_url`, or else `data_dir/sluice.db`, and migrates it.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        let pool = match database_url {
            Some(url) => db::Pool::postgres(url).await?,
            None => {
                std::fs::create_dir_all(data_dir).map_err(|error| StoreError::DataDir {
                    path: data_dir.to_owned(),
                    error,
                })?;
                db::Pool::sqlite(&data_dir.join("sluice.db")).await?
            }
        };
        pool.migrate().await?;
        let (current, _) = watch::channel(Arc::new(Current {
            revision: 0,
            config_json: String::new(),
        }));
        let store = Store {
            inner: Arc::new(Inner {
                pool,
                current,
                node: NodeState::default(),
                base_dir: data_dir.to_owned(),
            }),
        };
        store.refresh().await?;
        Ok(store)
    }

    /// True when the store is Postgres (several control planes may share it).
    pub fn is_postgres(&self) -> bool {
        self.inner.pool.as_postgres().is_some()
    }

    /// The snapshot in force.
    pub fn current(&self) -> Arc<Current> {
        self.inner.current.borrow().clone()
    }

    /// A receiver that sees every newer snapshot this process learns of.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Current>> {
        self.inner.current.subscribe()
    }

    /// Re-reads the committed snapshot (after another process changed it) and announces it
    /// when it is newer than the one held.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let mut tx = self.read().await?;
        let row = tx
            .fetch_one(
                "SELECT revision, snapshot FROM config_state WHERE id = 1",
                &[],
            )
            .await?;
        let current = Current {
            revision: u64::try_from(row.int(0)?).unwrap_or(0),
            config_json: row.text(1)?,
        };
        self.publish(current);
        Ok(())
    }

    /// Opens a read-only transaction.
    pub(crate) async fn read(&self) -> Result<Tx, StoreError> {
        Ok(self.inner.pool.begin().await?)
    }

    /// Opens a transaction for writes outside the revision log (tokens, the fleet).
    pub(crate) async fn write(&self) -> Result<Tx, StoreError> {
        Ok(self.inner.pool.begin_write().await?)
    }

    /// Answers whether the database can be reached.
    pub async fn ping(&self) -> bool {
        match self.read().await {
            Ok(mut tx) => tx.fetch_one("SELECT 1", &[]).await.is_ok(),
            Err(_) => false,
        }
    }

    /// The Postgres pool, for `LISTEN`.
    pub(crate) fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        self.inner.pool.as_postgres()
    }

    /// Closes the pool; later calls fail.
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }

    /// Replaces the held snapshot if `current` is newer; commits finishing out of order
    /// never move it back.
    fn publish(&self, current: Current) {
        self.inner.current.send_if_modified(|held| {
            let newer = current.revision > held.revision || held.config_json.is_empty();
            if newer {
                *held = Arc::new(current);
            }
            newer
        });
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Turns a unique-constraint violation into [`StoreError::Conflict`] with `message`.
pub(crate) fn conflict_on_unique(error: sqlx::Error, message: impl Into<String>) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(message.into())
        }
        _ => StoreError::Database(error),
    }
}
