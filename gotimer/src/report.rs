//! Where gotimer reports a panic caught in an [`after_func`](crate::after_func) callback.
//!
//! A callback that panics is caught, counted in
//! [`Stats::callback_panics`](crate::Stats::callback_panics), and reported. By default the report is
//! one line on stderr, [`CallbackPanic`]'s `Display`; [`set_callback_panic_reporter`] sends it
//! elsewhere (a logger, a metric, a test's collector, or nowhere), and
//! [`take_callback_panic_reporter`] restores the default. The pair is modelled on
//! [`std::panic::set_hook`] and [`std::panic::take_hook`], and is needed beside them: the panic
//! hook runs when the panic starts, while this report is made after the panic was caught, with the
//! callback's creation site, which the hook does not know.

use crate::sync::{read, write};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::sync::{Arc, RwLock};

/// A panic caught in an `after_func` callback, or in the drop of its captures, or in a task's waker
/// woken by a timer of [`gotimer::future`](crate::future): what a reporter set by
/// [`set_callback_panic_reporter`] receives.
///
/// Its `Display` is the line gotimer writes to stderr when no reporter is set:
///
/// ```
/// use gotimer::{set_callback_panic_reporter, take_callback_panic_reporter};
/// use std::sync::mpsc;
/// use std::time::Duration;
///
/// let (tx, rx) = mpsc::channel();
/// let tx = std::sync::Mutex::new(tx);
/// set_callback_panic_reporter(move |p| {
///     let _ = tx.lock().unwrap().send((p.location().line(), p.message().to_string(), p.to_string()));
/// });
/// # std::panic::set_hook(Box::new(|_| {})); // keep std's own message out of the doctest's output
/// let line = line!() + 1;
/// gotimer::after_func(Duration::ZERO, || panic!("disk full"));
/// let (at, message, shown) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
/// # let _ = std::panic::take_hook();
/// let _ = take_callback_panic_reporter(); // stderr again
/// assert_eq!((at, message.as_str()), (line, "disk full"));
/// assert!(shown.starts_with("gotimer: the after_func callback created at "));
/// assert!(shown.ends_with(" panicked: disk full; other timers keep running"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CallbackPanic<'a> {
    location: &'static Location<'static>,
    message: &'a str,
    waker: bool,
}

impl<'a> CallbackPanic<'a> {
    pub(crate) fn new(location: &'static Location<'static>, message: &'a str, waker: bool) -> Self {
        CallbackPanic {
            location,
            message,
            waker,
        }
    }

    /// True if what panicked is a task's waker, woken by a timer of
    /// [`gotimer::future`](crate::future) (created at [`location`](CallbackPanic::location)),
    /// rather than an `after_func` callback.
    ///
    /// ```
    /// # use gotimer::CallbackPanic;
    /// fn what(p: &CallbackPanic<'_>) -> &'static str {
    ///     if p.is_waker() { "waker" } else { "callback" }
    /// }
    /// ```
    pub fn is_waker(&self) -> bool {
        self.waker
    }

    /// Where the callback was created: the call of `after_func` (or `after_func_at`,
    /// `after_func_stopped`, a `Clock`'s) that made it, through `#[track_caller]`. Past the profile's
    /// limit of distinct call sites, a line of gotimer's own that says so.
    ///
    /// ```
    /// # use gotimer::CallbackPanic;
    /// fn log(p: &CallbackPanic<'_>) -> String {
    ///     format!("{}:{}", p.location().file(), p.location().line())
    /// }
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The panic's message: its payload when that is a `&str` or a `String` (what `panic!` makes),
    /// `(non-string panic payload)` otherwise.
    ///
    /// ```
    /// # use gotimer::CallbackPanic;
    /// fn is_expected(p: &CallbackPanic<'_>) -> bool {
    ///     p.message().contains("(expected)")
    /// }
    /// ```
    pub fn message(&self) -> &'a str {
        self.message
    }
}

impl fmt::Display for CallbackPanic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.waker {
            "the waker of the task timer"
        } else {
            "the after_func callback"
        };
        write!(
            f,
            "gotimer: {what} created at {} panicked: {}; other timers keep running",
            self.location, self.message
        )
    }
}

