//! `Timer::recv_async` and `Ticker::recv_async` (issue 19): Go 1.23 values and guarantees with
//! `stop` and `reset`, no crossbeam channel for a timer only awaited, cancel-safety, several tasks
//! on one timer, and a thread and a task on the same one.

mod common;

use common::counting::{live, Counting};
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

fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
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
    let t = Timer::new(Duration::from_millis(1));
    {
        let r = pin!(t.recv_async());
        assert!(poll(r).is_pending());
    }
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
    let t = Timer::new(Duration::from_millis(1));
    assert!(
        poll(pin!(t.recv_async())).is_pending(),
        "armed by the task, no channel"
    );
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
