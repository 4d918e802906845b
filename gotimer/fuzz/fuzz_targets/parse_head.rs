//! Any bytes, as the head of a request to `/debug/pprof/`: the parser must not panic, and the
//! properties of `head_check.rs` must hold. The parser and the properties are the library's own files,
//! compiled in here, so the fuzzer needs no public hook into the crate.
#![no_main]

#[allow(dead_code)]
#[path = "../../src/debug/head.rs"]
mod head;
#[path = "../../src/debug/head_check.rs"]
mod head_check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| head_check::check(data));
