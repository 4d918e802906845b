//! Output shared by every subcommand: aligned tables on stdout, CSV files, SVG charts.

use std::fmt::Write as _;
use std::path::Path;

/// A table printed with aligned columns, and written as CSV with the same header and cells.
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: impl Into<String>, header: &[&str]) -> Self {
        Table {
            title: title.into(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.header.len(), "row width must match the header");
        self.rows.push(cells);
    }

    /// The table as aligned text, title first.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.len());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_aligned_and_quotes_csv() {
        let mut t = Table::new("T", &["name", "ns/op"]);
        t.row(vec!["a,b".into(), "12".into()]);
        t.row(vec!["long name".into(), "3".into()]);
        let r = t.render();
        assert!(r.contains("       name  ns/op"), "{r}");
        assert!(r.contains("  long name      3"), "{r}");
        let dir = std::env::temp_dir().join(format!("lab-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.csv");
        t.write_csv(&p).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "name,ns/op\n\"a,b\",12\nlong name,3\n");
    }
}
