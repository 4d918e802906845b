//! A short sleep, creation to completion: one task sleeps 100 µs, again and again, on a
//! multi-thread tokio runtime, and each sleep's time from before its creation to the task running
//! again is a sample. It is the timer's resolution plus one wake-up of a parked worker: tokio's
//! wheel counts whole milliseconds (a 100 µs sleep takes one to two), the others keep microseconds.

use crate::async_timer::{tokio_mt, AsyncTimer};
use std::time::{Duration, Instant};

/// The sleep measured.
pub const SHORT: Duration = Duration::from_micros(100);

/// What one run of samples gives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: Duration,
    pub p99: Duration,
}

/// `samples` sleeps of [`SHORT`] on `T`, one after the other, in a task on `workers` workers,
/// after 10 untimed ones.
pub fn measure<T: AsyncTimer>(samples: usize, workers: usize) -> Spread {
    let rt = tokio_mt(workers);
    let taken = rt
        .block_on(rt.spawn(async move {
            for _ in 0..10 {
                T::sleep(SHORT).await;
            }
            let mut taken = Vec::with_capacity(samples);
            for _ in 0..samples {
                let start = Instant::now();
                T::sleep(SHORT).await;
                taken.push(start.elapsed());
            }
            taken
        }))
        .expect("the sleeping task");
    spread(taken)
}

/// The median and the 99th percentile (nearest rank) of `samples`, at least one.
fn spread(mut samples: Vec<Duration>) -> Spread {
    assert!(!samples.is_empty(), "at least one sample");
    samples.sort();
    let rank =
        |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    Spread {
        median: rank(0.5),
        p99: rank(0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let us = |v: u64| Duration::from_micros(v);
        let s = spread((1..=100).rev().map(us).collect());
        assert_eq!((s.median, s.p99), (us(50), us(99)));
        let one = spread(vec![us(7)]);
        assert_eq!((one.median, one.p99), (us(7), us(7)));
    }
}
