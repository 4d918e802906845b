//! Was the machine busy while the lab measured? Throughput and its ratios (messages/s, "vs
//! hoisted") depend on getting the cores: the same `seed` has run at 0.2x and at 0.98x of its
//! target within minutes on a shared 2-core machine. So the lab reads the kernel's figures before and
//! after a run and says when the run is not to be trusted.
//!
//! Three readings, each with the lab's own share taken out:
//! - **other processes' CPU**: the machine's busy time over the run (`/proc/stat`'s `cpu` line),
//!   minus the CPU time of the lab's own process tree (`/proc/self/stat`: its utime and stime plus
//!   the cutime and cstime of the children it waited for, which are every program `seed` ran and
//!   everything they ran in turn), per second of the run: how many cores others kept busy;
//! - **CPU steal**: the share of the run's CPU time the hypervisor gave to other guests;
//! - **load**: the 1-minute load average at the end (`/proc/loadavg`), minus the lab's own average
//!   use of the cores over the run, its estimate of the lab's part of that load.

use std::time::Instant;

/// One reading of the kernel's counters, in clock ticks (USER_HZ), at `at`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    pub at_secs: f64,
    /// The machine's `cpu` line: every field but idle and iowait.
    pub busy_ticks: u64,
    /// The `cpu` line's steal field.
    pub steal_ticks: u64,
    /// Every field of the `cpu` line (guest time is already inside user and nice).
    pub total_ticks: u64,
    /// utime + stime + cutime + cstime of this process.
    pub own_ticks: u64,
    /// The 1-minute load average.
    pub load1: f64,
}

/// What a run window looked like, from two [`Reading`]s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub cores: usize,
    pub secs: f64,
    /// Cores kept busy by other processes, on average over the window.
    pub other_cores: f64,
    /// Cores the lab's own process tree used, on average.
    pub own_cores: f64,
    /// Steal, as a percentage of the window's CPU time.
    pub steal_pct: f64,
    /// The 1-minute load average at the end, and the part of it that is not the lab's.
    pub load1: f64,
    pub other_load: f64,
}

/// Other processes using this share of the cores make a run untrustworthy: `seed`'s programs run a
/// producer and a consumer thread each, so on 2 cores half a core taken by others is already a
/// thread that waits for its turn.
pub const OTHER_CORES_SHARE: f64 = 0.25;
/// Steal above this percentage of the CPU time: the virtual CPUs were not all ours.
pub const STEAL_PCT: f64 = 2.0;

impl Window {
    pub fn between(a: &Reading, b: &Reading, ticks_per_sec: f64, cores: usize) -> Window {
        let secs = (b.at_secs - a.at_secs).max(1e-9);
        let d = |x: u64, y: u64| y.saturating_sub(x) as f64 / ticks_per_sec;
        let busy = d(a.busy_ticks, b.busy_ticks);
        let own = d(a.own_ticks, b.own_ticks);
        let total = d(a.total_ticks, b.total_ticks);
        let steal = d(a.steal_ticks, b.steal_ticks);
        let own_cores = own / secs;
        Window {
            cores,
            secs,
            // Steal is in the busy fields but is not CPU any process here got: left out.
            other_cores: ((busy - steal - own) / secs).max(0.0),
            own_cores,
            steal_pct: if total > 0.0 {
                100.0 * steal / total
            } else {
                0.0
            },
            load1: b.load1,
            other_load: (b.load1 - own_cores).max(0.0),
        }
    }

    /// Why the run's throughput is not to be trusted, if it is not: each reason with its figure.
    pub fn reasons(&self) -> Vec<String> {
        let mut why = Vec::new();
        let cores = self.cores as f64;
        if self.other_load > cores {
            why.push(format!(
                "load {:.1} without the lab's own (~{:.1}) is above the {} cores",
                self.other_load, self.own_cores, self.cores
            ));
        }
        if self.other_cores >= OTHER_CORES_SHARE * cores {
            why.push(format!(
                "other processes used {:.2} of the {} cores",
                self.other_cores, self.cores
            ));
        }
        if self.steal_pct > STEAL_PCT {
            why.push(format!("CPU steal was {:.1} %", self.steal_pct));
        }
        why
    }

