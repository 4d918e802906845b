//! `seed-child`: one of the article's three programs in Rust with gotimer, in its own process,
//! printing a [`Sample`] every [`EVERY`] until it exits after its seconds.

use super::sample::{Sample, EVERY, HEADER};
use super::Program;
use crate::{alloc, proc_self};
use crossbeam_channel::{bounded, select};
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Arguments of the hidden `seed-child` subcommand: one Rust program, CSV samples on stdout.
#[derive(clap::Args)]
pub struct ChildArgs {
    pub program: Program,
    #[arg(value_parser = crate::positive_seconds)]
    pub seconds: f64,
    /// Serve the /debug/pprof/ endpoint here while the program runs.
    #[arg(long)]
    pub pprof: Option<String>,
}

/// The article's timeout.
const TIMEOUT: Duration = Duration::from_secs(180);

static RECEIVED: AtomicU64 = AtomicU64::new(0);

/// Runs one Rust program for `seconds`, printing samples, then exits the process.
pub fn child(args: &ChildArgs) -> anyhow::Result<()> {
    // Kept alive for the whole run; the process exits at the end of the program.
    let _server = match &args.pprof {
        Some(addr) => Some(
            gotimer::debug::serve(addr.as_str())
                .map_err(|e| anyhow::anyhow!("cannot serve /debug/pprof/ at {addr}: {e}"))?,
        ),
        None => None,
    };
    let (tx, rx) = bounded::<String>(120);
    std::thread::spawn(move || {
        let mut i = 0u64;
        loop {
            i += 1;
            if tx.send(format!("hello {i}")).is_err() {
                return;
            }
        }
    });
    println!("{HEADER}");
    let start = Instant::now();
    let seconds = args.seconds;
    // The loop runs on this thread: its CPU clock is the consumer's.
    let consumer = proc_self::thread_id();
    std::thread::spawn(move || sampler(start, seconds, consumer));

    let mut n = 0u64;
    match args.program {
        Program::AfterInLoop => loop {
            select! {
                recv(rx) -> _msg => {
                    n += 1;
                    RECEIVED.store(n, Relaxed);
                }
                recv(gotimer::after(TIMEOUT)) -> _ => eprintln!("timeout"),
            }
        },
        Program::HoistedAfter => {
            let timeout = gotimer::after(TIMEOUT);
            loop {
                select! {
                    recv(rx) -> _msg => {
                        n += 1;
                        RECEIVED.store(n, Relaxed);
                    }
                    recv(timeout) -> _ => break,
                }
            }
        }
        Program::TimerReset => {
            let timer = gotimer::Timer::new(TIMEOUT);
            loop {
                timer.reset(TIMEOUT);
                select! {
                    recv(rx) -> _msg => {
                        n += 1;
                        RECEIVED.store(n, Relaxed);
                    }
                    recv(timer.c()) -> _ => break,
                }
            }
        }
    }
    eprintln!("timeout");
    Ok(())
}

/// Prints a sample every [`EVERY`] from `start`; exits the process after `seconds`.
fn sampler(start: Instant, seconds: f64, consumer: Option<u32>) -> ! {
    for k in 0u32.. {
        let due = start + EVERY * k;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let sample = Sample {
            messages: RECEIVED.load(Relaxed),
            heap_bytes: alloc::live_bytes(),
            rss_bytes: proc_self::rss_bytes(),
            gcs: 0,
            consumer_cpu_ns: consumer.and_then(proc_self::thread_cpu_ns),
            process_cpu_ns: proc_self::process_cpu_ns(),
            seconds: start.elapsed().as_secs_f64(),
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", sample.csv());
        let _ = out.flush();
        if f64::from(k) * EVERY.as_secs_f64() >= seconds {
            break;
        }
    }
    std::process::exit(0)
}