type Reporter = dyn Fn(&CallbackPanic<'_>) + Send + Sync + 'static;

/// The reporter, if one is set. Read once per caught panic: the lock is held only to clone the
/// `Arc`, so a reporter may itself set or take the reporter, and a slow one blocks nobody.
static REPORTER: RwLock<Option<Arc<Reporter>>> = RwLock::new(None);

/// Sends every later report of a panicking `after_func` callback to `reporter`, in place of the
/// line on stderr, for every clock (the system clock and every `FakeClock`).
///
/// The reporter runs on the thread that ran the callback (a callback thread, or a fake clock's
/// advancing thread), after the panic was counted and the callback's captures dropped, possibly on
/// several threads at once. A reporter that panics is caught in turn: the report then goes to
/// stderr with a line saying so, and the thread goes on running callbacks. Setting replaces the
/// reporter set before, as [`std::panic::set_hook`] does.
///
/// ```
/// use gotimer::{after_func, set_callback_panic_reporter, take_callback_panic_reporter};
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// // Count the reports instead of printing them (a logger would go here).
/// let seen = Arc::new(AtomicUsize::new(0));
/// let counter = seen.clone();
/// set_callback_panic_reporter(move |_| {
///     counter.fetch_add(1, SeqCst);
/// });
/// # std::panic::set_hook(Box::new(|_| {}));
/// after_func(Duration::ZERO, || panic!("expected"));
/// let until = std::time::Instant::now() + Duration::from_secs(10);
/// while seen.load(SeqCst) == 0 && std::time::Instant::now() < until {
///     std::thread::sleep(Duration::from_millis(1));
/// }
/// # let _ = std::panic::take_hook();
/// let _ = take_callback_panic_reporter();
/// assert_eq!(seen.load(SeqCst), 1);
/// ```
pub fn set_callback_panic_reporter<F>(reporter: F)
where
    F: Fn(&CallbackPanic<'_>) + Send + Sync + 'static,
{
    let reporter: Arc<Reporter> = Arc::new(reporter);
    let old = write(&REPORTER).replace(reporter);
    // Dropped after the lock is released: its captures' drop may take the reporter itself.
    drop(old);
}

/// Restores the default report (a line on stderr) and returns the reporter that was set, or, if
/// none was, one that writes the default line: so a reporter can be wrapped, as a panic hook is with
/// [`std::panic::take_hook`].
///
/// ```
/// use gotimer::{set_callback_panic_reporter, take_callback_panic_reporter};
///
/// // Leave out the reports of one module's callbacks, and report the others as before.
/// let previous = take_callback_panic_reporter();
/// set_callback_panic_reporter(move |p| {
///     if !p.location().file().ends_with("noisy.rs") {
///         previous(p);
///     }
/// });
/// # let _ = take_callback_panic_reporter();
/// ```
pub fn take_callback_panic_reporter() -> Box<Reporter> {
    let old = write(&REPORTER).take();
    match old {
        Some(reporter) => Box::new(move |p: &CallbackPanic<'_>| reporter(p)),
        None => Box::new(to_stderr),
    }
}

/// Reports `panic` to the reporter that is set, or to stderr. Never panics, whatever the reporter
/// does.
pub(crate) fn deliver(panic: &CallbackPanic<'_>) {
    deliver_or(panic, line)
}

/// [`deliver`], with the lines that would go to stderr given to `fallback`.
fn deliver_or(panic: &CallbackPanic<'_>, fallback: fn(fmt::Arguments<'_>)) {
    let reporter = read(&REPORTER).clone();
    let Some(reporter) = reporter else {
        return fallback(format_args!("{panic}"));
    };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| reporter(panic))) {
        fallback(format_args!("{panic}"));
        let why = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(non-string panic payload)");
        fallback(format_args!(
            "gotimer: the callback panic reporter panicked too: {why}"
        ));
        // A payload whose own drop panics must not take the thread down either.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
}

/// The default reporter: `panic`'s line on stderr.
fn to_stderr(panic: &CallbackPanic<'_>) {
    line(format_args!("{panic}"));
}

/// Writes a line to stderr, ignoring failure: `eprintln!` panics when stderr is a closed pipe, and
/// a report must never kill the thread that makes it.
fn line(line: fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The tests below set the process-wide reporter; this keeps them from overlapping.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn at() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn display_is_the_default_line() {
        let loc = at();
        let p = CallbackPanic::new(loc, "boom", false);
        assert_eq!(
            p.to_string(),
            format!(
                "gotimer: the after_func callback created at {}:{}:{} panicked: boom; other \
                 timers keep running",
                loc.file(),
                loc.line(),
                loc.column()
            )
        );
        let w = CallbackPanic::new(loc, "boom", true);
        assert!(w.is_waker() && !p.is_waker());
        assert!(w
            .to_string()
            .starts_with("gotimer: the waker of the task timer created at "));
    }

    #[test]
    fn a_reporter_receives_each_report_until_taken() {
        let _s = crate::sync::lock(&SERIAL);
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        set_callback_panic_reporter(move |p| sink.lock().unwrap().push(p.message().to_string()));
        deliver(&CallbackPanic::new(at(), "one", false));
        deliver(&CallbackPanic::new(at(), "two", false));
        let taken = take_callback_panic_reporter();
        // Taken: the default is back, and the returned reporter is the one that was set.
        assert!(REPORTER.read().unwrap().is_none());
        taken(&CallbackPanic::new(at(), "three", false));
        assert_eq!(*got.lock().unwrap(), ["one", "two", "three"]);
    }

    #[test]
    fn a_panicking_reporter_is_caught_and_a_reporter_may_replace_itself() {
        let _s = crate::sync::lock(&SERIAL);
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        set_callback_panic_reporter(|_| panic!("the reporter fails"));
        static FALLBACK: Mutex<Vec<String>> = Mutex::new(Vec::new());
        deliver_or(&CallbackPanic::new(at(), "expected", false), |l| {
            FALLBACK.lock().unwrap().push(l.to_string())
        });
        let fallback = FALLBACK.lock().unwrap().clone();
        assert_eq!(fallback.len(), 2, "{fallback:?}");
        assert!(fallback[0].ends_with("panicked: expected; other timers keep running"));
        assert_eq!(
            fallback[1],
            "gotimer: the callback panic reporter panicked too: the reporter fails"
        );
        // Still here: the reporter's panic did not escape. Now one that replaces itself: the lock
        // is not held while it runs, or this would deadlock.
        let got = Arc::new(Mutex::new(0));
        let sink = got.clone();
        set_callback_panic_reporter(move |_| {
            let sink = sink.clone();
            set_callback_panic_reporter(move |_| *sink.lock().unwrap() += 10);
        });
        deliver(&CallbackPanic::new(at(), "first", false));
        deliver(&CallbackPanic::new(at(), "second", false));
        let _ = take_callback_panic_reporter();
        std::panic::set_hook(hook);
        assert_eq!(*got.lock().unwrap(), 10);
    }
}