    /// The figures, in one line.
    pub fn figures(&self) -> String {
        format!(
            "over {:.0} s, other processes used {:.2} of {} cores (the lab {:.2}), steal {:.1} %, \
             1-minute load {:.1} ({:.1} without the lab)",
            self.secs,
            self.other_cores,
            self.cores,
            self.own_cores,
            self.steal_pct,
            self.load1,
            self.other_load
        )
    }
}

/// The `cpu` line of `/proc/stat`: (busy, steal, total) ticks.
pub fn parse_proc_stat(stat: &str) -> Option<(u64, u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is counted in
    // user and nice already, so only the first eight add up to the total.
    let field = |i: usize| f.get(i).copied().unwrap_or(0);
    let total: u64 = (0..8).map(field).sum();
    let idle = field(3) + field(4);
    Some((total - idle, field(7), total))
}

/// utime + stime + cutime + cstime from a `/proc/PID/stat` line.
pub fn parse_own_ticks(stat: &str) -> Option<u64> {
    // Fields after the parenthesised command name (which may hold spaces); utime is field 14.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    (11..15).map(|i| f.get(i)?.parse::<u64>().ok()).sum()
}

/// The first field of `/proc/loadavg`.
pub fn parse_load1(loadavg: &str) -> Option<f64> {
    loadavg.split_whitespace().next()?.parse().ok()
}

/// Reads the counters now; None where `/proc` cannot be read (not Linux).
pub fn read(origin: Instant) -> Option<Reading> {
    let (busy_ticks, steal_ticks, total_ticks) =
        parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)?;
    Some(Reading {
        at_secs: origin.elapsed().as_secs_f64(),
        busy_ticks,
        steal_ticks,
        total_ticks,
        own_ticks: parse_own_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?,
        load1: parse_load1(&std::fs::read_to_string("/proc/loadavg").ok()?)?,
    })
}

