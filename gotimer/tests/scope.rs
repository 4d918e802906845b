//! `Clock::scope` and virtual time for tasks (issue 19): the clock a scoped task's gotimer calls
//! bind to, advances that wait at every step for the scoped tasks to go idle (Go 1.25's
//! `testing/synctest` rule), on several executors, `advance_async` on a current-thread runtime,
//! the report of a task that keeps an advance waiting, and the documented limits.

use gotimer::future::{sleep, timeout};
use gotimer::{Clock, FakeClock};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);

fn tokio_mt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// A fake clock whose advances wait `limit` of real time at most for the scoped tasks, and its
/// time now.
fn fake_clock(limit: Duration) -> (FakeClock, Instant) {
    let fake = FakeClock::new();
    fake.set_settle_limit(limit);
    let start = fake.now();
    (fake, start)
}

/// A task that sleeps `n` times for a second and records the clock's time after each.
async fn ticks(n: usize, seen: Arc<Mutex<Vec<Instant>>>) {
    for _ in 0..n {
        sleep(SEC).await;
        seen.lock().unwrap().push(Clock::current().now());
    }
}

#[test]
fn scoped_tasks_on_tokio_see_every_deadline_in_one_advance() {
    let fake = FakeClock::new();
    let t0 = fake.now();
    let rt = tokio_mt();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..8)
        .map(|_| rt.spawn(fake.clock().scope(ticks(5, seen.clone()))))
        .collect();
    // No wait_for_waiters: the tasks count as runnable until their first poll.
    fake.advance(10 * SEC);
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 40);
    for k in 1..=5u32 {
        let at = t0 + k * SEC;
        assert_eq!(
            seen.iter().filter(|&&s| s == at).count(),
            8,
            "each task woke at {k} s, read now() equal to its deadline, and slept from there"
        );
    }
}

#[test]
fn scoped_tasks_on_smol_and_on_a_thread_obey_virtual_time() {
    let fake = FakeClock::new();
    let t0 = fake.now();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let ex = Arc::new(smol::Executor::new());
    let task = ex.spawn(fake.clock().scope(ticks(3, seen.clone())));
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let runner = {
        let ex = ex.clone();
        std::thread::spawn(move || smol::block_on(ex.run(stopped.recv())))
    };
    let by_hand = {
        let work = fake.clock().scope(ticks(3, seen.clone()));
        std::thread::spawn(move || pollster::block_on(work))
    };
    fake.advance(3 * SEC);
    smol::block_on(task);
    by_hand.join().unwrap();
    drop(stop);
    let _ = runner.join();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    let want: Vec<Instant> = [1u32, 1, 2, 2, 3, 3]
        .iter()
        .map(|&k| t0 + k * SEC)
        .collect();
    assert_eq!(seen, want);
}

#[test]
fn a_task_woken_by_a_channel_runs_before_time_moves_on() {
    // B sleeps then sends; A waits for B's message, then sleeps from the time it got it.
    let fake = FakeClock::new();
    let t0 = fake.now();
    let rt = tokio_mt();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Instant>(1);
    let a = rt.spawn(fake.clock().scope(async move {
        let sent = rx.recv().await.unwrap();
        let got = Clock::current().now();
        sleep(SEC).await;
        (sent, got, Clock::current().now())
    }));
    let b = rt.spawn(fake.clock().scope(async move {
        sleep(2 * SEC).await;
        tx.send(Clock::current().now()).await.unwrap();
    }));
    fake.advance(3 * SEC);
    rt.block_on(b).unwrap();
    let (sent, got, woke) = rt.block_on(a).unwrap();
    assert_eq!(
        (sent, got, woke),
        (t0 + 2 * SEC, t0 + 2 * SEC, t0 + 3 * SEC)
    );
}

