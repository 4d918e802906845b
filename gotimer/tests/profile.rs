//! The pprof export: decoded back with the same prost types, and read by `go tool pprof`.
//!
//! Each test creates its timers at its own lines, so the tests can run in parallel against the one
//! process-wide registry.

#![cfg(feature = "profile")]

mod pprof_common;

use gotimer::profile::pprof::Profile;
use gotimer::profile::{Kind, Site};
use pprof_common::*;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

fn written() -> Profile {
    let mut gz = Vec::new();
    gotimer::profile::write_pprof(&mut gz).unwrap();
    decode(&gz)
}

fn string(p: &Profile, i: i64) -> &str {
    &p.string_table[usize::try_from(i).unwrap()]
}

fn site_at(line: u32, kind: Kind) -> Site {
    gotimer::profile::snapshot()
        .into_iter()
        .find(|s| s.file == file!() && s.line == line && s.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} site at {}:{line}", file!()))
}

fn function_name(s: &Site) -> String {
    format!("{}:{}:{} {}", s.file, s.line, s.column, s.kind.name())
}

/// A sample's values, and its labels as (key, string or number).
type Values = (Vec<i64>, Vec<(String, String)>);

/// The samples of the call site whose function is named `name`, added up: one per sampled call
/// chain above the site (or one, without chains).
fn sample_of(p: &Profile, name: &str) -> Option<Values> {
    let f = p.function.iter().find(|f| string(p, f.name) == name)?;
    let loc = p
        .location
        .iter()
        .find(|l| l.line.iter().any(|line| line.function_id == f.id))?;
    let samples: Vec<_> = p
        .sample
        .iter()
        .filter(|s| s.location_id[0] == loc.id)
        .collect();
    let s = samples.first()?;
    assert!(
        samples.iter().all(|x| x.label == s.label),
        "a site's samples carry its labels"
    );
    let value = (0..2)
        .map(|i| samples.iter().map(|x| x.value[i]).sum())
        .collect();
    let labels = s
        .label
        .iter()
        .map(|l| {
            let v = if l.str != 0 {
                string(p, l.str).to_owned()
            } else {
                l.num.to_string()
            };
            (string(p, l.key).to_owned(), v)
        })
        .collect();
    Some((value, labels))
}

