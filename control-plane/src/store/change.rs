//! One config change: a transaction that holds the revision lock, takes the change's writes,
//! and commits only when the snapshot it produces passes the node's validation.

use std::collections::HashMap;

use super::{Current, Store, StoreError, Tx, now_ms};
use crate::body;
use crate::snapshot::{self, TenantRows};

pub use crate::snapshot::Target;

/// Who makes a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The name of the admin token used, recorded in the revision log.
    pub name: String,
    /// For a tenant admin, its tenant: errors about other tenants are not shown to it.
    pub tenant: Option<String>,
}

/// An open change. Dropping it without [`Change::commit`] writes nothing.
#[derive(Debug)]
pub struct Change {
    tx: Tx,
    revision: i64,
    store: Store,
    actor: Actor,
}

/// The Postgres channel that carries each committed revision to other control planes.
pub(crate) const NOTIFY_CHANNEL: &str = "sluice_revisions";

impl Store {
    /// Starts a change. Bumping the revision first takes the row lock, so changes (from this
    /// process or another on the same database) run one at a time and each sees the last.
    pub async fn change(&self, actor: Actor) -> Result<Change, StoreError> {
        let mut tx = self.inner.pool.begin_write().await?;
        let sql = "UPDATE config_state SET revision = revision + 1 WHERE id = 1 RETURNING revision";
        let revision = tx.fetch_one(sql, &[]).await?.int(0)?;
        Ok(Change {
            tx,
            revision,
            store: self.clone(),
            actor,
        })
    }
}

impl Change {
    /// The transaction the change's writes go into.
    pub(crate) fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The revision in force when the change began: the one that stays if it is dropped.
    pub fn revision_before(&self) -> u64 {
        u64::try_from(self.revision.saturating_sub(1)).unwrap_or(0)
    }

    /// The rows of tenant `name` as the change sees them (its own writes included), or
    /// `None` when there is no such tenant.
    pub(crate) async fn tenant_rows(
        &mut self,
        name: &str,
    ) -> Result<Option<TenantRows>, StoreError> {
        let tenants = load(&mut self.tx).await?;
        Ok(tenants.into_iter().find(|tenant| tenant.name == name))
    }

    /// Builds and checks the snapshot the change's writes produce, without committing: its
    /// text, or [`StoreError::Invalid`] with the errors placed relative to `target`. A dry
    /// run calls this and then drops the change.
    pub async fn check(&mut self, target: &Target) -> Result<String, StoreError> {
        let tenants = load(&mut self.tx).await?;
        let text = snapshot::render(&tenants);
        let revision = u64::try_from(self.revision).unwrap_or(0);
        let inner = &self.store.inner;
        if let Err(errors) = snapshot::validate(&text, &inner.base_dir, &inner.node, revision) {
            let mut placed = snapshot::field_errors(errors, &tenants, target);
            if let Some(own) = &self.actor.tenant {
                snapshot::redact(&mut placed, own);
            }
            return Err(StoreError::Invalid(placed));
        }
        Ok(text)
    }

    /// Builds and checks the resulting snapshot; commits it as the next revision with
    /// `summary` in the log, or returns [`StoreError::Invalid`] and writes nothing.
    pub async fn commit(
        mut self,
        tenant: Option<&str>,
        summary: &str,
        target: &Target,
    ) -> Result<u64, StoreError> {
        let text = self.check(target).await?;
        let revision = u64::try_from(self.revision).unwrap_or(0);
        self.record(tenant, summary, &text).await?;
        self.tx.commit().await?;
        tracing::info!(revision, actor = %self.actor.name, summary, "config changed");
        self.store.publish(Current {
            revision,
            config_json: text,
        });
        Ok(revision)
    }

    async fn record(
        &mut self,
        tenant: Option<&str>,
        summary: &str,
        text: &str,
    ) -> Result<(), StoreError> {
        let tx = &mut self.tx;
        tx.execute(
            "UPDATE config_state SET snapshot = $1 WHERE id = 1",
            &[text.into()],
        )
        .await?;
        let sql = "INSERT INTO revisions (number, at_ms, actor, tenant, summary) \
                   VALUES ($1, $2, $3, $4, $5)";
        let args = [
            self.revision.into(),
            now_ms().into(),
            (&self.actor.name).into(),
            tenant.into(),
            summary.into(),
        ];
        tx.execute(sql, &args).await?;
        if tx.is_postgres() {
            // Delivered at commit, to every listener on the database.
            let sql = "SELECT pg_notify('sluice_revisions', $1)";
            tx.execute(sql, &[self.revision.to_string().into()]).await?;
        }
        Ok(())
    }
}

/// Reads every config row, grouped by tenant, in creation order.
async fn load(tx: &mut Tx) -> Result<Vec<TenantRows>, StoreError> {
    let mut tenants = Vec::new();
    let mut index = HashMap::new();
    for row in tx
        .fetch_all("SELECT name, body FROM tenants ORDER BY seq", &[])
        .await?
    {
        let mut tenant = TenantRows::new(&row.text(0)?);
        tenant.fields = body::from_text(&row.text(1)?).map_err(corrupt)?;
        index.insert(tenant.name.clone(), tenants.len());
        tenants.push(tenant);
    }
    let of = |name: String| index.get(&name).copied();

    for row in tx
        .fetch_all("SELECT tenant, host FROM hosts ORDER BY seq", &[])
        .await?
    {
        if let Some(i) = of(row.text(0)?) {
            tenants[i].hosts.push(row.text(1)?);
        }
    }
    for row in tx
        .fetch_all("SELECT tenant, kid, jwk FROM keys ORDER BY seq", &[])
        .await?
    {
        if let Some(i) = of(row.text(0)?) {
            let jwk = body::raw_text(row.text(2)?).map_err(corrupt)?;
            tenants[i].keys.push((row.text(1)?, jwk));
        }
    }
    for row in tx
        .fetch_all(
            "SELECT tenant, name, version, schema FROM schemas ORDER BY seq",
            &[],
        )
        .await?
    {
        if let Some(i) = of(row.text(0)?) {
            let schema = body::raw_text(row.text(3)?).map_err(corrupt)?;
            push_version(&mut tenants[i], row.text(1)?, row.int(2)?, schema);
        }
    }
    for row in tx
        .fetch_all("SELECT tenant, name, body FROM routes ORDER BY seq", &[])
        .await?
    {
        if let Some(i) = of(row.text(0)?) {
            let route = body::raw_text(row.text(2)?).map_err(corrupt)?;
            tenants[i].routes.push((row.text(1)?, route));
        }
    }
    Ok(tenants)
}

fn push_version(
    tenant: &mut TenantRows,
    name: String,
    version: i64,
    schema: Box<serde_json::value::RawValue>,
) {
    match tenant.schemas.iter_mut().find(|(n, _)| *n == name) {
        Some((_, versions)) => versions.push((version, schema)),
        None => tenant.schemas.push((name, vec![(version, schema)])),
    }
}

fn corrupt(error: serde_json::Error) -> StoreError {
    StoreError::Corrupt(error.to_string())
}
