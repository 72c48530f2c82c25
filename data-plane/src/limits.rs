//! Per-tenant stream limits on this node: concurrent streams, concurrent streams per
//! subject, and new streams per second. The counters live in the node, keyed by tenant name,
//! so they survive config swaps; each admission is checked against the limits in force.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::Limits;

/// `Retry-After` for a concurrency limit: a stream may end at any moment, so the shortest
/// value the header can carry.
const CONCURRENCY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The node's live stream counts, per tenant.
#[derive(Debug, Default)]
pub struct Limiter {
    /// One entry per tenant ever admitted; a tenant's own lock keeps tenants from contending.
    tenants: RwLock<HashMap<Box<str>, Arc<Mutex<Counters>>>>,
}

/// One tenant's counts.
#[derive(Debug, Default)]
struct Counters {
    /// Open streams.
    streams: u32,
    /// Open streams per subject; a subject with none is removed.
    subjects: HashMap<Box<str>, u32>,
    /// The rate limiter's "theoretical arrival time" (GCRA, as in ITU-T I.371): when the
    /// bucket would be full again. `None` before the first stream.
    bucket_full_at: Option<Instant>,
}

impl Limiter {
    /// Open streams per tenant, for status reports (tenants with none are left out).
    pub fn active_by_tenant(&self) -> Vec<(String, u64)> {
        let tenants = self.tenants.read().unwrap_or_else(PoisonError::into_inner);
        tenants
            .iter()
            .map(|(name, counters)| (name.to_string(), u64::from(lock(counters).streams)))
            .filter(|(_, streams)| *streams > 0)
            .collect()
    }

    /// Admits a new stream of `tenant` for `subject` (`None` on a public route, which no
    /// per-subject limit applies to) under `limits`, the tenant's limits in force. The stream
    /// counts until the returned [`Permit`] is dropped. A refusal changes no count.
    pub fn admit(
        &self,
        tenant: &str,
        subject: Option<&str>,
        limits: &Limits,
    ) -> Result<Permit, Exceeded> {
        let counters = self.counters(tenant);
        let mut state = lock(&counters);

        state.check_concurrency(subject, limits)?;
        // Last, so a token is spent only on a stream that is admitted.
        if let Some(rate) = limits.new_streams_per_second {
            state.take_token(rate, Instant::now())?;
        }

        state.streams += 1;
        if let Some(subject) = subject {
            match state.subjects.get_mut(subject) {
                Some(count) => *count += 1,
                None => _ = state.subjects.insert(subject.into(), 1),
            }
        }
        drop(state);
        let subject = subject.map(Box::from);
        Ok(Permit { counters, subject })
    }

    /// The counters of `tenant`, made on first use. The read lock is the common path.
    fn counters(&self, tenant: &str) -> Arc<Mutex<Counters>> {
        let tenants = self.tenants.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(counters) = tenants.get(tenant) {
            return Arc::clone(counters);
        }
        drop(tenants);
        let mut tenants = self.tenants.write().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(tenants.entry(tenant.into()).or_default())
    }
}

impl Counters {
    /// Refuses when the tenant, or `subject`, is at its concurrency limit.
    fn check_concurrency(&self, subject: Option<&str>, limits: &Limits) -> Result<(), Exceeded> {
        let refuse = |limit| Exceeded {
            limit,
            retry_after: CONCURRENCY_RETRY_AFTER,
        };
        if limits.max_streams.is_some_and(|max| self.streams >= max) {
            return Err(refuse("max_streams"));
        }
        let open = subject.and_then(|s| self.subjects.get(s)).copied();
        if let (Some(max), Some(open)) = (limits.max_streams_per_subject, open)
            && open >= max
        {
            return Err(refuse("max_streams_per_subject"));
        }
        Ok(())
    }

    /// Spends one token of a bucket holding `rate` tokens and refilling `rate` per second,
    /// kept as one instant (GCRA): each stream moves `bucket_full_at` one interval later,
    /// and a stream is refused when that would put it more than a full bucket ahead of now.
    fn take_token(&mut self, rate: u32, now: Instant) -> Result<(), Exceeded> {
        let rate = rate.max(1);
        let interval = Duration::from_secs(1) / rate;
        let burst = interval * (rate - 1);
        let full_at = self.bucket_full_at.map_or(now, |at| at.max(now));
        let ahead = full_at - now;
        if ahead > burst {
            return Err(Exceeded {
                limit: "new_streams_per_second",
                retry_after: whole_seconds(ahead - burst),
            });
        }
        self.bucket_full_at = Some(full_at + interval);
        Ok(())
    }

