//! The pages of `/debug/pprof/`: the HTML index, and the text table of `?debug=1`, one row per call
//! site. Both are read from one [`snapshot`](crate::profile::snapshot) each, at the time of the
//! request; they are apart from the routes so that what a page says is read without the HTTP
//! around it.

use std::fmt::Write as _;
use std::time::Instant;

/// The index: the one profile there is, its count, and how to read it with `go tool pprof`.
pub(super) fn index() -> String {
    let sites = crate::profile::snapshot();
    let live: u64 = sites.iter().map(|s| s.live).sum();
    let bytes: u64 = sites.iter().map(|s| s.live_bytes).sum();
    format!(
        "<!DOCTYPE html>\n<html><head><title>/debug/pprof/</title></head><body>\n\
         <h1>/debug/pprof/</h1>\n\
         <p>gotimer's timer profile. Types of profiles available:</p>\n\
         <table><thead><tr><th>Count</th><th>Profile</th></tr></thead>\n\
         <tr><td>{live}</td><td><a href=\"timers?debug=1\">timers</a></td></tr>\n\
         </table>\n\
         <p><a href=\"timers\">full timer profile</a> (pprof format, {live} live timers holding \
         {bytes} bytes, from {sites} call sites)</p>\n\
         <p>Profile descriptions:</p>\n<ul>\n\
         <li><div class=\"profile-name\">timers: </div>live timers (pending, or held by a handle) \
         per call site, with the bytes they hold. Read it with \
         <code>go tool pprof -top http://HOST/debug/pprof/timers</code>; \
         <code>-sample_index=space</code> shows bytes.</li>\n\
         </ul>\n</body></html>\n",
        sites = sites.iter().filter(|s| s.live > 0).count(),
    )
}

/// The text table: what each column means, then one row per call site, as `snapshot` orders them.
pub(super) fn table() -> String {
    let sites = crate::profile::snapshot();
    let now = Instant::now();
    let live: u64 = sites.iter().map(|s| s.live).sum();
    let bytes: u64 = sites.iter().map(|s| s.live_bytes).sum();
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut out = format!(
        "timer profile: {}, {}, {}\n\
         live: timers from the site that are pending or held by a handle; live_bytes: what they \
         hold, as an allocator counts it (a Timer or Ticker whose c() was never called: its entry \
         alone; once called: its channel and wheel slot too); created: timers the site made since \
         the process started\n\
         next_due, last_due: seconds from now to the earliest and the latest deadline among the \
         site's pending timers on the system clock (\"-\": none pending, or only on fake clocks)\n\
         not here: the system clock's after(), at() and sleep(), which register no timer\n\n",
        plural(live, "live timer", "live timers"),
        plural(bytes, "byte", "bytes"),
        plural(sites.len() as u64, "call site", "call sites"),
    );
    let _ = writeln!(
        out,
        "{:>10} {:>12} {:>10} {:<9} {:>12} {:>12}  site",
        "live", "live_bytes", "created", "kind", "next_due", "last_due"
    );
    let due = |d: Option<Instant>| match d {
        Some(d) => format!("{:.3}s", d.saturating_duration_since(now).as_secs_f64()),
        None => "-".to_owned(),
    };
    for s in &sites {
        let _ = writeln!(
            out,
            "{:>10} {:>12} {:>10} {:<9} {:>12} {:>12}  {}:{}:{}",
            s.live,
            s.live_bytes,
            s.created,
            s.kind.name(),
            due(s.earliest),
            due(s.latest),
            s.file,
            s.line,
            s.column
        );
    }
    out
}