#[test]
fn gotimer_calls_in_a_scoped_task_bind_to_its_clock_on_any_worker() {
    let fake = FakeClock::new();
    let rt = tokio_mt();
    let clock = fake.clock();
    let task = rt.spawn(clock.scope(async {
        let t = gotimer::Timer::new(SEC); // the free function: bound to the fake clock
        assert!(Clock::current().is_fake());
        t.recv_async().await
    }));
    assert!(fake.wait_for_waiters(1, Duration::from_secs(30)));
    fake.advance(SEC);
    assert_eq!(rt.block_on(task).unwrap(), fake.now());
    // On the system clock a scope only enters it.
    let _guard = fake.clock().enter();
    let inner = pollster::block_on(Clock::system().scope(async { Clock::current().is_fake() }));
    assert!(!inner);
}

#[test]
fn advance_async_lets_a_current_thread_runtime_run_its_tasks() {
    let fake = FakeClock::new();
    let t0 = fake.now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let worker = tokio::spawn(fake.clock().scope(ticks(3, seen.clone())));
        fake.advance_async(3 * SEC).await;
        worker.await.unwrap();
    });
    let want: Vec<Instant> = (1..=3u32).map(|k| t0 + k * SEC).collect();
    assert_eq!(*seen.lock().unwrap(), want);
    // The test body scoped too: its own scope is left out of the wait.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let clock = fake.clock();
    rt.block_on(clock.scope(async {
        let worker = tokio::spawn(fake.clock().scope(ticks(2, seen.clone())));
        fake.advance_async(2 * SEC).await;
        worker.await.unwrap();
        assert_eq!(Clock::current().now(), t0 + 5 * SEC);
    }));
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn a_timeout_in_a_scoped_task_elapses_in_virtual_time() {
    let fake = FakeClock::new();
    let rt = tokio_mt();
    let (_tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = rt.spawn(
        fake.clock()
            .scope(async move { timeout(30 * SEC, rx).await.is_err() }),
    );
    fake.advance(30 * SEC);
    assert!(
        rt.block_on(task).unwrap(),
        "elapsed at 30 s of virtual time"
    );
}

#[test]
fn an_advance_that_cannot_settle_names_the_task_that_keeps_it() {
    let fake = FakeClock::new();
    fake.set_settle_limit(Duration::from_millis(50));
    let line = line!() + 1;
    let never_polled = fake.clock().scope(async {});
    let start = Instant::now();
    let err = catch_unwind(AssertUnwindSafe(|| fake.advance(SEC))).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(
        msg.contains(&format!("scope.rs:{line}:")) && msg.contains("made and never polled"),
        "{msg}"
    );
    drop(never_polled);
    // Gone: the clock moves again.
    fake.advance(SEC);
    // A task woken and never polled again (its executor dropped) is named too.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let line = line!() + 1;
    let task = fake.clock().scope(async { sleep(SEC).await });
    let handle = rt.spawn(task);
    rt.block_on(async { tokio::task::yield_now().await });
    drop(handle);
    let err = catch_unwind(AssertUnwindSafe(|| fake.advance(SEC))).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains(&format!("scope.rs:{line}:")) && msg.contains("woken and not polled again"),
        "{msg}"
    );
    drop(rt);
    fake.advance(SEC);
}

