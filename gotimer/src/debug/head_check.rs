//! Properties of the request-head parser (`head.rs`) that hold for any bytes. The fuzzer
//! (`gotimer/fuzz`, coverage-guided) and the tests (a proptest, and a replay of the fuzz corpus in
//! `cargo test`) call [`check`] on what they generate.
//!
//! The properties come from RFC 9112, stated independently of how `head.rs` scans:
//! - the head ends right after the first line that is empty once its LF (and a CR before it) is
//!   dropped, and scanning the bytes in pieces finds the same end as scanning them at once;
//! - an accepted head has a request line `METHOD SP target SP HTTP/1.d`, a path of visible ASCII,
//!   and header lines that are `name: value` with no CR or control byte (but HTAB) in them;
//! - an accepted head means what its canonical rendering means.

use super::head::{head_end, parse_head, Head, HeadError};

/// Panics, saying which property, if one fails for `bytes`.
pub(crate) fn check(bytes: &[u8]) {
    let end = head_end(bytes, 0);
    assert_eq!(
        end,
        first_empty_line_end(bytes),
        "the head ends at its first empty line"
    );
    assert_eq!(
        piecewise_end(bytes),
        end,
        "scanning in pieces finds the same end"
    );
    let Some(end) = end else { return };
    match parse_head(&bytes[..end]) {
        Ok(head) => check_accepted(&bytes[..end], &head),
        Err(HeadError::Malformed(why)) => assert!(!why.is_empty()),
        Err(HeadError::Version) => {}
        Err(e) => panic!("parse_head returned an I/O error: {e:?}"),
    }
}

/// Where the first empty line ends: the reference, by splitting into lines.
fn first_empty_line_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        at += line.len();
        if line == b"\n" || line == b"\r\n" {
            return Some(at);
        }
    }
    None
}

/// `head_end` fed the bytes in pieces of 1 to 7 bytes (sizes taken from the bytes themselves), as
/// reads from a socket would, each call scanning on from where the last one stopped.
fn piecewise_end(bytes: &[u8]) -> Option<usize> {
    let mut sizes = bytes.iter().map(|&b| usize::from(b % 7) + 1).cycle();
    let (mut len, mut from) = (0, 0);
    while len < bytes.len() {
        len = (len + sizes.next().unwrap_or(1)).min(bytes.len());
        match head_end(&bytes[..len], from) {
            Some(end) => return Some(end),
            None => from = len,
        }
    }
    None
}

fn check_accepted(head: &[u8], parsed: &Head) {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request = lines.next().unwrap_or_default();
    assert!(!request.contains(&b'\r'), "no CR inside the request line");
    let version = request.rsplit(|&b| b == b' ').next().unwrap_or_default();
    assert!(
        version.len() == 8 && version.starts_with(b"HTTP/1.") && version[7].is_ascii_digit(),
        "the version is HTTP/1.d: {version:?}"
    );
    for line in lines.filter(|l| !l.is_empty()) {
        let colon = line.iter().position(|&b| b == b':');
        let name = &line[..colon.unwrap_or(0)];
        assert!(
            !name.is_empty() && !name.iter().any(|&b| b <= b' ' || b == 0x7f),
            "a header line is `name: value`: {line:?}"
        );
        assert!(
            !line.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7f),
            "no control byte in a header line: {line:?}"
        );
    }
    assert!(!parsed.method.is_empty() && parsed.method.bytes().all(|b| b.is_ascii_uppercase()));
    assert!(parsed.path.starts_with('/') && !parsed.path.contains('?'));
    let target_ok = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
    assert!(
        target_ok(&parsed.path) && target_ok(&parsed.query),
        "{parsed:?}"
    );
    let query = if parsed.query.is_empty() { "" } else { "?" };
    let canonical = format!(
        "{} {}{query}{} HTTP/1.1\r\n\r\n",
        parsed.method, parsed.path, parsed.query
    );
    assert_eq!(
        parse_head(canonical.as_bytes()).as_ref(),
        Ok(parsed),
        "the canonical rendering means the same"
    );
}

#[cfg(test)]
mod tests {
    use super::check;
    use proptest::prelude::*;

    /// Every input the fuzzer kept (`gotimer/fuzz/corpus/parse_head`, coverage-increasing and
    /// crash-reproducing inputs) is checked again on every `cargo test`.
    #[test]
    fn the_fuzz_corpus_replays() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/parse_head");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("the fuzz corpus") {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(
                outcome.is_ok(),
                "{}: {:?}",
                path.display(),
                String::from_utf8_lossy(&bytes)
            );
            n += 1;
        }
        assert!(n >= 50, "only {n} corpus inputs in {dir}");
    }

    /// Pieces of requests, glued at random: near-valid heads, which plain random bytes seldom are.
    const PIECES: [&[u8]; 16] = [
        b"GET ",
        b"HEAD ",
        b"/debug/pprof/timers",
        b"?debug=1",
        b"http://h:1",
        b" HTTP/1.1",
        b" HTTP/2.0",
        b"\r\n",
        b"\n",
        b"\r",
        b"Host: x",
        b":",
        b" ",
        b"\t",
        b"\x00",
        b"\xc3\x28",
    ];

    fn request_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(0..PIECES.len(), 0..24)
            .prop_map(|picks| picks.iter().flat_map(|&i| PIECES[i]).copied().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            check(&bytes);
        }

        #[test]
        fn near_valid_requests(bytes in request_bytes()) {
            check(&bytes);
        }
    }
}
