//! The timer profile in pprof's format: a gzipped `profile.proto`, readable by `go tool pprof`.
//!
//! [`write_pprof`] writes what [`snapshot`] returns. The messages below are
//! declared by hand from pprof's `profile.proto` (field numbers included) and encoded with
//! `prost`'s derive, so no `protoc` runs at build time. They are public so that a program (or a test)
//! can read a profile back:
//!
//! ```
//! use gotimer::profile::pprof::Profile;
//! use prost::Message;
//! use std::io::Read;
//!
//! let t = gotimer::Timer::new(std::time::Duration::from_secs(60));
//! let mut gz = Vec::new();
//! gotimer::profile::write_pprof(&mut gz).unwrap();
//! let mut raw = Vec::new();
//! flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut raw).unwrap();
//! let p = Profile::decode(&raw[..]).unwrap();
//! let names: Vec<&str> = p.sample_type.iter().map(|v| p.string_table[v.r#type as usize].as_str()).collect();
//! assert_eq!(names, ["timers", "space"]);
//! assert!(p.sample.iter().any(|s| s.value[0] >= 1));
//! drop(t);
//! ```
//!
//! # What the profile holds
//!
//! - Two sample types, `timers/count` (live timers) and `space/bytes` (the bytes they hold), with
//!   `timers` as the default. `-sample_index=space`, or pprof's legacy `-inuse_space`, shows bytes.
//! - For each call site that has live timers, one sample per sampled call chain above it that has
//!   live timers (or one sample, the site alone, if none has), with the two values and two labels:
//!   `kind` (`Timer`, `Ticker`, `AfterFunc`, `Tick`) and `created` (timers the site created since
//!   the process started). A sample's stack is the call site, then the callers, innermost first.
//!   The site's samples add up to its exact live count and bytes; the split among its chains is
//!   estimated (see [`set_chain_rate`](super::set_chain_rate)).
//! - One Function per call site, named `file:line:col Kind` with its file name and start line, so two
//!   sites on one line, or two kinds at one site, are never merged; one Location per site, with one
//!   Line and no address.
//! - One Function per caller (its name, and its file where the build has line tables), and one
//!   Location per return address of a chain, with one Line per frame there, the frames inlined at
//!   that address first, and no address.
//! - One Mapping that names no file (see below).
//! - Two comments, shown in pprof's header: what the profile is, and the program it came from
//!   (`File: NAME`).
//! - `time_nanos`, the wall-clock time of the snapshot, and `duration_nanos`, how long taking it
//!   took (a snapshot is an instant, not a window).
//!
//! With no timers at all the profile still has its sample types, and pprof reads it as empty.
//!
//! # Why the Mapping names no file and the Locations have no address
//!
//! A call site is a source position that `#[track_caller]` recorded, not an instruction address:
//! nothing in the executable backs it, and pprof must not look there. The callers above it are
//! return addresses, but gotimer resolves them itself when it writes the profile (function, file,
//! line, inlined frames), so pprof has nothing left to look up either. pprof looks at the binary in
//! two places, and the profile closes both:
//!
//! - **Symbolization**, when the profile is fetched: pprof's symbolizer (local, or remote through
//!   `/debug/pprof/symbol`) skips a mapping that says it is already symbolized, that is, one with
//!   `has_functions`, `has_filenames` or `has_line_numbers` set. Ours sets all four flags, because
//!   each Location's one Line is the complete answer: a recorded call site has no inlined frames to
//!   expand, so `has_inline_frames` is true as well. A profile with no Mapping at all would not do:
//!   pprof then adds one without the flags, tries to symbolize it, and warns "Main binary filename not
//!   available".
//! - **Disassembly**, in the source (`/ui/source`, `-list`) and disasm views: pprof opens the
//!   Mapping's file and, if that works, disassembles it around each Location's address. An earlier
//!   version named the running executable with made-up addresses (`0x1001`...), so pprof disassembled
//!   the real binary at offsets it never had and crashed (`slice bounds out of range` in
//!   `objfile.(*Disasm).Decode`, Go 1.19 and 1.27 alike). A Mapping with an empty file name cannot be
//!   opened, so pprof takes its other path: it builds the listing from the Location's Line (function,
//!   file, line) and reads the source file, searching `-source_path` (default: the current directory)
//!   and its parents. This is the Mapping Go's own runtime writes when it cannot read
//!   `/proc/self/maps` (`runtime/pprof`: start, limit and offset 0, file and build id empty); Go sets
//!   only `has_functions` there, and its `proto.go` leaves the other flags as a TODO.
//! - The address is 0 ("not available", in `profile.proto`'s words) rather than a made-up one: pprof
//!   gives address-less Locations addresses of its own where it needs them (its `synthCode`), so the
//!   address views cannot show a number that means nothing.
//!
//! The program's name, which used to ride in the Mapping, is in the second comment instead, as
//! `File: NAME`: pprof prints the comments in its header, where a Go profile has `File: NAME` from its
//! Mapping, and the web UI takes its title from that line (`NAME timers`, not `unknown timers`).
//!
//! `tests/pprof_web.rs` holds pprof to this: every view of `go tool pprof -http` answers, for each Go
//! toolchain found, with the call site and its source line, and pprof logs no warning.