#[test]
fn a_task_that_never_yields_is_named_as_inside_a_poll() {
    let fake = FakeClock::new();
    fake.set_settle_limit(Duration::from_millis(50));
    let release = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let entered = Arc::new(std::sync::Barrier::new(2));
    let line = line!() + 1;
    let hog = fake.clock().scope({
        let (release, entered) = (release.clone(), entered.clone());
        async move {
            entered.wait();
            // A poll that does not return: blocking work on an executor thread.
            while !release.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    let worker = std::thread::spawn(move || pollster::block_on(hog));
    entered.wait();
    let err = catch_unwind(AssertUnwindSafe(|| fake.advance(SEC))).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains(&format!("scope.rs:{line}:"))
            && msg.contains("inside a poll that has not returned"),
        "{msg}"
    );
    release.store(true, std::sync::atomic::Ordering::SeqCst);
    worker.join().unwrap();
    fake.advance(SEC);
}

#[test]
fn tasks_outside_every_scope_are_not_waited_for() {
    // The documented limit: an unscoped future that is never polled does not hold an advance.
    let fake = FakeClock::new();
    let _unscoped = fake.clock().sleep_async(SEC);
    fake.advance(2 * SEC);
    assert_eq!(
        fake.waiters(),
        0,
        "its sleep fired; nobody waited for the task"
    );
}

#[test]
fn a_scoped_task_that_panics_does_not_hold_the_clock() {
    let fake = FakeClock::new();
    fake.set_settle_limit(Duration::from_secs(30));
    let rt = tokio_mt();
    let task = rt.spawn(fake.clock().scope(async {
        sleep(SEC).await;
        panic!("a scoped task that panics");
    }));
    fake.advance(2 * SEC);
    assert!(rt.block_on(task).unwrap_err().is_panic());
    fake.advance(SEC);
}

#[test]
fn wait_for_waiters_counts_the_sleeps_of_tasks() {
    let fake = FakeClock::new();
    let rt = tokio_mt();
    // Made inside the scope (`sleep(SEC)` as the scope's argument would bind to the caller's
    // clock, the system one).
    let task = rt.spawn(fake.clock().scope(async { sleep(SEC).await }));
    assert!(fake.wait_for_waiters(1, Duration::from_secs(30)));
    fake.advance(SEC);
    rt.block_on(task).unwrap();
}

#[test]
fn scoped_is_send_static_and_unpin_when_its_future_is() {
    fn check<T: Send + 'static + Unpin>(_: &T) {}
    let fake = FakeClock::new();
    let s = fake.clock().scope(std::future::ready(1));
    check(&s);
    assert_eq!(pollster::block_on(s), 1);
}

#[test]
fn nested_scopes_of_one_clock_are_all_left_out_of_their_own_advance() {
    // A helper that scopes its own work, awaited inside a scoped test body: both scopes wait for
    // the advance the inner one makes, so neither may hold it.
    let (fake, start) = fake_clock(Duration::from_secs(5));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let clock = fake.clock();
    let (outer_clock, f2) = (clock.clone(), fake.clone());
    let woke = rt.block_on(clock.scope(async move {
        outer_clock
            .scope(async move {
                let worker = tokio::spawn(Clock::current().scope(async {
                    sleep(SEC).await;
                    Clock::current().now()
                }));
                f2.advance_async(SEC).await;
                worker.await.unwrap()
            })
            .await
    }));
    assert_eq!(woke - start, SEC);

    // The blocking advance, from nested scopes polled by `block_on`, with a scoped sleeper on
    // another thread.
    let (fake, start) = fake_clock(Duration::from_secs(5));
    let clock = fake.clock();
    let sleeper = clock.scope(async {
        sleep(SEC).await;
        Clock::current().now()
    });
    let sleeper = std::thread::spawn(move || pollster::block_on(sleeper));
    let (inner_clock, f2) = (clock.clone(), fake.clone());
    futures::executor::block_on(
        clock.scope(async move { inner_clock.scope(async move { f2.advance(SEC) }).await }),
    );
    assert_eq!(sleeper.join().unwrap() - start, SEC);
}

#[test]
fn a_scoped_future_dropped_while_an_advance_waits_wakes_its_peers_first() {
    // A's future holds a sender whose drop tells B that A is gone; the drop takes a while. The
    // advance waits for A (never polled, so runnable) until it is dropped: it must then see B
    // woken by that drop, and let it run before time moves, so that B's timeout does not fire.
    struct SlowDrop {
        tx: Option<futures::channel::oneshot::Sender<()>>,
        saw_fake: Arc<Mutex<Option<bool>>>,
    }
    impl Drop for SlowDrop {
        fn drop(&mut self) {
            std::thread::sleep(Duration::from_millis(50));
            *self.saw_fake.lock().unwrap() = Some(Clock::current().is_fake());
            drop(self.tx.take());
        }
    }
    let rt = tokio_mt();
    for _ in 0..3 {
        let fake = FakeClock::new();
        fake.set_settle_limit(Duration::from_secs(30));
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let b = rt.spawn(
            fake.clock()
                .scope(async move { timeout(SEC, rx).await.is_ok() }),
        );
        let saw_fake = Arc::new(Mutex::new(None));
        let guard = SlowDrop {
            tx: Some(tx),
            saw_fake: saw_fake.clone(),
        };
        let a = fake.clock().scope(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        let dropper = std::thread::spawn(move || drop(a));
        fake.advance(5 * SEC);
        dropper.join().unwrap();
        assert!(
            rt.block_on(b).unwrap(),
            "B's timeout fired: the advance stepped on before A's drop woke B"
        );
        assert_eq!(
            *saw_fake.lock().unwrap(),
            Some(true),
            "A's destructor ran outside its clock"
        );
    }
}

#[test]
fn advance_async_counts_from_its_first_poll_and_adds_to_other_advances() {
    // Made, then another advance, then awaited: it still moves the clock its own 5 s.
    let fake = FakeClock::new();
    let start = fake.now();
    let later = fake.advance_async(5 * SEC);
    fake.advance(3 * SEC);
    futures::executor::block_on(later);
    assert_eq!(fake.now() - start, 8 * SEC);

    // Blocking advances from two threads at once run one after the other, each its own second.
    let fake = FakeClock::new();
    let start = fake.now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| fake.advance(SEC));
        }
    });
    assert_eq!(fake.now() - start, 2 * SEC);
}

