//! What the runtime holds, through `gotimer::stats().pending`: dropping frees at once, `after` holds
//! nothing, a dropped `tick` receiver frees its ticker within a period or two.
//!
//! `pending` counts the timers in the wheels: a `Timer` or `Ticker` enters its wheel when its
//! channel is first asked for (`c()`), so the tests that count them call it (`waited`).
//!
//! `pending` counts every timer in the process, so the tests of this binary run one at a time
//! (each takes `SERIAL`), and nothing else in this process makes timers.

use gotimer::{after, after_func, sleep, stats, tick, Ticker, Timer};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

static SERIAL: Mutex<()> = Mutex::new(());

/// A timer or ticker that someone waits on: its channel asked for, so it is in its wheel.
fn waited<T: Waitable>(t: T) -> T {
    t.ask();
    t
}

trait Waitable {
    fn ask(&self);
}
impl Waitable for Timer {
    fn ask(&self) {
        let _ = self.c();
    }
}
impl Waitable for Ticker {
    fn ask(&self) {
        let _ = self.c();
    }
}

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn pending() -> usize {
    stats().pending
}

/// Polls `pending()` until it equals `want`; returns how long that took, or `None` after `limit`.
fn pending_falls_to(want: usize, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if pending() == want {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        sleep(MS);
    }
}

#[test]
fn drop_frees_timers_and_tickers_at_once() {
    let _serial = serial();
    let base = pending();
    let timers: Vec<Timer> = (0..100).map(|_| waited(Timer::new(HOUR))).collect();
    let tickers: Vec<Ticker> = (0..100).map(|_| waited(Ticker::new(HOUR))).collect();
    assert_eq!(pending(), base + 200);
    drop(timers);
    assert_eq!(pending(), base + 100, "dropped timers are freed at once");
    drop(tickers);
    assert_eq!(pending(), base, "dropped tickers are freed at once");

    // Stop frees too; reset puts it back.
    let t = waited(Timer::new(HOUR));
    assert_eq!(pending(), base + 1);
    assert!(t.stop());
    assert_eq!(pending(), base);
    t.reset(HOUR);
    assert_eq!(pending(), base + 1);
    drop(t);
    assert_eq!(pending(), base);

    // A fired timer is out of the wheel, received or not.
    let t = waited(Timer::new(MS));
    assert!(pending_falls_to(base, Duration::from_secs(10)).is_some());
    drop(t);
    assert_eq!(pending(), base);
}

#[test]
fn channel_timers_enter_the_wheel_when_their_channel_is_asked_for() {
    let _serial = serial();
    let base = pending();
    // Made, reset and stopped without anyone waiting: never in a wheel (Go 1.23's rule too).
    let t = Timer::new(HOUR);
    let k = Ticker::new(HOUR);
    assert!(t.reset(2 * HOUR), "a parked timer is pending");
    k.reset(2 * HOUR);
    assert_eq!(pending(), base, "nobody waits yet: parked, not in a wheel");
    let _ = t.c();
    let _ = k.c();
    assert_eq!(
        pending(),
        base + 2,
        "asked for their channels: in the wheel"
    );
    assert!(t.stop());
    k.stop();
    assert_eq!(pending(), base);
    // Stopped before it was ever waited on: asking for the channel files nothing.
    let s = Timer::new(HOUR);
    assert!(s.stop());
    let _ = s.c();
    assert_eq!(pending(), base);
    assert!(!s.stop(), "already stopped");
    drop((t, k, s));
    assert_eq!(pending(), base);
}

#[test]
fn out_of_range_timers_are_not_in_the_wheel() {
    let _serial = serial();
    let base = pending();
    let t = waited(Timer::new(Duration::MAX));
    let k = waited(Ticker::new(Duration::MAX));
    let f = after_func(Duration::MAX, || {});
    assert_eq!(pending(), base);
    t.reset(HOUR);
    assert_eq!(pending(), base + 1);
    t.reset(Duration::MAX);
    assert_eq!(
        pending(),
        base,
        "moving a timer out of range takes it out of the wheel"
    );
    assert!(f.stop());
    drop((t, k, f));
    assert_eq!(pending(), base);
}

#[test]
fn after_registers_nothing() {
    let _serial = serial();
    let base = pending();
    let rxs: Vec<_> = (0..1000).map(|_| after(HOUR)).collect();
    assert_eq!(pending(), base, "after() must not register a timer");
    drop(rxs);
    assert_eq!(pending(), base);
}

#[test]
fn after_func_pending_until_it_runs_or_is_stopped() {
    let _serial = serial();
    let base = pending();
    let f = after_func(HOUR, || {});
    assert_eq!(pending(), base + 1);
    assert!(f.stop());
    assert_eq!(pending(), base);
    // Dropping the handle does not cancel: it stays until it runs.
    let (tx, rx) = crossbeam_channel::bounded(1);
    drop(after_func(30 * MS, move || tx.send(()).unwrap()));
    assert_eq!(
        pending(),
        base + 1,
        "a dropped after_func handle does not cancel"
    );
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(pending(), base);
}

#[test]
fn dropped_tick_receiver_frees_its_ticker_within_a_period_or_two() {
    let _serial = serial();
    let base = pending();
    // The ticker frees itself at its first tick after the drop, so within one period; we allow
    // two, plus the driver's wakeup. Retried with longer periods if the machine is too slow.
    let mut errors = Vec::new();
    for period in [50 * MS, 200 * MS, 1000 * MS] {
        let rx = tick(period);
        assert_eq!(pending(), base + 1);
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        drop(rx);
        match pending_falls_to(base, 2 * period) {
            Some(_) => {
                // Several receivers: freed only once the last one is gone.
                let rx = tick(period);
                let clone = rx.clone();
                drop(rx);
                sleep(3 * period);
                assert_eq!(pending(), base + 1, "freed while a clone is alive");
                drop(clone);
                if pending_falls_to(base, 2 * period).is_some() {
                    return;
                }
                errors.push(format!(
                    "{period:?}: the clone's ticker outlived two periods"
                ));
            }
            None => errors.push(format!(
                "{period:?}: still pending two periods after the drop"
            )),
        }
        // Not freed in time: it must still be freed eventually.
        assert!(
            pending_falls_to(base, Duration::from_secs(10)).is_some(),
            "a dropped tick receiver's ticker is never freed"
        );
    }
    panic!("too slow at every period: {errors:?}");
}

#[test]
fn many_pending_timers_all_stop() {
    let _serial = serial();
    let base = pending();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                let ts: Vec<Timer> = (0..10_000).map(|i| Timer::new(HOUR + MS * i)).collect();
                ts.iter().filter(|t| t.stop()).count()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 10_000);
    }
    assert_eq!(pending(), base);
}
