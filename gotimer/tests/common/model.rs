//! What the model checks (`fake_model.rs` for threads, `future_model.rs` for tasks) draw their
//! schedules from: durations that collide, on the wheel's tick boundaries, and out of range.

use proptest::prelude::*;
use std::time::Duration;

/// A duration in the schedule: nanoseconds, or `Duration::MAX` (a deadline out of range).
#[derive(Clone, Copy, Debug)]
pub enum Dur {
    Ns(u64),
    Max,
}

impl Dur {
    pub fn get(self) -> Duration {
        match self {
            Dur::Ns(ns) => Duration::from_nanos(ns),
            Dur::Max => Duration::MAX,
        }
    }
}

/// Durations that collide: zero, equal deadlines, and deadlines a nanosecond apart inside and
/// across the wheel's 1.024 us ticks.
pub fn nanos() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => prop::sample::select(vec![
            0u64, 1, 2, 1_023, 1_024, 1_025, 2_048, 5_000, 250_000, 1_000_000, 1_000_001,
            2_000_000, 3_000_000,
        ]),
        1 => 0..4_000_000u64,
    ]
}

/// A duration of `nanos`, or now and then `Duration::MAX`.
pub fn dur() -> impl Strategy<Value = Dur> {
    prop_oneof![12 => nanos().prop_map(Dur::Ns), 1 => Just(Dur::Max)]
}

/// Ticker periods: not zero (that panics), and not so short that an advance takes many thousand
/// steps.
pub fn period() -> impl Strategy<Value = Dur> {
    prop_oneof![
        12 => prop_oneof![
            prop::sample::select(vec![250_000u64, 500_000, 1_000_000, 1_000_001, 3_000_000]),
            250_000..4_000_000u64,
        ]
        .prop_map(Dur::Ns),
        1 => Just(Dur::Max),
    ]
}