use super::{snapshot, Site};
use crate::sites::chain::Frame;
use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// pprof's `Profile`: the top-level message. Strings are indices into `string_table`, whose first
/// entry is `""`.
///
/// ```
/// let p = gotimer::profile::pprof::Profile::default();
/// assert!(p.sample.is_empty());
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct Profile {
    /// What each value of a sample measures.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// The samples: one per call site with live timers and call chain above it.
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// One mapping, which names no file (see the [module docs](self)).
    #[prost(message, repeated, tag = "3")]
    pub mapping: Vec<Mapping>,
    /// One per call site, and one per return address of a call chain.
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// One per call site, and one per calling function.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// Every string of the profile; entry 0 is `""`.
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// A regex of frames to drop (unused: 0).
    #[prost(int64, tag = "7")]
    pub drop_frames: i64,
    /// A regex of frames to keep (unused: 0).
    #[prost(int64, tag = "8")]
    pub keep_frames: i64,
    /// When the snapshot was taken, in nanoseconds since the Unix epoch.
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    /// How long taking it took, in nanoseconds.
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    /// The kind of events between samples (unused).
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// The number of events between samples (unused: 0).
    #[prost(int64, tag = "12")]
    pub period: i64,
    /// Free-form comments, as string indices.
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    /// The sample type pprof shows by default, as a string index (`timers`).
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

/// pprof's `ValueType`: a type and a unit, as string indices.
///
/// ```
/// let v = gotimer::profile::pprof::ValueType { r#type: 1, unit: 2 };
/// assert_eq!(v.unit, 2);
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueType {
    /// `timers` or `space`.
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// `count` or `bytes`.
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// pprof's `Sample`: values at a stack of locations: the call site, then its callers.
///
/// ```
/// let s = gotimer::profile::pprof::Sample::default();
/// assert!(s.value.is_empty());
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// The call site's location id, then the callers', innermost first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// Live timers and their bytes, in the order of `Profile::sample_type`.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    /// `kind` and `created`.
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// pprof's `Label`: a string or numeric tag on a sample.
///
/// ```
/// let l = gotimer::profile::pprof::Label { key: 1, num: 7, ..Default::default() };
/// assert_eq!(l.str, 0);
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// The label's name, as a string index.
    #[prost(int64, tag = "1")]
    pub key: i64,
    /// A string value, as a string index (0 if numeric).
    #[prost(int64, tag = "2")]
    pub str: i64,
    /// A numeric value.
    #[prost(int64, tag = "3")]
    pub num: i64,
    /// The unit of `num`, as a string index.
    #[prost(int64, tag = "4")]
    pub num_unit: i64,
}

/// pprof's `Mapping`: the binary the locations belong to. gotimer writes one that names no binary and
/// declares its locations symbolized (see the [module docs](self) for why).
///
/// ```
/// let m = gotimer::profile::pprof::Mapping::default();
/// assert!(!m.has_functions);
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct Mapping {
    /// Its id (1).
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// The start of the address range the locations' addresses fall in (0: no range).
    #[prost(uint64, tag = "2")]
    pub memory_start: u64,
    /// Its end (0).
    #[prost(uint64, tag = "3")]
    pub memory_limit: u64,
    /// The file offset of the range (0).
    #[prost(uint64, tag = "4")]
    pub file_offset: u64,
    /// The binary's path, as a string index (0, `""`: no file for pprof to open).
    #[prost(int64, tag = "5")]
    pub filename: i64,
    /// A build id, as a string index (none: 0).
    #[prost(int64, tag = "6")]
    pub build_id: i64,
    /// The locations carry function names.
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
    /// They carry file names.
    #[prost(bool, tag = "8")]
    pub has_filenames: bool,
    /// They carry line numbers.
    #[prost(bool, tag = "9")]
    pub has_line_numbers: bool,
    /// Their inlined frames are complete (yes: a call site has none).
    #[prost(bool, tag = "10")]
    pub has_inline_frames: bool,
}

/// pprof's `Location`: one call site.
///
/// ```
/// let l = gotimer::profile::pprof::Location::default();
/// assert!(l.line.is_empty());
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    /// Its id, from 1.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// The mapping it belongs to (1).
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    /// The instruction address (0: a call site has none).
    #[prost(uint64, tag = "3")]
    pub address: u64,
    /// The call site's function and line.
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
    /// Whether frames were folded (no).
    #[prost(bool, tag = "5")]
    pub is_folded: bool,
}

