//! The two database backends behind one small interface: a pool, a transaction, bound
//! arguments and rows. Every query in the store is written once, with `$N` placeholders,
//! which both Postgres and SQLite read.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{Postgres, Row as _, Sqlite, Transaction};

/// A connection pool to one of the backends.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// An open transaction; dropping it without [`Tx::commit`] rolls it back.
#[derive(Debug)]
pub(crate) enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

/// A value bound to a `$N` placeholder. Nulls carry their type, since Postgres needs one.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(value)
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(value)
    }
}

impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Arg::Text(value.clone())
    }
}

impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Self {
        Arg::OptText(value.map(str::to_owned))
    }
}

impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        Arg::OptInt(value)
    }
}

/// A result row of either backend; columns are read by position.
#[derive(Debug)]
pub(crate) enum Row {
    Postgres(PgRow),
    Sqlite(SqliteRow),
}

impl Row {
    pub(crate) fn int(&self, index: usize) -> Result<i64, sqlx::Error> {
        match self {
            Row::Postgres(row) => row.try_get(index),
            Row::Sqlite(row) => row.try_get(index),
        }
    }

    pub(crate) fn text(&self, index: usize) -> Result<String, sqlx::Error> {
        match self {
            Row::Postgres(row) => row.try_get(index),
            Row::Sqlite(row) => row.try_get(index),
        }
    }

    pub(crate) fn opt_int(&self, index: usize) -> Result<Option<i64>, sqlx::Error> {
        match self {
            Row::Postgres(row) => row.try_get(index),
            Row::Sqlite(row) => row.try_get(index),
        }
    }

    pub(crate) fn opt_text(&self, index: usize) -> Result<Option<String>, sqlx::Error> {
        match self {
            Row::Postgres(row) => row.try_get(index),
            Row::Sqlite(row) => row.try_get(index),
        }
    }
}

/// Binds `$args` to `$query` in order; expanded once per backend so each gets its own types.
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Int(value) => query.bind(*value),
                Arg::Text(value) => query.bind(value.clone()),
                Arg::OptInt(value) => query.bind(*value),
                Arg::OptText(value) => query.bind(value.clone()),
            };
        }
        query
    }};
}

impl Pool {
    /// Connects to Postgres at `url`.
    pub(crate) async fn postgres(url: &str) -> Result<Self, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Pool::Postgres(pool))
    }

    /// Opens (creating if needed) the SQLite file at `path`. WAL lets readers run beside the
    /// one writer; the busy timeout makes a second writer wait instead of failing.
    pub(crate) async fn sqlite(path: &std::path::Path) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(Pool::Sqlite(pool))
    }

    /// Applies the backend's migrations (`migrations/postgres` or `migrations/sqlite`).
    pub(crate) async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Pool::Postgres(pool) => super::migrations::postgres().run(pool).await,
            Pool::Sqlite(pool) => super::migrations::sqlite().run(pool).await,
        }
    }

    /// A transaction that only reads.
    pub(crate) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
        })
    }

    /// A transaction that writes. On SQLite it takes the write lock at once: a deferred
    /// transaction that reads first fails outright (`SQLITE_BUSY`) when it later tries to
    /// write after another writer, instead of waiting its turn.
    pub(crate) async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// The Postgres pool, for `LISTEN`; `None` on SQLite.
    pub(crate) fn as_postgres(&self) -> Option<&PgPool> {
        match self {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Postgres(pool) => pool.close().await,
            Pool::Sqlite(pool) => pool.close().await,
        }
    }
}

impl Tx {
    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Tx::Postgres(tx) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            Tx::Sqlite(tx) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    pub(crate) async fn fetch_all(
        &mut self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<Vec<Row>, sqlx::Error> {
        Ok(match self {
            Tx::Postgres(tx) => bind_all!(sqlx::query(sql), args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
            Tx::Sqlite(tx) => bind_all!(sqlx::query(sql), args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
        })
    }

    pub(crate) async fn fetch_optional(
        &mut self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<Option<Row>, sqlx::Error> {
        Ok(match self {
            Tx::Postgres(tx) => bind_all!(sqlx::query(sql), args)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::Postgres),
            Tx::Sqlite(tx) => bind_all!(sqlx::query(sql), args)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::Sqlite),
        })
    }

    /// The one row a statement must return (an `INSERT … RETURNING`, a `COUNT`).
    pub(crate) async fn fetch_one(
        &mut self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<Row, sqlx::Error> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Tx::Postgres(_))
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(tx) => tx.commit().await,
            Tx::Sqlite(tx) => tx.commit().await,
        }
    }
}
