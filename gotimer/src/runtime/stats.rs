//! What a runtime counts: [`Stats`], as each runtime reports it (`system.rs`, `manual.rs`).

/// Counters of a timer runtime at one moment, from [`stats`](crate::stats) (the system clock) or
/// [`Clock::stats`](crate::Clock::stats) (any clock).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Timers waiting in the wheels: pending `Timer`s, `Ticker`s, `tick`s and `after_func`s (and,
    /// on a fake clock, `after`s and sleeps). On the system clock a `Timer` or `Ticker` enters its
    /// wheel when its channel is first asked for (`c()`), as a Go 1.23 channel timer enters the
    /// heap only once a goroutine waits on it: one made, reset and stopped without anyone waiting
    /// is pending for `stop`'s result, but in no wheel and not counted here. A timer whose deadline
    /// is out of range (`Duration::MAX`) is held only by its handle and is not counted; the system
    /// clock's `after` channels are crossbeam's and never in a wheel.
    pub pending: usize,
    /// Callback threads alive (running a callback or idle), at most [`MAX_WORKERS`](crate::MAX_WORKERS); always 0 for a
    /// fake clock, whose callbacks run on the thread that advances it.
    pub callback_threads: usize,
    /// Callbacks that panicked since the runtime started (the process, for the system clock).
    pub callback_panics: usize,
    /// Times a callback thread could not be started (the operating system refused a thread).
    /// Callbacks wait meanwhile, and the driver retries every 10 ms; the first thread that starts
    /// reports the failure on stderr. Always 0 on a fake clock.
    pub callback_spawn_failures: usize,
    /// The number of shards the timers are spread over (1 for a fake clock).
    pub shards: usize,
    /// Times the driver slept past the earliest deadline, by at most 250 µs, to fire the deadlines
    /// due by then in one wake-up: it does so only while the process keeps every core busy and
    /// deadlines come more often than every 250 µs, when a wake-up for each would take the cores
    /// from the process's own work (a task woken by a timer then also waits for its worker to wake).
    /// Always 0 on a fake clock, which fires each deadline in order.
    pub batched_wakeups: u64,
}
