//! A tenant's signing keys: each a public JWK (RFC 7517), named by its `kid`, with a version
//! for `ETag`. The snapshot lists them as the tenant's `auth.keys`.

use super::{IfMatch, Page, PageRequest, StoreError, Tx, conflict_on_unique, now_ms, tenants};
use crate::body::{self, Fields};

/// A key as stored.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    /// The key's `kid`, unique within its tenant.
    pub kid: String,
    /// The JWK.
    pub fields: Fields,
    /// Bumped by every update.
    pub version: i64,
}

/// A page of `tenant`'s keys, in creation order.
pub(crate) async fn list(
    tx: &mut Tx,
    tenant: &str,
    page: PageRequest,
) -> Result<Page<KeyRecord>, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "SELECT seq, kid, jwk, version FROM keys \
               WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3";
    let args = [
        tenant.into(),
        page.after_ascending().into(),
        page.fetch().into(),
    ];
    let mut keyed = Vec::new();
    for row in tx.fetch_all(sql, &args).await? {
        let record = KeyRecord {
            kid: row.text(1)?,
            fields: tenants::parse_fields(&row.text(2)?)?,
            version: row.int(3)?,
        };
        keyed.push((row.int(0)?, record));
    }
    Ok(page.finish(keyed))
}

/// One key.
pub(crate) async fn get(tx: &mut Tx, tenant: &str, kid: &str) -> Result<KeyRecord, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "SELECT jwk, version FROM keys WHERE tenant = $1 AND kid = $2";
    let row = tx.fetch_optional(sql, &[tenant.into(), kid.into()]).await?;
    let row = row.ok_or_else(|| not_found(tenant, kid))?;
    Ok(KeyRecord {
        kid: kid.to_owned(),
        fields: tenants::parse_fields(&row.text(0)?)?,
        version: row.int(1)?,
    })
}

/// Adds a key at version 1.
pub(crate) async fn create(
    tx: &mut Tx,
    tenant: &str,
    kid: &str,
    fields: &Fields,
) -> Result<i64, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "INSERT INTO keys (tenant, kid, jwk, version, created_ms, updated_ms) \
               VALUES ($1, $2, $3, 1, $4, $4)";
    let args = [
        tenant.into(),
        kid.into(),
        body::to_text(fields).into(),
        now_ms().into(),
    ];
    let conflict = || format!("key `{kid}` already exists in tenant `{tenant}`");
    tx.execute(sql, &args)
        .await
        .map_err(|e| conflict_on_unique(e, conflict()))?;
    Ok(1)
}

/// Replaces a key; returns its new version.
pub(crate) async fn update(
    tx: &mut Tx,
    tenant: &str,
    kid: &str,
    fields: &Fields,
    if_match: Option<&IfMatch>,
) -> Result<i64, StoreError> {
    let version = get(tx, tenant, kid).await?.version;
    IfMatch::check(if_match, version, &format!("key `{kid}`"))?;
    let sql = "UPDATE keys SET jwk = $1, version = version + 1, updated_ms = $2 \
               WHERE tenant = $3 AND kid = $4";
    let args = [
        body::to_text(fields).into(),
        now_ms().into(),
        tenant.into(),
        kid.into(),
    ];
    tx.execute(sql, &args).await?;
    Ok(version + 1)
}

/// Removes a key.
pub(crate) async fn delete(
    tx: &mut Tx,
    tenant: &str,
    kid: &str,
    if_match: Option<&IfMatch>,
) -> Result<(), StoreError> {
    let version = get(tx, tenant, kid).await?.version;
    IfMatch::check(if_match, version, &format!("key `{kid}`"))?;
    let sql = "DELETE FROM keys WHERE tenant = $1 AND kid = $2";
    tx.execute(sql, &[tenant.into(), kid.into()]).await?;
    Ok(())
}

fn not_found(tenant: &str, kid: &str) -> StoreError {
    StoreError::NotFound(format!("key `{kid}` of tenant `{tenant}`"))
}
