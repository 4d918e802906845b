//! Output shared by every subcommand: aligned tables on stdout, CSV files, SVG charts.

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
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

/// A series for [`line_chart`]: its name (shown in the legend) and its (x, y) points.
pub type Series = (String, Vec<(f64, f64)>);

/// Distinct colours for up to eight series, then repeated.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0xd6, 0x27, 0x28), // red
    RGBColor(0x1f, 0x77, 0xb4), // blue
    RGBColor(0x2c, 0xa0, 0x2c), // green
    RGBColor(0xff, 0x7f, 0x0e), // orange
    RGBColor(0x94, 0x67, 0xbd), // purple
    RGBColor(0x8c, 0x56, 0x4b), // brown
    RGBColor(0x17, 0xbe, 0xcf), // cyan
    RGBColor(0x7f, 0x7f, 0x7f), // grey
];

/// The colour of series `i` in every chart of the lab.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One line chart: a title, axis labels, and its series. With `log_x` (`log_y`), that axis is drawn
/// on a log10 scale over whole decades (x must then be positive; y values at or below zero are
/// drawn at the bottom of the axis).
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: &'a [Series],
    pub log_x: bool,
    pub log_y: bool,
}

/// Writes an SVG line chart with a legend: one line per series, with a dot on each point when
/// there are few. Text is SVG `<text>` (plotters' SVG backend with its built-in font metrics: no
/// system font library is needed).
pub fn line_chart(path: &Path, chart: &LineChart) -> anyhow::Result<()> {
    line_charts(path, std::slice::from_ref(chart))
}

/// [`line_chart`] for several charts, stacked one under the other in one SVG file.
pub fn line_charts(path: &Path, charts: &[LineChart]) -> anyhow::Result<()> {
    let root = svg(path, (960, 540 * charts.len().max(1) as u32))?;
    let areas = root.split_evenly((charts.len().max(1), 1));
    for (c, area) in charts.iter().zip(&areas) {
        draw_line_chart(area, c)?;
    }
    root.present().map_err(chart_err)?;
    Ok(())
}

/// A log10 axis: the smallest positive value shown, so that zero and negative values have a place.
const LOG_FLOOR: f64 = 1e-3;

fn draw_line_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &LineChart,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let fx = |x: f64| if c.log_x { x.log10() } else { x };
    let fy = |y: f64| if c.log_y { y.max(LOG_FLOOR).log10() } else { y };
    let points = c.series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        anyhow::ensure!(!c.log_x || x > 0.0, "log-x chart with x = {x}");
        x0 = x0.min(fx(x));
        x1 = x1.max(fx(x));
        y0 = y0.min(fy(y));
        y1 = y1.max(fy(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0); // no points: an empty frame
    }
    if !c.log_y {
        y0 = y0.min(0.0);
    }
    // Whole decades on log axes, so that the ticks fall on 1k, 10k, ... or 0.01, 0.1, 1, ...
    if c.log_x {
        (x0, x1) = (x0.floor(), x1.ceil());
    }
    if c.log_y {
        (y0, y1) = (y0.floor(), y1.ceil());
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    if y1 - y0 < 1e-9 {
        y1 = y0 + 1.0;
    }
    // Headroom for the legend, which takes about 5% of the height per series.
    let y1 = y1 + (y1 - y0) * (0.05 + 0.055 * c.series.len() as f64);
    let legend_at = emptier_corner(
        c.series,
        |x| (fx(x) - x0) / (x1 - x0),
        |y| (fy(y) - y0) / (y1 - y0),
    );
    let mut chart = frame(area, c.title, 22)
        .margin_right(28)
        .x_label_area_size(48)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(chart_err)?;
    let x_fmt = |v: &f64| {
        if c.log_x {
            si(10f64.powf(*v))
        } else {
            short(*v)
        }
    };
    let y_fmt = |v: &f64| {
        if c.log_y {
            short(10f64.powf(*v))
        } else {
            short(*v)
        }
    };
    let decades = |lo: f64, hi: f64| ((hi - lo).round() as usize + 1).max(2);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(c.x_label)
        .y_desc(c.y_label)
        .x_labels(if c.log_x { decades(x0, x1) } else { 10 })
        .y_labels(if c.log_y { decades(y0, y1.floor()) } else { 10 })
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt);
    draw_mesh(&mut mesh, 13)?;
    for (i, (name, pts)) in c.series.iter().enumerate() {
        let colour = color(i);
        let pts: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (fx(x), fy(y))).collect();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .map_err(chart_err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
            });
        if pts.len() <= 40 {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(chart_err)?;
        }
    }
    legend(&mut chart, legend_at)
}

/// The top corner of the plot (left or right, or bottom right if both top ones are crowded) with the
/// fewest points, for the legend. `nx`, `ny` map a point into 0..1.
fn emptier_corner(
    series: &[Series],
    nx: impl Fn(f64) -> f64,
    ny: impl Fn(f64) -> f64,
) -> SeriesLabelPosition {
    let box_w = 0.35;
    let box_h = 0.1 + 0.05 * series.len() as f64;
    let mut counts = [0usize; 3]; // upper left, upper right, lower right
    for (_, pts) in series {
        for &(x, y) in pts {
            let (x, y) = (nx(x), ny(y));
            counts[0] += usize::from(x <= box_w && y >= 1.0 - box_h);
            counts[1] += usize::from(x >= 1.0 - box_w && y >= 1.0 - box_h);
            counts[2] += usize::from(x >= 1.0 - box_w && y <= box_h);
        }
    }
    let best = (0..3).min_by_key(|&i| counts[i]).unwrap_or(0);
    [
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::LowerRight,
    ][best]
        .clone()
}

