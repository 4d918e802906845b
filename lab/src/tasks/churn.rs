//! Create + first poll + drop of a one-hour sleep, per op: what a `timeout` around a call that
//! answers quickly costs, and what an idle timeout pushed back by a new sleep per message costs.
//! The first poll is where each library files its sleep (gotimer arms it, tokio inserts its node,
//! async-io queues it for its reactor, futures-timer's node is on the helper thread's list from the
//! start), and the drop is where it takes it out again.
//!
//! Run as one task (`block_on`) of a current-thread tokio runtime with its time driver, so that the
//! only thread at work is the measuring one and the poll's waker is a real task's. With `pending`
//! other sleeps first filed in the same runtime (deadlines scattered over 1 h to 2 h, each polled
//! once), the clock starts only once the process is quiet: futures-timer's helper thread and
//! async-io's reactor file what was queued on their own threads, and that work is not the op's.
//!
//! The op's own work is not all on the calling thread, though: async-io's reactor and
//! futures-timer's helper file and remove each sleep on their thread, on another core, while the
//! caller goes on. So besides the caller's wall time per op, the process's CPU time per op (every
//! thread, counted until they are quiet again) says what the op costs the machine.

use crate::async_timer::{idle_sleeps, AsyncTimer};
use crate::bench::harness::{launch, BenchTime, Round, Timed};
use crate::proc_self;
use crate::scale::scattered_deadline;
use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);

/// Create + first poll + drop of `T::sleep(1h)` in Go's `b.N` loop over `bt`, with `pending`
/// other sleeps of `T` pending meanwhile: the caller's time, and the process's CPU ns per op in the
/// last round.
pub fn measure<T: AsyncTimer>(bt: BenchTime, pending: usize) -> (Timed, f64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("build a tokio runtime");
    rt.block_on(async {
        // Starts the library's own threads (gotimer's driver, async-io's reactor, futures-timer's
        // helper) before anything is timed.
        T::sleep(Duration::from_micros(100)).await;
        let idle = idle_sleeps::<T>(pending, |i| scattered_deadline(i as u64)).await;
        proc_self::settle(SETTLE);
        let cpu_per_op = Cell::new(0.0);
        let timed = std::future::poll_fn(|cx| {
            Poll::Ready(launch(bt, |n| {
                let cpu = proc_self::process_cpu_ns();
                let elapsed = churn::<T>(n, cx);
                proc_self::settle(SETTLE);
                let cpu = proc_self::process_cpu_ns() - cpu;
                cpu_per_op.set(cpu as f64 / n as f64);
                Round::from(elapsed)
            }))
        })
        .await;
        drop(idle);
        (timed, cpu_per_op.get())
    })
}

/// How long to wait at most for the process to go quiet.
const SETTLE: Duration = Duration::from_secs(10);

/// `n` times: a one-hour sleep made, polled once with `cx` and dropped.
fn churn<T: AsyncTimer>(n: u64, cx: &mut Context<'_>) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let mut s = pin!(T::sleep(HOUR));
        let _ = black_box(s.as_mut().poll(cx));
    }
    start.elapsed()
}
