//! A tenant's signing keys: each a public JWK (RFC 7517), named by its `kid`, with a version
//! for `ETag`. The snapshot lists them as the tenant's `auth.keys`.

use super::owned::{Owned, OwnedRecord, owned};
use super::{IfMatch, Page, PageRequest, StoreError, Tx};
use crate::body::Fields;

const ROWS: Owned = owned!("keys", "kid", "jwk", "key");

/// A key as stored.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    /// The key's kid, unique within its tenant.
    pub kid: String,
    /// The body.
    pub fields: Fields,
    /// Bumped by every update.
    pub version: i64,
}

impl From<OwnedRecord> for KeyRecord {
    fn from(row: OwnedRecord) -> Self {
        KeyRecord {
            kid: row.name,
            fields: row.fields,
            version: row.version,
        }
    }
}

/// A page of `tenant`'s keys, in creation order.
pub(crate) async fn list(
    tx: &mut Tx,
    tenant: &str,
    page: PageRequest,
) -> Result<Page<KeyRecord>, StoreError> {
    Ok(ROWS.list(tx, tenant, page).await?.map(KeyRecord::from))
}

/// One key.
pub(crate) async fn get(tx: &mut Tx, tenant: &str, name: &str) -> Result<KeyRecord, StoreError> {
    ROWS.get(tx, tenant, name).await.map(KeyRecord::from)
}

/// Adds a key at version 1.
pub(crate) async fn create(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    fields: &Fields,
) -> Result<i64, StoreError> {
    ROWS.create(tx, tenant, name, fields).await
}

/// Replaces a key; returns its new version.
pub(crate) async fn update(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    fields: &Fields,
    if_match: Option<&IfMatch>,
) -> Result<i64, StoreError> {
    ROWS.update(tx, tenant, name, fields, if_match).await
}

/// Removes a key.
pub(crate) async fn delete(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    if_match: Option<&IfMatch>,
) -> Result<(), StoreError> {
    ROWS.delete(tx, tenant, name, if_match).await
}
