//! Faults injected into the system runtime (test builds only): a panic on the driver thread is fatal
//! and says so, a callback thread that cannot be started delays callbacks, never channel timers,
//! and never for good, and timers fire while the thread that started the driver is descheduled.

use super::faults::{FAIL_SPAWNS, PANIC_IN_POLL, STALL_DRIVER_SPAWNER};
use crate::{after_func, stats, Timer};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

/// Long enough for a loaded 2-core machine; a lost timer or a hang still fails.
const PATIENCE: Duration = Duration::from_secs(10);

const CHILD: &str = "GOTIMER_FAULT_CHILD";

/// Runs the ignored test `name` of this module alone, in a child process of its own (a fresh
/// system runtime, and a crash that is not this process's), with `CHILD` set to `role`.
fn run_child(name: &str, role: &str) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            &format!("runtime::fault_tests::{name}"),
            "--nocapture",
        ])
        .env(CHILD, role)
        .output()
        .unwrap()
}

/// Refuses to run a child's half but as the child `role`.
fn assert_child(role: &str) {
    assert_eq!(
        std::env::var(CHILD).as_deref(),
        Ok(role),
        "run as a child only"
    );
}

/// The child's half of `a_panic_on_the_driver_thread_aborts_with_a_message`: makes the driver's
/// poll panic under a shard lock. Run only as that test's child (it aborts the process).
#[test]
#[ignore = "run by a_panic_on_the_driver_thread_aborts_with_a_message in a child process"]
fn driver_panic_child() {
    assert_child("driver");
    PANIC_IN_POLL.store(true, SeqCst);
    let t = Timer::new(Duration::from_millis(1));
    let _ = t.c().recv_timeout(PATIENCE);
    // Reaching here means the driver died without a word.
    std::process::exit(3);
}

#[cfg(unix)]
#[test]
fn a_panic_on_the_driver_thread_aborts_with_a_message() {
    use std::os::unix::process::ExitStatusExt;
    let start = Instant::now();
    let out = run_child("driver_panic_child", "driver");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGABRT),
        "the process must abort, not run on with a dead driver: {:?}\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("gotimer: fatal: a panic while holding a timer shard lock"),
        "{stderr}"
    );
    assert!(
        stderr.contains("injected fault: a broken wheel invariant"),
        "{stderr}"
    );
    assert!(start.elapsed() < PATIENCE, "it took {:?}", start.elapsed());
}

/// While no callback thread can be started, channel timers still fire on time and callbacks wait;
/// once threads can be had again, the waiting callback runs without anything else happening (the
/// driver retries), and the failure is counted.
#[test]
fn a_failed_callback_thread_start_delays_callbacks_until_a_thread_can_be_had() {
    // Let the idle workers other tests left exit, so that the callback needs a new thread.
    let deadline = Instant::now() + Duration::from_secs(30);
    while stats().callback_threads > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        stats().callback_threads,
        0,
        "idle callback threads did not exit"
    );
    let failures = stats().callback_spawn_failures;
    FAIL_SPAWNS.store(true, SeqCst);
    let (tx, ran) = channel();
    let _f = after_func(Duration::from_millis(1), move || tx.send(()).unwrap());
    let t = Timer::new(Duration::from_millis(20));
    let fired = t.c().recv_timeout(PATIENCE);
    let still_waiting = ran.try_recv().is_err();
    let counted = stats().callback_spawn_failures;
    FAIL_SPAWNS.store(false, SeqCst);
    assert!(
        fired.is_ok(),
        "a channel timer did not fire while threads could not start"
    );
    assert!(still_waiting, "the callback ran with no thread to run on");
    assert!(counted > failures, "the failed start was not counted");
    ran.recv_timeout(PATIENCE)
        .expect("the callback never ran once threads could be started again");
}

/// The child's half of `timers_fire_while_the_driver_spawner_stalls`: the first use of the system
/// clock starts the driver and then stalls for a second (`STALL_DRIVER_SPAWNER`), long enough for
/// the driver, finding nothing to do, to park with no deadline; meanwhile another thread sets a
/// timer, which must wake it. Run only as that test's child (it needs a runtime not yet started).
#[test]
#[ignore = "run by timers_fire_while_the_driver_spawner_stalls in a child process"]
fn driver_spawner_stall_child() {
    assert_child("spawner");
    STALL_DRIVER_SPAWNER.store(true, SeqCst);
    let other = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(300));
        let t = Timer::new(Duration::from_millis(1));
        if t.c().recv_timeout(PATIENCE).is_err() {
            // The driver was never woken for it.
            std::process::exit(3);
        }
    });
    let _ = Timer::new(Duration::from_secs(3600)); // starts the runtime, and stalls
    other.join().unwrap();
}

#[test]
fn timers_fire_while_the_driver_spawner_stalls() {
    let out = run_child("driver_spawner_stall_child", "spawner");
    assert!(
        out.status.success(),
        "a timer set while the driver's spawner stalled did not fire: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
