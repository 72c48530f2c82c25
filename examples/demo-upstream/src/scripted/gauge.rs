//! A count of things open (responses, connections) that tests can read and wait on.

use tokio::sync::watch;

/// A counter whose changes wake waiters at once, with no polling.
#[derive(Debug, Clone)]
pub(crate) struct Gauge(watch::Sender<usize>);

impl Gauge {
    pub(crate) fn new() -> Gauge {
        Gauge(watch::Sender::new(0))
    }

    /// Counts one more until the guard drops.
    pub(crate) fn enter(&self) -> GaugeGuard {
        self.0.send_modify(|open| *open += 1);
        GaugeGuard(self.0.clone())
    }

    pub(crate) fn value(&self) -> usize {
        *self.0.borrow()
    }

    /// Resolves once the count equals `count` (at once if it already does).
    pub(crate) async fn wait_for(&self, count: usize) {
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = self.0.subscribe().wait_for(|open| *open == count).await;
    }
}

/// One counted thing; dropping it lowers the count.
#[derive(Debug)]
pub(crate) struct GaugeGuard(watch::Sender<usize>);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.send_modify(|open| *open = open.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_count_while_alive() {
        let gauge = Gauge::new();
        let first = gauge.enter();
        let second = gauge.enter();
        assert_eq!(gauge.value(), 2);
        drop(first);
        assert_eq!(gauge.value(), 1);
        drop(second);
        assert_eq!(gauge.value(), 0);
    }

    #[tokio::test]
    async fn wait_resolves_when_the_last_guard_drops() {
        let gauge = Gauge::new();
        let guard = gauge.enter();
        let waiter = tokio::spawn({
            let gauge = gauge.clone();
            async move { gauge.wait_for(0).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(guard);
        waiter.await.expect("waiter finished");
    }
}
