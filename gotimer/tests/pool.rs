//! Regression tests for the callback pool, found in review: both need the spare worker to idle out
//! first, so they wait `IDLE_EXIT` (10 s); they run in parallel.

mod expected_panics;

use gotimer::{after_func, stats, IDLE_EXIT};
use std::sync::mpsc::channel;
use std::sync::Mutex;
use std::time::Duration;

const ON_TIME: Duration = Duration::from_secs(5);

/// How long the driver lets a callback made due by a running callback wait for that callback to
/// return before it hands it to another thread (the runtime's `HANDOFF_AFTER`).
const HANDOFF_AFTER: Duration = Duration::from_millis(1);

/// Callback threads that exist, counted from /proc (Linux), to check `stats().callback_threads`.
#[cfg(target_os = "linux")]
fn callback_threads_alive() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| {
            let tid = e.ok()?.file_name().into_string().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).ok()?;
            // Linux keeps 15 bytes of a thread name: "gotimer-callbac".
            comm.trim().starts_with("gotimer-callba").then_some(())
        })
        .count()
}

/// A callback that outlives `IDLE_EXIT` used to leave the pool with no idle worker and a `workers`
/// count of one, so the next callback waited behind it.
#[test]
fn a_long_callback_does_not_hold_up_later_ones_after_the_spare_idles_out() {
    let (release, blocked) = channel::<()>();
    let blocked = Mutex::new(blocked);
    after_func(Duration::ZERO, move || {
        let _ = blocked
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(60));
    });
    std::thread::sleep(IDLE_EXIT + Duration::from_secs(2));
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    after_func(Duration::from_millis(1), move || {
        tx.lock().unwrap().send(()).unwrap()
    });
    let ran = rx.recv_timeout(ON_TIME);
    drop(release);
    assert!(
        ran.is_ok(),
        "a callback waited behind one that was still running"
    );
}

struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("drop of a captured value panics (expected by this test)");
        }
    }
}

/// A closure whose captures panic when dropped used to kill its worker after the catch, leaving the
/// pool's counts wrong (a thread counted that no longer existed) and later callbacks unrun.
#[test]
fn a_panic_in_the_drop_of_a_callback_kills_no_worker() {
    expected_panics::quiet();
    let before = stats().callback_panics;
    let capture = PanicsOnDrop;
    // The handle is dropped before the callback is due, so the callback thread holds the last
    // reference and drops the closure (and its panicking capture) after running it.
    let handle = after_func(Duration::from_millis(50), move || {
        let _keep = &capture;
    });
    drop(handle);
    // Poll rather than sleep a fixed time: on a loaded 2-core machine the callback thread can take
    // a while to be scheduled.
    let deadline = std::time::Instant::now() + ON_TIME;
    while stats().callback_panics == before && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        stats().callback_panics,
        before + 1,
        "the drop's panic is caught and counted"
    );
    std::thread::sleep(IDLE_EXIT + Duration::from_secs(2));
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    after_func(Duration::from_millis(1), move || {
        tx.lock().unwrap().send(()).unwrap()
    });
    assert!(
        rx.recv_timeout(ON_TIME).is_ok(),
        "a later callback never ran"
    );
    #[cfg(target_os = "linux")]
    {
        // Allow the other test's threads to come and go: the count must never claim more threads
        // than exist.
        std::thread::sleep(Duration::from_millis(100));
        let (counted, alive) = (stats().callback_threads, callback_threads_alive());
        assert!(
            counted <= alive + 1,
            "{counted} callback threads counted, {alive} alive"
        );
    }
}

/// Run-next (`runtime/handoff.rs`): a callback that a callback makes due at once runs on the same
/// thread once the first returns, with no other thread involved; every link of a chain of
/// `after_func(0)` runs on one thread.
#[test]
fn a_callback_made_due_by_a_callback_runs_next_on_its_thread() {
    use std::sync::Arc;
    let (tx, rx) = channel();
    let tx = Arc::new(Mutex::new(tx));
    let first = tx.clone();
    let _t = after_func(Duration::from_millis(1), move || {
        let me = std::thread::current().id();
        let next = first.clone();
        let _ = after_func(Duration::ZERO, move || {
            let _ = next.lock().unwrap().send((me, std::thread::current().id()));
        });
    });
    let (scheduler, ran_on) = rx.recv_timeout(ON_TIME).expect("the second callback ran");
    assert_eq!(
        scheduler, ran_on,
        "run next on the scheduling callback's thread"
    );
}

/// ... but a callback that schedules another and then blocks does not hold that one up: the driver
/// hands it to another thread after `HANDOFF_AFTER` (1 ms).
#[test]
fn a_callback_made_due_by_a_blocked_callback_runs_elsewhere_soon() {
    use std::time::Instant;
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let (release, blocked) = channel::<()>();
    let blocked = Mutex::new(blocked);
    let _t = after_func(Duration::from_millis(1), move || {
        let scheduled = Instant::now();
        let me = std::thread::current().id();
        let tx = Mutex::new(tx.lock().unwrap().clone());
        let _ = after_func(Duration::ZERO, move || {
            let _ = tx
                .lock()
                .unwrap()
                .send((scheduled.elapsed(), me, std::thread::current().id()));
        });
        // Blocks until the test has seen the other callback run.
        let _ = blocked.lock().unwrap().recv_timeout(ON_TIME);
    });
    // The control, at the same time under the same load: threads that sleep `HANDOFF_AFTER` and
    // hand the instant over to a waiting thread, two wake-ups as the handoff is (the driver, then
    // the callback's new thread).
    let control: Vec<_> = (0..3)
        .map(|_| {
            let (ctx, crx) = channel::<Instant>();
            let start = Instant::now();
            std::thread::spawn(move || {
                std::thread::sleep(HANDOFF_AFTER);
                ctx.send(start).unwrap();
            });
            std::thread::spawn(move || crx.recv().unwrap().elapsed())
        })
        .collect();
    let (waited, scheduler, ran_on) = rx
        .recv_timeout(ON_TIME)
        .expect("the callback behind a blocked one ran");
    release.send(()).unwrap();
    let control = control
        .into_iter()
        .map(|t| t.join().unwrap())
        .max()
        .unwrap();
    // A handoff that does not happen leaves the callback waiting for the blocked one, `ON_TIME`;
    // a slow one is slower than the control by more than the machine explains.
    let bound = (control * 2 + Duration::from_millis(100)).min(Duration::from_secs(2));
    eprintln!(
        "a callback behind a blocked one waited {waited:?}; control (a {HANDOFF_AFTER:?} sleep \
         handed to another thread) {control:?}; bound {bound:?}"
    );
    assert_ne!(scheduler, ran_on, "handed to another thread");
    assert!(
        waited <= bound,
        "waited {waited:?} behind a blocked callback, past {bound:?} (twice the control's \
         {control:?} plus 100 ms, at most 2 s)"
    );
}
