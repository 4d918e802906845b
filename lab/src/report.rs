//! Text output shared by every subcommand: aligned tables on stdout and the same tables as CSV
//! files, number formats, wrapped lines and progress bars. The SVG charts are [`crate::chart`]'s.

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write as _;
use std::path::Path;

/// A table printed with aligned columns, and written as CSV with the same header and cells.
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: impl Into<String>, header: impl IntoIterator<Item = impl ToString>) -> Self {
        Table {
            title: title.into(),
            header: header.into_iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(
            cells.len(),
            self.header.len(),
            "row width must match the header"
        );
        self.rows.push(cells);
    }

    /// The table as aligned text, title first.
    pub fn render(&self) -> String {
        // In characters, as `format!`'s padding counts them ("–" is one, of three bytes).
        let chars = |c: &String| c.chars().count();
        let mut widths: Vec<usize> = self.header.iter().map(chars).collect();
        for row in &self.rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(chars(c));
            }
        }
        let mut s = format!("{}\n", self.title);
        let line = |s: &mut String, cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect();
            let _ = writeln!(s, "  {}", parts.join("  "));
        };
        line(&mut s, &self.header);
        for row in &self.rows {
            line(&mut s, row);
        }
        s
    }

    /// Writes the table as CSV (cells containing commas or quotes are quoted).
    pub fn write_csv(&self, path: &Path) -> std::io::Result<()> {
        let mut s = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
            let _ = writeln!(s, "{}", cells.join(","));
        }
        std::fs::write(path, s)
    }
}

fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}

/// A number in at most 4 significant digits, without exponent for usual magnitudes.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{v:.3e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.001 {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    }
}

/// A count with an SI suffix: 1000 -> "1k", 10000000 -> "10M".
pub fn si(v: f64) -> String {
    let v = v.round();
    for (div, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if v >= div {
            let x = v / div;
            return if (x - x.round()).abs() < 1e-9 {
                format!("{x:.0}{suffix}")
            } else {
                format!("{x:.1}{suffix}")
            };
        }
    }
    format!("{v:.0}")
}

/// A progress bar on stderr (hidden when stderr is not a terminal), `len` steps, with `msg`.
pub fn progress(len: u64, msg: impl Into<String>) -> ProgressBar {
    let style = ProgressStyle::with_template("{spinner} {msg:40} [{bar:30}] {pos}/{len} {elapsed}")
        .expect("a valid template")
        .progress_chars("=> ");
    let pb = ProgressBar::new(len)
        .with_style(style)
        .with_message(msg.into());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays whole),
/// the first starting with `first`, the others with `rest`.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = line.chars().count();
        if !empty && len + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// Writes `table` as `out/name.csv` and prints it, with the CSV path.
pub fn emit(table: &Table, out: &Path, name: &str) -> anyhow::Result<()> {
    let path = out.join(name);
    table
        .write_csv(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    print!("{}", table.render());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_aligned_and_quotes_csv() {
        let mut t = Table::new("T", ["name", "ns/op"]);
        t.row(vec!["a,b".into(), "12".into()]);
        t.row(vec!["long name".into(), "3".into()]);
        let r = t.render();
        assert!(r.contains("       name  ns/op"), "{r}");
        assert!(r.contains("  long name      3"), "{r}");
        let dir = std::env::temp_dir().join(format!("lab-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.csv");
        t.write_csv(&p).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "name,ns/op\n\"a,b\",12\nlong name,3\n"
        );
    }

    #[test]
    fn wraps_at_spaces_and_keeps_columns() {
        let w = wrap("aa bb cc dd", 8, "  ", "    ");
        assert_eq!(w, ["  aa bb", "    cc", "    dd"]);
        assert_eq!(wrap("abcdefghij k", 5, "", ""), ["abcdefghij", "k"]);
        assert_eq!(wrap("x", usize::MAX, "- ", ""), ["- x"]);

        let mut t = Table::new("T", ["a", "b–c", "d"]);
        t.row(vec!["1".into(), "2–3".into(), "4".into()]);
        // "–" is one character wide: the column is three characters wide, not five bytes.
        assert_eq!(t.render(), "T\n  a  b–c  d\n  1  2–3  4\n");
    }

    #[test]
    fn number_formats() {
        assert_eq!(si(1000.0), "1k");
        assert_eq!(si(10_000_000.0), "10M");
        assert_eq!(si(1500.0), "1.5k");
        assert_eq!(si(12.0), "12");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(1234.4), "1234");
        assert_eq!(short(12.34), "12.3");
        assert_eq!(short(0.5), "0.500");
    }
}