    /// Counts one stream of `subject` as ended.
    fn release(&mut self, subject: Option<&str>) {
        self.streams = self.streams.saturating_sub(1);
        let Some(subject) = subject else { return };
        if let Some(count) = self.subjects.get_mut(subject) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.subjects.remove(subject);
            }
        }
    }
}

/// One admitted stream; dropping it ends its counts.
#[derive(Debug)]
pub struct Permit {
    counters: Arc<Mutex<Counters>>,
    subject: Option<Box<str>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        lock(&self.counters).release(self.subject.as_deref());
    }
}

/// Why a stream was refused: answer 429 with `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exceeded {
    /// The limit reached: `max_streams`, `max_streams_per_subject` or
    /// `new_streams_per_second`, the name of its setting (and a metric label).
    pub limit: &'static str,
    /// When to try again: whole seconds, at least one.
    pub retry_after: Duration,
}

impl Exceeded {
    /// The `Retry-After` value in seconds (RFC 9110, section 10.2.3).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs()
    }
}

/// Locks `counters`. The counts stay consistent even if a holder panicked, since every
/// update under the lock is a single step, so a poisoned lock is used as is.
fn lock(counters: &Mutex<Counters>) -> MutexGuard<'_, Counters> {
    counters.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `duration` rounded up to whole seconds, at least one.