#[test]
fn an_async_advance_in_a_scope_waits_for_a_busy_task_without_being_polled_again_and_again() {
    // A scoped task's `advance_async` is not woken by its own task's poll returning: it would be
    // polled again at once, for as long as the other task is busy.
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let (fake, start) = fake_clock(Duration::from_secs(10));
    let clock = fake.clock();
    let (started, is_started) = std::sync::mpsc::channel();
    let busy = clock.scope(async move {
        started.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    });
    let busy = std::thread::spawn(move || pollster::block_on(busy));
    is_started.recv().unwrap();
    let polls = Arc::new(AtomicUsize::new(0));
    let f2 = fake.clone();
    let mut advance = Box::pin(clock.scope(async move { f2.advance_async(SEC).await }));
    let counted = {
        let polls = polls.clone();
        std::future::poll_fn(move |cx| {
            polls.fetch_add(1, SeqCst);
            advance.as_mut().poll(cx)
        })
    };
    pollster::block_on(counted);
    busy.join().unwrap();
    assert_eq!(fake.now() - start, SEC);
    // Polled once to wait, once when the busy task went idle, and for spurious wakes at most.
    let polls = polls.load(SeqCst);
    assert!(polls < 20, "polled {polls} times while it waited 200 ms");

    // Two scoped tasks that each advance, joined on one thread, take turns: the first waits for
    // the second, which has not run yet, and is not woken until that one is done.
    let (fake, start) = fake_clock(Duration::from_secs(10));
    let clock = fake.clock();
    let (f1, f2) = (fake.clone(), fake.clone());
    pollster::block_on(async {
        futures::join!(
            clock.scope(async move { f1.advance_async(SEC).await }),
            clock.scope(async move { f2.advance_async(SEC).await }),
        )
    });
    assert_eq!(fake.now() - start, 2 * SEC);
}

#[test]
fn blocking_advances_from_scoped_tasks_on_two_threads_take_turns() {
    // Each advance waits for the other's task to go idle; the one that waits for the clock counts
    // as idle to the one that has it. Without that, both would wait until the limit.
    let (fake, start) = fake_clock(Duration::from_secs(5));
    let clock = fake.clock();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let f = fake.clone();
            let task = clock.scope(async move { f.advance(SEC) });
            std::thread::spawn(move || pollster::block_on(task))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(fake.now() - start, 2 * SEC);
}

#[test]
fn an_async_advance_waits_for_the_clock_without_blocking_its_executor() {
    // A current-thread runtime runs a scoped task that sleeps 1 ms at a time and an async advance
    // of 500 ms, while another thread makes fifty blocking advances of 10 ms, each waiting for
    // that task: the async advance must not hold the runtime's thread while it waits its turn.
    let ms = Duration::from_millis(1);
    let (fake, start) = fake_clock(Duration::from_secs(10));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let sleeper = tokio::spawn(fake.clock().scope(async move {
            loop {
                sleep(ms).await;
            }
        }));
        tokio::task::yield_now().await;
        let other = fake.clone();
        let other = std::thread::spawn(move || {
            for _ in 0..50 {
                other.advance(10 * ms);
            }
        });
        fake.advance_async(500 * ms).await;
        // The other thread's advances need the runtime to poll the sleeper too.
        while !other.is_finished() {
            tokio::task::yield_now().await;
        }
        other.join().unwrap();
        sleeper.abort();
    });
    assert_eq!(fake.now() - start, SEC);
}