/// pprof's `Line`: a function and a line in it.
///
/// ```
/// let l = gotimer::profile::pprof::Line { function_id: 1, line: 42 };
/// assert_eq!(l.line, 42);
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct Line {
    /// The function's id.
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// The line number.
    #[prost(int64, tag = "2")]
    pub line: i64,
}

/// pprof's `Function`: one per call site, named `file:line:col Kind`.
///
/// ```
/// let f = gotimer::profile::pprof::Function::default();
/// assert_eq!(f.start_line, 0);
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    /// Its id, from 1.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// `file:line:col Kind`, as a string index.
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// The same, as a string index.
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// The source file, as a string index.
    #[prost(int64, tag = "4")]
    pub filename: i64,
    /// The call's line.
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}

/// The string table under construction: index 0 is `""`, each string is stored once.
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Self {
        let mut s = Strings {
            table: Vec::new(),
            index: HashMap::new(),
        };
        s.get("");
        s
    }

    fn get(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A sampled call chain of a site, resolved: its frames above the site, innermost first, each a
/// return address's frames (innermost, inlined, first); and the live weight of its recorded timers.
pub(crate) struct Caller {
    pub(crate) site: u32,
    pub(crate) frames: Vec<Vec<Frame>>,
    pub(crate) weight: u64,
}

/// The live chains of the live sites among `sites`, resolved.
fn callers(sites: &[Site]) -> Vec<Caller> {
    let live: std::collections::HashSet<u32> =
        sites.iter().filter(|s| s.live > 0).map(|s| s.id).collect();
    crate::sites::chain::all()
        .into_iter()
        .filter_map(|c| {
            // Read once: other threads free timers meanwhile, and a chain kept for its weight
            // must keep that weight.
            let weight = c.live_weight();
            (weight > 0 && live.contains(&c.site.index())).then(|| Caller {
                site: c.site.index(),
                frames: crate::sites::chain::resolve(c),
                weight,
            })
        })
        .collect()
}

/// Splits `total` in proportion to `weights` (not all 0), by largest remainder: the parts add up to
/// `total` exactly.
fn split(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    assert!(sum > 0, "gotimer: split among chains that all weigh 0");
    let mut parts: Vec<(u64, u128, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let exact = u128::from(total) * u128::from(w);
            ((exact / sum) as u64, exact % sum, i)
        })
        .collect();
    let mut left = total - parts.iter().map(|p| p.0).sum::<u64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| parts[b].1.cmp(&parts[a].1).then(a.cmp(&b)));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i].0 += 1;
        left -= 1;
    }
    parts.into_iter().map(|p| p.0).collect()
}