/// Writes an SVG bar chart: one bar per (category, value), labelled with its value, categories
/// along x. Bars are coloured by `group` index (same colour, same group), with `groups` naming them
/// in a legend.
pub fn bar_chart(
    path: &Path,
    title: &str,
    y_label: &str,
    bars: &[(String, f64, usize)],
    groups: &[&str],
) -> anyhow::Result<()> {
    let n = bars.len().max(1);
    let ymax = bars.iter().map(|b| b.1).fold(0f64, f64::max);
    let ymax = if ymax > 0.0 { ymax * 1.12 } else { 1.0 };
    {
        let root = svg(path, (960, 540))?;
        let mut chart = frame(&root, title, 22)
            .x_label_area_size(40)
            .build_cartesian_2d(0f64..n as f64, 0f64..ymax)
            .map_err(chart_err)?;
        let names: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        let x_fmt = |v: &f64| {
            let i = (*v - 0.5).round();
            if (*v - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let y_fmt = |v: &f64| short(*v);
        let mut mesh = chart.configure_mesh();
        mesh.disable_x_mesh()
            .x_labels(n * 2 + 1)
            .x_label_formatter(&x_fmt)
            .y_desc(y_label)
            .y_label_formatter(&y_fmt);
        draw_mesh(&mut mesh, 12)?;
        for (g, name) in groups.iter().enumerate() {
            let c = color(g);
            let mine: Vec<(usize, f64)> = bars
                .iter()
                .enumerate()
                .filter(|(_, b)| b.2 == g)
                .map(|(i, b)| (i, b.1))
                .collect();
            chart
                .draw_series(mine.iter().map(|&(i, v)| {
                    Rectangle::new([(i as f64 + 0.15, 0.0), (i as f64 + 0.85, v)], c.filled())
                }))
                .map_err(chart_err)?
                .label(*name)
                .legend(move |p| swatch(p, c));
        }
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                Text::new(
                    short(b.1),
                    (i as f64 + 0.3, b.1 + ymax * 0.04),
                    ("sans-serif", 13),
                )
            }))
            .map_err(chart_err)?;
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(chart_err)?;
    }
    Ok(())
}

/// Draws a mesh in the lab's style: `label_px` tick labels, 15 px axis names, light grid lines.
fn draw_mesh<DB>(
    mesh: &mut plotters::chart::MeshStyle<'_, '_, RangedCoordf64, RangedCoordf64, DB>,
    label_px: u32,
) -> anyhow::Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    mesh.label_style(("sans-serif", label_px))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(chart_err)
}

/// A white SVG canvas of `size` pixels at `path`, for every chart of the lab.
pub fn svg(path: &Path, size: (u32, u32)) -> anyhow::Result<DrawingArea<SVGBackend<'_>, Shift>> {
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(chart_err)?;
    Ok(root)
}

/// The lab's chart frame on `area`: `title` in a `caption_px` sans-serif caption, a 12 px margin and
/// 80 px for the y labels. Callers add their x label area and margins, then build the axes.
pub fn frame<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    caption_px: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, ("sans-serif", caption_px))
        .margin(12)
        .y_label_area_size(80);
    builder
}

/// The legend mark of a bar series: a small filled square at `(x, y)`.
pub fn swatch((x, y): (i32, i32), c: RGBColor) -> Rectangle<(i32, i32)> {
    Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled())
}

/// Draws the series' legend at `position`: a bordered, mostly opaque white box.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(chart_err)
}

/// A plotters drawing error as an anyhow error.
pub fn chart_err<E: std::error::Error + Send + Sync + 'static>(
    e: DrawingAreaErrorKind<E>,
) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart: {e}")
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

        let mut t = Table::new("T", &["a", "b–c", "d"]);
        t.row(vec!["1".into(), "2–3".into(), "4".into()]);
        // "–" is one character wide: the column is three characters wide, not five bytes.
        assert_eq!(t.render(), "T\n  a  b–c  d\n  1  2–3  4\n");
    }

    #[test]
    fn charts_have_their_text() {
        let dir = std::env::temp_dir().join(format!("lab-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let series = vec![
            (
                "gotimer".to_string(),
                vec![(1e3, 40.0), (1e4, 41.0), (1e7, 43.0)],
            ),
            (
                "Go".to_string(),
                vec![(1e3, 80.0), (1e4, 95.0), (1e7, 160.0)],
            ),
        ];
        let p = dir.join("line.svg");
        let chart = |title, series, log_y| LineChart {
            title,
            x_label: "pending timers",
            y_label: "ns/op",
            series,
            log_x: true,
            log_y,
        };
        line_chart(&p, &chart("Title here", &series, false)).unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        for text in [
            "Title here",
            "pending timers",
            "ns/op",
            "gotimer",
            "Go",
            "10k",
            "<polyline",
        ] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        let p = dir.join("bar.svg");
        let bars = vec![
            ("gotimer Timer".to_string(), 120.0, 0),
            ("Go NewTimer".to_string(), 200.0, 1),
        ];
        bar_chart(&p, "Bytes", "B per timer", &bars, &["gotimer", "Go"]).unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        for text in [
            "Bytes",
            "B per timer",
            "gotimer Timer",
            "Go NewTimer",
            "120",
            "<rect",
        ] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        // Two charts in one file, the second on log axes with a zero on its y.
        let zero = vec![(
            "flat".to_string(),
            vec![(1e3, 0.0), (1e4, 0.5), (1e5, 900.0)],
        )];
        let p = dir.join("two.svg");
        line_charts(
            &p,
            &[chart("First", &series, false), chart("Second", &zero, true)],
        )
        .unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        for text in ["First", "Second", "flat", "1000", "0.001"] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        line_chart(&dir.join("empty.svg"), &chart("Empty", &[], false)).unwrap();
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