#[test]
fn a_scoped_poll_that_woke_itself_and_panicked_leaves_the_task_idle() {
    // Kept by `catch_unwind` and never polled again, it must not hold the next advance.
    use futures::FutureExt;
    let fake = FakeClock::new();
    fake.set_settle_limit(Duration::from_secs(5));
    let wake_then_panic = async {
        std::future::poll_fn(|cx| {
            cx.waker().wake_by_ref();
            std::task::Poll::Ready(())
        })
        .await;
        panic!("a scoped task that woke itself, then panicked");
    };
    let mut kept = Box::pin(AssertUnwindSafe(fake.clock().scope(wake_then_panic)).catch_unwind());
    assert!(futures::executor::block_on(&mut kept).is_err());
    fake.advance(SEC);
}

/// The documented ways around wakes an executor makes after a poll returns (`Clock::scope`'s
/// limits), each exact where the executor's own wake is not.
#[test]
fn a_result_sent_on_a_channel_as_the_last_act_is_seen_before_time_moves() {
    // Where awaiting the child's `JoinHandle` is woken only after the child's last poll, a
    // oneshot sent inside that poll wakes the parent while the child still counts as running.
    let ms = Duration::from_millis(1);
    let rt = tokio_mt();
    for _ in 0..50 {
        let (fake, start) = fake_clock(Duration::from_secs(30));
        let parent = rt.spawn(fake.clock().scope(async move {
            let (tx, rx) = futures::channel::oneshot::channel();
            tokio::spawn(Clock::current().scope(async move {
                sleep(ms).await;
                let _ = tx.send(());
            }));
            rx.await.unwrap();
            Clock::current().now() - start
        }));
        // Other timers every millisecond, so that the advance has steps to take meanwhile.
        let ticker = rt.spawn(fake.clock().scope(async move {
            for _ in 0..50 {
                sleep(ms).await;
            }
        }));
        fake.advance(50 * ms);
        assert_eq!(rt.block_on(parent).unwrap(), ms);
        rt.block_on(ticker).unwrap();
    }
}

#[test]
fn a_yield_that_wakes_inside_its_poll_keeps_the_clock_still() {
    let rt = tokio_mt();
    for _ in 0..20 {
        let (fake, start) = fake_clock(Duration::from_secs(30));
        let yielder = rt.spawn(fake.clock().scope(async move {
            for _ in 0..200 {
                smol::future::yield_now().await;
            }
            Clock::current().now() - start
        }));
        fake.advance(SEC);
        assert_eq!(rt.block_on(yielder).unwrap(), Duration::ZERO);
    }
}

#[test]
fn an_unconstrained_task_drains_a_busy_tokio_channel_before_time_moves() {
    let rt = tokio_mt();
    for _ in 0..10 {
        let (fake, start) = fake_clock(Duration::from_secs(30));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
        for i in 0..2000 {
            tx.send(i).unwrap();
        }
        drop(tx);
        let drain = rt.spawn(fake.clock().scope(tokio::task::unconstrained(async move {
            let mut n = 0;
            while rx.recv().await.is_some() {
                n += 1;
            }
            (n, Clock::current().now() - start)
        })));
        fake.advance(SEC);
        assert_eq!(rt.block_on(drain).unwrap(), (2000, Duration::ZERO));
    }
}

#[test]
fn a_blocking_advance_on_a_tokio_worker_runs_in_block_in_place() {
    let (fake, start) = fake_clock(Duration::from_secs(30));
    let rt = tokio_mt();
    let (f2, clock) = (fake.clone(), fake.clock());
    let woke = rt.block_on(rt.spawn(async move {
        let worker = tokio::spawn(clock.scope(async {
            sleep(2 * SEC).await;
            Clock::current().now()
        }));
        tokio::task::block_in_place(|| f2.advance(2 * SEC));
        worker.await.unwrap()
    }));
    assert_eq!(woke.unwrap() - start, 2 * SEC);
}

