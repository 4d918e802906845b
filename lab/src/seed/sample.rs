//! What a `seed` program prints while it runs, and the figures of one run.
//!
//! Both languages print the same CSV on stdout, one line every [`EVERY`]: [`HEADER`]. Rust's heap is
//! the lab's counting allocator (live bytes, no garbage: Rust has no GC), Go's is
//! `runtime.MemStats.HeapAlloc` (garbage included until a GC frees it). CPU times are the kernel's
//! per-thread clocks (`/proc/self/task/TID/schedstat`); Go leaves the consumer's empty, since a
//! goroutine moves between threads and has no clock of its own.

use crate::child;
use crate::stats::slope;
use std::time::Duration;

pub const HEADER: &str = "seconds,messages,heap_bytes,rss_bytes,gcs,consumer_cpu_ns,process_cpu_ns";

/// Time between samples (seed.go's `every`).
pub const EVERY: Duration = Duration::from_millis(50);

/// One sample of a running program.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub seconds: f64,
    pub messages: u64,
    pub heap_bytes: i64,
    pub rss_bytes: u64,
    /// Completed GC cycles (0 for Rust).
    pub gcs: u64,
    /// CPU time of the thread that runs the loop, if it has one.
    pub consumer_cpu_ns: Option<u64>,
    /// CPU time of every thread of the process.
    pub process_cpu_ns: u64,
}

impl Sample {
    /// The sample as a line of [`HEADER`]'s CSV (what the Rust child prints).
    pub fn csv(&self) -> String {
        format!(
            "{:.3},{},{},{},{},{},{}",
            self.seconds,
            self.messages,
            self.heap_bytes,
            self.rss_bytes,
            self.gcs,
            self.consumer_cpu_ns
                .map_or(String::new(), |c| c.to_string()),
            self.process_cpu_ns
        )
    }
}

/// Parses one line of a program's output: `Ok(None)` for the header or a blank line.
pub fn parse_line(line: &str) -> anyhow::Result<Option<Sample>> {
    let Some(f) = child::Fields::split(line, HEADER)? else {
        return Ok(None);
    };
    Ok(Some(Sample {
        seconds: f.get(0)?,
        messages: f.get(1)?,
        heap_bytes: f.get(2)?,
        rss_bytes: f.get(3)?,
        gcs: f.get(4)?,
        consumer_cpu_ns: f.opt(5)?,
        process_cpu_ns: f.get(6)?,
    }))
}

/// The figures of one run of one program.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunFigures {
    pub messages_per_s: f64,
    /// Least-squares slope of heap over time, in 10^6 bytes per second.
    pub heap_mb_per_s: f64,
    /// Least-squares slope of heap over messages received: bytes kept per loop iteration.
    pub bytes_per_iteration: f64,
    /// Smallest and largest heap of the steady samples.
    pub heap_min: i64,
    pub heap_max: i64,
    pub final_rss: u64,
    /// GC cycles per second over the steady samples.
    pub gcs_per_s: f64,
    /// CPU ns per message received, of the consumer thread and of the whole process.
    pub consumer_cpu_per_msg: Option<f64>,
    pub process_cpu_per_msg: Option<f64>,
}

