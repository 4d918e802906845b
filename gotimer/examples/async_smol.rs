//! Go's timers on smol: a `Timer` reset like Go's, awaited by a task, and a sleep.
//!
//! `cargo run -p gotimer --example async_smol`

use gotimer::future::sleep;
use gotimer::Timer;
use std::time::{Duration, Instant};

fn main() {
    smol::block_on(async {
        let start = Instant::now();
        let idle = Timer::new(Duration::from_millis(50));
        // Activity pushes the idle deadline back, as `t.Reset(d)` does in Go.
        for _ in 0..3 {
            sleep(Duration::from_millis(10)).await;
            idle.reset(Duration::from_millis(50));
        }
        // Awaited only, so it never makes a crossbeam channel.
        let fired = idle.recv_async().await;
        println!("idle after {:?}", fired - start);
    });
}
