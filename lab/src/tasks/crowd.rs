//! Many tasks sleeping at once: `tasks` tasks each sleeping 50 ms on a multi-thread tokio runtime,
//! the wall time from the first spawn to the last one done. A server's connections, each waiting
//! on its own timeout: what it measures beyond the 50 ms is the cost of filing that many sleeps
//! and of firing them all in the same few milliseconds, each waking its task.
//!
//! The tasks are spawned from a task (as a server spawns its connections), and a smaller crowd runs
//! first, untimed, so that the runtime's workers and the library's threads exist and the allocator
//! has the memory of a crowd before the clock starts.

use crate::async_timer::{spawn_sleepers, tokio_mt, AsyncTimer};
use std::time::{Duration, Instant};

/// How long each task sleeps.
pub const NAP: Duration = Duration::from_millis(50);

/// The wall time of `tasks` tasks each sleeping [`NAP`] on `T`, spawned on `workers` workers and
/// waited for.
pub fn measure<T: AsyncTimer>(tasks: usize, workers: usize) -> Duration {
    let rt = tokio_mt(workers);
    let crowd = |n: usize| {
        rt.block_on(rt.spawn(async move {
            let start = Instant::now();
            spawn_sleepers::<T>(n, NAP).await;
            start.elapsed()
        }))
        .expect("the crowd's task")
    };
    crowd(tasks.div_ceil(10));
    crowd(tasks)
}