#[test]
fn a_task_waiting_for_something_outside_every_scope_does_not_hold_an_advance() {
    // The documented limit: a scoped task blocked on I/O, or on a thread outside every scope, is
    // idle as far as the clock can tell. The advance runs to its end meanwhile, and the task's
    // next timers start from where it left the clock.
    let (fake, start) = fake_clock(Duration::from_secs(30));
    let rt = tokio_mt();
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let task = rt.spawn(fake.clock().scope(async move {
        rx.await.unwrap();
        let woke = Clock::current().now();
        sleep(SEC).await;
        (woke, Clock::current().now())
    }));
    fake.advance(10 * SEC);
    // The "I/O" completes only now, from a thread outside every scope.
    std::thread::spawn(move || tx.send(()).unwrap())
        .join()
        .unwrap();
    fake.advance(SEC);
    let (woke, slept) = rt.block_on(task).unwrap();
    assert_eq!(woke - start, 10 * SEC, "the clock moved while it waited");
    assert_eq!(slept - start, 11 * SEC);
}

#[test]
fn a_scoped_future_dropped_as_its_thread_exits_does_not_abort() {
    // Kept in a thread-local, as a thread-local executor keeps its tasks, it is dropped while the
    // thread's locals are torn down: after gotimer's own, made later.
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::Pin;
    type Held = RefCell<Option<Pin<Box<dyn Future<Output = ()>>>>>;
    thread_local! {
        static HELD: Held = const { RefCell::new(None) };
    }
    let fake = FakeClock::new();
    for clock in [fake.clock(), Clock::system()] {
        std::thread::spawn(move || {
            HELD.with(|_| {});
            let mut task: Pin<Box<dyn Future<Output = ()>>> = Box::pin(clock.scope(async {
                sleep(60 * SEC).await;
            }));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(task.as_mut().poll(&mut cx).is_pending());
            HELD.with(|h| *h.borrow_mut() = Some(task));
        })
        .join()
        .unwrap();
    }
    fake.advance(SEC); // the dropped task does not hold it
}

#[test]
fn an_async_advance_woken_inline_by_the_advance_it_waited_for_goes_on() {
    // A blocking advance holds the clock inside a callback; an async advance finds it held and
    // waits. When the blocking one lets go it wakes the async one, whose waker polls it inline on
    // that thread: it must take the clock there and run to its end.
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::mpsc;
    type Advance = Pin<Box<dyn Future<Output = ()> + Send>>;
    struct Inline(Mutex<Option<Advance>>, mpsc::SyncSender<()>);
    impl std::task::Wake for Inline {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref()
        }
        fn wake_by_ref(self: &Arc<Self>) {
            let waker = std::task::Waker::from(self.clone());
            let mut slot = self.0.lock().unwrap();
            if let Some(f) = slot.as_mut() {
                if f.as_mut()
                    .poll(&mut std::task::Context::from_waker(&waker))
                    .is_ready()
                {
                    *slot = None;
                    let _ = self.1.try_send(());
                }
            }
        }
    }
    let (fake, start) = fake_clock(Duration::from_secs(30));
    let (entered, held) = mpsc::sync_channel(0);
    let (release, go) = mpsc::sync_channel::<()>(0);
    let go = Mutex::new(go);
    fake.clock().after_func(SEC, move || {
        entered.send(()).unwrap();
        go.lock().unwrap().recv().unwrap();
    });
    let blocking = {
        let fake = fake.clone();
        std::thread::spawn(move || fake.advance(SEC))
    };
    held.recv().unwrap();
    let (done, finished) = mpsc::sync_channel(1);
    let task = Arc::new(Inline(
        Mutex::new(Some(Box::pin(fake.advance_async(5 * SEC)))),
        done,
    ));
    std::task::Wake::wake_by_ref(&task); // its first poll finds the clock held
    release.send(()).unwrap();
    finished
        .recv_timeout(Duration::from_secs(30))
        .expect("the async advance, woken inline, never finished");
    blocking.join().unwrap();
    assert_eq!(fake.now() - start, 6 * SEC);
}
