//! A tenant's event schemas: named, each with immutable versions numbered from 1. A new
//! version takes the next number; versions are never replaced.

use serde_json::value::RawValue;

use super::{Page, PageRequest, StoreError, Tx, now_ms, tenants};
use crate::body;

/// A schema name and its newest version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaSummary {
    /// The schema's name.
    pub name: String,
    /// Its highest version number.
    pub latest: i64,
}

/// One version of a schema.
#[derive(Debug, Clone)]
pub struct SchemaVersionRecord {
    /// The version number, from 1.
    pub version: i64,
    /// The JSON Schema, as written.
    pub schema: Box<RawValue>,
}

/// A page of `tenant`'s schema names, in the order they were first created.
pub(crate) async fn list_names(
    tx: &mut Tx,
    tenant: &str,
    page: PageRequest,
) -> Result<Page<SchemaSummary>, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "SELECT MIN(seq), name, MAX(version) FROM schemas WHERE tenant = $1 \
               GROUP BY name HAVING MIN(seq) > $2 ORDER BY MIN(seq) LIMIT $3";
    let args = [
        tenant.into(),
        page.after_ascending().into(),
        page.fetch().into(),
    ];
    let mut keyed = Vec::new();
    for row in tx.fetch_all(sql, &args).await? {
        let summary = SchemaSummary {
            name: row.text(1)?,
            latest: row.int(2)?,
        };
        keyed.push((row.int(0)?, summary));
    }
    Ok(page.finish(keyed))
}

/// A page of the versions of one schema, ascending.
pub(crate) async fn list_versions(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    page: PageRequest,
) -> Result<Page<SchemaVersionRecord>, StoreError> {
    latest(tx, tenant, name)
        .await?
        .ok_or_else(|| not_found(tenant, name))?;
    let sql = "SELECT version, schema FROM schemas WHERE tenant = $1 AND name = $2 \
               AND version > $3 ORDER BY version LIMIT $4";
    let after = page.after_ascending().into();
    let args = [tenant.into(), name.into(), after, page.fetch().into()];
    let mut keyed = Vec::new();
    for row in tx.fetch_all(sql, &args).await? {
        let version = row.int(0)?;
        keyed.push((version, record(version, row.text(1)?)?));
    }
    Ok(page.finish(keyed))
}

/// One version of a schema.
pub(crate) async fn get_version(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    version: i64,
) -> Result<SchemaVersionRecord, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "SELECT schema FROM schemas WHERE tenant = $1 AND name = $2 AND version = $3";
    let row = tx
        .fetch_optional(sql, &[tenant.into(), name.into(), version.into()])
        .await?;
    let row = row.ok_or_else(|| {
        StoreError::NotFound(format!(
            "version {version} of schema `{name}` of tenant `{tenant}`"
        ))
    })?;
    record(version, row.text(0)?)
}

/// Adds the next version of `name` (1 for a new name). `expected`, when given, must be that
/// next number: a client that read the list before another version was added gets a conflict.
pub(crate) async fn add_version(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    schema: &RawValue,
    expected: Option<i64>,
) -> Result<i64, StoreError> {
    tenants::version(tx, tenant).await?;
    let next = latest(tx, tenant, name).await?.unwrap_or(0) + 1;
    if let Some(expected) = expected.filter(|e| *e != next) {
        let message = format!(
            "schema `{name}` cannot take version {expected}: versions are immutable and the next \
             one is {next}"
        );
        return Err(StoreError::Conflict(message));
    }
    let sql = "INSERT INTO schemas (tenant, name, version, schema, created_ms) \
               VALUES ($1, $2, $3, $4, $5)";
    let args = [
        tenant.into(),
        name.into(),
        next.into(),
        schema.get().into(),
        now_ms().into(),
    ];
    tx.execute(sql, &args).await?;
    Ok(next)
}

/// Removes a schema with all its versions.
pub(crate) async fn delete(tx: &mut Tx, tenant: &str, name: &str) -> Result<(), StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "DELETE FROM schemas WHERE tenant = $1 AND name = $2";
    if tx.execute(sql, &[tenant.into(), name.into()]).await? == 0 {
        return Err(not_found(tenant, name));
    }
    Ok(())
}

async fn latest(tx: &mut Tx, tenant: &str, name: &str) -> Result<Option<i64>, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "SELECT MAX(version) FROM schemas WHERE tenant = $1 AND name = $2";
    let row = tx.fetch_one(sql, &[tenant.into(), name.into()]).await?;
    Ok(row.opt_int(0)?)
}

fn record(version: i64, schema: String) -> Result<SchemaVersionRecord, StoreError> {
    let schema = body::raw_text(schema).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(SchemaVersionRecord { version, schema })
}

fn not_found(tenant: &str, name: &str) -> StoreError {
    StoreError::NotFound(format!("schema `{name}` of tenant `{tenant}`"))
}
