//! `Timer::recv_async` and `Ticker::recv_async` (issue 19): Go 1.23 values and guarantees with
//! `stop` and `reset`, no crossbeam channel for a timer only awaited, cancel-safety, several tasks
//! on one timer, and a thread and a task on the same one.

mod common;
mod expected_panics;

use common::counting::{live, Counting};
use common::wakers::Counter;
use gotimer::{FakeClock, Ticker, Timer};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The memory test reads the process-wide live bytes: the others wait.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const SEC: Duration = Duration::from_secs(1);

/// A timer on the system clock, due 1 ms after it was made, whose first `recv_async` poll found it
/// pending (and so armed it for tasks, with no channel), the future then dropped. A thread
/// descheduled past that millisecond, as on a loaded machine, makes another.
fn waited_on_by_a_task_1ms_early() -> Timer {
    (0..1000)
        .find_map(|_| {
            let t = Timer::new(Duration::from_millis(1));
            let pending = poll(pin!(t.recv_async())).is_pending();
            pending.then_some(t)
        })
        .expect("no first poll within 1 ms of making the timer, in 1000 tries")
}

fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    poll_with(f, Waker::noop())
}

fn poll_with<F: Future>(f: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(waker))
}

#[test]
fn a_timer_gets_its_due_instant_and_no_stale_value_after_stop_or_reset() {
    let _serial = serial();
    let fake = FakeClock::new();
    let t = fake.clock().timer(SEC);
    fake.advance(SEC);
    let due = fake.now();
    assert_eq!(pollster::block_on(t.recv_async()), due);
    // Fired, not received: stop discards it, and the next receive waits.
    assert!(!t.reset(SEC));
    fake.advance(SEC);
    assert!(t.stop(), "fired but unreceived: true");
    assert!(poll(pin!(t.recv_async())).is_pending(), "no stale value");
    // Reset: only the new deadline's value.
    assert!(!t.reset(2 * SEC));
    fake.advance(SEC);
    let mut r = pin!(t.recv_async());
    assert!(poll(r.as_mut()).is_pending());
    fake.advance(SEC);
    assert_eq!(poll(r.as_mut()), Poll::Ready(fake.now()));
}

#[test]
fn a_timer_only_awaited_makes_no_crossbeam_channel() {
    let _serial = serial();
    // On the system clock, where a timer is parked until it is waited on: the first poll of
    // `recv_async` arms it with the tasks' slot, not the 664-byte channel.
    let n = 1000;
    let timers: Vec<Timer> = (0..n).map(|_| Timer::new(3600 * SEC)).collect();
    let before = live();
    let mut futures: Vec<_> = timers.iter().map(|t| Box::pin(t.recv_async())).collect();
    for f in &mut futures {
        assert!(poll(f.as_mut()).is_pending());
    }
    let each = (live() - before) as usize / n;
    assert!(
        each < 300,
        "{each} bytes per awaited timer: a channel was made"
    );
    drop(futures);
    drop(timers);
}

#[test]
fn a_dropped_receive_loses_nothing() {
    let _serial = serial();
    let fake = FakeClock::new();
    let t = fake.clock().timer(SEC);
    {
        let r = pin!(t.recv_async());
        assert!(poll(r).is_pending());
    } // dropped while waiting, as a select! whose other branch won
    fake.advance(SEC);
    assert_eq!(poll(pin!(t.recv_async())), Poll::Ready(fake.now()));
    // On the system clock too, with no channel made.
    let t = waited_on_by_a_task_1ms_early();
    std::thread::sleep(Duration::from_millis(3));
    assert!(pollster::block_on(t.recv_async()) <= Instant::now());
}

#[test]
fn each_tick_goes_to_exactly_one_of_several_tasks() {
    let _serial = serial();
    let fake = FakeClock::new();
    let ticker = fake.clock().ticker(SEC);
    let mut waiting: Vec<_> = (0..3).map(|_| Box::pin(ticker.recv_async())).collect();
    for w in &mut waiting {
        assert!(poll(w.as_mut()).is_pending());
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        fake.advance(SEC);
        let ready: Vec<usize> = (0..waiting.len())
            .filter(|&i| poll(waiting[i].as_mut()).is_ready())
            .collect();
        assert_eq!(ready.len(), 1, "one task per tick");
        got.push(waiting.remove(ready[0]));
    }
    assert!(waiting.is_empty(), "none left waiting while ticks came");
}

