//! Rows a tenant owns by name, each a JSON body with a version for `ETag`: the shared store
//! code of keys (named by `kid`) and routes (named by route name).

use super::{IfMatch, Page, PageRequest, StoreError, Tx, conflict_on_unique, now_ms, tenants};
use crate::body::{self, Fields};

/// A table's statements and the word for its rows in messages. The statements are static
/// text, as every statement of the store is; [`owned!`] writes them from the table's names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owned {
    pub list: &'static str,
    pub get: &'static str,
    pub insert: &'static str,
    pub update: &'static str,
    pub delete: &'static str,
    /// The word for a row in messages (`key`, `route`).
    pub noun: &'static str,
}

/// The [`Owned`] of table `$table`, whose rows are named by column `$key` and hold their
/// JSON in column `$body`.
macro_rules! owned {
    ($table:literal, $key:literal, $body:literal, $noun:literal) => {
        $crate::store::owned::Owned {
            list: concat!(
                "SELECT seq, ",
                $key,
                ", ",
                $body,
                ", version FROM ",
                $table,
                " WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ),
            get: concat!(
                "SELECT ",
                $body,
                ", version FROM ",
                $table,
                " WHERE tenant = $1 AND ",
                $key,
                " = $2"
            ),
            insert: concat!(
                "INSERT INTO ",
                $table,
                " (tenant, ",
                $key,
                ", ",
                $body,
                ", version, created_ms, updated_ms) VALUES ($1, $2, $3, 1, $4, $4)"
            ),
            update: concat!(
                "UPDATE ",
                $table,
                " SET ",
                $body,
                " = $1, version = version + 1, updated_ms = $2 WHERE tenant = $3 AND ",
                $key,
                " = $4"
            ),
            delete: concat!(
                "DELETE FROM ",
                $table,
                " WHERE tenant = $1 AND ",
                $key,
                " = $2"
            ),
            noun: $noun,
        }
    };
}
pub(crate) use owned;

/// A row as stored.
#[derive(Debug, Clone)]
pub(crate) struct OwnedRecord {
    /// The row's name within its tenant.
    pub name: String,
    /// The JSON body.
    pub fields: Fields,
    /// Bumped by every update.
    pub version: i64,
}

impl Owned {
    /// A page of `tenant`'s rows, in creation order.
    pub async fn list(
        self,
        tx: &mut Tx,
        tenant: &str,
        page: PageRequest,
    ) -> Result<Page<OwnedRecord>, StoreError> {
        tenants::version(tx, tenant).await?;
        let sql = self.list;
        let args = [
            tenant.into(),
            page.after_ascending().into(),
            page.fetch().into(),
        ];
        let mut keyed = Vec::new();
        for row in tx.fetch_all(sql, &args).await? {
            let record = OwnedRecord {
                name: row.text(1)?,
                fields: tenants::parse_fields(&row.text(2)?)?,
                version: row.int(3)?,
            };
            keyed.push((row.int(0)?, record));
        }
        Ok(page.finish(keyed))
    }

    /// One row.
    pub async fn get(
        self,
        tx: &mut Tx,
        tenant: &str,
        name: &str,
    ) -> Result<OwnedRecord, StoreError> {
        tenants::version(tx, tenant).await?;
        let sql = self.get;
        let row = tx
            .fetch_optional(sql, &[tenant.into(), name.into()])
            .await?;
        let row = row.ok_or_else(|| self.not_found(tenant, name))?;
        Ok(OwnedRecord {
            name: name.to_owned(),
            fields: tenants::parse_fields(&row.text(0)?)?,
            version: row.int(1)?,
        })
    }

    /// Adds a row at version 1.
    pub async fn create(
        self,
        tx: &mut Tx,
        tenant: &str,
        name: &str,
        fields: &Fields,
    ) -> Result<i64, StoreError> {
        tenants::version(tx, tenant).await?;
        let sql = self.insert;
        let args = [
            tenant.into(),
            name.into(),
            body::to_text(fields).into(),
            now_ms().into(),
        ];
        let conflict = format!("{} `{name}` already exists in tenant `{tenant}`", self.noun);
        tx.execute(sql, &args)
            .await
            .map_err(|e| conflict_on_unique(e, conflict))?;
        Ok(1)
    }

    /// Replaces a row; returns its new version.
    pub async fn update(
        self,
        tx: &mut Tx,
        tenant: &str,
        name: &str,
        fields: &Fields,
        if_match: Option<&IfMatch>,
    ) -> Result<i64, StoreError> {
        let version = self.checked_version(tx, tenant, name, if_match).await?;
        let sql = self.update;
        let args = [
            body::to_text(fields).into(),
            now_ms().into(),
            tenant.into(),
            name.into(),
        ];
        tx.execute(sql, &args).await?;
        Ok(version + 1)
    }

    /// Removes a row.
    pub async fn delete(
        self,
        tx: &mut Tx,
        tenant: &str,
        name: &str,
        if_match: Option<&IfMatch>,
    ) -> Result<(), StoreError> {
        self.checked_version(tx, tenant, name, if_match).await?;
        let sql = self.delete;
        tx.execute(sql, &[tenant.into(), name.into()]).await?;
        Ok(())
    }

    /// The row's version, after checking `If-Match` against it.
    async fn checked_version(
        self,
        tx: &mut Tx,
        tenant: &str,
        name: &str,
        if_match: Option<&IfMatch>,
    ) -> Result<i64, StoreError> {
        let version = self.get(tx, tenant, name).await?.version;
        IfMatch::check(if_match, version, &format!("{} `{name}`", self.noun))?;
        Ok(version)
    }

    fn not_found(self, tenant: &str, name: &str) -> StoreError {
        StoreError::NotFound(format!("{} `{name}` of tenant `{tenant}`", self.noun))
    }
}
