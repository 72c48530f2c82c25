//! A tenant's routes: each a JSON object in the declarative shape, with a version for `ETag`.

use super::owned::{Owned, OwnedRecord, owned};
use super::{IfMatch, Page, PageRequest, StoreError, Tx};
use crate::body::Fields;

const ROWS: Owned = owned!("routes", "name", "body", "route");

/// A route as stored.
#[derive(Debug, Clone)]
pub struct RouteRecord {
    /// The route's name, unique within its tenant.
    pub name: String,
    /// The body.
    pub fields: Fields,
    /// Bumped by every update.
    pub version: i64,
}

impl From<OwnedRecord> for RouteRecord {
    fn from(row: OwnedRecord) -> Self {
        RouteRecord {
            name: row.name,
            fields: row.fields,
            version: row.version,
        }
    }
}

/// A page of `tenant`'s routes, in creation order.
pub(crate) async fn list(
    tx: &mut Tx,
    tenant: &str,
    page: PageRequest,
) -> Result<Page<RouteRecord>, StoreError> {
    Ok(ROWS.list(tx, tenant, page).await?.map(RouteRecord::from))
}

/// One route.
pub(crate) async fn get(tx: &mut Tx, tenant: &str, name: &str) -> Result<RouteRecord, StoreError> {
    ROWS.get(tx, tenant, name).await.map(RouteRecord::from)
}

/// Adds a route at version 1.
pub(crate) async fn create(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    fields: &Fields,
) -> Result<i64, StoreError> {
    ROWS.create(tx, tenant, name, fields).await
}

/// Replaces a route; returns its new version.
pub(crate) async fn update(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    fields: &Fields,
    if_match: Option<&IfMatch>,
) -> Result<i64, StoreError> {
    ROWS.update(tx, tenant, name, fields, if_match).await
}

/// Removes a route.
pub(crate) async fn delete(
    tx: &mut Tx,
    tenant: &str,
    name: &str,
    if_match: Option<&IfMatch>,
) -> Result<(), StoreError> {
    ROWS.delete(tx, tenant, name, if_match).await
}