/// Builds the profile message for `sites` and their sampled `callers`, taken at `time_nanos` in
/// `duration_nanos`.
pub(crate) fn build(
    sites: &[Site],
    callers: &[Caller],
    time_nanos: i64,
    duration_nanos: i64,
) -> Profile {
    let mut strings = Strings::new();
    let timers = strings.get("timers");
    let sample_type = vec![
        ValueType {
            r#type: timers,
            unit: strings.get("count"),
        },
        ValueType {
            r#type: strings.get("space"),
            unit: strings.get("bytes"),
        },
    ];
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".to_owned());
    let kind_key = strings.get("kind");
    let created_key = strings.get("created");
    let count_unit = strings.get("count");

    let live: Vec<&Site> = sites.iter().filter(|s| s.live > 0).collect();
    let mut profile = Profile {
        sample_type,
        // No file, no range, every flag: see the module docs.
        mapping: vec![Mapping {
            id: 1,
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            has_inline_frames: true,
            ..Default::default()
        }],
        time_nanos,
        duration_nanos,
        default_sample_type: timers,
        ..Default::default()
    };
    profile
        .comment
        .push(strings.get("gotimer timer profile: live timers per call site"));
    profile
        .comment
        .push(strings.get(&format!("File: {program}")));
    // Caller frames: one Function per (name, file), one Location per address's frames.
    let mut functions: HashMap<(String, String), u64> = HashMap::new();
    let mut locations: HashMap<Vec<Frame>, u64> = HashMap::new();
    let mut by_site: HashMap<u32, Vec<&Caller>> = HashMap::new();
    for c in callers {
        by_site.entry(c.site).or_default().push(c);
    }
    for site in live {
        let name = format!(
            "{}:{}:{} {}",
            site.file,
            site.line,
            site.column,
            site.kind.name()
        );
        let name = strings.get(&name);
        let id = profile.function.len() as u64 + 1;
        profile.function.push(Function {
            id,
            name,
            system_name: name,
            filename: strings.get(site.file),
            start_line: i64::from(site.line),
        });
        let site_location = profile.location.len() as u64 + 1;
        profile.location.push(Location {
            id: site_location,
            mapping_id: 1,
            address: 0,
            line: vec![Line {
                function_id: id,
                line: i64::from(site.line),
            }],
            is_folded: false,
        });
        let labels = vec![
            Label {
                key: kind_key,
                str: strings.get(site.kind.name()),
                ..Default::default()
            },
            Label {
                key: created_key,
                num: to_i64(site.created),
                num_unit: count_unit,
                ..Default::default()
            },
        ];
        let chains = by_site.get(&site.id).map_or(&[][..], |c| &c[..]);
        // Chains whose timers were all freed (weight 0) say nothing of who holds the live ones:
        // the site's sample stands alone, as with no chains at all.
        if chains.iter().all(|c| c.weight == 0) {
            profile.sample.push(Sample {
                location_id: vec![site_location],
                value: vec![to_i64(site.live), to_i64(site.live_bytes)],
                label: labels,
            });
            continue;
        }
        let weights: Vec<u64> = chains.iter().map(|c| c.weight).collect();
        let counts = split(site.live, &weights);
        let bytes = split(site.live_bytes, &weights);
        for ((chain, count), bytes) in chains.iter().zip(counts).zip(bytes) {
            if count == 0 && bytes == 0 {
                continue;
            }
            let mut stack = vec![site_location];
            for frames in &chain.frames {
                let loc = match locations.get(frames) {
                    Some(&l) => l,
                    None => {
                        let lines = frames
                            .iter()
                            .map(|f| {
                                let key = (f.function.clone(), f.file.clone());
                                let function_id = match functions.get(&key) {
                                    Some(&fid) => fid,
                                    None => {
                                        let fid = profile.function.len() as u64 + 1;
                                        let name = strings.get(&f.function);
                                        profile.function.push(Function {
                                            id: fid,
                                            name,
                                            system_name: name,
                                            filename: strings.get(&f.file),
                                            start_line: 0,
                                        });
                                        functions.insert(key, fid);
                                        fid
                                    }
                                };
                                Line {
                                    function_id,
                                    line: i64::from(f.line),
                                }
                            })
                            .collect();
                        let l = profile.location.len() as u64 + 1;
                        profile.location.push(Location {
                            id: l,
                            mapping_id: 1,
                            address: 0,
                            line: lines,
                            is_folded: false,
                        });
                        locations.insert(frames.clone(), l);
                        l
                    }
                };
                stack.push(loc);
            }
            profile.sample.push(Sample {
                location_id: stack,
                value: vec![to_i64(count), to_i64(bytes)],
                label: labels.clone(),
            });
        }
    }
    profile.string_table = strings.table;
    profile
}