#[test]
fn tasks_on_executor_threads_share_a_ticker_and_none_is_starved() {
    let _serial = serial();
    let ticker = std::sync::Arc::new(Ticker::new(Duration::from_millis(1)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let total = rt.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let ticker = ticker.clone();
                tokio::spawn(async move {
                    let mut last = None;
                    for _ in 0..5 {
                        let tick = ticker.recv_async().await;
                        assert!(last.is_none_or(|l| tick > l), "ticks in order");
                        last = Some(tick);
                    }
                    5
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    assert_eq!(total, 20);
}

#[test]
fn a_thread_and_a_task_on_one_timer_each_get_one_value() {
    let _serial = serial();
    let fake = FakeClock::new();
    let t = fake.clock().timer(SEC);
    let mut task = pin!(t.recv_async());
    assert!(poll(task.as_mut()).is_pending());
    fake.advance(SEC);
    // The thread receives through c() first: the task finds nothing and waits.
    assert_eq!(t.c().try_recv(), Ok(fake.now()));
    assert!(poll(task.as_mut()).is_pending());
    t.reset(SEC);
    fake.advance(SEC);
    assert_eq!(poll(task.as_mut()), Poll::Ready(fake.now()));
    assert!(t.c().try_recv().is_err(), "taken by the task");
}

#[test]
fn a_value_waiting_for_tasks_moves_to_the_channel_when_a_thread_asks_for_it() {
    let _serial = serial();
    // Armed by the task, with no channel.
    let t = waited_on_by_a_task_1ms_early();
    std::thread::sleep(Duration::from_millis(3));
    // Fired by the driver into the tasks' slot (or by c() itself): c() finds it either way.
    let due = t
        .c()
        .recv_timeout(Duration::from_secs(30))
        .expect("the value moved to the channel");
    assert!(due <= Instant::now());
    assert!(poll(pin!(t.recv_async())).is_pending(), "received once");
}

#[test]
fn an_after_func_timer_never_delivers_to_a_task() {
    let fake = FakeClock::new();
    let t = fake.clock().after_func(SEC, || {});
    let mut r = pin!(t.recv_async());
    fake.advance(2 * SEC);
    assert!(poll(r.as_mut()).is_pending());
}

#[test]
fn a_ticker_waited_on_by_tasks_stops_and_resets_as_gos() {
    let _serial = serial();
    let fake = FakeClock::new();
    let ticker = fake.clock().ticker(SEC);
    let t0 = fake.now();
    fake.advance(3 * SEC);
    assert_eq!(
        pollster::block_on(ticker.recv_async()),
        t0 + SEC,
        "one tick waited"
    );
    fake.advance(SEC);
    ticker.stop();
    assert!(
        poll(pin!(ticker.recv_async())).is_pending(),
        "the waiting tick was dropped"
    );
    ticker.reset(2 * SEC);
    fake.advance(2 * SEC);
    assert_eq!(pollster::block_on(ticker.recv_async()), fake.now());
}

#[test]
fn the_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let t = Timer::new(SEC);
    send(&t.recv_async());
    let k = Ticker::new(SEC);
    send(&k.recv_async());
}

/// A waker that panics when woken.
struct Panics;

impl std::task::Wake for Panics {
    fn wake(self: std::sync::Arc<Self>) {
        panic!("a task waker that panics on purpose");
    }
}

#[test]
fn a_panicking_waker_does_not_cost_the_other_waiting_tasks_their_wake() {
    use std::sync::Arc;
    let _serial = serial();
    let fake = FakeClock::new();
    let clock = fake.clock();
    let panics = Waker::from(Arc::new(Panics));
    let counts = Arc::new(Counter::default());
    let good = Waker::from(counts.clone());
    let t = clock.timer(SEC);
    let mut first = pin!(t.recv_async());
    let mut second = pin!(t.recv_async());
    assert!(poll_with(first.as_mut(), &panics).is_pending());
    assert!(poll_with(second.as_mut(), &good).is_pending());
    fake.advance(SEC);
    assert_eq!(clock.stats().callback_panics, 1, "counted");
    assert_eq!(
        counts.0.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "woken all the same"
    );
    assert_eq!(poll_with(second.as_mut(), &good), Poll::Ready(fake.now()));

    // A ticker's next tick still wakes the task that waits again.
    let ticker = clock.ticker(SEC);
    let mut first = pin!(ticker.recv_async());
    let mut second = pin!(ticker.recv_async());
    assert!(poll_with(first.as_mut(), &panics).is_pending());
    assert!(poll_with(second.as_mut(), &good).is_pending());
    fake.advance(SEC);
    assert!(poll_with(second.as_mut(), &good).is_ready());
    let mut again = pin!(ticker.recv_async());
    assert!(poll_with(again.as_mut(), &good).is_pending());
    fake.advance(SEC);
    assert_eq!(counts.0.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert!(clock.stats().callback_panics >= 2);
}

/// A waker that panics when woken, with its name and `EXPECTED` in the message.
struct PanicsNamed(&'static str);

impl std::task::Wake for PanicsNamed {
    fn wake(self: std::sync::Arc<Self>) {
        panic!("{} panics on purpose {}", self.0, expected_panics::EXPECTED);
    }
}

#[test]
fn each_of_several_panicking_wakers_of_one_fire_is_counted_and_reported() {
    use std::sync::Arc;
    let _serial = serial();
    expected_panics::quiet();
    let fake = FakeClock::new();
    let clock = fake.clock();
    let counts = Arc::new(Counter::default());
    let good = Waker::from(counts.clone());
    let t = clock.timer(SEC);
    let mut a = pin!(t.recv_async());
    let mut b = pin!(t.recv_async());
    let mut c = pin!(t.recv_async());
    assert!(poll_with(a.as_mut(), &Waker::from(Arc::new(PanicsNamed("waker a")))).is_pending());
    assert!(poll_with(b.as_mut(), &Waker::from(Arc::new(PanicsNamed("waker b")))).is_pending());
    assert!(poll_with(c.as_mut(), &good).is_pending());
    fake.advance(SEC);
    assert_eq!(clock.stats().callback_panics, 2, "each counted");
    assert_eq!(
        counts.0.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the good one woken all the same"
    );
    let mut reported: Vec<String> = expected_panics::reports()
        .into_iter()
        .map(|r| r.message)
        .filter(|m| m.starts_with("waker a") || m.starts_with("waker b"))
        .collect();
    // None when `GOTIMER_TEST_SHOW_EXPECTED_PANICS=1` sends them to stderr instead.
    if std::env::var_os("GOTIMER_TEST_SHOW_EXPECTED_PANICS").is_none_or(|v| v != "1") {
        reported.sort();
        assert_eq!(reported.len(), 2, "each reported: {reported:?}");
        assert!(reported[0].starts_with("waker a") && reported[1].starts_with("waker b"));
    }
    assert_eq!(poll_with(c.as_mut(), &good), Poll::Ready(fake.now()));
}

/// A waker whose clones after the first panic: the first is the one a task's poll stores, and the
/// firing thread clones the stored one to wake it outside the slot's lock. Its wakes count in
/// `counts`.
fn clones_once(counts: &std::sync::Arc<Counter>) -> Waker {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use std::task::{RawWaker, RawWakerVTable};
    struct Data {
        counts: Arc<Counter>,
        clones: AtomicUsize,
    }
    fn clone(p: *const ()) -> RawWaker {
        // SAFETY (for every function here): `p` is from `Arc::into_raw` of a `Data` below, and
        // each `RawWaker` made from it owns one count of that `Arc`, given back once by `drop` or
        // `wake`.
        let data = unsafe { &*(p as *const Data) };
        if data.clones.fetch_add(1, SeqCst) >= 1 {
            panic!("a waker whose clone panics on purpose");
        }
        unsafe { Arc::increment_strong_count(p as *const Data) };
        RawWaker::new(p, &VTABLE)
    }
    fn wake(p: *const ()) {
        wake_by_ref(p);
        drop_(p);
    }
    fn wake_by_ref(p: *const ()) {
        // SAFETY: as in `clone`.
        let data = unsafe { &*(p as *const Data) };
        data.counts.0.fetch_add(1, SeqCst);
    }
    fn drop_(p: *const ()) {
        // SAFETY: as in `clone`.
        drop(unsafe { Arc::from_raw(p as *const Data) });
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_);
    let data = Arc::new(Data {
        counts: counts.clone(),
        clones: AtomicUsize::new(0),
    });
    // SAFETY: the functions of `VTABLE` keep `RawWaker`'s contract for this data (see `clone`).
    unsafe { Waker::from_raw(RawWaker::new(Arc::into_raw(data) as *const (), &VTABLE)) }
}

#[test]
fn a_waker_whose_clone_panics_does_not_cost_the_other_waiting_tasks_their_wake() {
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::Arc;
    let _serial = serial();
    let fake = FakeClock::new();
    let clock = fake.clock();
    let (bad, good) = (Arc::new(Counter::default()), Arc::new(Counter::default()));
    let (bad_waker, good_waker) = (clones_once(&bad), Waker::from(good.clone()));
    let ticker = clock.ticker(SEC);
    let mut first = pin!(ticker.recv_async());
    let mut second = pin!(ticker.recv_async());
    assert!(poll_with(first.as_mut(), &bad_waker).is_pending());
    assert!(poll_with(second.as_mut(), &good_waker).is_pending());
    fake.advance(SEC);
    assert_eq!(clock.stats().callback_panics, 1, "counted");
    assert_eq!(
        good.0.load(SeqCst),
        1,
        "the other task is woken all the same"
    );
    assert_eq!(bad.0.load(SeqCst), 0, "no waker to wake it with");
    assert_eq!(
        poll_with(second.as_mut(), &good_waker),
        Poll::Ready(fake.now())
    );
    // Still waiting, the task whose waker could not be cloned is tried again at the next tick.
    fake.advance(SEC);
    assert_eq!(clock.stats().callback_panics, 2);
    assert_eq!(
        poll_with(first.as_mut(), &bad_waker),
        Poll::Ready(fake.now())
    );
}

#[test]
fn a_first_c_that_wakes_the_tasks_keeps_their_wakers_panics_off_the_caller() {
    // Two timers due at the same instant fire in one batch of the driver, each awaited by two
    // tasks: one whose waker blocks the driver the first time any is woken, one whose waker
    // panics. While the first timer's notification blocks, the other's value waits in its tasks'
    // slot with its tasks registered; its first `c()` moves the value to the channel and wakes
    // those tasks, and a panic there is counted and reported, not raised from `c()`.
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::{mpsc, Arc};
    struct BlocksOnce {
        index: usize,
        blocked: Arc<AtomicBool>,
        entered: mpsc::SyncSender<usize>,
        release: Arc<(Mutex<bool>, std::sync::Condvar)>,
    }
    impl std::task::Wake for BlocksOnce {
        fn wake(self: Arc<Self>) {
            if !self.blocked.swap(true, SeqCst) {
                self.entered.send(self.index).unwrap();
                let (lock, cv) = &*self.release;
                let mut released = lock.lock().unwrap();
                while !*released {
                    released = cv.wait(released).unwrap();
                }
            }
        }
    }
    let _serial = serial();
    let panics_before = gotimer::stats().callback_panics;
    let due = Instant::now() + Duration::from_millis(20);
    let timers = [Timer::at(due), Timer::at(due)];
    let blocked = Arc::new(AtomicBool::new(false));
    let release = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let (entered, which) = mpsc::sync_channel(2);
    let panics = Waker::from(Arc::new(Panics));
    let mut waits: Vec<_> = timers.iter().map(|t| Box::pin(t.recv_async())).collect();
    let mut more: Vec<_> = timers.iter().map(|t| Box::pin(t.recv_async())).collect();
    for (index, (wait, more)) in waits.iter_mut().zip(&mut more).enumerate() {
        let blocks = Waker::from(Arc::new(BlocksOnce {
            index,
            blocked: blocked.clone(),
            entered: entered.clone(),
            release: release.clone(),
        }));
        assert!(poll_with(wait.as_mut(), &blocks).is_pending());
        assert!(poll_with(more.as_mut(), &panics).is_pending());
    }
    let first = which.recv_timeout(Duration::from_secs(30)).unwrap();
    let other = &timers[1 - first];
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| other.c().try_recv()));
    {
        let (lock, cv) = &*release;
        *lock.lock().unwrap() = true;
        cv.notify_all();
    }
    assert_eq!(
        got.expect("a task waker's panic came out of c()"),
        Ok(due),
        "the value moved to the channel"
    );
    // Both panicking wakers counted: the one `c()` woke, and the first timer's, once released.
    let deadline = Instant::now() + Duration::from_secs(30);
    while gotimer::stats().callback_panics < panics_before + 2 {
        assert!(Instant::now() < deadline, "the panics were not counted");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_stop_or_reset_racing_the_first_c_sees_the_value_wherever_it_waits() {
    // A value waits in a timer's tasks' slot; one thread calls `c()` for the first time, which
    // moves it to the channel, while another stops or resets the timer right then. Go 1.23: the
    // stop (or reset) reports the value as not received, and nothing is received after it. A
    // race, so a probe: before the fix (the receiver's cell was set after the lock that moved the
    // value), this failed in one of three runs.
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Barrier};
    let _serial = serial();
    const BATCH: usize = 256;
    for round in 0..160 {
        let reset = round % 2 == 1;
        let due = Instant::now() + Duration::from_millis(5);
        let timers: Arc<Vec<Timer>> = Arc::new((0..BATCH).map(|_| Timer::at(due)).collect());
        // Armed by a task's poll (one that finds its timer due already takes the value: that
        // timer is left out).
        let armed: Vec<bool> = timers
            .iter()
            .map(|t| poll(pin!(t.recv_async())).is_pending())
            .collect();
        // Fired by the driver by then, on an idle enough machine: the values wait in the tasks'
        // slots (a timer the driver has not fired yet is fired by `c()` itself, which races no
        // one).
        std::thread::sleep(
            due.saturating_duration_since(Instant::now()) + Duration::from_millis(2),
        );
        let announced = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(2));
        let first_c = {
            let (timers, announced, start) = (timers.clone(), announced.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for (k, t) in timers.iter().enumerate() {
                    announced.store(k + 1, SeqCst);
                    let _ = t.c();
                }
            })
        };
        start.wait();
        let mut reported = [false; BATCH];
        for (k, t) in timers.iter().enumerate() {
            while announced.load(SeqCst) <= k {
                std::hint::spin_loop();
            }
            reported[k] = if reset { t.reset(3600 * SEC) } else { t.stop() };
        }
        first_c.join().unwrap();
        for (k, t) in timers.iter().enumerate().filter(|&(k, _)| armed[k]) {
            let op = if reset { "reset" } else { "stop" };
            assert!(reported[k], "round {round}, timer {k}: {op} returned false");
            assert!(
                t.c().try_recv().is_err(),
                "round {round}, timer {k}: a value received after {op} returned"
            );
        }
    }
}

#[test]
fn two_first_calls_of_c_at_once_both_see_what_was_due() {
    // Go's `maybeRunChan`: a receive from the channel after the deadline finds the value, whichever
    // of two threads calling `c()` for the first time at once made the channel. A race, so a probe.
    use std::sync::{Arc, Barrier};
    let _serial = serial();
    for _ in 0..2000 {
        let t = Arc::new(Timer::new(Duration::from_nanos(1)));
        std::thread::sleep(Duration::from_micros(5));
        let start = Arc::new(Barrier::new(2));
        let other = {
            let (t, start) = (t.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let _ = t.c();
            })
        };
        start.wait();
        let got = t.c().try_recv();
        other.join().unwrap();
        assert!(
            got.is_ok(),
            "c() returned before the due value was in its channel"
        );
    }
}