fn whole_seconds(duration: Duration) -> Duration {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(streams: Option<u32>, per_subject: Option<u32>, rate: Option<u32>) -> Limits {
        Limits {
            max_streams: streams,
            max_streams_per_subject: per_subject,
            new_streams_per_second: rate,
        }
    }

    fn exceeded(limit: &'static str) -> Exceeded {
        let retry_after = Duration::from_secs(1);
        Exceeded { limit, retry_after }
    }

    fn refusal(result: Result<Permit, Exceeded>) -> Exceeded {
        result.expect_err("should be refused")
    }

    #[test]
    fn limiter_and_permit_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Limiter>();
        send_sync::<Permit>();
    }

    #[test]
    fn concurrent_limit_is_reached_then_freed_by_dropping_a_permit() {
        let limiter = Limiter::default();
        let limits = limits(Some(2), None, None);
        let first = limiter.admit("acme", None, &limits).expect("first");
        let _second = limiter
            .admit("acme", Some("alice"), &limits)
            .expect("second");
        let refused = refusal(limiter.admit("acme", Some("bob"), &limits));
        assert_eq!(refused, exceeded("max_streams"));
        assert_eq!(refused.retry_after_secs(), 1);
        drop(first);
        let _third = limiter
            .admit("acme", Some("bob"), &limits)
            .expect("a slot was freed");
    }

    #[test]
    fn per_subject_limit_is_independent_across_subjects_and_tenants() {
        let limiter = Limiter::default();
        let limits = limits(None, Some(1), None);
        let alice = limiter
            .admit("acme", Some("alice"), &limits)
            .expect("alice");
        let refused = refusal(limiter.admit("acme", Some("alice"), &limits));
        assert_eq!(refused, exceeded("max_streams_per_subject"));
        let _bob = limiter.admit("acme", Some("bob"), &limits).expect("bob");
        let _other = limiter
            .admit("globex", Some("alice"), &limits)
            .expect("other tenant");
        drop(alice);
        let _again = limiter
            .admit("acme", Some("alice"), &limits)
            .expect("alice again");
    }

    #[test]
    fn streams_without_subject_ignore_the_per_subject_limit() {
        let limiter = Limiter::default();
        let limits = limits(None, Some(1), None);
        let _a = limiter.admit("acme", None, &limits).expect("public");
        let _b = limiter.admit("acme", None, &limits).expect("public");
    }

    #[test]
    fn counters_are_isolated_per_tenant() {
        let limiter = Limiter::default();
        let limits = limits(Some(1), None, Some(1));
        let _acme = limiter.admit("acme", None, &limits).expect("acme");
        let _globex = limiter.admit("globex", None, &limits).expect("globex");
        assert_eq!(
            refusal(limiter.admit("acme", None, &limits)),
            exceeded("max_streams")
        );
        assert_eq!(
            refusal(limiter.admit("globex", None, &limits)),
            exceeded("max_streams")
        );
    }

    #[test]
    fn counts_survive_a_change_of_limits() {
        let limiter = Limiter::default();
        let unlimited = Limits::default();
        let _a = limiter.admit("acme", Some("alice"), &unlimited).expect("a");
        let _b = limiter.admit("acme", Some("alice"), &unlimited).expect("b");
        let tighter = limits(Some(2), None, None);
        assert_eq!(
            refusal(limiter.admit("acme", None, &tighter)),
            exceeded("max_streams")
        );
        let per_subject = limits(None, Some(2), None);
        assert_eq!(
            refusal(limiter.admit("acme", Some("alice"), &per_subject)),
            exceeded("max_streams_per_subject")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn rate_allows_a_burst_then_refills_one_token_per_interval() {
        let limiter = Limiter::default();
        let limits = limits(None, None, Some(4));
        let permits: Vec<Permit> = (0..4)
            .map(|_| {
                limiter
                    .admit("acme", None, &limits)
                    .expect("within the burst")
            })
            .collect();
        let refused = refusal(limiter.admit("acme", None, &limits));
        assert_eq!(refused, exceeded("new_streams_per_second"));
        drop(permits);
        // Freed streams give no tokens back: the bucket refills with time only.
        assert!(limiter.admit("acme", None, &limits).is_err());

        tokio::time::advance(Duration::from_millis(249)).await;
        assert!(limiter.admit("acme", None, &limits).is_err());
        tokio::time::advance(Duration::from_millis(1)).await;
        let _one = limiter
            .admit("acme", None, &limits)
            .expect("one token refilled");
        assert!(limiter.admit("acme", None, &limits).is_err());

        tokio::time::advance(Duration::from_secs(10)).await;
        let refilled = (0..5)
            .filter(|_| limiter.admit("acme", None, &limits).is_ok())
            .count();
        assert_eq!(refilled, 4, "a long pause refills no more than the burst");
    }

    #[tokio::test(start_paused = true)]
    async fn rate_retry_after_is_rounded_up_to_whole_seconds() {
        let limiter = Limiter::default();
        let limits = limits(None, None, Some(1));
        let _first = limiter.admit("acme", None, &limits).expect("first");
        let refused = refusal(limiter.admit("acme", None, &limits));
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        tokio::time::advance(Duration::from_millis(999)).await;
        let refused = refusal(limiter.admit("acme", None, &limits));
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        tokio::time::advance(Duration::from_millis(1)).await;
        let _second = limiter
            .admit("acme", None, &limits)
            .expect("a second later");
    }

    #[test]
    fn retry_after_rounds_up_and_is_at_least_one_second() {
        assert_eq!(whole_seconds(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(
            whole_seconds(Duration::from_nanos(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            whole_seconds(Duration::from_secs(2)),
            Duration::from_secs(2)
        );
        let just_over = Duration::from_millis(2001);
        assert_eq!(whole_seconds(just_over), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_lowered_rate_spaces_streams_by_its_own_interval() {
        let limiter = Limiter::default();
        let fast = limits(None, None, Some(100));
        for _ in 0..100 {
            limiter
                .admit("acme", None, &fast)
                .expect("within the burst");
        }
        let slow = limits(None, None, Some(2));
        let refused = refusal(limiter.admit("acme", None, &slow));
        assert_eq!(refused, exceeded("new_streams_per_second"));
        tokio::time::advance(Duration::from_millis(500)).await;
        limiter
            .admit("acme", None, &slow)
            .expect("half a second later");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_admit_consumes_nothing() {
        let limiter = Limiter::default();
        let limits = limits(Some(1), None, Some(2));
        let first = limiter.admit("acme", None, &limits).expect("first");
        // Refused for concurrency: must not spend the second token.
        let refused = refusal(limiter.admit("acme", None, &limits));
        assert_eq!(refused, exceeded("max_streams"));
        drop(first);
        let second = limiter
            .admit("acme", None, &limits)
            .expect("second token unspent");
        drop(second);
        // Refused for rate: must not count as an open stream.
        let refused = refusal(limiter.admit("acme", None, &limits));
        assert_eq!(refused, exceeded("new_streams_per_second"));
        tokio::time::advance(Duration::from_secs(1)).await;
        let _third = limiter
            .admit("acme", None, &limits)
            .expect("no stream was counted");
    }

    #[test]
    fn concurrent_admits_never_exceed_the_limit() {
        let limiter = Limiter::default();
        let limits = limits(Some(100), Some(60), None);
        let admitted: Vec<Permit> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|i| {
                    let (limiter, limits) = (&limiter, &limits);
                    let subject = if i % 2 == 0 { "even" } else { "odd" };
                    scope.spawn(move || {
                        (0..50)
                            .filter_map(|_| limiter.admit("acme", Some(subject), limits).ok())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("worker"))
                .collect()
        });
        assert_eq!(admitted.len(), 100);
        let even = admitted
            .iter()
            .filter(|p| p.subject.as_deref() == Some("even"));
        assert!(even.count() <= 60);
        drop(admitted);
        let _again = limiter
            .admit("acme", Some("even"), &limits)
            .expect("all released");
    }
}