/// Summarises a run. The sample at t = 0 (before the loop has started, and before the channel and
/// threads exist) is left out of the slopes and ranges, so they measure the loop's steady state.
pub fn summarize(samples: &[Sample]) -> Option<RunFigures> {
    let last = samples.last()?;
    let steady: Vec<&Sample> = samples.iter().filter(|s| s.seconds > 0.0).collect();
    let first = steady.first().copied().unwrap_or(last);
    let over_time: Vec<(f64, f64)> = steady
        .iter()
        .map(|s| (s.seconds, s.heap_bytes as f64))
        .collect();
    let over_msgs: Vec<(f64, f64)> = steady
        .iter()
        .map(|s| (s.messages as f64, s.heap_bytes as f64))
        .collect();
    let messages = last.messages.saturating_sub(first.messages);
    let per_msg =
        |a: u64, b: u64| (messages > 0).then(|| a.saturating_sub(b) as f64 / messages as f64);
    let span = last.seconds - first.seconds;
    Some(RunFigures {
        messages_per_s: if last.seconds > 0.0 {
            last.messages as f64 / last.seconds
        } else {
            0.0
        },
        heap_mb_per_s: slope(&over_time) / 1e6,
        bytes_per_iteration: slope(&over_msgs),
        heap_min: steady
            .iter()
            .map(|s| s.heap_bytes)
            .min()
            .unwrap_or(last.heap_bytes),
        heap_max: steady
            .iter()
            .map(|s| s.heap_bytes)
            .max()
            .unwrap_or(last.heap_bytes),
        final_rss: last.rss_bytes,
        gcs_per_s: if span > 0.0 {
            last.gcs.saturating_sub(first.gcs) as f64 / span
        } else {
            0.0
        },
        consumer_cpu_per_msg: last
            .consumer_cpu_ns
            .zip(first.consumer_cpu_ns)
            .and_then(|(a, b)| per_msg(a, b)),
        process_cpu_per_msg: per_msg(last.process_cpu_ns, first.process_cpu_ns),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a whole output; it must start with the header.
    fn parse_samples(text: &str) -> anyhow::Result<Vec<Sample>> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        match lines.next() {
            Some(h) if h.trim() == HEADER => {}
            other => anyhow::bail!("expected the header {HEADER:?}, got {other:?}"),
        }
        let mut out = Vec::new();
        for line in lines {
            out.extend(parse_line(line)?);
        }
        Ok(out)
    }

    #[test]
    fn parses_rust_child_and_go_output() {
        // As printed by `seed-child` (live bytes may be any i64) and by seed.go (HeapAlloc, no
        // consumer clock).
        let rust = Sample {
            seconds: 0.05,
            messages: 1000,
            heap_bytes: 2048,
            rss_bytes: 3_000_000,
            gcs: 0,
            consumer_cpu_ns: Some(40_000_000),
            process_cpu_ns: 90_000_000,
        };
        let text = format!("{HEADER}\n0.000,0,1024,2000000,0,5,9\n{}\n", rust.csv());
        let s = parse_samples(&text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1], rust, "what the child prints is what the parser reads");
        let go = format!("{HEADER}\r\n0.000,0,72056,2543616,0,,2856803\r\n\r\n0.050,30281,961488,7491584,2,,36558352\r\n");
        let s = parse_samples(&go).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].messages, 30_281);
        assert_eq!(s[1].gcs, 2);
        assert_eq!(s[1].consumer_cpu_ns, None);
        assert!(parse_samples("0.1,2,3,4,0,,1\n").is_err(), "no header");
        assert!(
            parse_line("0.1,2,3,4").is_err(),
            "the old four-field format"
        );
        assert!(parse_line("0.1,x,3,4,0,,1").is_err());
        assert!(parse_line("timeout").is_err());
        assert_eq!(parse_line(HEADER).unwrap(), None);
    }

    #[test]
    fn run_maths() {
        // 1000 messages per 0.25 s, heap growing 200 B per message after a start-up jump, one GC
        // per sample, the consumer using 100 ns and the process 250 ns per message.
        let mut samples = vec![Sample {
            seconds: 0.0,
            messages: 0,
            heap_bytes: 10,
            rss_bytes: 1,
            gcs: 0,
            consumer_cpu_ns: Some(0),
            process_cpu_ns: 0,
        }];
        for k in 1..=8u64 {
            samples.push(Sample {
                seconds: k as f64 * 0.25,
                messages: k * 1000,
                heap_bytes: 5_000_000 + (k * 1000 * 200) as i64,
                rss_bytes: 7_000_000,
                gcs: k,
                consumer_cpu_ns: Some(k * 1000 * 100),
                process_cpu_ns: k * 1000 * 250,
            });
        }
        let s = summarize(&samples).unwrap();
        assert!((s.messages_per_s - 4000.0).abs() < 1e-9);
        assert!((s.bytes_per_iteration - 200.0).abs() < 1e-6, "{s:?}");
        // 200 B × 4000 messages/s = 0.8 MB/s.
        assert!((s.heap_mb_per_s - 0.8).abs() < 1e-9, "{s:?}");
        assert_eq!(s.heap_min, 5_200_000);
        assert_eq!(s.heap_max, 5_000_000 + 8_000 * 200);
        assert_eq!(s.final_rss, 7_000_000);
        assert!((s.gcs_per_s - 4.0).abs() < 1e-9, "7 GCs in 1.75 s");
        assert_eq!(s.consumer_cpu_per_msg, Some(100.0));
        assert_eq!(s.process_cpu_per_msg, Some(250.0));
        // Flat heap: 0 retained; no consumer clock: no consumer figure.
        for x in &mut samples[1..] {
            x.heap_bytes = 5_000_000;
            x.consumer_cpu_ns = None;
        }
        let flat = summarize(&samples).unwrap();
        assert_eq!(flat.bytes_per_iteration, 0.0);
        assert_eq!(flat.consumer_cpu_per_msg, None);
        assert!(summarize(&[]).is_none());
    }
}
