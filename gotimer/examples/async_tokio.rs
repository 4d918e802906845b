//! The article's loop as a tokio task: a timeout per receive, with no timer left behind by the
//! receives that beat it. tokio's `time` feature is not needed (nor enabled by this crate's use of
//! it here): gotimer's futures are woken by gotimer's own driver.
//!
//! `cargo run -p gotimer --example async_tokio`

use gotimer::future::{interval, timeout};
use std::time::Duration;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(120);
    tokio::spawn(async move {
        for i in 0..1000 {
            tx.send(format!("hello {i}")).await.unwrap();
        }
    });
    let mut received = 0;
    loop {
        // Go: select { case msg := <-ch: … case <-time.After(3 * time.Minute): … }
        match timeout(Duration::from_secs(180), rx.recv()).await {
            Ok(Some(_msg)) => received += 1,
            Ok(None) => break, // the sender is done
            Err(elapsed) => {
                println!("{elapsed}");
                break;
            }
        }
    }
    // Every timeout that lost its race was freed when its future dropped.
    println!(
        "received {received} messages; timers pending now: {}",
        gotimer::stats().pending
    );

    // Go's ticker, for a task: the first tick one period from now, missed ticks dropped.
    let mut every = interval(Duration::from_millis(10));
    for _ in 0..3 {
        every.tick().await;
    }
}
