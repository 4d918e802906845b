//! Keeps the panics that tests provoke on purpose off stderr, so that a real failure stands out in
//! `cargo test`'s output. A test whose panics are expected says so in their message (it contains
//! [`EXPECTED`]) and calls [`quiet`] first. Every other panic, and every report of one, is shown as
//! before. `GOTIMER_TEST_SHOW_EXPECTED_PANICS=1` shows the expected ones too.
//!
//! Two things print a callback's panic: std's panic hook, as the panic starts, and gotimer's report
//! with the callback's call site, once the panic is caught. The hook is filtered with
//! `std::panic::set_hook`, the report with `gotimer::set_callback_panic_reporter`, which also
//! keeps the expected reports for the tests that check them ([`reports`]).
#![allow(dead_code)]

use std::sync::{Mutex, Once};

/// In the message of every panic a test provokes on purpose.
pub const EXPECTED: &str = "(expected by this test)";

/// An expected report of a panicking callback: where the callback was created, and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub file: String,
    pub line: u32,
    pub message: String,
}

static REPORTS: Mutex<Vec<Report>> = Mutex::new(Vec::new());

/// Besides [`EXPECTED`], parts of messages that mark an expected panic: gotimer's own, provoked.
static ALSO: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

fn is_expected(message: &str) -> bool {
    message.contains(EXPECTED) || ALSO.lock().unwrap().iter().any(|p| message.contains(p))
}

/// [`quiet`], and the panics whose message contains one of `parts` are expected too: for a test
/// that provokes one of gotimer's own panics.
pub fn quiet_also(parts: &[&'static str]) {
    ALSO.lock().unwrap().extend_from_slice(parts);
    quiet();
}

/// Installs, once per test process, a panic hook and a callback panic reporter that leave out what
/// is expected and pass everything else to the ones that were there before.
pub fn quiet() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("GOTIMER_TEST_SHOW_EXPECTED_PANICS").is_some_and(|v| v == "1") {
            return;
        }
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let msg = p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str));
            if !msg.is_some_and(is_expected) {
                hook(info);
            }
        }));
        let report = gotimer::take_callback_panic_reporter();
        gotimer::set_callback_panic_reporter(move |p| {
            if is_expected(p.message()) {
                REPORTS.lock().unwrap().push(Report {
                    file: p.location().file().to_string(),
                    line: p.location().line(),
                    message: p.message().to_string(),
                });
            } else {
                report(p);
            }
        });
    });
}

/// The expected callback panics reported so far in this process (none when they are shown).
pub fn reports() -> Vec<Report> {
    REPORTS.lock().unwrap().clone()
}
