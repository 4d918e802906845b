//! The `?debug=1` text table says what its numbers are: counts in the header agree with their
//! nouns, and every column is explained. One test in its own process, so that the timers it counts
//! are the only ones there are.
#![cfg(feature = "http")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The body of `GET /debug/pprof/timers?debug=1`.
fn table(server: &gotimer::debug::Server) -> String {
    let mut conn = TcpStream::connect(server.local_addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    conn.write_all(b"GET /debug/pprof/timers?debug=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

fn bytes_live() -> u64 {
    gotimer::profile::snapshot()
        .iter()
        .map(|s| s.live_bytes)
        .sum()
}

#[test]
fn the_text_table_counts_in_words_that_agree_and_explains_its_columns() {
    let server = gotimer::debug::serve("127.0.0.1:0").unwrap();
    let one = gotimer::Timer::new(Duration::from_secs(60));
    let text = table(&server);
    let header = format!(
        "timer profile: 1 live timer, {} bytes, 1 call site\n",
        bytes_live()
    );
    assert!(text.starts_with(&header), "{text}");
    for column in ["live:", "live_bytes:", "created:", "next_due, last_due:"] {
        assert!(text.contains(column), "{column} is explained:\n{text}");
    }
    assert!(text.contains("seconds from now"), "{text}");

    let two = [(); 2].map(|_| gotimer::Ticker::new(Duration::from_secs(60)));
    let text = table(&server);
    let header = format!(
        "timer profile: 3 live timers, {} bytes, 2 call sites\n",
        bytes_live()
    );
    assert!(text.starts_with(&header), "{text}");
    drop((one, two));
    server.shutdown();
}
