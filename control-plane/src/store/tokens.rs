//! Admin and node tokens. Only a token's SHA-256 is stored; the token itself is shown once,
//! when it is made. Admin tokens are global or scoped to one tenant; node tokens are global.

use super::{FieldError, Page, PageRequest, Store, StoreError, Tx, conflict_on_unique, now_ms};
use crate::auth;

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// The admin REST API (all of it, or one tenant's part).
    Admin,
    /// The gRPC config API, as a data-plane node.
    Node,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Admin => "admin",
            TokenKind::Node => "node",
        }
    }
}

/// A token without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its unique label, recorded as the actor of the changes made with it.
    pub name: String,
    /// Admin or node.
    pub kind: TokenKind,
    /// For a tenant admin, the one tenant it may see and change.
    pub tenant: Option<String>,
    /// When it was made, in milliseconds since the Unix epoch.
    pub created_ms: i64,
}

/// The name of the first global admin token.
pub const BOOTSTRAP: &str = "bootstrap";

/// Stores a new token under `hash`.
pub(crate) async fn create(
    tx: &mut Tx,
    name: &str,
    kind: TokenKind,
    tenant: Option<&str>,
    hash: &str,
) -> Result<TokenRecord, StoreError> {
    if let Some(tenant) = tenant
        && super::tenants::version(tx, tenant).await.is_err()
    {
        let error = FieldError::at("/tenant", format!("there is no tenant `{tenant}`"));
        return Err(StoreError::Invalid(vec![error]));
    }
    let sql =
        "INSERT INTO tokens (name, kind, tenant, hash, created_ms) VALUES ($1, $2, $3, $4, $5)";
    let created_ms = now_ms();
    let args = [
        name.into(),
        kind.as_str().into(),
        tenant.into(),
        hash.into(),
        created_ms.into(),
    ];
    tx.execute(sql, &args)
        .await
        .map_err(|e| conflict_on_unique(e, format!("token `{name}` already exists")))?;
    Ok(TokenRecord {
        name: name.to_owned(),
        kind,
        tenant: tenant.map(str::to_owned),
        created_ms,
    })
}

/// A page of tokens; `only` keeps one tenant's.
pub(crate) async fn list(
    tx: &mut Tx,
    page: PageRequest,
    only: Option<&str>,
) -> Result<Page<TokenRecord>, StoreError> {
    let sql = "SELECT seq, name, kind, tenant, created_ms FROM tokens \
               WHERE seq > $1 AND ($2 IS NULL OR tenant = $2) ORDER BY seq LIMIT $3";
    let args = [
        page.after_ascending().into(),
        only.into(),
        page.fetch().into(),
    ];
    let mut keyed = Vec::new();
    for row in tx.fetch_all(sql, &args).await? {
        keyed.push((row.int(0)?, record(&row, 1)?));
    }
    Ok(page.finish(keyed))
}

/// One token, by name.
pub(crate) async fn get(tx: &mut Tx, name: &str) -> Result<TokenRecord, StoreError> {
    let sql = "SELECT name, kind, tenant, created_ms FROM tokens WHERE name = $1";
    let row = tx.fetch_optional(sql, &[name.into()]).await?;
    record(&row.ok_or_else(|| not_found(name))?, 0)
}

/// Removes a token; it stops working at once.
pub(crate) async fn delete(tx: &mut Tx, name: &str) -> Result<(), StoreError> {
    let sql = "DELETE FROM tokens WHERE name = $1";
    if tx.execute(sql, &[name.into()]).await? == 0 {
        return Err(not_found(name));
    }
    Ok(())
}

/// The token whose SHA-256 is `hash`, if any.
pub(crate) async fn find(tx: &mut Tx, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
    let sql = "SELECT name, kind, tenant, created_ms FROM tokens WHERE hash = $1";
    match tx.fetch_optional(sql, &[hash.into()]).await? {
        Some(row) => Ok(Some(record(&row, 0)?)),
        None => Ok(None),
    }
}

/// Makes sure a global admin token exists. A `given` token becomes (or replaces) the
/// `bootstrap` token; without one, a token is generated when no global admin token exists and
/// returned so it can be shown once.
pub async fn bootstrap(store: &Store, given: Option<&str>) -> Result<Option<String>, StoreError> {
    let mut tx = store.write().await?;
    let generated = match given {
        Some(token) => {
            let sql = "INSERT INTO tokens (name, kind, tenant, hash, created_ms) \
                       VALUES ($1, 'admin', NULL, $2, $3) \
                       ON CONFLICT (name) DO UPDATE SET kind = 'admin', tenant = NULL, hash = $2";
            let args = [BOOTSTRAP.into(), auth::hash(token).into(), now_ms().into()];
            tx.execute(sql, &args).await?;
            None
        }
        None => {
            let sql = "SELECT 1 FROM tokens WHERE kind = 'admin' AND tenant IS NULL";
            if tx.fetch_optional(sql, &[]).await?.is_some() {
                return Ok(None);
            }
            let token = auth::new_token(TokenKind::Admin);
            let sql = "INSERT INTO tokens (name, kind, tenant, hash, created_ms) \
                       VALUES ($1, 'admin', NULL, $2, $3) ON CONFLICT (name) DO NOTHING";
            let args = [BOOTSTRAP.into(), auth::hash(&token).into(), now_ms().into()];
            // Another control plane starting at the same moment may have made it first.
            (tx.execute(sql, &args).await? == 1).then_some(token)
        }
    };
    tx.commit().await?;
    Ok(generated)
}

fn record(row: &super::Row, first: usize) -> Result<TokenRecord, StoreError> {
    let kind = match row.text(first + 1)?.as_str() {
        "admin" => TokenKind::Admin,
        "node" => TokenKind::Node,
        other => return Err(StoreError::Corrupt(format!("token kind `{other}`"))),
    };
    Ok(TokenRecord {
        name: row.text(first)?,
        kind,
        tenant: row.opt_text(first + 2)?,
        created_ms: row.int(first + 3)?,
    })
}

fn not_found(name: &str) -> StoreError {
    StoreError::NotFound(format!("token `{name}`"))
}