/// The kernel's clock ticks per second for `/proc`'s counters (USER_HZ, `getconf CLK_TCK`); 100,
/// its value on every Linux build in use, where it cannot be asked.
fn ticks_per_sec() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The machine's CPUs, as `/proc/stat` and `/proc/loadavg` count them (its `cpuN` lines): the
/// figures are the whole machine's, whatever share of it this process may use.
fn cores() -> usize {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .map(|s| count_cpus(&s))
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The `cpuN` lines of `/proc/stat`.
pub fn count_cpus(stat: &str) -> usize {
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count()
}

/// A run being watched: [`Watch::start`] before it, [`Watch::finish`] after.
pub struct Watch {
    origin: Instant,
    start: Option<Reading>,
}

impl Watch {
    /// Takes the first reading, and says at once if the machine is already loaded beyond its
    /// cores (the run can still be stopped and started again later).
    pub fn start(what: &str) -> Watch {
        let origin = Instant::now();
        let start = read(origin);
        if let Some(r) = start {
            let cores = cores();
            if r.load1 > cores as f64 {
                eprintln!(
                    "{what}: the machine is busy before the run (1-minute load {:.1} on {cores} \
                     cores): its throughput figures may not be trustworthy",
                    r.load1
                );
            }
        }
        Watch { origin, start }
    }

    /// The window since [`Watch::start`], or None where `/proc` cannot be read.
    pub fn finish(&self) -> Option<Window> {
        let end = read(self.origin)?;
        Some(Window::between(
            self.start.as_ref()?,
            &end,
            ticks_per_sec(),
            cores(),
        ))
    }
}

/// The lines to print under a table of throughput figures: the window's figures, and a warning
/// with its reasons when the machine was busy.
pub fn verdict(w: &Window, figures_affected: &str) -> Vec<String> {
    let reasons = w.reasons();
    if reasons.is_empty() {
        vec![format!("machine: quiet enough; {}", w.figures())]
    } else {
        vec![
            format!(
                "WARNING: the machine was busy during this run ({}): {figures_affected} are not \
                 trustworthy in this run; run again on an idle machine",
                reasons.join("; ")
            ),
            format!("machine: {}", w.figures()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(at_secs: f64, busy: u64, steal: u64, total: u64, own: u64, load1: f64) -> Reading {
        Reading {
            at_secs,
            busy_ticks: busy,
            steal_ticks: steal,
            total_ticks: total,
            own_ticks: own,
            load1,
        }
    }

    /// 60 s on 2 cores at 100 ticks/s: 12,000 ticks of CPU time in the window.
    fn window(busy: u64, steal: u64, own: u64, load1: f64) -> Window {
        let a = reading(10.0, 1_000, 50, 50_000, 20, 0.3);
        let b = reading(70.0, 1_000 + busy, 50 + steal, 62_000, 20 + own, load1);
        Window::between(&a, &b, 100.0, 2)
    }

    #[test]
    fn the_labs_own_work_does_not_make_the_machine_busy() {
        // The lab's children used 1.8 cores the whole run and the load shows it: quiet.
        let w = window(10_890, 0, 10_800, 2.4);
        assert!((w.own_cores - 1.8).abs() < 1e-9, "{w:?}");
        assert!((w.other_cores - 0.015).abs() < 1e-9, "{w:?}");
        assert!((w.other_load - 0.6).abs() < 1e-9, "{w:?}");
        assert_eq!(w.reasons(), Vec::<String>::new());
        assert!(verdict(&w, "x")[0].starts_with("machine: quiet enough"));
    }

    #[test]
    fn other_processes_on_the_cores_make_it_busy() {
        // Others kept one of the two cores busy besides the lab's 0.9.
        let w = window(11_400, 0, 5_400, 1.9);
        assert!((w.other_cores - 1.0).abs() < 1e-9, "{w:?}");
        let r = w.reasons();
        assert_eq!(r, ["other processes used 1.00 of the 2 cores"]);
        let v = verdict(&w, "messages/s and the vs-hoisted ratios");
        assert!(v[0].starts_with("WARNING: the machine was busy"), "{v:?}");
        assert!(v[0].contains("messages/s and the vs-hoisted ratios are not trustworthy"));
        assert!(
            v[1].contains("other processes used 1.00 of 2 cores"),
            "{v:?}"
        );
        // Just under the share: not busy.
        let w = window(5_400 + 2_999, 0, 5_400, 1.0);
        assert!(w.other_cores < OTHER_CORES_SHARE * 2.0);
        assert!(w.reasons().is_empty(), "{w:?}");
    }

    #[test]
    fn load_above_the_cores_without_the_lab_makes_it_busy() {
        // The lab used 1 core on average; a load of 3.5 leaves 2.5 for others: above 2 cores,
        // though the CPU time others got was small (they were waiting for it).
        let w = window(6_100, 0, 6_000, 3.5);
        assert!((w.other_load - 2.5).abs() < 1e-9, "{w:?}");
        assert_eq!(
            w.reasons(),
            ["load 2.5 without the lab's own (~1.0) is above the 2 cores"]
        );
        // The same load, all of it the lab's: not busy.
        let w = window(12_000, 0, 12_000, 2.5);
        assert!(w.reasons().is_empty(), "{w:?}");
    }

    #[test]
    fn steal_makes_it_busy() {
        // 600 of 12,000 ticks stolen: 5 %.
        let w = window(6_600, 600, 6_000, 1.0);
        assert!((w.steal_pct - 5.0).abs() < 1e-9, "{w:?}");
        assert!(
            (w.other_cores - 0.0).abs() < 1e-9,
            "steal is nobody's here: {w:?}"
        );
        assert_eq!(w.reasons(), ["CPU steal was 5.0 %"]);
    }

    #[test]
    fn parses_the_kernels_files() {
        let stat = "cpu  89545 0 16626 197239 800 0 75 309 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        let total = 89545 + 16626 + 197239 + 800 + 75 + 309;
        assert_eq!(
            parse_proc_stat(stat),
            Some((total - 197239 - 800, 309, total))
        );
        assert_eq!(parse_proc_stat("intr 1 2\n"), None);
        assert_eq!(count_cpus(stat), 1);
        assert_eq!(count_cpus("cpu  1 2\ncpu0 1\ncpu1 2\ncpu10 3\nintr 4\n"), 3);
        let own = "1234 (gotimer lab) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";
        // utime 11, stime 12, cutime 13, cstime 14 (fields 14 to 17).
        assert_eq!(parse_own_ticks(own), Some(11 + 12 + 13 + 14));
        assert_eq!(parse_load1("7.79 3.30 1.33 12/162 19310\n"), Some(7.79));
        // And on this machine, if it is Linux, they read.
        if std::path::Path::new("/proc/stat").exists() {
            let r = read(Instant::now()).expect("/proc readings");
            assert!(r.total_ticks > 0 && r.total_ticks >= r.busy_ticks, "{r:?}");
        }
    }
}
