//! A tenant's hosts, one row each, in the order they were added. Whether a host is well formed
//! and claimed by one tenant only is the snapshot check's call, as on the node.

use super::{Page, PageRequest, StoreError, Tx, tenants};

/// Every host of `tenant`, in order.
pub(crate) async fn all(tx: &mut Tx, tenant: &str) -> Result<Vec<String>, StoreError> {
    let sql = "SELECT host FROM hosts WHERE tenant = $1 ORDER BY seq";
    let rows = tx.fetch_all(sql, &[tenant.into()]).await?;
    rows.iter()
        .map(|row| row.text(0).map_err(Into::into))
        .collect()
}

/// A page of `tenant`'s hosts.
pub(crate) async fn list(
    tx: &mut Tx,
    tenant: &str,
    page: PageRequest,
) -> Result<Page<String>, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "SELECT seq, host FROM hosts WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3";
    let args = [
        tenant.into(),
        page.after_ascending().into(),
        page.fetch().into(),
    ];
    let mut keyed = Vec::new();
    for row in tx.fetch_all(sql, &args).await? {
        keyed.push((row.int(0)?, row.text(1)?));
    }
    Ok(page.finish(keyed))
}

/// Whether `tenant` lists `host` (exactly as written).
pub(crate) async fn contains(tx: &mut Tx, tenant: &str, host: &str) -> Result<bool, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "SELECT 1 FROM hosts WHERE tenant = $1 AND host = $2";
    Ok(tx
        .fetch_optional(sql, &[tenant.into(), host.into()])
        .await?
        .is_some())
}

/// Adds `host` to `tenant`; a host it already lists is a conflict.
pub(crate) async fn add(tx: &mut Tx, tenant: &str, host: &str) -> Result<i64, StoreError> {
    if contains(tx, tenant, host).await? {
        let message = format!("tenant `{tenant}` already lists host `{host}`");
        return Err(StoreError::Conflict(message));
    }
    let sql = "INSERT INTO hosts (tenant, host) VALUES ($1, $2)";
    tx.execute(sql, &[tenant.into(), host.into()]).await?;
    tenants::touch(tx, tenant).await
}

/// Removes `host` from `tenant`.
pub(crate) async fn remove(tx: &mut Tx, tenant: &str, host: &str) -> Result<i64, StoreError> {
    tenants::version(tx, tenant).await?;
    let sql = "DELETE FROM hosts WHERE tenant = $1 AND host = $2";
    if tx.execute(sql, &[tenant.into(), host.into()]).await? == 0 {
        return Err(StoreError::NotFound(format!(
            "host `{host}` of tenant `{tenant}`"
        )));
    }
    tenants::touch(tx, tenant).await
}

/// Replaces `tenant`'s hosts with `hosts`, in that order.
pub(crate) async fn replace(tx: &mut Tx, tenant: &str, hosts: &[String]) -> Result<(), StoreError> {
    tx.execute("DELETE FROM hosts WHERE tenant = $1", &[tenant.into()])
        .await?;
    for host in hosts {
        let sql = "INSERT INTO hosts (tenant, host) VALUES ($1, $2)";
        tx.execute(sql, &[tenant.into(), host.into()]).await?;
    }
    Ok(())
}
