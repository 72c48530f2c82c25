//! Standalone config: load the declarative file, and watch it so a valid change is swapped in
//! and an invalid one is refused with every error logged while the old config stays.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{self, ConfigErrors};
use crate::node::NodeState;
use crate::snapshot::{self, Snapshot};

/// How long to wait for more change events before reloading (editors write in several steps).
const SETTLE: Duration = Duration::from_millis(100);

/// Reads, checks and compiles the file at `path` into a snapshot numbered `revision`.
pub fn load_file(path: &Path, node: &NodeState, revision: u64) -> Result<Snapshot, ConfigErrors> {
    let config = config::load(path)?;
    let source = format!("file:{}", path.display());
    let mut snapshot = snapshot::compile(&config, node, revision, source)?;
    snapshot.loaded_at_unix = unix_now();
    Ok(snapshot)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Watches `path` and applies each valid change. The watch is in place when this returns, so
/// no change made after it is missed; the task ends when aborted.
pub fn watch_file(path: PathBuf, node: Arc<NodeState>) -> JoinHandle<()> {
    let (tx, mut changes) = mpsc::channel::<()>(16);
    let name = path.file_name().map(|n| n.to_owned());
    let callback = move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| may_change(&e, name.as_deref())) {
            let _ = tx.try_send(());
        }
    };
    let watcher = watch_dir(&path, callback);
    let mut last = std::fs::read(&path).ok();
    tokio::spawn(async move {
        // Dropping the watcher stops the events: keep it for the task's life.
        let Some(_watcher) = watcher else { return };
        let mut revision = 1;
        while changes.recv().await.is_some() {
            while let Ok(Some(())) = tokio::time::timeout(SETTLE, changes.recv()).await {}
            let current = std::fs::read(&path).ok();
            if current == last {
                continue;
            }
            last = current;
            if reload(&path, &node, revision + 1).await {
                revision += 1;
            }
        }
    })
}

/// Whether `event` may have changed the file called `name`. Reading the file is not a change:
/// the reload itself reads it, and counting that would read the file again after every settle,
/// forever.
fn may_change(event: &notify::Event, name: Option<&std::ffi::OsStr>) -> bool {
    !matches!(event.kind, EventKind::Access(_)) && event.paths.iter().any(|p| p.file_name() == name)
}

/// Watches the file's directory: editors and config managers replace the file rather than
/// writing into it, which a watch on the file itself would miss.
fn watch_dir(
    path: &Path,
    callback: impl notify::EventHandler,
) -> Option<notify::RecommendedWatcher> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut watcher = notify::recommended_watcher(callback)
        .map_err(|error| tracing::error!(%error, "cannot watch the config file"))
        .ok()?;
    watcher
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(
            |error| tracing::error!(%error, dir = %dir.display(), "cannot watch the config file"),
        )
        .ok()?;
    Some(watcher)
}

/// Loads and applies the file once; false when it was refused.
async fn reload(path: &Path, node: &Arc<NodeState>, revision: u64) -> bool {
    let owned = (path.to_owned(), node.clone());
    let loaded = tokio::task::spawn_blocking(move || load_file(&owned.0, &owned.1, revision)).await;
    let result = match loaded {
        Ok(result) => result.and_then(|snapshot| same_sockets(node, snapshot)),
        Err(error) => {
            tracing::error!(%error, "config load task failed");
            return false;
        }
    };
    match result {
        Ok(snapshot) => {
            let snapshot = Arc::new(snapshot);
            node.apply(snapshot.clone());
            node.metrics.config_loaded(true);
            crate::run::log_applied(&snapshot);
            true
        }
        Err(errors) => {
            for error in &errors.0 {
                tracing::warn!(
                    path = %error.path,
                    line = error.line,
                    message = %error.message,
                    "config refused"
                );
            }
            node.refuse();
            false
        }
    }
}

/// A reload may change certificates, tenants and routes, not the sockets the node holds.
fn same_sockets(node: &NodeState, snapshot: Snapshot) -> Result<Snapshot, ConfigErrors> {
    let Some(current) = node.snapshot() else {
        return Ok(snapshot);
    };
    let mut errors = ConfigErrors::default();
    if current.listeners.len() != snapshot.listeners.len() {
        errors.push("listeners", "adding or removing listeners needs a restart");
    }
    for (i, (old, new)) in current
        .listeners
        .iter()
        .zip(&snapshot.listeners)
        .enumerate()
    {
        if old.address != new.address || old.tls.is_some() != new.tls.is_some() {
            errors.push(
                config::index_path("listeners", i),
                "changing a listener's address or TLS needs a restart",
            );
        }
    }
    if current.admin != snapshot.admin {
        errors.push(
            "admin.address",
            "changing the admin address needs a restart",
        );
    }
    if errors.is_empty() {
        Ok(snapshot)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc as sync_mpsc;

    use notify::event::{AccessKind, AccessMode, DataChange, ModifyKind};

    use super::*;

    fn event(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn reading_the_file_is_not_a_change() {
        let name = Some(std::ffi::OsStr::new("sluice.yaml"));
        let read = EventKind::Access(AccessKind::Close(AccessMode::Read));
        let opened = EventKind::Access(AccessKind::Open(AccessMode::Any));
        let written = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        assert!(!may_change(&event(read, "/etc/sluice/sluice.yaml"), name));
        assert!(!may_change(&event(opened, "/etc/sluice/sluice.yaml"), name));
        assert!(may_change(&event(written, "/etc/sluice/sluice.yaml"), name));
        assert!(!may_change(&event(written, "/etc/sluice/other.yaml"), name));
    }

    /// With the kernel's own events: the first event taken as a change after the file is read
    /// (as every reload does) and then written is the write, so a reload cannot feed itself.
    #[test]
    fn the_watch_sees_a_write_but_not_a_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sluice.yaml");
        std::fs::write(&path, "version: 1\n").expect("write");
        let name = path.file_name().map(|n| n.to_owned());
        let (tx, changes) = sync_mpsc::channel();
        let callback = move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && may_change(&event, name.as_deref())
            {
                let _ = tx.send(event.kind);
            }
        };
        let _watcher = watch_dir(&path, callback).expect("watch");
        std::fs::read(&path).expect("read");
        std::fs::write(&path, "version: 1\n# changed\n").expect("write");
        let first = changes
            .recv_timeout(Duration::from_secs(30))
            .expect("an event for the write");
        assert!(
            matches!(first, EventKind::Modify(_) | EventKind::Create(_)),
            "{first:?}"
        );
    }
}
