//! Go's own benchmarks: building the `time` package's test binary of a toolchain with its sources,
//! running one benchmark at a time in GOROOT's `src/time`, and parsing what it prints.

use crate::golang::Go;
use anyhow::{bail, Context};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The `-bench` regex that selects exactly these top-level benchmarks.
pub fn bench_regex(top_level: &[&str]) -> String {
    format!("^Benchmark({})$", top_level.join("|"))
}

/// The `-bench` regex that selects exactly one benchmark or sub-benchmark: Go splits the pattern
/// on `/` and matches each level of the name separately.
pub fn bench_regex_one(name: &str) -> String {
    name.split('/')
        .enumerate()
        .map(|(i, part)| {
            let prefix = if i == 0 { "Benchmark" } else { "" };
            format!("^{prefix}{}$", regex_escape(part))
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `go test` arguments equivalent to a run of the test binary, for the output's notes.
pub fn test_args(regex: &str, benchtime: &str) -> Vec<String> {
    [
        "test",
        "-tags",
        "timetzdata",
        "time",
        "-run",
        "^$",
        "-bench",
        regex,
        "-benchtime",
        benchtime,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Go's `time` test binary, built once so that each benchmark can run right after its gotimer
/// port (on a shared machine, load shifts over a minute; neighbours in time see the same load).
pub struct TestBinary {
    pub path: PathBuf,
    dir: PathBuf,
}

/// `go test -c -tags timetzdata -o DEST time`, in `goroot`'s `src/time`.
pub fn build_test_binary(go: &Go, goroot: &Path, dest: &Path) -> anyhow::Result<TestBinary> {
    let dest = std::path::absolute(dest)?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let dir = goroot.join("src/time");
    let out = go
        .command(&std::env::temp_dir().join("gotimer-lab-gocache"))
        .args(["test", "-c", "-tags", "timetzdata", "-o"])
        .arg(&dest)
        .arg("time")
        .current_dir(&dir)
        .output()
        .with_context(|| format!("starting {}", go.path.display()))?;
    if !out.status.success() || !dest.is_file() {
        bail!(
            "go test -c failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(TestBinary { path: dest, dir })
}

impl TestBinary {
    /// The top-level benchmarks it holds, without the `Benchmark` prefix (`-test.list`).
    pub fn list(&self) -> anyhow::Result<BTreeSet<String>> {
        let out = Command::new(&self.path)
            .args(["-test.list", "^Benchmark"])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("starting {}", self.path.display()))?;
        if !out.status.success() {
            bail!("{} -test.list failed ({})", self.path.display(), out.status);
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Benchmark"))
            .map(str::to_string)
            .collect())
    }

    /// Runs the benchmarks matching `regex` (what `go test -bench` runs), in GOROOT's `src/time`.
    /// Returns what it printed on stdout.
    pub fn run(&self, regex: &str, benchtime: &str) -> anyhow::Result<String> {
        let out = Command::new(&self.path)
            .args([
                "-test.run",
                "^$",
                "-test.bench",
                regex,
                "-test.benchtime",
                benchtime,
            ])
            .args(["-test.timeout", "60m"])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("starting {}", self.path.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            bail!(
                "{} failed ({}):\n{stdout}{}",
                self.path.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(stdout)
    }
}

/// One result line of `go test -bench`.
#[derive(Clone, Debug, PartialEq)]
pub struct GoResult {
    /// Without the `Benchmark` prefix and the `-GOMAXPROCS` suffix:
    /// `StaggeredTickerLatency/work-dur=300µs/tickers-per-P=1`.
    pub name: String,
    /// The `-N` suffix (absent when GOMAXPROCS is 1).
    pub procs: Option<u32>,
    pub iters: u64,
    /// (value, unit) pairs in printed order: `ns/op`, `avg-late-ns`, `B/op`...
    pub metrics: Vec<(f64, String)>,
}

impl GoResult {
    pub fn metric(&self, unit: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(_, u)| u == unit)
            .map(|(v, _)| *v)
    }
}

/// Parses one line; None unless it is a benchmark result.
pub fn parse_line(line: &str) -> Option<GoResult> {
    let mut fields = line.split_whitespace();
    let full = fields.next()?.strip_prefix("Benchmark")?;
    let iters: u64 = fields.next()?.parse().ok()?;
    let rest: Vec<&str> = fields.collect();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return None;
    }
    let mut metrics = Vec::new();
    for pair in rest.chunks(2) {
        metrics.push((pair[0].parse::<f64>().ok()?, pair[1].to_string()));
    }
    let (name, procs) = match full.rsplit_once('-') {
        Some((n, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            (n.to_string(), p.parse().ok())
        }
        _ => (full.to_string(), None),
    };
    Some(GoResult {
        name,
        procs,
        iters,
        metrics,
    })
}

/// Every result line of a `go test -bench` output.
pub fn parse(output: &str) -> Vec<GoResult> {
    output.lines().filter_map(parse_line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured on the development machine (2 cores) with
    /// `go test -tags timetzdata time -run '^$' -bench '^Benchmark(AfterFunc|After|Stop|SimultaneousAfterFunc|StartStop|Reset|Sleep|ParallelTimerLatency|StaggeredTickerLatency)$' -benchtime 200ms`
    /// in /usr/lib/go-1.19/src/time (Go 1.19).
    const SAMPLE: &str = "goos: linux
goarch: amd64
pkg: time
cpu: Intel(R) Xeon(R) Processor
BenchmarkAfterFunc-2                	     424	    552623 ns/op
BenchmarkAfter-2                    	     254	   1048238 ns/op
BenchmarkStop-2                     	     502	    528518 ns/op
BenchmarkSimultaneousAfterFunc-2    	     288	    761321 ns/op
BenchmarkStartStop-2                	     739	    293254 ns/op
BenchmarkReset-2                    	    4004	     58017 ns/op
BenchmarkSleep-2                    	     200	   1172859 ns/op
BenchmarkParallelTimerLatency-2     	     100	    190568 avg-late-ns	   3476105 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=1-2          	      76	   3690948 avg-late-ns	   7353405 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=2-2          	      70	   1324757 avg-late-ns	   4078080 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=3-2          	      75	   1661663 avg-late-ns	   7741408 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=4-2          	      72	   7417862 avg-late-ns	  25541415 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=5-2          	      58	  21833781 avg-late-ns	  61848967 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=6-2          	      46	  27186091 avg-late-ns	  50463293 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=7-2          	      43	  23944318 avg-late-ns	  50318542 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=8-2          	      55	  40328662 avg-late-ns	 104694332 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=9-2          	      28	  51216554 avg-late-ns	 110449073 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=300µs/tickers-per-P=10-2         	      30	  52987891 avg-late-ns	 108566509 max-late-ns
BenchmarkStaggeredTickerLatency/work-dur=2ms/tickers-per-P=1-2            	      61	  69809334 avg-late-ns	 126640475 max-late-ns
PASS
ok  	time	9.278s
";

    /// Captured on the development machine (2 cores) with go1.27.3's test binary
    /// (`-test.bench '^Benchmark(Stop|Reset|After|AfterFunc1000|Ticker|TickerReset|TickerResetNaive|AdjustTimers10000|ParallelTimerLatency)$' -test.benchtime 100ms`).
    const SAMPLE_GO_1_27: &str = "goos: linux
goarch: amd64
pkg: time
cpu: AMD EPYC
BenchmarkAfterFunc1000-2          	     100	   1244101 ns/op
BenchmarkAfter-2                  	  173150	      1051 ns/op
BenchmarkStop/impl=chan-2         	  560386	       681.5 ns/op
BenchmarkStop/impl=func-2         	  121803	      1061 ns/op
BenchmarkReset/impl=chan-2        	 2307458	       131.0 ns/op
BenchmarkReset/impl=func-2        	 2004433	       134.2 ns/op
BenchmarkParallelTimerLatency-2   	      54	    669177 avg-late-ns	   7119175 max-late-ns
BenchmarkAdjustTimers10000-2      	      18	   5770290 ns/op
BenchmarkTicker-2                 	  370047	       349.2 ns/op
BenchmarkTickerReset-2            	 1304982	        87.79 ns/op
BenchmarkTickerResetNaive-2       	  381781	       635.2 ns/op
PASS
";

    #[test]
    fn parses_go_1_27_sub_benchmarks_and_fractions() {
        let r = parse(SAMPLE_GO_1_27);
        assert_eq!(r.len(), 11);
        let get = |n: &str| r.iter().find(|g| g.name == n).unwrap();
        assert_eq!(get("Stop/impl=chan").metric("ns/op"), Some(681.5));
        assert_eq!(get("Stop/impl=func").procs, Some(2));
        assert_eq!(get("TickerReset").metric("ns/op"), Some(87.79));
        assert_eq!(get("AdjustTimers10000").iters, 18);
    }

    #[test]
    fn parses_the_captured_sample() {
        let r = parse(SAMPLE);
        assert_eq!(r.len(), 19);
        assert_eq!(r[0].name, "AfterFunc");
        assert_eq!(r[0].procs, Some(2));
        assert_eq!(r[0].iters, 424);
        assert_eq!(r[0].metric("ns/op"), Some(552623.0));
        let reset = r.iter().find(|g| g.name == "Reset").unwrap();
        assert_eq!(reset.metric("ns/op"), Some(58017.0));

        // The latency benchmarks report ns/op 0, which Go leaves out, and two metrics.
        let p = &r[7];
        assert_eq!(p.name, "ParallelTimerLatency");
        assert_eq!(p.metric("ns/op"), None);
        assert_eq!(p.metric("avg-late-ns"), Some(190568.0));
        assert_eq!(p.metric("max-late-ns"), Some(3476105.0));

        let s = &r[17];
        assert_eq!(
            s.name,
            "StaggeredTickerLatency/work-dur=300µs/tickers-per-P=10"
        );
        assert_eq!(s.procs, Some(2));
        assert_eq!(s.iters, 30);
        assert_eq!(s.metric("avg-late-ns"), Some(52987891.0));
        assert_eq!(
            r[18].name,
            "StaggeredTickerLatency/work-dur=2ms/tickers-per-P=1"
        );
    }

    #[test]
    fn ignores_other_lines_and_reads_memory_metrics() {
        assert_eq!(parse_line("PASS"), None);
        assert_eq!(parse_line("ok  \ttime\t9.278s"), None);
        assert_eq!(
            parse_line("BenchmarkSleep-2"),
            None,
            "a name without results"
        );
        assert_eq!(parse_line("--- SKIP: BenchmarkParallelTimerLatency"), None);
        let g = parse_line("BenchmarkStop    \t 100\t 738879 ns/op\t  64 B/op\t   1 allocs/op")
            .unwrap();
        assert_eq!(g.name, "Stop");
        assert_eq!(g.procs, None, "GOMAXPROCS=1 prints no suffix");
        assert_eq!(g.metric("B/op"), Some(64.0));
        assert_eq!(g.metric("allocs/op"), Some(1.0));
    }

    #[test]
    fn regex_selects_whole_names() {
        assert_eq!(bench_regex(&["After", "Stop"]), "^Benchmark(After|Stop)$");
        assert_eq!(bench_regex_one("After"), "^BenchmarkAfter$");
        assert_eq!(
            bench_regex_one("StaggeredTickerLatency/work-dur=300µs/tickers-per-P=1"),
            "^BenchmarkStaggeredTickerLatency$/^work-dur=300µs$/^tickers-per-P=1$"
        );
        assert_eq!(regex_escape("a.b(c)"), "a\\.b\\(c\\)");
    }
}
