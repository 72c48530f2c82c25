//! Tenants: their own settings, stored as one JSON object, and their version for `ETag`.
//! Hosts live in their own table ([`super::hosts`]) but are part of a tenant's document.

use super::{IfMatch, Page, PageRequest, StoreError, Tx, conflict_on_unique, hosts, now_ms};
use crate::body::{self, Fields};

/// A tenant as the API shows it.
#[derive(Debug, Clone)]
pub struct TenantRecord {
    /// The tenant's name.
    pub name: String,
    /// Its settings without hosts, keys, schemas and routes.
    pub fields: Fields,
    /// Its hosts, in the order they were added.
    pub hosts: Vec<String>,
    /// Bumped by every change to the settings or hosts.
    pub version: i64,
}

impl TenantRecord {
    /// The tenant's document: its settings with `hosts`, the shape `PUT` takes.
    pub fn document(&self) -> Fields {
        let mut fields = self.fields.clone();
        fields.insert("hosts".to_owned(), body::raw(&self.hosts));
        fields
    }
}

/// A page of tenants; `only` restricts the list to one name (a tenant admin's view).
pub(crate) async fn list(
    tx: &mut Tx,
    page: PageRequest,
    only: Option<&str>,
) -> Result<Page<TenantRecord>, StoreError> {
    let sql = "SELECT seq, name, body, version FROM tenants \
               WHERE seq > $1 AND ($2 IS NULL OR name = $2) ORDER BY seq LIMIT $3";
    let args = [
        page.after_ascending().into(),
        only.into(),
        page.fetch().into(),
    ];
    let mut keyed = Vec::new();
    for row in tx.fetch_all(sql, &args).await? {
        let record = TenantRecord {
            name: row.text(1)?,
            fields: parse_fields(&row.text(2)?)?,
            hosts: Vec::new(),
            version: row.int(3)?,
        };
        keyed.push((row.int(0)?, record));
    }
    let mut page = page.finish(keyed);
    for record in &mut page.items {
        record.hosts = hosts::all(tx, &record.name).await?;
    }
    Ok(page)
}

/// One tenant.
pub(crate) async fn get(tx: &mut Tx, name: &str) -> Result<TenantRecord, StoreError> {
    let sql = "SELECT body, version FROM tenants WHERE name = $1";
    let row = tx
        .fetch_optional(sql, &[name.into()])
        .await?
        .ok_or_else(|| not_found(name))?;
    Ok(TenantRecord {
        name: name.to_owned(),
        fields: parse_fields(&row.text(0)?)?,
        hosts: hosts::all(tx, name).await?,
        version: row.int(1)?,
    })
}

/// The tenant's current version; [`StoreError::NotFound`] when there is no such tenant.
pub(crate) async fn version(tx: &mut Tx, name: &str) -> Result<i64, StoreError> {
    let sql = "SELECT version FROM tenants WHERE name = $1";
    let row = tx.fetch_optional(sql, &[name.into()]).await?;
    row.ok_or_else(|| not_found(name))?
        .int(0)
        .map_err(Into::into)
}

/// Adds a tenant at version 1.
pub(crate) async fn create(
    tx: &mut Tx,
    name: &str,
    fields: &Fields,
    host_list: &[String],
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO tenants (name, body, version, created_ms, updated_ms) \
               VALUES ($1, $2, 1, $3, $3)";
    let args = [name.into(), body::to_text(fields).into(), now_ms().into()];
    tx.execute(sql, &args)
        .await
        .map_err(|e| conflict_on_unique(e, format!("tenant `{name}` already exists")))?;
    hosts::replace(tx, name, host_list).await?;
    Ok(1)
}

/// Replaces a tenant's settings and hosts; returns the new version.
pub(crate) async fn update(
    tx: &mut Tx,
    name: &str,
    fields: &Fields,
    host_list: &[String],
    if_match: Option<&IfMatch>,
) -> Result<i64, StoreError> {
    let version = version(tx, name).await?;
    IfMatch::check(if_match, version, &format!("tenant `{name}`"))?;
    let sql = "UPDATE tenants SET body = $1, version = version + 1, updated_ms = $2 \
               WHERE name = $3";
    let args = [body::to_text(fields).into(), now_ms().into(), name.into()];
    tx.execute(sql, &args).await?;
    hosts::replace(tx, name, host_list).await?;
    Ok(version + 1)
}

/// Bumps the version after a change to the tenant's hosts; returns the new version.
pub(crate) async fn touch(tx: &mut Tx, name: &str) -> Result<i64, StoreError> {
    let sql = "UPDATE tenants SET version = version + 1, updated_ms = $1 WHERE name = $2 \
               RETURNING version";
    let row = tx
        .fetch_optional(sql, &[now_ms().into(), name.into()])
        .await?;
    row.ok_or_else(|| not_found(name))?
        .int(0)
        .map_err(Into::into)
}

/// Removes a tenant and, by cascade, its hosts, keys, schemas, routes and tokens.
pub(crate) async fn delete(
    tx: &mut Tx,
    name: &str,
    if_match: Option<&IfMatch>,
) -> Result<(), StoreError> {
    let version = version(tx, name).await?;
    IfMatch::check(if_match, version, &format!("tenant `{name}`"))?;
    tx.execute("DELETE FROM tenants WHERE name = $1", &[name.into()])
        .await?;
    Ok(())
}

pub(crate) fn not_found(name: &str) -> StoreError {
    StoreError::NotFound(format!("tenant `{name}`"))
}

pub(crate) fn parse_fields(text: &str) -> Result<Fields, StoreError> {
    body::from_text(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}
