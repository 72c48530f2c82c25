//! Learning of revisions committed by other control planes on the same Postgres: `LISTEN` on
//! the revisions channel, with a slow poll besides in case a notification is lost while the
//! listening connection is re-established.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use super::Store;
use super::change::NOTIFY_CHANNEL;

/// How often the revision is re-read even without a notification.
const POLL: Duration = Duration::from_secs(10);
/// How long to wait before reconnecting a failed listener.
const RETRY: Duration = Duration::from_secs(1);

/// Keeps `store`'s current snapshot in step with the database until `shutdown`. Returns at
/// once on SQLite, which only this process writes.
pub async fn follow(store: Store, shutdown: CancellationToken) {
    let Some(pool) = store.postgres_pool().cloned() else {
        return;
    };
    while !shutdown.is_cancelled() {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let error = match listener.await {
            Ok(listener) => listen(&store, listener, &shutdown).await,
            Err(error) => error,
        };
        if shutdown.is_cancelled() {
            return;
        }
        tracing::warn!(%error, "revision listener failed; reconnecting");
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RETRY) => {}
        }
    }
}

/// Refreshes on each notification and each poll tick; returns the error that ended it.
async fn listen(
    store: &Store,
    mut listener: PgListener,
    shutdown: &CancellationToken,
) -> sqlx::Error {
    // Anything committed before LISTEN took effect was not notified.
    refresh(store).await;
    let mut poll = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return sqlx::Error::PoolClosed,
            notification = listener.recv() => match notification {
                Ok(_) => refresh(store).await,
                Err(error) => return error,
            },
            _ = poll.tick() => refresh(store).await,
        }
    }
}

async fn refresh(store: &Store) {
    if let Err(error) = store.refresh().await {
        tracing::warn!(%error, "cannot re-read the current revision");
    }
}
