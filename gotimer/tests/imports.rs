//! No import circle between the files of `gotimer/src`: data flows one way (API → handle → entry →
//! shard/wheel → runtime → delivery), and a file that needs another never is needed by it, directly
//! or through others. Run: `cargo test -p gotimer --test imports -- --nocapture` (prints the graph).
//!
//! The graph has an edge from file A to file B when A names an item of B: in a `use`, or in a path
//! in code (`crate::sync::lock(..)`, `super::time::Due`). A name re-exported by a module file (a
//! `pub use` in `lib.rs` or a `mod.rs`) counts as the file that defines it, and the re-export itself
//! is not an edge: a façade is not a dependency. `mod` declarations are ownership, not imports, and
//! are left out. Paths inside macro invocations and doc links are not seen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// A module path, from the crate root: `["runtime", "entry"]`.
type ModPath = Vec<String>;

struct Crate {
    /// The file of each module that has one.
    files: BTreeMap<ModPath, PathBuf>,
    /// Per module, the names its `pub`/`pub(crate)` `use` items bind, and where they point.
    reexports: BTreeMap<ModPath, BTreeMap<String, ModPath>>,
}

fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "lib" && stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every path a `use` tree binds, with the name it binds (`None` for a glob).
fn use_paths(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            let name = n.ident.to_string();
            if name != "self" {
                path.push(name.clone());
            }
            let bound = if name == "self" {
                prefix.last().cloned()
            } else {
                Some(name)
            };
            out.push((path, bound));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push((path, Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_paths(t, prefix, out);
            }
        }
    }
}

/// `path`, as written in module `at`, made absolute: `None` if it does not start in this crate
/// (`std::…`, a local name, a dependency).
fn absolute(at: &ModPath, path: &[String], modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    let mut base = at.clone();
    let mut rest = path;
    let first = rest.first()?;
    let mut child = at.clone();
    child.push(first.clone());
    if modules.contains(&child) {
        // A child module, named from its parent (`system::SystemRuntime` in `runtime/mod.rs`).
        base.extend(rest.iter().cloned());
        return Some(base);
    }
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some("self") => rest = &rest[1..],
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

impl Crate {
    /// The file that defines what `path` (absolute) names, following re-exports.
    fn resolve(&self, path: &ModPath, depth: usize) -> Option<&ModPath> {
        assert!(depth < 32, "re-exports loop at {path:?}");
        // The longest prefix that is a module with a file.
        let (module, rest) = (0..=path.len())
            .rev()
            .map(|n| (path[..n].to_vec(), &path[n..]))
            .find(|(m, _)| self.files.contains_key(m))?;
        if let Some(name) = rest.first() {
            if let Some(target) = self.reexports.get(&module).and_then(|r| r.get(name)) {
                let mut target = target.clone();
                target.extend(rest[1..].iter().cloned());
                if let Some(file) = self.resolve(&target, depth + 1) {
                    return Some(file);
                }
            }
        }
        self.files.get_key_value(&module).map(|(k, _)| k)
    }
}

/// Collects, for one file, every crate path it names and the names its `pub` `use`s re-export.
struct Collector<'m> {
    /// Every module that has a file.
    modules: &'m BTreeSet<ModPath>,
    /// The module of the file, then the inline modules the visitor is in.
    at: ModPath,
    paths: Vec<ModPath>,
    reexports: BTreeMap<String, ModPath>,
    /// Depth of inline modules: re-exports are recorded only at the file's top level.
    inline: usize,
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if m.content.is_some() {
            self.at.push(m.ident.to_string());
            self.inline += 1;
            syn::visit::visit_item_mod(self, m);
            self.inline -= 1;
            self.at.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut found = Vec::new();
        use_paths(&u.tree, &mut Vec::new(), &mut found);
        let public = !matches!(u.vis, syn::Visibility::Inherited);
        for (path, bound) in found {
            let Some(abs) = absolute(&self.at, &path, self.modules) else {
                continue;
            };
            match bound {
                // A re-export of a module file is a façade, not an edge.
                Some(name) if public && self.inline == 0 => {
                    self.reexports.insert(name, abs);
                }
                _ => self.paths.push(abs),
            }
        }
    }

    /// `pub(crate)`, `pub(super)`: a path, but no import.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(abs) = absolute(&self.at, &segments, self.modules) {
            self.paths.push(abs);
        }
        syn::visit::visit_path(self, p);
    }
}

#[test]
fn gotimer_src_has_no_import_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let mut krate = Crate {
        files: BTreeMap::new(),
        reexports: BTreeMap::new(),
    };
    let modules: BTreeSet<ModPath> = paths.iter().map(|f| module_of(&src, f)).collect();
    let mut named: BTreeMap<ModPath, Vec<ModPath>> = BTreeMap::new();
    for file in &paths {
        let module = module_of(&src, file);
        let text = std::fs::read_to_string(file).unwrap();
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut c = Collector {
            modules: &modules,
            at: module.clone(),
            paths: Vec::new(),
            reexports: BTreeMap::new(),
            inline: 0,
        };
        c.visit_file(&ast);
        krate.files.insert(module.clone(), file.clone());
        krate.reexports.insert(module.clone(), c.reexports);
        named.insert(module, c.paths);
    }
    assert!(
        krate.files.len() > 40,
        "found only {} files",
        krate.files.len()
    );

    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (module, paths) in &named {
        let out = edges.entry(module.clone()).or_default();
        for path in paths {
            if let Some(file) = krate.resolve(path, 0) {
                if file != module {
                    out.insert(file.clone());
                }
            }
        }
    }
    let name = |m: &ModPath| {
        krate.files[m]
            .strip_prefix(&src)
            .unwrap()
            .display()
            .to_string()
    };
    for (from, to) in &edges {
        let to: Vec<String> = to.iter().map(name).collect();
        println!("{} -> {}", name(from), to.join(", "));
    }

    // The runtime takes nothing from the crate root.
    let root: ModPath = Vec::new();
    for (from, to) in &edges {
        if from.first().map(String::as_str) == Some("runtime") {
            assert!(!to.contains(&root), "{} imports from lib.rs", name(from));
        }
    }

    // Depth-first search for a back edge.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        m: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        marks: &mut BTreeMap<ModPath, Mark>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<ModPath>> {
        marks.insert(m.clone(), Mark::Open);
        stack.push(m.clone());
        for next in edges.get(m).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let start = stack.iter().position(|s| s == next).unwrap();
                    let mut circle = stack[start..].to_vec();
                    circle.push(next.clone());
                    return Some(circle);
                }
                Mark::New => {
                    if let Some(c) = visit(next, edges, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(m.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for m in edges.keys() {
        if marks.get(m).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(circle) = visit(m, &edges, &mut marks, &mut Vec::new()) {
                let circle: Vec<String> = circle.iter().map(name).collect();
                panic!("import circle: {}", circle.join(" -> "));
            }
        }
    }
}
