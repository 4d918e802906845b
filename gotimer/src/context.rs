//! The clock the free functions (`Timer::new`, `after`, `sleep`, …) use on each thread: the system
//! clock, or the innermost one the thread entered (`Clock::enter`, which returns a [`ClockGuard`]).

use crate::runtime::Rt;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;

thread_local! {
    /// The clocks this thread entered, innermost last; empty means the system clock.
    static ENTERED: RefCell<Vec<Rt>> = const { RefCell::new(Vec::new()) };
    /// Whether `ENTERED` is non-empty. It has no destructor, so reading it is a plain thread-local
    /// load: the free functions on a thread that never entered a clock pay only that.
    static ANY_ENTERED: Cell<bool> = const { Cell::new(false) };
}

/// The runtime the free functions use on this thread: the innermost entered clock's, or the system
/// clock's (also during thread-local destruction, when `ENTERED` is gone).
#[inline]
pub(crate) fn current_rt() -> Rt {
    if !ANY_ENTERED.with(Cell::get) {
        return Rt::system();
    }
    ENTERED
        .try_with(|e| e.borrow().last().cloned())
        .ok()
        .flatten()
        .unwrap_or_else(Rt::system)
}

/// Makes `rt` the runtime of the free functions on the calling thread until the guard is dropped.
pub(crate) fn enter(rt: Rt) -> ClockGuard {
    try_enter(rt).expect("gotimer: a clock entered after the thread's locals were torn down")
}

/// `enter`, or `None` once the thread's locals are being torn down (a future kept in a
/// thread-local, dropped as the thread exits).
pub(crate) fn try_enter(rt: Rt) -> Option<ClockGuard> {
    let depth = ENTERED
        .try_with(|e| {
            let mut e = e.borrow_mut();
            e.push(rt);
            e.len()
        })
        .ok()?;
    ANY_ENTERED.with(|a| a.set(true));
    Some(ClockGuard {
        depth,
        _not_send: PhantomData,
    })
}

/// Returned by [`Clock::enter`](crate::Clock::enter): while it lives, the free functions on this
/// thread use that clock. Not `Send`: it must be dropped on the thread that made it.
///
/// ```
/// use gotimer::{Clock, FakeClock};
/// use std::time::Duration;
///
/// let fake = FakeClock::new();
/// {
///     let _guard = fake.clock().enter();
///     assert!(Clock::current().is_fake());
///     let t = gotimer::Timer::new(Duration::from_secs(5)); // on the fake clock
///     fake.advance(Duration::from_secs(5));
///     assert_eq!(t.c().try_recv(), Ok(fake.now()));
/// } // dropped: the thread's free functions use the system clock again
/// assert!(!Clock::current().is_fake());
/// ```
#[must_use = "the clock is current only while the guard lives"]
pub struct ClockGuard {
    /// The length of the thread's stack of entered clocks with this one on top.
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

impl Drop for ClockGuard {
    fn drop(&mut self) {
        let popped = ENTERED.try_with(|e| {
            let mut e = e.borrow_mut();
            let in_order = e.len() == self.depth;
            if in_order {
                e.pop();
                if e.is_empty() {
                    ANY_ENTERED.with(|a| a.set(false));
                }
            }
            in_order
        });
        if popped == Ok(false) && !std::thread::panicking() {
            panic!(
                "gotimer: ClockGuards dropped out of order: drop the guard of the innermost \
                 Clock::enter first"
            );
        }
    }
}

impl fmt::Debug for ClockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClockGuard")
            .field("depth", &self.depth)
            .finish()
    }
}