/// Writes the timer profile, a [`snapshot`] of every call site's live timers, to
/// `w` as a gzipped pprof `profile.proto` (see the [module docs](self) for what it holds). Read it
/// with `go tool pprof -top FILE`, or serve it with `debug::serve` (feature `http`).
///
/// ```
/// let leaked = gotimer::after_func(std::time::Duration::from_secs(600), || {});
/// let path = std::env::temp_dir().join(format!("gotimer-doc-{}.pb.gz", std::process::id()));
/// gotimer::profile::write_pprof(std::fs::File::create(&path).unwrap()).unwrap();
/// let bytes = std::fs::read(&path).unwrap();
/// assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
/// std::fs::remove_file(&path).unwrap();
/// leaked.stop();
/// ```
pub fn write_pprof(w: impl Write) -> io::Result<()> {
    let time_nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let start = Instant::now();
    let sites = snapshot();
    let duration_nanos = i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX);
    // Symbolising happens here, after the snapshot's instant, and is not part of its duration.
    let callers = callers(&sites);
    let profile = build(&sites, &callers, time_nanos, duration_nanos);
    let bytes = prost::Message::encode_to_vec(&profile);
    let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
    gz.write_all(&bytes)?;
    gz.finish()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn a_site_whose_chains_all_weigh_nothing_keeps_its_own_sample() {
        let site = crate::profile::snapshot()
            .into_iter()
            .next()
            .unwrap_or_else(|| {
                let _t = crate::Timer::new(std::time::Duration::from_secs(3600));
                crate::profile::snapshot().into_iter().next().unwrap()
            });
        let site = Site {
            live: 3,
            live_bytes: 300,
            ..site
        };
        // The race a profile can meet: a chain read as live whose timers were freed since.
        let freed = Caller {
            site: site.id,
            frames: Vec::new(),
            weight: 0,
        };
        let p = build(std::slice::from_ref(&site), &[freed], 1, 2);
        assert_eq!(p.sample.len(), 1);
        assert_eq!(p.sample[0].value, [3, 300]);
        assert_eq!(split(5, &[1, 0, 3]), [1, 0, 4]);
    }

    #[test]
    fn no_timers_still_has_the_sample_types() {
        let p = build(&[], &[], 1, 2);
        let p = Profile::decode(&p.encode_to_vec()[..]).unwrap();
        let s = |i: i64| p.string_table[i as usize].as_str();
        let types: Vec<_> = p
            .sample_type
            .iter()
            .map(|v| (s(v.r#type), s(v.unit)))
            .collect();
        assert_eq!(types, [("timers", "count"), ("space", "bytes")]);
        assert_eq!(s(p.default_sample_type), "timers");
        assert!(p.sample.is_empty() && p.location.is_empty() && p.function.is_empty());
        assert_eq!(p.mapping.len(), 1);
        let m = &p.mapping[0];
        assert!(m.has_functions && m.has_filenames && m.has_line_numbers && m.has_inline_frames);
        assert_eq!((m.filename, m.memory_start, m.memory_limit), (0, 0, 0));
        assert_eq!((p.time_nanos, p.duration_nanos), (1, 2));
        // pprof shows a comment `File: NAME` in its header and titles the web UI with NAME.
        let exe = std::env::current_exe().unwrap();
        let file = format!("File: {}", exe.file_name().unwrap().to_string_lossy());
        assert!(p.comment.iter().any(|&c| s(c) == file), "{:?}", p.comment);
        if let Ok(path) = std::env::var("GOTIMER_EMPTY_PROFILE") {
            let mut gz = flate2::write::GzEncoder::new(
                std::fs::File::create(path).unwrap(),
                flate2::Compression::default(),
            );
            gz.write_all(&p.encode_to_vec()).unwrap();
            gz.finish().unwrap();
        }
    }
}
