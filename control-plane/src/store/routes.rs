//! A tenant's routes: each a JSON object in the declarative shape, with a version for `ETag`.

use super::{IfMatch, Page, PageRequest, StoreError, Tx, conflict_on_unique, now_ms, tenants};
use crate::body::{self, Fields};

/// A route as stored.
#[derive(Debug, Clone)]
pub struct RouteRecord {
    /// The route's name, unique within its tenant.
    pub name: String,
    /// The route in the declarative shape.
    pub fields: Fields,
    /// Bumped by every update.
    pub version: i64,
}

/// A page of `tenant`'s routes, in creation order.
pub(crate) async fn list(
    tx: &mut Tx,
    tenant: &str,
    page: PageRequest,
) -> Result<Page<RouteRecord>, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "SELECT seq, name, body, version FROM routes \
               WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3";
    let args = [
        tenant.into(),
        page.after_ascending().into(),
        page.fetch().into(),
    ];
    let mut keyed = Vec::new();
    for row in tx.fetch_all(sql, &args).await? {
        let record = RouteRecord {
            name: row.text(1)?,
            fields: tenants::parse_fields(&row.text(2)?)?,
            version: row.int(3)?,
        };
        keyed.push((row.int(0)?, record));
    }
    Ok(page.finish(keyed))
}

/// One route.
pub(crate) async fn get(tx: &mut Tx, tenant: &str, name: &str) -> Result<RouteRecord, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "SELECT body, version FROM routes WHERE tenant = $1 AND name = $2";
    let row = tx
        .fetch_optional(sql, &[tenant.into(), name.into()])
        .await?;
    let row = row.ok_or_else(|| not_found(tenant, name))?;
    Ok(RouteRecord {
        name: name.to_owned(),
        fields: tenants::parse_fields(&row.text(0)?)?,
        version: row.int(1)?,
    })
}

/// Adds a route at version 1.
pub(crate) async fn create(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    fields: &Fields,
) -> Result<i64, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "INSERT INTO routes (tenant, name, body, version, created_ms, updated_ms) \
               VALUES ($1, $2, $3, 1, $4, $4)";
    let args = [
        tenant.into(),
        name.into(),
        body::to_text(fields).into(),
        now_ms().into(),
    ];
    let conflict = || format!("route `{name}` already exists in tenant `{tenant}`");
    tx.execute(sql, &args)
        .await
        .map_err(|e| conflict_on_unique(e, conflict()))?;
    Ok(1)
}

/// Replaces a route; returns its new version.
pub(crate) async fn update(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    fields: &Fields,
    if_match: Option<&IfMatch>,
) -> Result<i64, StoreError> {
    let version = get(tx, tenant, name).await?.version;
    IfMatch::check(if_match, version, &format!("route `{name}`"))?;
    let sql = "UPDATE routes SET body = $1, version = version + 1, updated_ms = $2 \
               WHERE tenant = $3 AND name = $4";
    let args = [
        body::to_text(fields).into(),
        now_ms().into(),
        tenant.into(),
        name.into(),
    ];
    tx.execute(sql, &args).await?;
    Ok(version + 1)
}

/// Removes a route.
pub(crate) async fn delete(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    if_match: Option<&IfMatch>,
) -> Result<(), StoreError> {
    let version = get(tx, tenant, name).await?.version;
    IfMatch::check(if_match, version, &format!("route `{name}`"))?;
    let sql = "DELETE FROM routes WHERE tenant = $1 AND name = $2";
    tx.execute(sql, &[tenant.into(), name.into()]).await?;
    Ok(())
}

fn not_found(tenant: &str, name: &str) -> StoreError {
    StoreError::NotFound(format!("route `{name}` of tenant `{tenant}`"))
}
