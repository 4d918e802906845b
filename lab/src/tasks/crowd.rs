//! Many tasks sleeping at once: `tasks` tasks each sleeping 50 ms on a multi-thread tokio runtime,
//! the wall time from the first spawn to the last one done. A server's connections, each waiting
//! on its own timeout: what it measures beyond the 50 ms is the cost of filing that many sleeps
//! and of firing them all in the same few milliseconds, each waking its task.
//!
//! The tasks are spawned from a task (as a server spawns its connections), and a smaller crowd runs
//! first, untimed, so that the runtime's workers and the library's threads exist and the allocator
//! has the memory of a crowd before the clock starts.

use crate::async_timer::{spawn_sleepers, tokio_mt, AsyncTimer, Countdown};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long each task sleeps.
pub const NAP: Duration = Duration::from_millis(50);

/// The wall time of `tasks` tasks each sleeping [`NAP`] on `T`, spawned on `workers` workers and
/// waited for.
pub fn measure<T: AsyncTimer>(tasks: usize, workers: usize) -> Duration {
    after_a_smaller_crowd(tasks, workers, |n| async move {
        let start = Instant::now();
        spawn_sleepers::<T>(n, NAP).await;
        start.elapsed()
    })
}

/// Runs `crowd(n)` as a task on a new runtime of `workers` workers, first untimed with a tenth of
/// `tasks`, then with `tasks`, and returns what the second run gave.
fn after_a_smaller_crowd<R, F>(tasks: usize, workers: usize, crowd: impl Fn(usize) -> F) -> R
where
    F: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let rt = tokio_mt(workers);
    let run = |n: usize| rt.block_on(rt.spawn(crowd(n))).expect("the crowd's task");
    run(tasks.div_ceil(10));
    run(tasks)
}

/// Where a crowd's wall time goes, from marks each task leaves (`crowd-phases`): a diagnostic,
/// not a row of the tables, since the marks are shared atomics every task touches.
#[derive(Clone, Copy, Debug)]
pub struct Phases {
    /// From the first spawn to the spawning task's last `spawn`.
    pub spawned: Duration,
    /// From the first spawn to the last task's first poll, where it makes its sleep.
    pub created_last: Duration,
    /// How long after its deadline the first task to wake resumed.
    pub first_wake_late: Duration,
    /// How long after its deadline a task resumed, on average and at most.
    pub late_avg: Duration,
    pub late_max: Duration,
    /// From the first spawn to the last task done.
    pub wall: Duration,
}

/// The marks the tasks of one crowd leave, in µs since its start.
struct Marks {
    start: Instant,
    created_last: AtomicU64,
    /// The first wake, as its time in the high 32 bits and its lateness in the low: one
    /// `fetch_min` keeps the pair of the earliest.
    first_wake: AtomicU64,
    late_sum: AtomicU64,
    late_max: AtomicU64,
}

impl Marks {
    fn us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }
}

/// [`measure`]'s crowd of `tasks` tasks each sleeping `nap`, with each task's marks.
pub fn phases<T: AsyncTimer>(tasks: usize, workers: usize, nap: Duration) -> Phases {
    after_a_smaller_crowd(tasks, workers, |n| async move {
        let marks = Arc::new(Marks {
            start: Instant::now(),
            created_last: AtomicU64::new(0),
            first_wake: AtomicU64::new(u64::MAX),
            late_sum: AtomicU64::new(0),
            late_max: AtomicU64::new(0),
        });
        let nap_us = nap.as_micros() as u64;
        let wg = Countdown::new(n);
        for _ in 0..n {
            let (wg, marks) = (wg.clone(), marks.clone());
            tokio::spawn(async move {
                let made = marks.us();
                marks.created_last.fetch_max(made, Relaxed);
                T::sleep(nap).await;
                let woke = marks.us();
                let late = woke.saturating_sub(made + nap_us);
                let low = |v: u64| v.min(u32::MAX as u64);
                marks
                    .first_wake
                    .fetch_min(low(woke) << 32 | low(late), Relaxed);
                marks.late_sum.fetch_add(late, Relaxed);
                marks.late_max.fetch_max(late, Relaxed);
                wg.done();
            });
        }
        let spawned = marks.us();
        wg.wait().await;
        let us = Duration::from_micros;
        Phases {
            spawned: us(spawned),
            created_last: us(marks.created_last.load(Relaxed)),
            first_wake_late: us(marks.first_wake.load(Relaxed) & u32::MAX as u64),
            late_avg: us(marks.late_sum.load(Relaxed) / n as u64),
            late_max: us(marks.late_max.load(Relaxed)),
            wall: marks.start.elapsed(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::async_timer::{with_timer, Lib};

    /// Every library's small crowd leaves consistent marks: the sleeps made after the spawning
    /// started and before the end, the average lateness within the worst, the wall at least a nap.
    #[test]
    fn a_small_crowd_leaves_consistent_marks() {
        let nap = Duration::from_millis(5);
        for lib in Lib::ALL {
            let p = with_timer!(lib, T => phases::<T>(200, 2, nap));
            assert!(p.wall >= nap, "{lib:?}: {p:?}");
            assert!(p.created_last + nap <= p.wall, "{lib:?}: {p:?}");
            assert!(p.late_avg <= p.late_max, "{lib:?}: {p:?}");
            assert!(p.first_wake_late <= p.late_max, "{lib:?}: {p:?}");
        }
    }
}
