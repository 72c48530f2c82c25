//! The revision log: who changed the config, when, and what, one entry per revision.

use super::{Page, PageRequest, StoreError, Tx};

/// One committed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRecord {
    /// The revision number it produced.
    pub number: i64,
    /// When it was committed, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The name of the admin token that made it.
    pub actor: String,
    /// The tenant it changed.
    pub tenant: Option<String>,
    /// What it did, e.g. `update route acme/orders`.
    pub summary: String,
}

/// A page of the log, newest first; `only` keeps one tenant's changes.
pub(crate) async fn list(
    tx: &mut Tx,
    page: PageRequest,
    only: Option<&str>,
) -> Result<Page<RevisionRecord>, StoreError> {
    let sql = "SELECT number, at_ms, actor, tenant, summary FROM revisions \
               WHERE number < $1 AND ($2 IS NULL OR tenant = $2) ORDER BY number DESC LIMIT $3";
    let args = [
        page.after_descending().into(),
        only.into(),
        page.fetch().into(),
    ];
    let mut keyed = Vec::new();
    for row in tx.fetch_all(sql, &args).await? {
        let record = RevisionRecord {
            number: row.int(0)?,
            at_ms: row.int(1)?,
            actor: row.text(2)?,
            tenant: row.opt_text(3)?,
            summary: row.text(4)?,
        };
        keyed.push((record.number, record));
    }
    Ok(page.finish(keyed))
}