#[test]
fn header_sample_types_mapping() {
    let p = written();
    assert_eq!(p.string_table[0], "");
    let types: Vec<(&str, &str)> = p
        .sample_type
        .iter()
        .map(|v| (string(&p, v.r#type), string(&p, v.unit)))
        .collect();
    assert_eq!(types, [("timers", "count"), ("space", "bytes")]);
    assert_eq!(string(&p, p.default_sample_type), "timers");
    assert!(
        p.time_nanos > 1_600_000_000_000_000_000,
        "time_nanos is wall time"
    );
    assert!(p.duration_nanos > 0);
    assert_eq!(p.mapping.len(), 1);
    let m = &p.mapping[0];
    assert!(m.has_functions && m.has_filenames && m.has_line_numbers && m.has_inline_frames);
    assert_eq!(m.id, 1);
    // No file for pprof to open and disassemble, and no made-up address range.
    assert_eq!(string(&p, m.filename), "");
    assert_eq!((m.memory_start, m.memory_limit, m.file_offset), (0, 0, 0));
    // Every id referenced exists, ids are unique, and no location claims an address. A call
    // site's location has one line; a caller's has one per frame inlined at its address.
    for l in &p.location {
        assert_eq!(l.mapping_id, 1);
        assert_eq!(l.address, 0);
        assert!(!l.line.is_empty());
        for line in &l.line {
            assert!(p.function.iter().any(|f| f.id == line.function_id));
        }
    }
    for s in &p.sample {
        assert_eq!(s.value.len(), 2);
        assert!(s
            .location_id
            .iter()
            .all(|id| p.location.iter().any(|l| l.id == *id)));
    }
    let mut ids: Vec<u64> = p.function.iter().map(|f| f.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), p.function.len());
}

#[test]
fn known_sites_with_counts_bytes_and_labels() {
    let timers: Vec<_> = (0..3).map(|_| gotimer::Timer::new(HOUR)).collect();
    let timer_line = line!() - 1;
    let funcs: Vec<_> = (0..2).map(|_| gotimer::after_func(HOUR, || {})).collect();
    let func_line = line!() - 1;
    let ticker = gotimer::Ticker::new(HOUR);
    let ticker_line = line!() - 1;
    // Two kinds on one line stay two functions.
    let (a, b) = (gotimer::Timer::new(HOUR), gotimer::after_func(HOUR, || {}));
    let pair_line = line!() - 1;

    let p = written();
    for (line, kind, live) in [
        (timer_line, Kind::Timer, 3),
        (func_line, Kind::AfterFunc, 2),
        (ticker_line, Kind::Ticker, 1),
        (pair_line, Kind::Timer, 1),
        (pair_line, Kind::AfterFunc, 1),
    ] {
        let site = site_at(line, kind);
        let name = function_name(&site);
        let f = p
            .function
            .iter()
            .find(|f| string(&p, f.name) == name)
            .unwrap_or_else(|| panic!("no function {name}"));
        assert_eq!(string(&p, f.filename), file!());
        assert_eq!(f.start_line, i64::from(line));
        assert_eq!(string(&p, f.system_name), name);
        let (values, labels) = sample_of(&p, &name).unwrap();
        assert_eq!(values[0], live, "{name}: live count");
        assert!(values[1] > 0, "{name}: bytes");
        assert_eq!(
            values[1] as u64, site.live_bytes,
            "{name}: bytes as in snapshot"
        );
        assert_eq!(values[1] % live, 0, "{name}: bytes are per timer");
        assert!(labels.contains(&("kind".to_owned(), kind.name().to_owned())));
        assert!(labels.contains(&("created".to_owned(), live.to_string())));
        // The location's line is the call's line.
        let loc = p
            .location
            .iter()
            .find(|l| l.line[0].function_id == f.id)
            .unwrap();
        assert_eq!(loc.line[0].line, i64::from(line));
    }

    // Stopped timers leave the profile; the site's `created` stays.
    for t in &timers {
        assert!(t.stop());
    }
    drop(timers);
    for f in &funcs {
        assert!(f.stop());
    }
    drop(funcs);
    let p = written();
    assert!(sample_of(&p, &function_name(&site_at(timer_line, Kind::Timer))).is_none());
    assert!(sample_of(&p, &function_name(&site_at(func_line, Kind::AfterFunc))).is_none());
    assert_eq!(site_at(timer_line, Kind::Timer).created, 3);
    drop((ticker, a, b));
}

#[test]
fn go_tool_pprof_reads_a_written_profile() {
    let Some(go) = find_go("go_tool_pprof_reads_a_written_profile") else {
        return;
    };
    let leaked: Vec<_> = (0..7).map(|_| gotimer::after_func(HOUR, || {})).collect();
    let line = line!() - 1;
    let site = site_at(line, Kind::AfterFunc);
    let name = function_name(&site);

    let dir = Scratch::new("pprof-file");
    let file = dir.path().join("timers.pb.gz");
    gotimer::profile::write_pprof(std::fs::File::create(&file).unwrap()).unwrap();
    let file = file.to_str().unwrap();

    let top = assert_clean("-top", &pprof(&go, dir.path(), &["-top"], file));
    assert!(top.contains("Type: timers"), "{top}");
    assert_eq!(top_flat(&top, &name).as_deref(), Some("7"), "{top}");

    let space = assert_clean(
        "-top -inuse_space",
        &pprof(&go, dir.path(), &["-top", "-inuse_space"], file),
    );
    assert!(space.contains("Type: space"), "{space}");
    assert!(space.contains(&name), "{space}");

    let raw = assert_clean("-raw", &pprof(&go, dir.path(), &["-raw"], file));
    assert!(raw.contains("timers/count[dflt] space/bytes"), "{raw}");
    // `-raw` prints each sample as "COUNT BYTES: LOCATION-ID...", leaf (the call site) first, then
    // its labels, and each location as "ID: ADDRESS M=1 FUNCTION FILE:LINE s=LINE". The seven
    // timers share one call chain, so one sample.
    let loc = raw
        .lines()
        .find(|l| l.contains(&name))
        .and_then(|l| l.split(':').next())
        .map(|id| id.trim().to_owned())
        .unwrap_or_else(|| panic!("no location for {name}\n{raw}"));
    let want = ["7".to_owned(), format!("{}:", site.live_bytes), loc];
    assert!(
        raw.lines().any(|l| l
            .split_whitespace()
            .map(str::to_owned)
            .take(3)
            .eq(want.iter().cloned())),
        "no sample {want:?}\n{raw}"
    );
    assert!(raw.contains("kind:[AfterFunc]"), "{raw}");
    assert!(raw.contains("[FN][FL][LN]"), "{raw}");
    drop(leaked);
}
