//! A gate in front of futures that seldom finish. They are polled with the gate's own waker,
//! and polled again only once one of them has woken it. A task that waits on one busy thing (a
//! stream's upstream) and many rare ones (drain, swap, expiry, timers) then pays one flag check
//! per wake-up for the rare ones, instead of a poll of each (several take a lock).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// See the module docs. Starts open, so the gated futures get their first poll.
#[derive(Debug)]
pub struct Gate {
    flag: Arc<Flag>,
    waker: Waker,
}

/// Set when a gated future wakes; the task behind the gate is woken with it.
#[derive(Debug)]
struct Flag {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl Default for Gate {
    fn default() -> Self {
        let flag = Arc::new(Flag {
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(flag.clone());
        Gate { flag, waker }
    }
}

impl Gate {
    /// Whether the gated futures should be polled now: true when one woke since the last call
    /// (or on the first call, or after [`Gate::reopen`]). Closes the gate, and has `cx`'s task
    /// woken when a gated future wakes.
    pub fn open(&self, cx: &Context<'_>) -> bool {
        self.flag.task.register(cx.waker());
        self.flag.woken.swap(false, Ordering::AcqRel)
    }

    /// Ready once a gated future has woken, without closing the gate.
    pub fn poll_woken(&self, cx: &Context<'_>) -> Poll<()> {
        self.flag.task.register(cx.waker());
        if self.flag.woken.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Polls through the gate: whatever `poll` registers wakes the gate, not the caller.
    pub fn poll_with<T>(&self, poll: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
        poll(&mut Context::from_waker(&self.waker))
    }

    /// Polls `future` through the gate.
    pub fn poll<F: Future + ?Sized>(&self, future: Pin<&mut F>) -> Poll<F::Output> {
        self.poll_with(|cx| future.poll(cx))
    }

    /// Opens the gate for the next [`Gate::open`]: for a gated future that was replaced or
    /// reset, and so has not yet registered a waker.
    pub fn reopen(&self) {
        self.flag.woken.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tokio::sync::Notify;

    use super::*;

    /// Counts the wake-ups of the task behind the gate.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_gated_future_is_polled_again_only_after_it_woke() {
        let count = Arc::new(Count::default());
        let task = Waker::from(count.clone());
        let cx = Context::from_waker(&task);
        let gate = Gate::default();
        let notify = Notify::new();
        let notified = notify.notified();
        tokio::pin!(notified);

        assert!(gate.open(&cx), "a new gate is open");
        assert!(gate.poll(notified.as_mut()).is_pending());
        assert!(!gate.open(&cx), "nothing woke");
        assert!(gate.poll_woken(&cx).is_pending());
        assert_eq!(count.0.load(Ordering::SeqCst), 0);

        notify.notify_waiters();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the task is woken");
        assert!(gate.poll_woken(&cx).is_ready());
        assert!(gate.open(&cx));
        assert!(gate.poll(notified.as_mut()).is_ready());
        assert!(!gate.open(&cx));
    }

    #[test]
    fn reopen_opens_the_gate_once() {
        let cx = Context::from_waker(Waker::noop());
        let gate = Gate::default();
        assert!(gate.open(&cx));
        gate.reopen();
        assert!(gate.poll_woken(&cx).is_ready());
        assert!(gate.open(&cx));
        assert!(!gate.open(&cx));
    }
}
